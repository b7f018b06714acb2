#pragma once
// Model evaluation as a library call: perplexity on a text (llama-perplexity's
// protocol), optional KL divergence to a base model, optional zero-shot
// multiple-choice accuracy. `ramp eval` is a thin CLI over evaluate_model().

#include <nlohmann/json.hpp>

#include <string>

#include "common/perplexity.hpp"

namespace rdt {

struct EvalParams {
    std::string model_path;
    std::string text_path;
    int n_ctx = 512;        // tokens per chunk (llama-perplexity's default)
    int n_chunks = -1;      // -1: every whole chunk of the text
    int n_threads = 0;      // 0: all hardware threads
    std::string kl_base_path;  // empty: no KL divergence
    std::string mc_format;     // piqa, siqa or obqa; empty: no multiple choice
    std::string mc_path;
    int mc_limit = -1;         // -1: every question
};

// Run the evaluation and return the results as JSON (see docs/formats.md).
nlohmann::json evaluate_model(const EvalParams & params);

}  // namespace rdt
