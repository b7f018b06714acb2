// Tests for ramp/export: a plan becomes a GGUF that llama.cpp loads, with the
// plan's types, the ramp.* metadata and exactly the predicted size; bad input and
// failures leave no file behind.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/paths.hpp"
#include "ramp/export.hpp"
#include "ramp/model_layout.hpp"
#include "ramp/plan.hpp"
#include "ramp/plan_size.hpp"
#include "ramp/quant_types.hpp"

namespace {

namespace fs = std::filesystem;

// One thread: ggml's worker threads spin while waiting, so on a loaded 2-core CI
// machine two threads per test make tiny models decode many times slower.
constexpr int kThreads = 1;

// Tolerance of the F32 ramp.plan.bpw key against the double prediction.
constexpr double kF32Rounding = 1e-6;

fs::path test_dir() {
    const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir = fs::path(RDT_TEST_TMP_DIR) / "ramp_export" / info->name();
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

ramp::Plan mixed_plan(const fs::path & model_path) {
    const rdt::GgufPtr gguf = rdt::open_gguf_checked(model_path);
    const ramp::ModelLayout layout = ramp::read_model_layout(gguf.get());
    const ramp::ModelIdentity identity = ramp::model_identity(model_path, gguf.get());
    std::vector<ggml_type> types;
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        const auto candidates = ramp::candidate_types(layout.matrices[i].n_in, false);
        types.push_back(candidates[i % candidates.size()]);
    }
    ramp::Plan plan = ramp::make_plan(identity, layout, ramp::default_fixed_types(gguf.get(), layout), types,
                                      "test-mixed", false);
    plan.target_bpw = 6.0;
    plan.provenance = {{"seed", 42}, {"calibration", "calibration.txt"}};
    return plan;
}

std::string error_of(const std::function<void()> & body) {
    try {
        body();
    } catch (const rdt::Error & error) {
        return error.what();
    }
    return "";
}

std::string string_key(const gguf_context * gguf, const char * key) {
    const int64_t id = gguf_find_key(gguf, key);
    return id < 0 ? "" : gguf_get_val_str(gguf, id);
}

void expect_export_matches_plan(const fs::path & model_path) {
    const fs::path out = test_dir() / "out.gguf";
    const ramp::Plan plan = mixed_plan(model_path);
    ramp::ExportOptions options;
    options.model_path = model_path;
    options.output_path = out;
    options.n_threads = kThreads;
    const ramp::ExportReport report = ramp::export_plan(options, plan);

    // Size: the prediction is exact.
    ASSERT_TRUE(fs::exists(out));
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(out)), report.plan.predicted.file_bytes);
    EXPECT_EQ(report.file_bytes, report.plan.predicted.file_bytes);

    // Types and metadata round-trip through the file.
    const rdt::GgufPtr gguf = rdt::open_gguf_checked(out);
    for (const ramp::MatrixType & entry : plan.matrices) {
        const int64_t id = gguf_find_tensor(gguf.get(), entry.name.c_str());
        ASSERT_GE(id, 0) << entry.name;
        EXPECT_EQ(gguf_get_tensor_type(gguf.get(), id), entry.type) << entry.name;
    }
    EXPECT_EQ(string_key(gguf.get(), "ramp.plan.schema"), "ramp.plan/1");
    EXPECT_EQ(string_key(gguf.get(), "ramp.plan.hash"), ramp::plan_hash(plan));
    EXPECT_EQ(string_key(gguf.get(), "ramp.plan.source"), "test-mixed");
    EXPECT_EQ(string_key(gguf.get(), "ramp.calibration"), "calibration.txt");
    const int64_t seed_id = gguf_find_key(gguf.get(), "ramp.seed");
    ASSERT_GE(seed_id, 0);
    EXPECT_EQ(gguf_get_val_u32(gguf.get(), seed_id), 42u);
    const int64_t bpw_id = gguf_find_key(gguf.get(), "ramp.plan.bpw");
    ASSERT_GE(bpw_id, 0);
    EXPECT_NEAR(gguf_get_val_f32(gguf.get(), bpw_id), report.plan.predicted.bpw, kF32Rounding);

    // Stock llama.cpp loads it and decodes.
    const rdt::ModelPtr model = rdt::load_model(out);
    rdt::ContextOptions context_options;
    context_options.n_ctx = 64;
    context_options.n_batch = 64;
    context_options.n_threads = kThreads;
    const rdt::ContextPtr ctx = rdt::make_context(model.get(), context_options);
    const auto tokens = rdt::tokenize(llama_model_get_vocab(model.get()), "Once upon a time", true);
    rdt::Batch batch(64);
    for (size_t i = 0; i < tokens.size(); ++i) {
        batch.add(tokens[i], static_cast<llama_pos>(i), 0, i + 1 == tokens.size());
    }
    ASSERT_EQ(llama_decode(ctx.get(), batch.get()), 0);
    const float * logits = llama_get_logits_ith(ctx.get(), -1);
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model.get()));
    for (int i = 0; i < n_vocab; ++i) {
        ASSERT_TRUE(std::isfinite(logits[i])) << "logit " << i;
    }
}

TEST(Export, TinyLlamaMatchesPlan) {
    expect_export_matches_plan(rdt::shared_path("models/tiny-llama-6L-256.gguf"));
}

TEST(Export, StoriesMatchesPlan) {
    expect_export_matches_plan(rdt::shared_path("models/stories260K.gguf"));
}

TEST(Export, DryRunWritesNothing) {
    const fs::path model_path = rdt::shared_path("models/stories260K.gguf");
    const fs::path out = test_dir() / "dry.gguf";
    ramp::ExportOptions options;
    options.model_path = model_path;
    options.output_path = out;
    options.dry_run = true;
    const ramp::ExportReport report = ramp::export_plan(options, mixed_plan(model_path));
    EXPECT_FALSE(fs::exists(out));
    EXPECT_GT(report.plan.predicted.file_bytes, 0);
    EXPECT_EQ(report.file_bytes, 0);
}

TEST(Export, ExistingOutputNeedsForce) {
    const fs::path model_path = rdt::shared_path("models/stories260K.gguf");
    const fs::path out = test_dir() / "exists.gguf";
    { std::ofstream(out) << "keep me"; }
    ramp::ExportOptions options;
    options.model_path = model_path;
    options.output_path = out;
    const std::string message = error_of([&] { ramp::export_plan(options, mixed_plan(model_path)); });
    EXPECT_NE(message.find("exists.gguf"), std::string::npos) << message;
    EXPECT_EQ(fs::file_size(out), 7u);

    options.force = true;
    ramp::export_plan(options, mixed_plan(model_path));
    EXPECT_GT(fs::file_size(out), 7u);
}

TEST(Export, FailureMidWriteLeavesNoFile) {
    const fs::path model_path = rdt::shared_path("models/stories260K.gguf");
    const fs::path dir = test_dir();
    const fs::path out = dir / "failed.gguf";
    ramp::ExportOptions options;
    options.model_path = model_path;
    options.output_path = out;
    bool temporary_existed = false;
    const auto hook = [&](const fs::path & temporary) {
        temporary_existed = fs::exists(temporary);
        throw rdt::Error("simulated write failure");
    };
    const std::string message = error_of([&] { ramp::export_plan(options, mixed_plan(model_path), hook); });
    EXPECT_NE(message.find("simulated"), std::string::npos) << message;
    EXPECT_TRUE(temporary_existed);
    EXPECT_TRUE(fs::is_empty(dir)) << "a partial file was left in " << dir;
}

TEST(Export, PlanForOtherModelRejected) {
    const fs::path out = test_dir() / "other.gguf";
    ramp::ExportOptions options;
    options.model_path = rdt::shared_path("models/stories260K.gguf");
    options.output_path = out;
    const ramp::Plan plan = mixed_plan(rdt::shared_path("models/tiny-llama-6L-256.gguf"));
    const std::string message = error_of([&] { ramp::export_plan(options, plan); });
    EXPECT_NE(message.find("does not fit"), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(out));
}

TEST(Export, ExactNamePattern) {
    EXPECT_EQ(ramp::exact_name_pattern("blk.3.attn_q.weight"), "^blk\\.3\\.attn_q\\.weight$");
}

}  // namespace
