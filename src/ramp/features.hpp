#pragma once
// The 11 features of a decided matrix: the per-matrix part of the policy's observation.
// Every feature is scale-free: multiplying a weight matrix or its activations by
// a constant leaves the weight features (6, 7, 8, 11) and the activation features
// (9, 10) unchanged, up to the rounding of the quantizer.
//
//  1 depth            block / (blocks - 1), 0 for a single block
//  2 is_attention     1 for attn_q/k/v/output, 0 for the MLP
//  3 role_position    q, k, v, o, gate, up, down at 0, 1/6, ..., 1
//  4 log_size         ln(elements / mean elements of the decided matrices)
//  5 log2_fan_ratio   log2(n_in / n_out)
//  6 weight_kurtosis  ln(1 + max(0, excess kurtosis of all weights))
//  7 weight_crest     ln(max |w| / std(w))
//  8 quant_error_high log10(||W - Q(W)||^2 / ||W||^2) at Q4_K (Q5_0 for 32-block rows)
//  9 act_outlier      ln(max_j mean|x_j| / median_j mean|x_j|)
// 10 act_kurtosis     ln(1 + max(0, excess kurtosis of all input values))
// 11 quant_error_low  log10(sum_j E[x_j^2] ||dW_j||^2 / sum_j E[x_j^2] ||W_j||^2) at Q3_K
//                     (Q4_0 for 32-block rows); columns j, dW = W - Q(W)

#include <ggml.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ramp/activation_stats.hpp"
#include "ramp/gguf_weights.hpp"
#include "ramp/model_layout.hpp"

namespace ramp {

constexpr int kFeatureCount = 11;
using FeatureVector = std::array<double, kFeatureCount>;

// Snake-case names in feature order, for JSON keys, CSV headers and plots.
extern const std::array<std::string_view, kFeatureCount> kFeatureNames;

// Error features are measured on at most this many rows, evenly spaced, so that a
// 4096 x 11008 matrix costs about as much as a small one. Weight kurtosis and crest
// factor use every weight.
constexpr int64_t kDefaultFeatureRows = 1024;

// Floor of a relative error before log10: an exact round trip gives -12, not -inf.
constexpr double kMinRelativeError = 1e-12;

struct FeatureOptions {
    int64_t max_rows = kDefaultFeatureRows;
    // Pass E[x^2] to the quantizer as importance weights when measuring features 8
    // and 11, as llama-quantize --imatrix does. Off by default, because a plan is
    // exported without an importance matrix unless the user passes one.
    bool quantize_with_imatrix = false;
};

struct MatrixFeatures {
    FeatureVector values{};
    std::vector<ggml_type> candidates;      // candidate_types(n_in, false)
    ggml_type type_high = GGML_TYPE_COUNT;  // type of feature 8
    ggml_type type_low = GGML_TYPE_COUNT;   // type of feature 11
};

// Quantize n_rows rows of n_in values to type and convert them back to F32.
// importance: n_in weights per column, or nullptr (required by the IQ2/IQ3 types).
std::vector<float> quantize_roundtrip(ggml_type type, const float * rows, int64_t n_rows, int64_t n_in,
                                      const float * importance);

// Indices of at most max_rows rows of n_rows, evenly spaced and including row 0.
std::vector<int64_t> sample_row_indices(int64_t n_rows, int64_t max_rows);

// Feature 6 of the values w.
double weight_kurtosis_feature(const std::vector<float> & w);
// Feature 7 of the values w.
double weight_crest_feature(const std::vector<float> & w);
// log10 of the relative quantization error of a row-major [n_rows][n_in] matrix,
// each column weighted by column_weights[j] (nullptr: unweighted). importance is
// passed to the quantizer (nullptr: none). Features 8 and 11.
double quant_error_feature(ggml_type type, const std::vector<float> & w, int64_t n_in,
                           const float * column_weights, const float * importance);
// Feature 9 of one matrix input.
double activation_outlier_feature(const ChannelStats & stats);
// Feature 10 of one matrix input.
double activation_kurtosis_feature(const ChannelStats & stats);

// All features of every decided matrix. stats must be parallel to layout.matrices.
std::vector<MatrixFeatures> compute_features(const ModelLayout & layout, const ActivationStats & stats,
                                             const GgufWeights & weights, const FeatureOptions & options);

}  // namespace ramp
