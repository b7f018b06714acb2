#pragma once
// The main job of ramp: a float GGUF, a calibration text and a budget in, a
// quantized GGUF that stock llama.cpp runs out, with a report. Steps: optional
// Scale Folding, plan search (features, baselines, SAC), export, and evaluation
// of the chosen plan and the baselines on the calibration and evaluation texts,
// and of llama.cpp's recipes up to one bit above the budget on the evaluation text.

#include <nlohmann/json.hpp>

#include <string>

#include "ramp/search_job.hpp"

namespace ramp {

struct QuantizeParams {
    SearchJobParams search;     // model, calibration text, budget, episodes, ...
    std::string output_path;    // quantized GGUF
    bool force = false;         // overwrite output files
    bool fold = false;          // Scale Folding before the search
    double fold_alpha = 0.5;
    bool fold_alpha_search = false;
    std::string eval_text_path;  // evaluation text (perplexity, KL); empty: calibration numbers only
    int eval_chunks = -1;        // evaluation chunks, -1: all
    std::string plan_path;       // also write the plan here (JSON)
    std::string plot_path;       // bits per matrix over depth (.png/.svg)
};

// Run the job, write the outputs and return the report.
nlohmann::json run_quantize(const QuantizeParams & params, const SearchProgressFn & on_episode = {});

// A table of the chosen plan, the baselines and the recipes of the report: name,
// bpw, file bytes, KL and PPL on the calibration and evaluation texts ("-" when
// not measured).
std::string report_summary(const nlohmann::json & report);

// One line per block: the type of each role, e.g. "blk  3  q4_K q4_K q6_K ...".
std::string plan_table(const Plan & plan, const ModelLayout & layout);

// Bits per weight of every decided matrix against its index, one series per role.
void plot_plan_bits(const Plan & plan, const ModelLayout & layout, const std::string & path);

}  // namespace ramp
