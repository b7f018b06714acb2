#pragma once
// `ramp baselines`: make every baseline plan for a model (uniform types, llama.cpp
// recipes, greedy at each budget), evaluate each on a held-out text, and write the
// plans, a table (JSON and CSV) and a plot of quality against size.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ramp {

struct BaselineParams {
    std::filesystem::path model_path;
    std::filesystem::path calibration_path;  // text for the greedy sensitivity
    std::filesystem::path eval_path;         // text for the reported PPL and KL
    std::filesystem::path imatrix_path;      // optional importance matrix
    std::filesystem::path output_dir;
    std::vector<double> budgets;             // greedy targets in storage bpw
    std::vector<std::string> recipes;        // llama.cpp recipe names; empty: the K-quant recipes
    bool uniform = true;                     // every candidate type as a uniform plan
    bool greedy = true;
    int n_ctx = 256;
    int n_chunks = 16;       // calibration chunks for the sensitivity
    int n_eval_chunks = 16;  // evaluation chunks
    int n_threads = 0;
    bool force = false;      // replace existing results in output_dir
    bool plot = true;
};

struct BaselineRow {
    std::string name;  // plan file stem, e.g. "greedy-4.00"
    std::string source;
    double target_bpw = 0.0;  // 0 for plans without a budget
    double bpw = 0.0;
    double nominal_bpw = 0.0;
    int64_t file_bytes = 0;
    double ppl = 0.0;
    double ppl_uncertainty = 0.0;
    double kl_mean = 0.0;
    double kl_std_error = 0.0;
    double same_top = 0.0;
    double seconds = 0.0;  // evaluation wall time
};

struct BaselineResult {
    double float_ppl = 0.0;
    std::vector<BaselineRow> rows;
    double sensitivity_seconds = 0.0;
    int64_t sensitivity_evaluations = 0;

    nlohmann::json to_json() const;
};

// Run everything and write OUTPUT_DIR/plans/NAME.json, sensitivity.json,
// baselines.json, baselines.csv and (with gnuplot) baselines.png and baselines.svg.
BaselineResult run_baselines(const BaselineParams & params);

// Table as CSV (header line first).
std::string baselines_csv(const BaselineResult & result);

// Write PNG and SVG plots of KL and PPL against bpw and file size with gnuplot
// (through temporary files). Logs a warning and writes nothing when gnuplot is
// missing or fails.
void plot_baselines(const BaselineResult & result, const std::filesystem::path & output_dir,
                    const std::string & title);

}  // namespace ramp
