#pragma once
// Per-input-channel statistics of the activations that every decided matrix
// multiplies, gathered over calibration chunks through llama.cpp's eval callback
// (the hook llama-imatrix uses). The activations of matrix W are the src1 operand
// of its GGML_OP_MUL_MAT node: F32, shape [n_in, n_tokens]. Matrices that share an
// input (q/k/v, gate/up) are still recorded separately, one entry per weight.

#include <llama.h>

#include <cstdint>
#include <vector>

#include "common/perplexity.hpp"
#include "ramp/model_layout.hpp"

namespace ramp {

// Streaming statistics of the rows x (length n_in) fed to one matrix.
struct ChannelStats {
    int64_t n_in = 0;
    int64_t n_rows = 0;           // activation rows (tokens) seen
    std::vector<double> sum_abs;  // [n_in] sum of |x_j|
    std::vector<double> max_abs;  // [n_in] max of |x_j|
    std::vector<double> sum_sq;   // [n_in] sum of x_j^2 (importance matrix numerator)
    // Raw moments over every value of every row, for the excess kurtosis.
    double sum1 = 0.0;
    double sum2 = 0.0;
    double sum3 = 0.0;
    double sum4 = 0.0;

    explicit ChannelStats(int64_t channels = 0);
    void add_row(const float * row);

    double mean_abs(int64_t j) const { return n_rows > 0 ? sum_abs[j] / n_rows : 0.0; }
    double mean_sq(int64_t j) const { return n_rows > 0 ? sum_sq[j] / n_rows : 0.0; }
    // Excess kurtosis of all values, E[(x-m)^4] / var^2 - 3; 0 when the variance is 0.
    double excess_kurtosis() const;
};

// A uniform sample (reservoir sampling, Algorithm R) of at most `capacity` rows,
// for the output-error measurements of the Scale Folding alpha search.
struct RowSample {
    int64_t n_in = 0;
    int capacity = 0;
    int64_t n_seen = 0;
    uint64_t rng_state = 0;
    std::vector<float> rows;  // [n_rows][n_in], row-major

    int n_rows() const { return static_cast<int>(rows.size() / (n_in > 0 ? n_in : 1)); }
    void add_row(const float * row);
};

// Seed of the row reservoirs: fixed so that a run is reproducible.
constexpr uint64_t kRowSampleSeed = 0x5eed5ca1ef01dULL;

struct ActivationOptions {
    int n_threads = 0;  // 0: all hardware threads
    bool progress = true;
    // Rows kept per group input (inputs of attn_q, attn_output, ffn_gate and ffn_down);
    // 0 keeps none. 256 rows give a stable output-error estimate for the alpha search.
    int sample_rows = 0;
};

struct ActivationStats {
    std::vector<ChannelStats> matrices;  // parallel to ModelLayout::matrices
    std::vector<RowSample> samples;      // parallel to ModelLayout::matrices; capacity 0 where not sampled
    int n_ctx = 0;
    int n_chunks = 0;
};

// True for the roles whose input is sampled: one per distinct input of a block.
bool role_input_is_sampled(Role role);

// Decode chunks with model and gather statistics of every decided matrix's input.
// Fails when a decided matrix never appeared as a MUL_MAT weight.
ActivationStats collect_activation_stats(llama_model * model, const ModelLayout & layout,
                                         const rdt::EvalChunks & chunks, const ActivationOptions & options);

// The weight name of a graph node's operand without backend decorations
// ("CUDA0#blk.0.attn_q.weight#0" -> "blk.0.attn_q.weight").
std::string graph_weight_name(const char * name);

}  // namespace ramp
