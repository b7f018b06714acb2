#pragma once
// `ramp fold` as a library call: calibration statistics, Scale Folding of every
// group (fixed alpha or per-group search), and a new GGUF with the same
// architecture, metadata and tensor types. The new file adds these keys:
//   ramp.fold.alpha_mode          "fixed" or "searched"
//   ramp.fold.alpha               f32, the fixed alpha (fixed mode only)
//   ramp.fold.groups              array of group names ("blk.0.attn_in", ...)
//   ramp.fold.group_alphas        array of f32 per group; -1 where the search kept the
//                                 weights unscaled (searched mode only)
//   ramp.fold.search_type         type of the search's quantization (searched mode only)
//   ramp.fold.calibration_file    file name of the calibration text
//   ramp.fold.calibration_sha256  SHA-256 of its bytes (hex)
//   ramp.fold.chunks, ramp.fold.ctx  calibration chunks and tokens per chunk

#include <ggml.h>

#include <nlohmann/json.hpp>
#include <string>

#include "ramp/analysis.hpp"

namespace ramp {

// Default alpha: SmoothQuant's and the design's 0.5.
constexpr double kDefaultFoldAlpha = 0.5;
// Activation rows sampled per group input for the alpha search (as AWQ's calibration
// sample, a few hundred tokens).
constexpr int kFoldSampleRows = 256;

struct FoldParams {
    std::string model_path;
    std::string text_path;
    std::string output_path;
    double alpha = kDefaultFoldAlpha;
    bool alpha_search = false;
    ggml_type search_type = GGML_TYPE_COUNT;  // COUNT: Q4_K, or Q5_0 for 32-block rows
    int sample_rows = kFoldSampleRows;
    int n_ctx = 0;  // 0: as ramp analyze
    int n_chunks = kDefaultCalibrationChunks;
    int n_threads = 0;
    // Dequantize quantized tensors that folding changes to F32 (the folded model then
    // carries the earlier rounding and any later quantization requantizes it).
    bool allow_requantize = false;
    bool force = false;
};

// Check the parameters that need no file: alpha range, output path distinct from the input.
void validate_fold_params(const FoldParams & params);

// Fold the model and write params.output_path (nothing is written on any error).
// Returns a JSON summary: groups with alpha and the range of their scales.
nlohmann::json run_fold(const FoldParams & params);

}  // namespace ramp
