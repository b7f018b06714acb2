#pragma once
// Scale Folding (SmoothQuant's per-channel scales, folded into the producer so the
// float model computes the same function). For a group of weights that read the
// same input X (columns j):
//   s_j = max|X_j|^alpha / max|W_j|^(1 - alpha),
// max|W_j| taken over every consumer's column j. Consumer columns are multiplied by
// s_j and the producer of X_j is divided by s_j:
//   attn_in:  attn_norm weight  -> attn_q, attn_k, attn_v columns (one s for all three)
//   attn_out: attn_v rows       -> attn_output columns; with GQA, head h reads KV head
//             h / (n_head / n_head_kv), so the channels of heads sharing a KV head carry
//             one tied scale, computed from the max statistics over the tied channels
//   ffn_in:   ffn_norm weight   -> ffn_gate, ffn_up columns
//   ffn_down: ffn_up rows       -> ffn_down columns (down's input silu(gate) * up is
//             linear in up)
// Scales are normalised to a geometric mean of 1 over each group (a common factor
// changes neither the function nor the block quantizers' relative error), then
// clamped to [1 / kMaxFoldScale, kMaxFoldScale]. A channel whose activation or weight
// maximum is 0 or not finite keeps s = 1.

#include <ggml.h>

#include <string>
#include <vector>

#include "ramp/activation_stats.hpp"
#include "ramp/gguf_weights.hpp"
#include "ramp/model_layout.hpp"

namespace ramp {

// Bound of a folded scale after normalisation: 1e3 keeps norm weights and weights
// far inside F16's range (6e-5 .. 65504) for weights of typical magnitude 1e-2..1.
constexpr double kMaxFoldScale = 1e3;
// Alpha grid of the search: 0, 0.1, ..., 1.
constexpr int kAlphaGridSteps = 10;
// Alpha recorded for a group where the search kept the unscaled weights.
constexpr double kAlphaUnfolded = -1.0;

enum class FoldKind { AttnIn, AttnOut, FfnIn, FfnDown };

struct FoldGroup {
    FoldKind kind = FoldKind::AttnIn;
    int block = 0;
    std::string producer;                // tensor divided by s: norm weight, or v / up rows
    std::string producer_bias;           // bias of a row producer (qwen2's attn_v.bias), empty if none
    std::vector<std::string> consumers;  // weights whose columns are multiplied by s
    size_t stats_index = 0;              // layout matrix whose input statistics give max|X_j|
    // Columns of the consumers that share one scale: column j uses scale tie[j]. Identity
    // except for attn_out with GQA, where it maps attn_output columns to attn_v rows.
    std::vector<int64_t> tie;
    int64_t n_scales = 0;  // distinct scales (producer channels)

    std::string name() const;  // "blk.3.attn_in"
};

// The fold groups of a model, in block order. A group whose consumers are not
// decided matrices (stories260K's ffn_down: rows of 172) is left out, since its
// weights are never quantized. Fails when a producer tensor is missing.
std::vector<FoldGroup> fold_groups(const ModelLayout & layout, const GgufWeights & weights);

// Max over the tied channels of values (length tie.size()), per scale.
std::vector<double> tied_max(const std::vector<double> & values, const std::vector<int64_t> & tie,
                             int64_t n_scales);

// Scales from per-scale activation and weight maxima, normalised and clamped as above.
std::vector<double> fold_scales(const std::vector<double> & act_max, const std::vector<double> & weight_max,
                                double alpha);

// Column-wise max |W_j| over the consumers of group, in tied form.
std::vector<double> group_weight_max(const FoldGroup & group, const GgufWeights & weights);
// Max |X_j| of the group's input, in tied form.
std::vector<double> group_activation_max(const FoldGroup & group, const ActivationStats & stats);

// Output error of the group's consumers when quantized to type after scaling by
// scales (nullptr: unscaled): sum over sampled rows x and consumers W of
// ||x (W_hat - W)^T||^2, where W_hat = Q(W diag(s)) diag(s)^-1.
double group_output_error(const FoldGroup & group, const GgufWeights & weights, const RowSample & sample,
                          const std::vector<double> * scales, ggml_type type);

// Multiply consumer columns by s and divide the producer, in place in weights.
// Consumers and producers must be F32, F16 or BF16 tensors.
void apply_fold(const FoldGroup & group, const std::vector<double> & scales, GgufWeights & weights);

// Fail naming tensor when values contain NaN or Inf.
void check_finite(const std::string & tensor, const float * values, size_t n);

}  // namespace ramp
