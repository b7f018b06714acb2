// End-to-end tests of `ramp export` and `ramp baselines` through the built CLI.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/engine.hpp"
#include "common/paths.hpp"
#include "ramp/model_layout.hpp"
#include "ramp/plan.hpp"
#include "ramp/plan_size.hpp"
#include "ramp/quant_types.hpp"
#include "support/run_command.hpp"

namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string & name) {
    const fs::path dir = rdt_test::test_tmp_dir() / "ramp_export_cli" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

fs::path write_uniform_plan(const fs::path & dir, ggml_type type) {
    const fs::path model_path = rdt::shared_path("models/stories260K.gguf");
    const rdt::GgufPtr gguf = rdt::open_gguf_checked(model_path);
    const ramp::ModelLayout layout = ramp::read_model_layout(gguf.get());
    ramp::Plan plan = ramp::make_plan(ramp::model_identity(model_path, gguf.get()), layout,
                                      ramp::default_fixed_types(gguf.get(), layout),
                                      std::vector<ggml_type>(layout.matrices.size(), type), "test", false);
    ramp::fill_prediction(plan, layout, gguf.get());
    const fs::path path = dir / "plan.json";
    ramp::write_plan(plan, path);
    return path;
}

TEST(ExportCli, DryRunPrintsSizes) {
    const fs::path dir = fresh_dir("dry_run");
    const fs::path plan = write_uniform_plan(dir, GGML_TYPE_Q8_0);
    const auto result = rdt_test::run_tool(
        "ramp", "export -q -m " + rdt_test::shared("models/stories260K.gguf") + " --plan " + plan.string() +
                    " --dry-run");
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_NE(result.out.find("blk.0.attn_q.weight"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("q8_0"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("file:"), std::string::npos) << result.out;
}

TEST(ExportCli, WritesAndRefusesOverwrite) {
    const fs::path dir = fresh_dir("write");
    const fs::path plan = write_uniform_plan(dir, GGML_TYPE_Q5_0);
    const fs::path out = dir / "out.gguf";
    const std::string arguments = "export -q -t 1 -m " + rdt_test::shared("models/stories260K.gguf") +
                                  " --plan " + plan.string() + " -o " + out.string();
    const auto first = rdt_test::run_tool("ramp", arguments);
    ASSERT_EQ(first.status, 0) << first.err;
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(out)), ramp::read_plan_file(plan).predicted.file_bytes);

    const auto second = rdt_test::run_tool("ramp", arguments);
    EXPECT_EQ(second.status, 1);
    EXPECT_NE(second.err.find("error:"), std::string::npos) << second.err;
    EXPECT_NE(second.err.find("--force"), std::string::npos) << second.err;
}

TEST(ExportCli, PlanForOtherModelFails) {
    const fs::path dir = fresh_dir("other_model");
    const fs::path plan = write_uniform_plan(dir, GGML_TYPE_Q8_0);
    const auto result = rdt_test::run_tool(
        "ramp", "export -q -m " + rdt_test::shared("models/tiny-llama-6L-256.gguf") + " --plan " + plan.string() +
                    " -o " + (dir / "out.gguf").string());
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("does not fit"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(dir / "out.gguf"));
}

TEST(BaselinesCli, InfeasibleBudgetGivesRange) {
    const fs::path dir = fresh_dir("baselines_budget");
    const auto result = rdt_test::run_tool(
        "ramp", "baselines -q -t 1 -m " + rdt_test::shared("models/stories260K.gguf") + " -f " +
                    rdt_test::shared("data/text/tinystories-valid-head.txt") + " --eval-text " +
                    rdt_test::shared("data/text/tinystories-valid-head.txt") +
                    " -c 128 --eval-chunks 2 --budgets 3.0 --no-uniform --recipes Q4_K_M -o " + (dir / "out").string());
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("4.5000"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("8.5000"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(dir / "out" / "plans")) << "the budget is checked before any evaluation";
}

// A misspelt recipe fails before the uniform plans are evaluated, not after them.
TEST(BaselinesCli, UnknownRecipeFailsFirst) {
    const fs::path dir = fresh_dir("baselines_recipe");
    const auto result = rdt_test::run_tool(
        "ramp", "baselines -q -t 1 -m " + rdt_test::shared("models/stories260K.gguf") + " -f " +
                    rdt_test::shared("data/text/tinystories-valid-head.txt") + " --eval-text " +
                    rdt_test::shared("data/text/tinystories-valid-head.txt") +
                    " -c 128 --eval-chunks 2 --budgets 5.0 --recipes Q4_K_M,Q4_K_X -o " + (dir / "out").string());
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("Q4_K_X"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(dir / "out" / "plans")) << "the recipes are parsed before any evaluation";
}

// Ctrl-C while the recipes are evaluated stops the run instead of being taken for
// one recipe's failure (each would be skipped, and the table written with exit 0).
TEST(BaselinesCli, CtrlCDuringRecipesStops) {
    const fs::path dir = fresh_dir("baselines_interrupt");
    // 3 s: past the start-up (about 1 s), inside the nine recipes (about 1 s each).
    const auto result = rdt_test::run_shell(
        "timeout --preserve-status --signal=INT 3 " + rdt_test::tool_path("ramp") + " baselines -q -t 1 -m " +
        rdt_test::shared("models/tiny-llama-6L-256.gguf") + " -f " + rdt_test::shared("data/text/calibration.txt") +
        " --eval-text " + rdt_test::shared("data/text/calibration.txt") + " -c 128 --eval-chunks 4 --no-uniform -o " +
        (dir / "out").string());
    EXPECT_EQ(result.status, 130) << result.err;
    EXPECT_EQ(result.err.find("skipped: interrupted"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(dir / "out" / "baselines.json"));
}

TEST(BaselinesCli, WritesTableAndPlans) {
    const fs::path dir = fresh_dir("baselines_run") / "out";
    const auto result = rdt_test::run_tool(
        "ramp", "baselines -q -t 1 -m " + rdt_test::shared("models/stories260K.gguf") + " -f " +
                    rdt_test::shared("data/text/tinystories-valid-head.txt") + " --eval-text " +
                    rdt_test::shared("data/text/tinystories-valid-head.txt") +
                    " -c 128 --chunks 1 --eval-chunks 2 --budgets 5.0 --recipes Q4_K_M --no-plot -o " + dir.string());
    ASSERT_EQ(result.status, 0) << result.err;
    EXPECT_TRUE(fs::exists(dir / "baselines.json"));
    EXPECT_TRUE(fs::exists(dir / "baselines.csv"));
    EXPECT_TRUE(fs::exists(dir / "plans" / "greedy-5.00.json"));
    EXPECT_TRUE(fs::exists(dir / "plans" / "recipe-Q4_K_M.json"));
    EXPECT_TRUE(fs::exists(dir / "plans" / "uniform-q8_0.json"));
    const ramp::Plan greedy = ramp::read_plan_file(dir / "plans" / "greedy-5.00.json");
    EXPECT_LE(greedy.predicted.bpw, 5.0);

    // The greedy plan's predicted size includes its calibration metadata.
    const fs::path exported = dir / "greedy.gguf";
    const auto export_result = rdt_test::run_tool(
        "ramp", "export -q -t 1 -m " + rdt_test::shared("models/stories260K.gguf") + " --plan " +
                    (dir / "plans" / "greedy-5.00.json").string() + " -o " + exported.string());
    ASSERT_EQ(export_result.status, 0) << export_result.err;
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(exported)), greedy.predicted.file_bytes);
}

}  // namespace
