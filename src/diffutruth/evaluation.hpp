#pragma once
// `diffutruth eval`: score a labelled claim set and measure how well each signal
// separates false claims (the positive class) from true ones: AUROC with a
// bootstrap 95% interval, AUPRC, best-threshold accuracy and ECE, for energy
// alone, confidence alone, the unsupervised fusion, the supervised fusion (when a
// calibration file is given) and a random baseline; per hop count for HOVER.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "common/datasets.hpp"
#include "common/metrics.hpp"
#include "diffutruth/scorer.hpp"

namespace diffutruth {

struct EvalParams {
    ScoreParams score;
    std::filesystem::path input;
    rdt::ClaimFormat format = rdt::ClaimFormat::Auto;
    std::size_t limit = 0;  // 0: all claims
    bool balanced = false;  // with limit: the first limit/2 true and limit/2 false claims
    std::filesystem::path calibration;  // labelled claims for the supervised fusion; empty: none
    rdt::ClaimFormat calibration_format = rdt::ClaimFormat::Auto;
    std::size_t calibration_limit = 0;  // balanced like limit; 0: all
    std::filesystem::path plot;         // ROC plot (.png or .svg); empty: none
    std::filesystem::path scores_output;  // optional per-claim JSONL
    std::size_t bootstrap_resamples = 1000;
};

// One signal to evaluate: higher score = more likely false; probability = P(false).
struct Signal {
    std::string name;
    std::vector<double> scores;
    std::vector<double> probabilities;
};

// Metrics of one signal on one set.
nlohmann::json signal_metrics(const Signal & signal, const std::vector<int> & is_false,
                              const rdt::BootstrapParams & bootstrap);

// Keep the first `limit` claims, or with balanced the first limit/2 of each class
// (in file order). limit 0 keeps all.
std::vector<rdt::Claim> select_claims(const std::vector<rdt::Claim> & claims, std::size_t limit, bool balanced);

// 1 for a false claim, 0 for a true one. Throws when a claim has no label, or when
// one class is missing (AUROC is undefined).
std::vector<int> false_labels(const std::vector<rdt::Claim> & claims, const std::string & what);

// Signals of scored claims: energy, confidence (if any), fusion, supervised (if
// fitted) and random (uniform scores from seed).
std::vector<Signal> build_signals(const std::vector<ClaimScore> & scores, uint64_t seed);

// Write an ROC plot of the signals with gnuplot; the terminal follows the
// extension (.png or .svg).
void write_roc_plot(const std::filesystem::path & path, const std::vector<Signal> & signals,
                    const std::vector<int> & is_false, const std::string & title);

// Run the whole evaluation and return the JSON summary.
nlohmann::json run_eval(const EvalParams & params);

}  // namespace diffutruth
