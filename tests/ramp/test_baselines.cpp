// Tests for ramp/baselines: uniform plans with fallbacks, llama.cpp recipes read
// back as plans, and the greedy allocation from measured sensitivity.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "common/paths.hpp"
#include "common/text.hpp"
#include "ramp/baselines.hpp"
#include "ramp/budget.hpp"
#include "ramp/plan_eval.hpp"
#include "ramp/quant_types.hpp"

namespace {

namespace fs = std::filesystem;

// One thread: ggml's worker threads spin while waiting, so on a loaded 2-core CI
// machine two threads per test make tiny models decode many times slower.
constexpr int kThreads = 1;

ramp::PlanEvalOptions fast_options() {
    ramp::PlanEvalOptions options;
    options.n_ctx = 128;
    options.n_chunks = 2;
    options.n_threads = kThreads;
    return options;
}

std::string text() { return rdt::read_text_file(rdt::shared_path("data/text/tinystories-valid-head.txt")); }

fs::path work_dir() {
    const fs::path dir = fs::path(RDT_TEST_TMP_DIR) / "ramp_baselines";
    fs::create_directories(dir);
    return dir;
}

TEST(Baselines, FallbackCandidate) {
    EXPECT_EQ(ramp::fallback_candidate(GGML_TYPE_Q4_K, 256, false), GGML_TYPE_Q4_K);
    EXPECT_EQ(ramp::fallback_candidate(GGML_TYPE_Q4_K, 64, false), GGML_TYPE_Q5_0);
    EXPECT_EQ(ramp::fallback_candidate(GGML_TYPE_Q6_K, 64, false), GGML_TYPE_Q8_0);
    EXPECT_EQ(ramp::fallback_candidate(GGML_TYPE_Q2_K, 64, false), GGML_TYPE_Q4_0);
    // IQ4_NL is a candidate only with an importance matrix; Q4_0 has the same bpw.
    EXPECT_EQ(ramp::fallback_candidate(GGML_TYPE_IQ4_XS, 64, false), GGML_TYPE_Q4_0);
}

TEST(Baselines, UniformStoriesUsesFallbacks) {
    ramp::PlanEvaluator evaluator(rdt::shared_path("models/stories260K.gguf"), text(), fast_options());
    const ramp::Plan plan = ramp::uniform_plan(evaluator, GGML_TYPE_Q4_K);
    for (const auto & entry : plan.matrices) {
        EXPECT_EQ(entry.type, GGML_TYPE_Q5_0) << entry.name;
    }
    EXPECT_EQ(plan.source, "uniform-q4_K");
    EXPECT_DOUBLE_EQ(plan.predicted.bpw, 5.5);
}

TEST(Baselines, RecipeQ4KMReadBack) {
    ramp::PlanEvaluator evaluator(rdt::shared_path("models/tiny-llama-6L-256.gguf"), text(), fast_options());
    const ramp::Plan plan = ramp::recipe_plan(evaluator, rdt::shared_path("models/tiny-llama-6L-256.gguf"),
                                              ramp::parse_recipe("q4_k_m"), work_dir(), kThreads);
    EXPECT_EQ(plan.source, "recipe-Q4_K_M");
    // Q4_K_M over 6 layers raises ffn_down to Q6_K in layers 2 and 5 (the first and
    // last eighth, which round to layer 5 only, and every third layer in between).
    EXPECT_EQ(plan.type_of("blk.0.attn_q.weight").value_or(GGML_TYPE_COUNT), GGML_TYPE_Q4_K);
    EXPECT_EQ(plan.type_of("blk.0.ffn_down.weight").value_or(GGML_TYPE_COUNT), GGML_TYPE_Q4_K);
    EXPECT_EQ(plan.type_of("blk.2.ffn_down.weight").value_or(GGML_TYPE_COUNT), GGML_TYPE_Q6_K);
    EXPECT_EQ(plan.type_of("blk.5.ffn_down.weight").value_or(GGML_TYPE_COUNT), GGML_TYPE_Q6_K);
    EXPECT_EQ(plan.type_of("output.weight").value_or(GGML_TYPE_COUNT), GGML_TYPE_Q6_K);
    EXPECT_GT(plan.predicted.bpw, 4.5);
    EXPECT_LT(plan.predicted.bpw, 5.5);
    EXPECT_FALSE(fs::exists(work_dir() / "recipe-Q4_K_M.gguf.tmp"));
}

TEST(Baselines, UnknownRecipeListsAccepted) {
    try {
        ramp::parse_recipe("Q4_K_X");
        FAIL() << "expected rdt::Error";
    } catch (const rdt::Error & error) {
        EXPECT_NE(std::string(error.what()).find("Q4_K_M"), std::string::npos) << error.what();
    }
}

TEST(Baselines, GreedyFitsBudgetAndBeatsUniform) {
    ramp::PlanEvaluator evaluator(rdt::shared_path("models/stories260K.gguf"), text(), fast_options());
    const ramp::Sensitivity sensitivity = ramp::measure_sensitivity(evaluator, false);
    ASSERT_EQ(sensitivity.kl.size(), evaluator.layout().matrices.size());
    constexpr double kBudget = 5.0;
    const ramp::Plan plan = ramp::greedy_plan(evaluator, sensitivity, kBudget);
    EXPECT_LE(plan.predicted.bpw, kBudget);
    EXPECT_GT(plan.predicted.bpw, 4.5);
    EXPECT_EQ(plan.source, "greedy");

    // The greedy plan should beat a uniform plan of at most the same size (Q4_0).
    const auto greedy = evaluator.evaluate(plan);
    const auto uniform = evaluator.evaluate(ramp::uniform_plan(evaluator, GGML_TYPE_Q4_0));
    EXPECT_LT(greedy.kl_mean, uniform.kl_mean);
}

TEST(Baselines, GreedyRejectsInfeasibleBudget) {
    ramp::PlanEvaluator evaluator(rdt::shared_path("models/stories260K.gguf"), text(), fast_options());
    ramp::Sensitivity sensitivity;
    try {
        ramp::greedy_plan(evaluator, sensitivity, 3.0);
        FAIL() << "expected rdt::Error";
    } catch (const rdt::Error & error) {
        EXPECT_NE(std::string(error.what()).find("4.5000"), std::string::npos) << error.what();
    }
}

TEST(Baselines, SensitivityCacheIsReusedAndChecked) {
    ramp::PlanEvaluator evaluator(rdt::shared_path("models/stories260K.gguf"), text(), fast_options());
    const fs::path cache = work_dir() / "sensitivity.json";
    fs::remove(cache);
    const nlohmann::json identity = {{"model", "stories260K"}, {"chunks", 2}};

    // First call measures and writes; the second reads the same numbers back.
    const ramp::Sensitivity measured = ramp::cached_sensitivity(evaluator, identity, cache, false);
    ASSERT_TRUE(fs::exists(cache));
    const ramp::Sensitivity read = ramp::cached_sensitivity(evaluator, identity, cache, false);
    EXPECT_EQ(read.candidates, measured.candidates);
    EXPECT_EQ(read.kl, measured.kl);  // JSON keeps doubles exactly (shortest round-trip form)

    // Another identity is rejected with the file's name, and the file is kept.
    try {
        ramp::cached_sensitivity(evaluator, {{"model", "other"}, {"chunks", 2}}, cache, false);
        FAIL() << "expected rdt::Error";
    } catch (const rdt::Error & error) {
        EXPECT_NE(std::string(error.what()).find(cache.string()), std::string::npos) << error.what();
        EXPECT_NE(std::string(error.what()).find("model: \"stories260K\" in the file, \"other\" now"),
                  std::string::npos)
            << "the differing field is named: " << error.what();
    }
    EXPECT_TRUE(fs::exists(cache));

    // A truncated file is rejected instead of being used.
    const std::string content = rdt::read_text_file(cache);
    std::ofstream(cache, std::ios::trunc) << content.substr(0, content.size() / 2);
    EXPECT_THROW(ramp::cached_sensitivity(evaluator, identity, cache, false), rdt::Error);
}

}  // namespace
