// Tests for ramp/plan: JSON round trip, default fixed types, model checks.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/paths.hpp"
#include "ramp/model_layout.hpp"
#include "ramp/plan.hpp"
#include "ramp/quant_types.hpp"

namespace {

namespace fs = std::filesystem;

struct LoadedModel {
    fs::path path;
    rdt::GgufPtr gguf;
    ramp::ModelLayout layout;
    ramp::ModelIdentity identity;
};

LoadedModel load(const std::string & file) {
    LoadedModel model;
    model.path = rdt::shared_path("models/" + file);
    model.gguf = rdt::open_gguf_checked(model.path);
    model.layout = ramp::read_model_layout(model.gguf.get());
    model.identity = ramp::model_identity(model.path, model.gguf.get());
    return model;
}

ramp::Plan uniform_plan(const LoadedModel & model, ggml_type type) {
    const std::vector<ggml_type> types(model.layout.matrices.size(), type);
    return ramp::make_plan(model.identity, model.layout, ramp::default_fixed_types(model.gguf.get(), model.layout),
                           types, "uniform-" + ramp::type_name(type), false);
}

// Message of the rdt::Error that body throws, or "" when it throws none.
template <typename Body>
std::string error_of(Body body) {
    try {
        body();
    } catch (const rdt::Error & error) {
        return error.what();
    }
    return "";
}

fs::path test_dir() {
    const fs::path dir = fs::path(RDT_TEST_TMP_DIR) / "ramp_plan";
    fs::create_directories(dir);
    return dir;
}

TEST(Plan, IdentityOfSmallFileIsSha256) {
    const LoadedModel model = load("stories260K.gguf");
    EXPECT_EQ(model.identity.hash.rfind("sha256:", 0), 0u) << model.identity.hash;
    EXPECT_EQ(model.identity.hash.size(), 7u + 64u);
    EXPECT_EQ(model.identity.architecture, "llama");
    EXPECT_EQ(model.identity.file_name, "stories260K.gguf");
}

TEST(Plan, DefaultFixedTypesTinyLlama) {
    const LoadedModel model = load("tiny-llama-6L-256.gguf");
    const ramp::Plan plan = uniform_plan(model, GGML_TYPE_Q4_K);
    // Q4_K_M: output Q6_K, token embedding Q4_K (rows of 256).
    EXPECT_EQ(plan.type_of("output.weight").value_or(GGML_TYPE_COUNT), GGML_TYPE_Q6_K);
    EXPECT_EQ(plan.type_of("token_embd.weight").value_or(GGML_TYPE_COUNT), GGML_TYPE_Q4_K);
    EXPECT_FALSE(plan.type_of("output_norm.weight").has_value());
}

TEST(Plan, DefaultFixedTypesStories) {
    const LoadedModel model = load("stories260K.gguf");
    const ramp::Plan plan = uniform_plan(model, GGML_TYPE_Q8_0);
    // Rows of 64: output falls back to Q8_0, the token embedding from Q4_K to Q5_0,
    // and ffn_down (rows of 172, outside the decision) falls back to F16.
    EXPECT_EQ(plan.type_of("token_embd.weight").value_or(GGML_TYPE_COUNT), GGML_TYPE_Q5_0);
    EXPECT_EQ(plan.type_of("blk.0.ffn_down.weight").value_or(GGML_TYPE_COUNT), GGML_TYPE_F16);
    if (model.gguf && gguf_find_tensor(model.gguf.get(), "output.weight") >= 0) {
        EXPECT_EQ(plan.type_of("output.weight").value_or(GGML_TYPE_COUNT), GGML_TYPE_Q8_0);
    }
}

TEST(Plan, JsonRoundTrip) {
    const LoadedModel model = load("tiny-llama-6L-256.gguf");
    ramp::Plan plan = uniform_plan(model, GGML_TYPE_Q3_K);
    plan.matrices[2].type = GGML_TYPE_Q6_K;
    plan.target_bpw = 3.5;
    plan.predicted.file_bytes = 12345;
    plan.provenance = {{"seed", 7}, {"calibration", "calibration.txt"}};
    const fs::path path = test_dir() / "round_trip.json";
    ramp::write_plan(plan, path);
    const ramp::Plan read = ramp::read_plan_file(path);

    EXPECT_EQ(read.source, plan.source);
    ASSERT_TRUE(read.target_bpw.has_value());
    EXPECT_EQ(*read.target_bpw, 3.5);
    EXPECT_EQ(read.matrix_types(), plan.matrix_types());
    EXPECT_EQ(read.fixed.size(), plan.fixed.size());
    EXPECT_EQ(read.model.hash, plan.model.hash);
    EXPECT_EQ(read.predicted.file_bytes, 12345);
    EXPECT_EQ(read.provenance.at("seed"), 7);
    EXPECT_EQ(ramp::plan_hash(read), ramp::plan_hash(plan));
    EXPECT_TRUE(ramp::plan_mismatches(read, model.identity, model.layout, model.gguf.get()).empty());
}

TEST(Plan, HashChangesWithTypes) {
    const LoadedModel model = load("tiny-llama-6L-256.gguf");
    ramp::Plan plan = uniform_plan(model, GGML_TYPE_Q4_K);
    const std::string before = ramp::plan_hash(plan);
    plan.matrices.back().type = GGML_TYPE_Q5_K;
    EXPECT_NE(ramp::plan_hash(plan), before);
    EXPECT_EQ(before.size(), 16u);
}

TEST(Plan, OtherModelRejected) {
    const LoadedModel tiny = load("tiny-llama-6L-256.gguf");
    const LoadedModel stories = load("stories260K.gguf");
    const ramp::Plan plan = uniform_plan(tiny, GGML_TYPE_Q4_K);
    const std::string message = error_of([&] { ramp::check_plan(plan, stories.identity, stories.layout, stories.gguf.get()); });
    ASSERT_FALSE(message.empty());
    EXPECT_NE(message.find("tensors"), std::string::npos) << message;
    EXPECT_NE(message.find("blk.0.attn_q.weight"), std::string::npos) << message;
    EXPECT_NE(message.find("shape"), std::string::npos) << message;
}

TEST(Plan, ArchitectureMismatchNamed) {
    // tiny-llada has tiny-llama's shapes but another architecture.
    const LoadedModel tiny = load("tiny-llama-6L-256.gguf");
    const fs::path llada_path = rdt::shared_path("models/tiny-llada-6L-256.gguf");
    const rdt::GgufPtr llada = rdt::open_gguf_checked(llada_path);
    const ramp::ModelIdentity identity = ramp::model_identity(llada_path, llada.get());
    const ramp::Plan plan = uniform_plan(tiny, GGML_TYPE_Q4_K);
    const auto problems = ramp::plan_mismatches(plan, identity, tiny.layout, llada.get());
    ASSERT_FALSE(problems.empty());
    EXPECT_NE(problems.front().find("llada"), std::string::npos) << problems.front();
}

TEST(Plan, TypeNotCandidateRejected) {
    const LoadedModel model = load("stories260K.gguf");
    ramp::Plan plan = uniform_plan(model, GGML_TYPE_Q8_0);
    plan.matrices[1].type = GGML_TYPE_Q4_K;  // rows of 64 cannot take a 256-block type
    const std::string message =
        error_of([&] { ramp::check_plan(plan, model.identity, model.layout, model.gguf.get()); });
    EXPECT_NE(message.find(plan.matrices[1].name), std::string::npos) << message;
    EXPECT_NE(message.find("q4_K"), std::string::npos) << message;
    EXPECT_NE(message.find("candidates"), std::string::npos) << message;
}

TEST(Plan, ImatrixTypeNeedsImatrixPlan) {
    const LoadedModel model = load("tiny-llama-6L-256.gguf");
    ramp::Plan plan = uniform_plan(model, GGML_TYPE_Q4_K);
    plan.matrices[0].type = GGML_TYPE_IQ2_XS;
    EXPECT_EQ(ramp::plan_mismatches(plan, model.identity, model.layout, model.gguf.get()).size(), 1u);
    plan.with_imatrix = true;
    EXPECT_TRUE(ramp::plan_mismatches(plan, model.identity, model.layout, model.gguf.get()).empty());
}

TEST(Plan, MissingAndExtraMatricesNamed) {
    const LoadedModel model = load("tiny-llama-6L-256.gguf");
    ramp::Plan plan = uniform_plan(model, GGML_TYPE_Q4_K);
    const std::string dropped = plan.matrices.back().name;
    plan.matrices.pop_back();
    plan.matrices[0].name = "blk.99.attn_q.weight";
    const auto problems = ramp::plan_mismatches(plan, model.identity, model.layout, model.gguf.get());
    std::string all;
    for (const auto & problem : problems) {
        all += problem + "\n";
    }
    EXPECT_NE(all.find(dropped), std::string::npos) << all;
    EXPECT_NE(all.find("blk.99.attn_q.weight"), std::string::npos) << all;
    EXPECT_NE(all.find("blk.0.attn_q.weight"), std::string::npos) << all;
}

TEST(Plan, BadFixedTypeRejected) {
    const LoadedModel model = load("stories260K.gguf");
    ramp::Plan plan = uniform_plan(model, GGML_TYPE_Q8_0);
    plan.fixed.push_back({.name = "token_embd.weight", .type = GGML_TYPE_Q6_K});
    const auto problems = ramp::plan_mismatches(plan, model.identity, model.layout, model.gguf.get());
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("token_embd.weight"), std::string::npos) << problems[0];
}

TEST(Plan, WrongSchemaRejected) {
    const fs::path path = test_dir() / "wrong_schema.json";
    {
        std::ofstream out(path);
        out << R"({"schema": "ramp.plan/9", "source": "x"})";
    }
    const std::string message = error_of([&] { ramp::read_plan_file(path); });
    EXPECT_NE(message.find("ramp.plan/9"), std::string::npos) << message;
}

TEST(Plan, MalformedJsonRejected) {
    const fs::path path = test_dir() / "malformed.json";
    {
        std::ofstream out(path);
        out << R"({"schema": "ramp.plan/1", )";
    }
    const std::string message = error_of([&] { ramp::read_plan_file(path); });
    EXPECT_NE(message.find("malformed.json"), std::string::npos) << message;
}

}  // namespace
