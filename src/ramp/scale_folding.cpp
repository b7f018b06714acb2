#include "ramp/scale_folding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "common/error.hpp"
#include "ramp/features.hpp"

namespace ramp {

namespace {

std::string_view kind_name(FoldKind kind) {
    switch (kind) {
        case FoldKind::AttnIn:
            return "attn_in";
        case FoldKind::AttnOut:
            return "attn_out";
        case FoldKind::FfnIn:
            return "ffn_in";
        case FoldKind::FfnDown:
            return "ffn_down";
    }
    return "unknown";
}

std::string block_tensor(int block, std::string_view role, std::string_view suffix = "weight") {
    return fmt::format("blk.{}.{}.{}", block, role, suffix);
}

FoldGroup make_group(FoldKind kind, int block, std::string producer) {
    FoldGroup group;
    group.kind = kind;
    group.block = block;
    group.producer = std::move(producer);
    return group;
}

std::vector<int64_t> identity_tie(int64_t n) {
    std::vector<int64_t> tie(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) {
        tie[static_cast<size_t>(j)] = j;
    }
    return tie;
}

// attn_output column j = h * head_dim + d reads v row (h / group) * head_dim + d.
std::vector<int64_t> gqa_tie(int64_t n_in, int64_t n_v_rows, int n_head, int n_head_kv,
                             const std::string & name) {
    if (n_head <= 0 || n_head_kv <= 0 || n_head % n_head_kv != 0 || n_in % n_head != 0 ||
        n_v_rows != n_in / n_head * n_head_kv) {
        rdt::fail(
            "{}: {} columns, {} attn_v rows, {} heads and {} KV heads do not form a grouped-query attention "
            "layout",
            name, n_in, n_v_rows, n_head, n_head_kv);
    }
    const int64_t head_dim = n_in / n_head;
    const int64_t group = n_head / n_head_kv;
    std::vector<int64_t> tie(static_cast<size_t>(n_in));
    for (int64_t j = 0; j < n_in; ++j) {
        const int64_t head = j / head_dim;
        tie[static_cast<size_t>(j)] = (head / group) * head_dim + j % head_dim;
    }
    return tie;
}

std::optional<size_t> find_matrix(const ModelLayout & layout, int block, Role role) {
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        if (layout.matrices[i].block == block && layout.matrices[i].role == role) {
            return i;
        }
    }
    return std::nullopt;
}

std::vector<float> column_scales_f32(const FoldGroup & group, const std::vector<double> & scales) {
    std::vector<float> columns(group.tie.size());
    for (size_t j = 0; j < group.tie.size(); ++j) {
        columns[j] = static_cast<float>(scales[static_cast<size_t>(group.tie[j])]);
    }
    return columns;
}

// Dot product with kLanes independent float partial sums, which the compiler maps
// onto SIMD registers. Each partial sum covers n / 8 terms, so even rows of 10^4
// values keep about 1e-6 relative accuracy, far below the error differences that the
// alpha search compares.
double dot_f32(const float * a, const float * b, int64_t n) {
    constexpr int kLanes = 8;
    std::array<float, kLanes> partial{};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
        for (int k = 0; k < kLanes; ++k) {
            partial[k] += a[j + k] * b[j + k];
        }
    }
    double sum = 0.0;
    for (const float value : partial) {
        sum += value;
    }
    for (; j < n; ++j) {
        sum += static_cast<double>(a[j]) * b[j];
    }
    return sum;
}

void require_float(const ggml_tensor * tensor) {
    if (!is_float_type(tensor->type)) {
        rdt::fail("tensor {} has the quantized type {}; Scale Folding needs F32, F16 or BF16 weights",
                  tensor->name, ggml_type_name(tensor->type));
    }
}

}  // namespace

std::string FoldGroup::name() const {
    return fmt::format("blk.{}.{}", block, kind_name(kind));
}

std::vector<FoldGroup> fold_groups(const ModelLayout & layout, const GgufWeights & weights) {
    std::vector<FoldGroup> groups;
    for (int block = 0; block < layout.n_blocks; ++block) {
        const auto q = find_matrix(layout, block, Role::AttnQ);
        const auto k = find_matrix(layout, block, Role::AttnK);
        const auto v = find_matrix(layout, block, Role::AttnV);
        const auto o = find_matrix(layout, block, Role::AttnOutput);
        const auto gate = find_matrix(layout, block, Role::FfnGate);
        const auto up = find_matrix(layout, block, Role::FfnUp);
        const auto down = find_matrix(layout, block, Role::FfnDown);

        if (q && k && v) {
            FoldGroup group = make_group(FoldKind::AttnIn, block, block_tensor(block, "attn_norm"));
            group.consumers = {layout.matrices[*q].name, layout.matrices[*k].name, layout.matrices[*v].name};
            group.stats_index = *q;
            group.tie = identity_tie(layout.matrices[*q].n_in);
            group.n_scales = layout.matrices[*q].n_in;
            groups.push_back(std::move(group));
        }
        if (v && o) {
            FoldGroup group = make_group(FoldKind::AttnOut, block, layout.matrices[*v].name);
            group.consumers = {layout.matrices[*o].name};
            group.stats_index = *o;
            group.tie = gqa_tie(layout.matrices[*o].n_in, layout.matrices[*v].n_out, layout.n_head,
                                layout.n_head_kv, layout.matrices[*o].name);
            group.n_scales = layout.matrices[*v].n_out;
            if (weights.find(block_tensor(block, "attn_v", "bias")) != nullptr) {
                group.producer_bias = block_tensor(block, "attn_v", "bias");
            }
            groups.push_back(std::move(group));
        }
        if (gate && up) {
            FoldGroup group = make_group(FoldKind::FfnIn, block, block_tensor(block, "ffn_norm"));
            group.consumers = {layout.matrices[*gate].name, layout.matrices[*up].name};
            group.stats_index = *gate;
            group.tie = identity_tie(layout.matrices[*gate].n_in);
            group.n_scales = layout.matrices[*gate].n_in;
            groups.push_back(std::move(group));
        }
        if (up && down && layout.matrices[*up].n_out == layout.matrices[*down].n_in) {
            FoldGroup group = make_group(FoldKind::FfnDown, block, layout.matrices[*up].name);
            group.consumers = {layout.matrices[*down].name};
            group.stats_index = *down;
            group.tie = identity_tie(layout.matrices[*down].n_in);
            group.n_scales = layout.matrices[*down].n_in;
            if (weights.find(block_tensor(block, "ffn_up", "bias")) != nullptr) {
                group.producer_bias = block_tensor(block, "ffn_up", "bias");
            }
            groups.push_back(std::move(group));
        }
    }

    for (const FoldGroup & group : groups) {
        const ggml_tensor * producer = weights.tensor(group.producer);
        const int64_t producer_channels = group.kind == FoldKind::AttnIn || group.kind == FoldKind::FfnIn
                                              ? ggml_nelements(producer)
                                              : producer->ne[1];
        if (producer_channels != group.n_scales) {
            rdt::fail("{}: producer {} has {} channels but the group needs {}", group.name(), group.producer,
                      producer_channels, group.n_scales);
        }
    }
    return groups;
}

std::vector<double> tied_max(const std::vector<double> & values, const std::vector<int64_t> & tie,
                             int64_t n_scales) {
    std::vector<double> result(static_cast<size_t>(n_scales), 0.0);
    for (size_t j = 0; j < tie.size(); ++j) {
        double & slot = result[static_cast<size_t>(tie[j])];
        slot = std::max(slot, values[j]);
    }
    return result;
}

std::vector<double> fold_scales(const std::vector<double> & act_max, const std::vector<double> & weight_max,
                                double alpha) {
    const size_t n = act_max.size();
    std::vector<double> scales(n, 1.0);
    std::vector<bool> active(n, false);
    double log_sum = 0.0;
    int n_active = 0;
    for (size_t j = 0; j < n; ++j) {
        const double a = act_max[j];
        const double w = weight_max[j];
        if (!(a > 0.0) || !(w > 0.0) || !std::isfinite(a) || !std::isfinite(w)) {
            continue;  // a dead or broken channel keeps s = 1
        }
        scales[j] = std::pow(a, alpha) / std::pow(w, 1.0 - alpha);
        active[j] = true;
        log_sum += std::log(scales[j]);
        ++n_active;
    }
    const double geometric_mean = n_active > 0 ? std::exp(log_sum / n_active) : 1.0;
    for (size_t j = 0; j < n; ++j) {
        if (active[j]) {
            scales[j] = std::clamp(scales[j] / geometric_mean, 1.0 / kMaxFoldScale, kMaxFoldScale);
        }
    }
    return scales;
}

std::vector<double> group_weight_max(const FoldGroup & group, const GgufWeights & weights) {
    std::vector<double> column_max(group.tie.size(), 0.0);
    for (const std::string & name : group.consumers) {
        const ggml_tensor * tensor = weights.tensor(name);
        const std::vector<float> w = tensor_to_f32(tensor);
        const int64_t n_in = tensor->ne[0];
        for (size_t k = 0; k < w.size(); ++k) {
            double & slot = column_max[k % static_cast<size_t>(n_in)];
            slot = std::max(slot, static_cast<double>(std::fabs(w[k])));
        }
    }
    return tied_max(column_max, group.tie, group.n_scales);
}

std::vector<double> group_activation_max(const FoldGroup & group, const ActivationStats & stats) {
    return tied_max(stats.matrices[group.stats_index].max_abs, group.tie, group.n_scales);
}

double group_output_error(const FoldGroup & group, const GgufWeights & weights, const RowSample & sample,
                          const std::vector<double> * scales, ggml_type type) {
    const int64_t n_in = static_cast<int64_t>(group.tie.size());
    const int n_rows = sample.n_rows();
    if (n_rows == 0 || sample.n_in != n_in) {
        rdt::fail("{}: no activation sample of {} columns to measure the output error", group.name(), n_in);
    }
    const std::vector<float> columns =
        scales != nullptr ? column_scales_f32(group, *scales) : std::vector<float>(group.tie.size(), 1.0f);

    double error = 0.0;
    for (const std::string & name : group.consumers) {
        const ggml_tensor * tensor = weights.tensor(name);
        const int64_t n_out = tensor->ne[1];
        std::vector<float> w = tensor_to_f32(tensor);
        std::vector<float> w_scaled(w);
        for (size_t k = 0; k < w.size(); ++k) {
            w_scaled[k] *= columns[k % static_cast<size_t>(n_in)];
        }
        const std::vector<float> restored = quantize_roundtrip(type, w_scaled.data(), n_out, n_in, nullptr);

        // delta = Q(W diag(s)) diag(s)^-1 - W, [n_out][n_in].
        std::vector<float> delta(w.size());
        for (size_t k = 0; k < w.size(); ++k) {
            delta[k] = restored[k] / columns[k % static_cast<size_t>(n_in)] - w[k];
        }
        for (int r = 0; r < n_rows; ++r) {
            const float * x = sample.rows.data() + static_cast<size_t>(r) * n_in;
            for (int64_t o = 0; o < n_out; ++o) {
                const double dot = dot_f32(x, delta.data() + static_cast<size_t>(o * n_in), n_in);
                error += dot * dot;
            }
        }
    }
    return error;
}

void apply_fold(const FoldGroup & group, const std::vector<double> & scales, GgufWeights & weights) {
    const std::vector<float> columns = column_scales_f32(group, scales);
    const int64_t n_in = static_cast<int64_t>(columns.size());

    for (const std::string & name : group.consumers) {
        ggml_tensor * tensor = weights.tensor(name);
        require_float(tensor);
        std::vector<float> w = tensor_to_f32(tensor);
        for (size_t k = 0; k < w.size(); ++k) {
            w[k] *= columns[k % static_cast<size_t>(n_in)];
        }
        check_finite(name, w.data(), w.size());
        store_f32(tensor, w);
    }

    // A norm weight is divided element-wise; attn_v / ffn_up are divided row by row
    // (their output channel is the group's input channel), with their bias.
    std::vector<std::string> producers = {group.producer};
    if (!group.producer_bias.empty()) {
        producers.push_back(group.producer_bias);
    }
    for (const std::string & name : producers) {
        ggml_tensor * tensor = weights.tensor(name);
        require_float(tensor);
        std::vector<float> p = tensor_to_f32(tensor);
        const int64_t row_length = ggml_nelements(tensor) / group.n_scales;
        for (size_t k = 0; k < p.size(); ++k) {
            p[k] = static_cast<float>(p[k] / scales[k / static_cast<size_t>(row_length)]);
        }
        check_finite(name, p.data(), p.size());
        store_f32(tensor, p);
    }
}

void check_finite(const std::string & tensor, const float * values, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(values[i])) {
            rdt::fail(
                "tensor {} has a non-finite value ({}) at element {} after folding; the source weights or "
                "activations contain NaN/Inf, or the scales overflowed: check the model, or lower --alpha",
                tensor, values[i], i);
        }
    }
}

}  // namespace ramp
