#pragma once
// Baseline bit plans to compare the search against: uniform types, llama.cpp's
// quantization recipes read back as plans, and a greedy allocation from measured
// per-matrix sensitivity.

#include <ggml.h>
#include <llama.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "ramp/plan.hpp"
#include "ramp/plan_eval.hpp"

namespace ramp {

// The candidate nearest to type for a row length: type itself, else llama.cpp's
// row-length fallback (Q2_K/Q3_K to Q4_0, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0,
// IQ types to IQ4_NL) when that is a candidate, else the candidate closest in bpw.
ggml_type fallback_candidate(ggml_type type, int64_t row_length, bool with_imatrix);

// Every decided matrix at type (with fallback_candidate), fixed tensors at their
// defaults; source "uniform-<type>".
Plan uniform_plan(const PlanEvaluator & evaluator, ggml_type type);

struct Recipe {
    std::string name;  // "Q4_K_M"
    llama_ftype ftype;
};

// llama.cpp's K-quant recipes: Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M,
// Q5_K_S, Q5_K_M, Q6_K.
std::vector<Recipe> k_quant_recipes();
Recipe parse_recipe(const std::string & name);

// The types llama.cpp's recipe gives every tensor, read back from the tensor
// directory of a quantization into a temporary file under work_dir (removed
// afterwards). Source "recipe-<name>". Fails when the recipe gives a decided
// matrix a type outside its candidates.
Plan recipe_plan(const PlanEvaluator & evaluator, const std::filesystem::path & model_path, const Recipe & recipe,
                 const std::filesystem::path & work_dir, int n_threads);

// KL divergence to the float model when only one matrix is quantized:
// kl[matrix][candidate], candidates as candidate_types(n_in, with_imatrix).
struct Sensitivity {
    std::vector<std::vector<ggml_type>> candidates;
    std::vector<std::vector<double>> kl;

    nlohmann::json to_json(const ModelLayout & layout) const;
};

Sensitivity measure_sensitivity(PlanEvaluator & evaluator, bool progress);

// The sensitivity as measured on evaluator's model and chunks, read from
// cache_path when that file exists, else measured and written there (atomically).
// identity names what the numbers depend on: model hash, calibration text and
// settings, importance matrix. A file with another identity, other matrices or
// other candidates is rejected with an error naming the file. An empty path
// measures without caching.
Sensitivity cached_sensitivity(PlanEvaluator & evaluator, const nlohmann::json & identity,
                               const std::filesystem::path & cache_path, bool progress);

// Greedy allocation under target_bpw: start every matrix at its lowest candidate,
// then repeatedly apply the upgrade (to any higher candidate) with the largest
// sensitivity saved per added bit that still fits, until none fits. Finally
// repaired to the budget. Source "greedy".
Plan greedy_plan(const PlanEvaluator & evaluator, const Sensitivity & sensitivity, double target_bpw);

}  // namespace ramp
