#pragma once
// Budget accounting of bit plans: storage bpw over the decided matrices (exact,
// from element counts and each type's block size), nominal bits of the weight
// codes, the feasible budget range, and the final repair of a plan that exceeds
// its budget.

#include <ggml.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "ramp/model_layout.hpp"

namespace ramp {

struct DecidedSize {
    int64_t elements = 0;
    int64_t bytes = 0;        // storage bytes, block scales included
    double bpw = 0.0;         // 8 * bytes / elements
    double nominal_bpw = 0.0; // bits of the weight codes alone, element-weighted
};

// Size of the decided matrices of layout at types (one per matrix, model order).
DecidedSize decided_size(const ModelLayout & layout, const std::vector<ggml_type> & types);

// Lowest and highest storage bpw that plans over layout's candidates can reach.
struct BudgetRange {
    double min_bpw = 0.0;
    double max_bpw = 0.0;
};
BudgetRange feasible_range(const ModelLayout & layout, bool with_imatrix);

// Fail when target_bpw lies outside the feasible range, giving the range.
void check_budget_feasible(const ModelLayout & layout, double target_bpw, bool with_imatrix);

// Whether bpw fits target_bpw, allowing a relative 1e-9 for the rounding of the
// element-weighted mean.
bool fits_budget(double bpw, double target_bpw);

// Predicted quality loss of matrix (index into layout.matrices) at type; only the
// differences between types of one matrix matter to the repair.
using MatrixLossFn = std::function<double(size_t matrix, ggml_type type)>;

// A loss model from a relative quantization error per matrix measured at a
// reference type (feature 8: ||W - Q(W)||^2 / ||W||^2): error(type) = error_ref *
// 4^-(bpw(type) - bpw(ref)), one bit of code length quartering the squared error,
// weighted by the matrix's share of elements.
MatrixLossFn proxy_loss(const ModelLayout & layout, const std::vector<double> & relative_error_at_reference,
                        const std::vector<ggml_type> & reference_types);

// Lower a plan that exceeds target_bpw one candidate step at a time, each time at
// the matrix whose predicted loss per saved bit is smallest, until it fits.
// Returns types unchanged when they fit. Fails when the budget is infeasible
// (giving the range) or a type is not a candidate of its matrix.
std::vector<ggml_type> repair_to_budget(const ModelLayout & layout, std::vector<ggml_type> types,
                                        double target_bpw, bool with_imatrix, const MatrixLossFn & loss);

}  // namespace ramp
