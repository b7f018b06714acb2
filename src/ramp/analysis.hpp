#pragma once
// `ramp analyze` as a library call: activation statistics over a calibration
// text, the 11 features of every decided matrix, and the optional outputs (CSV,
// heat-map, importance matrix). The result is deterministic for the same inputs:
// decoding on the CPU is deterministic and row sampling uses fixed strides.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ramp/activation_stats.hpp"
#include "ramp/features.hpp"
#include "ramp/model_layout.hpp"

namespace ramp {

// Default chunk length: 256 tokens, or the training context when it is shorter.
constexpr int kDefaultCalibrationCtx = 256;
// Default calibration chunks: 16 x 256 = 4096 tokens, enough for stable E[x^2].
constexpr int kDefaultCalibrationChunks = 16;

struct AnalyzeParams {
    std::string model_path;
    std::string text_path;
    int n_ctx = 0;  // 0: min(kDefaultCalibrationCtx, training context)
    int n_chunks = kDefaultCalibrationChunks;
    int n_threads = 0;
    FeatureOptions features;
    std::string output_path;  // JSON; empty or "-": stdout
    std::string csv_path;
    std::string plot_path;  // .png or .svg
    std::string imatrix_path;
    bool force = false;  // overwrite existing output files
};

// Calibration provenance written into every result.
struct CalibrationInfo {
    std::string file;    // file name without folders
    std::string sha256;  // of the file's bytes
    int n_ctx = 0;
    int n_chunks = 0;
};

nlohmann::json calibration_to_json(const CalibrationInfo & info);

// The analysis as JSON: layout, calibration and one table per matrix.
nlohmann::json features_to_json(const ModelLayout & layout, const std::vector<MatrixFeatures> & features,
                                const CalibrationInfo & calibration, const FeatureOptions & options);

// One CSV row per decided matrix: index, name, role, block, shape, candidates, 11 features.
std::string features_to_csv(const ModelLayout & layout, const std::vector<MatrixFeatures> & features);

// Heat-map of the features (each standardised over the matrices) against matrix index,
// drawn by gnuplot into path (.png or .svg).
void plot_features(const ModelLayout & layout, const std::vector<MatrixFeatures> & features,
                   const std::string & path);

// Run the analysis and write every requested output; returns the JSON.
nlohmann::json run_analysis(const AnalyzeParams & params);

// Resolve the chunk length for model: n_ctx when positive, else the default.
int resolve_calibration_ctx(const llama_model * model, int n_ctx);

}  // namespace ramp
