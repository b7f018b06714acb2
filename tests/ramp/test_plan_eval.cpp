// Tests for ramp/plan_eval: the in-memory model of a plan scores the same
// perplexity as the exported GGUF, the quantization cache computes each (tensor,
// type) once, and KL is zero only for the float model.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "common/paths.hpp"
#include "common/perplexity.hpp"
#include "common/text.hpp"
#include "ramp/export.hpp"
#include "ramp/plan_eval.hpp"
#include "ramp/quant_types.hpp"

namespace {

namespace fs = std::filesystem;

// One thread: ggml's worker threads spin while waiting, so on a loaded 2-core CI
// machine two threads per test make tiny models decode many times slower.
constexpr int kThreads = 1;

// In-memory and exported models hold identical bytes; the CPU backend may still
// pick other kernels (weight repacking applies only to file loads), so allow the
// relative difference the design allows between search and export.
constexpr double kPplRelativeTolerance = 0.005;

ramp::PlanEvalOptions fast_options() {
    ramp::PlanEvalOptions options;
    options.n_ctx = 128;
    options.n_chunks = 4;
    options.n_threads = kThreads;
    return options;
}

std::string eval_text() { return rdt::read_text_file(rdt::shared_path("data/text/tinystories-valid-head.txt")); }

fs::path test_dir() {
    const fs::path dir = fs::path(RDT_TEST_TMP_DIR) / "ramp_plan_eval";
    fs::create_directories(dir);
    return dir;
}

std::vector<std::vector<ggml_type>> sample_plans(const ramp::ModelLayout & layout) {
    const size_t n = layout.matrices.size();
    std::vector<std::vector<ggml_type>> plans;
    plans.emplace_back(n, GGML_TYPE_Q2_K);
    plans.emplace_back(n, GGML_TYPE_Q4_K);
    std::vector<ggml_type> mixed;
    const auto candidates = ramp::candidate_types(256, false);
    for (size_t i = 0; i < n; ++i) {
        mixed.push_back(candidates[(i * 5) % candidates.size()]);
    }
    plans.push_back(mixed);
    return plans;
}

TEST(PlanEval, InMemoryPplMatchesExport) {
    const fs::path model_path = rdt::shared_path("models/tiny-llama-6L-256.gguf");
    ramp::PlanEvaluator evaluator(model_path, eval_text(), fast_options());
    int index = 0;
    for (const auto & types : sample_plans(evaluator.layout())) {
        const ramp::Plan plan = evaluator.make_plan(types, "test");
        const ramp::PlanEvalResult in_memory = evaluator.evaluate(plan);

        ramp::ExportOptions options;
        options.model_path = model_path;
        options.output_path = test_dir() / ("plan" + std::to_string(index++) + ".gguf");
        options.force = true;
        options.n_threads = kThreads;
        ramp::export_plan(options, plan);
        const rdt::ModelPtr exported = rdt::load_model(options.output_path);
        rdt::ChunkRunOptions run;
        run.n_threads = kThreads;
        run.progress = false;
        const double exported_ppl = rdt::evaluate_perplexity(exported.get(), evaluator.chunks(), run).ppl.ppl;

        RecordProperty("plan" + std::to_string(index) + "_ppl_ratio", std::to_string(in_memory.ppl / exported_ppl));
        EXPECT_NEAR(in_memory.ppl / exported_ppl, 1.0, kPplRelativeTolerance)
            << "plan " << index << ": in memory " << in_memory.ppl << ", exported " << exported_ppl;
        EXPECT_EQ(in_memory.file_bytes, static_cast<int64_t>(fs::file_size(options.output_path)));
    }
}

TEST(PlanEval, KlOrdersPlans) {
    ramp::PlanEvaluator evaluator(rdt::shared_path("models/tiny-llama-6L-256.gguf"), eval_text(), fast_options());
    const size_t n = evaluator.layout().matrices.size();
    const auto low = evaluator.evaluate(std::vector<ggml_type>(n, GGML_TYPE_Q2_K));
    const auto high = evaluator.evaluate(std::vector<ggml_type>(n, GGML_TYPE_Q8_0));
    EXPECT_GT(low.kl_mean, high.kl_mean);
    EXPECT_GT(high.kl_mean, 0.0);
    EXPECT_GT(high.same_top, low.same_top);
    EXPECT_NEAR(low.bpw, 2.625, 0.0);
    EXPECT_TRUE(std::isfinite(low.ppl));
}

TEST(PlanEval, CacheQuantizesOnce) {
    ramp::PlanEvaluator evaluator(rdt::shared_path("models/stories260K.gguf"),
                                  eval_text(), fast_options());
    const size_t n = evaluator.layout().matrices.size();
    const std::vector<ggml_type> types(n, GGML_TYPE_Q8_0);
    evaluator.evaluate(types);
    const int64_t misses = evaluator.cache().misses();
    const int64_t bytes = evaluator.cache().bytes();
    const auto second = evaluator.evaluate(types);
    EXPECT_EQ(evaluator.cache().misses(), misses);
    EXPECT_EQ(evaluator.cache().bytes(), bytes);
    EXPECT_GT(evaluator.cache().hits(), 0);
    EXPECT_EQ(evaluator.evaluations(), 2);
    EXPECT_TRUE(std::isfinite(second.kl_mean));
}

}  // namespace
