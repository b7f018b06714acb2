#include "ramp/budget.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "ramp/quant_types.hpp"

namespace ramp {

namespace {

// Relative slack of fits_budget: the weighted mean is a ratio of 64-bit sums, so
// equal plans may differ in the last bits.
constexpr double kBudgetRelativeSlack = 1e-9;

// Index of type in matrix's candidates; fails naming the matrix when absent.
size_t candidate_index(const DecidedMatrix & matrix, const std::vector<ggml_type> & candidates, ggml_type type) {
    const auto found = std::find(candidates.begin(), candidates.end(), type);
    if (found == candidates.end()) {
        rdt::fail("type {} is not a candidate of matrix '{}' (row length {})", type_name(type), matrix.name,
                  matrix.n_in);
    }
    return static_cast<size_t>(found - candidates.begin());
}

}  // namespace

DecidedSize decided_size(const ModelLayout & layout, const std::vector<ggml_type> & types) {
    if (types.size() != layout.matrices.size()) {
        rdt::fail("got {} types for {} decided matrices", types.size(), layout.matrices.size());
    }
    DecidedSize size;
    double nominal_bits = 0.0;
    for (size_t i = 0; i < types.size(); ++i) {
        const DecidedMatrix & matrix = layout.matrices[i];
        size.elements += matrix.n_elements();
        size.bytes += type_bytes(types[i], matrix.n_in, matrix.n_out);
        nominal_bits += type_nominal_bits(types[i]) * static_cast<double>(matrix.n_elements());
    }
    size.bpw = 8.0 * static_cast<double>(size.bytes) / static_cast<double>(size.elements);
    size.nominal_bpw = nominal_bits / static_cast<double>(size.elements);
    return size;
}

BudgetRange feasible_range(const ModelLayout & layout, bool with_imatrix) {
    std::vector<ggml_type> lowest;
    std::vector<ggml_type> highest;
    for (const DecidedMatrix & matrix : layout.matrices) {
        const auto candidates = candidate_types(matrix.n_in, with_imatrix);
        lowest.push_back(candidates.front());
        highest.push_back(candidates.back());
    }
    return {.min_bpw = decided_size(layout, lowest).bpw, .max_bpw = decided_size(layout, highest).bpw};
}

void check_budget_feasible(const ModelLayout & layout, double target_bpw, bool with_imatrix) {
    const BudgetRange range = feasible_range(layout, with_imatrix);
    if (!std::isfinite(target_bpw) || !fits_budget(range.min_bpw, target_bpw) ||
        target_bpw > range.max_bpw * (1.0 + kBudgetRelativeSlack)) {
        rdt::fail("budget {} bpw is infeasible for this model: plans over its candidate types{} range from "
                  "{:.4f} to {:.4f} bpw; choose a budget in that range",
                  target_bpw, with_imatrix ? " (with an importance matrix)" : "", range.min_bpw, range.max_bpw);
    }
}

bool fits_budget(double bpw, double target_bpw) {
    return bpw <= target_bpw * (1.0 + kBudgetRelativeSlack);
}

MatrixLossFn proxy_loss(const ModelLayout & layout, const std::vector<double> & relative_error_at_reference,
                        const std::vector<ggml_type> & reference_types) {
    if (relative_error_at_reference.size() != layout.matrices.size() ||
        reference_types.size() != layout.matrices.size()) {
        rdt::fail("proxy loss needs one error and one reference type per decided matrix ({}), got {} and {}",
                  layout.matrices.size(), relative_error_at_reference.size(), reference_types.size());
    }
    int64_t total_elements = 0;
    for (const DecidedMatrix & matrix : layout.matrices) {
        total_elements += matrix.n_elements();
    }
    std::vector<double> share;
    for (const DecidedMatrix & matrix : layout.matrices) {
        share.push_back(static_cast<double>(matrix.n_elements()) / static_cast<double>(total_elements));
    }
    // Each bit of code length divides the squared rounding error by about 4.
    constexpr double kErrorRatioPerBit = 4.0;
    return [share, relative_error_at_reference, reference_types](size_t matrix, ggml_type type) {
        const double bits_above = type_bpw(type) - type_bpw(reference_types[matrix]);
        return share[matrix] * relative_error_at_reference[matrix] * std::pow(kErrorRatioPerBit, -bits_above);
    };
}

std::vector<ggml_type> repair_to_budget(const ModelLayout & layout, std::vector<ggml_type> types,
                                        double target_bpw, bool with_imatrix, const MatrixLossFn & loss) {
    check_budget_feasible(layout, target_bpw, with_imatrix);
    DecidedSize size = decided_size(layout, types);
    if (fits_budget(size.bpw, target_bpw)) {
        return types;
    }

    std::vector<std::vector<ggml_type>> candidates;
    std::vector<size_t> position;
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        candidates.push_back(candidate_types(layout.matrices[i].n_in, with_imatrix));
        position.push_back(candidate_index(layout.matrices[i], candidates.back(), types[i]));
    }

    // Bytes are exact integers; the budget in bytes is target * elements / 8.
    const double budget_bytes = target_bpw * static_cast<double>(size.elements) / 8.0;
    int steps = 0;
    while (static_cast<double>(size.bytes) > budget_bytes * (1.0 + kBudgetRelativeSlack)) {
        size_t best = layout.matrices.size();
        double best_ratio = std::numeric_limits<double>::infinity();
        int64_t best_saved = 0;
        for (size_t i = 0; i < layout.matrices.size(); ++i) {
            if (position[i] == 0) {
                continue;
            }
            const DecidedMatrix & matrix = layout.matrices[i];
            const ggml_type current = candidates[i][position[i]];
            const ggml_type lower = candidates[i][position[i] - 1];
            const int64_t saved = type_bytes(current, matrix.n_in, matrix.n_out) -
                                  type_bytes(lower, matrix.n_in, matrix.n_out);
            const double added_loss = std::max(0.0, loss(i, lower) - loss(i, current));
            double ratio = added_loss / (8.0 * static_cast<double>(saved));
            if (std::isnan(ratio)) {
                ratio = std::numeric_limits<double>::infinity();
            }
            if (best == layout.matrices.size() || ratio < best_ratio) {
                best_ratio = ratio;
                best = i;
                best_saved = saved;
            }
        }
        // Feasibility was checked, so some matrix can still be lowered.
        position[best] -= 1;
        types[best] = candidates[best][position[best]];
        size.bytes -= best_saved;
        ++steps;
    }
    spdlog::debug("budget repair: {} step(s) down to {:.4f} bpw (target {})", steps,
                  decided_size(layout, types).bpw, target_bpw);
    return types;
}

}  // namespace ramp
