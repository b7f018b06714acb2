// End-to-end tests of ramp quantize, search and plan on the shared stories260K
// model (fast: 30 decided matrices, 32-block candidates only), including the
// bad-input cases: infeasible budget, episodes below warm-up, missing or corrupt
// policy, checkpoint of another model, interruption.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "common/engine.hpp"
#include "support/run_command.hpp"

namespace {

using rdt_test::run_tool;
using rdt_test::shared;

// Small settings so that one search takes seconds: 4 calibration chunks of 128
// tokens, 6 episodes with 3 random ones, tiny networks.
const std::string kFastOptions =
    " -f " + shared("data/text/calibration.txt") + " -c 128 --chunks 4 -t 2 --hidden 16 --batch 8 -q";
const std::string kFastSearch = kFastOptions + " --episodes 6 --warmup 3";

std::string stories() { return shared("models/stories260K.gguf"); }

std::string tmp(const std::string & name) {
    const std::filesystem::path path = rdt_test::test_tmp_dir() / name;
    std::filesystem::remove(path);
    return path.string();
}

TEST(QuantizeCli, WritesRunnableGguf) {
    const std::string output = tmp("quantize-out.gguf");
    const std::string report = tmp("quantize-report.json");
    const auto result = run_tool("ramp", "quantize -m " + stories() + kFastSearch + " --budget 5.0 -o " + output +
                                             " --report " + report + " --eval-text " +
                                             shared("data/text/tinystories-valid-head.txt") + " --eval-chunks 4");
    ASSERT_EQ(result.status, 0) << result.err;

    const nlohmann::json json = nlohmann::json::parse(rdt_test::read_whole(report));
    EXPECT_LE(json["bpw"].get<double>(), 5.0 * (1 + 1e-9));
    EXPECT_EQ(json["file_bytes"].get<int64_t>(), static_cast<int64_t>(std::filesystem::file_size(output)));
    EXPECT_TRUE(json["chosen"].contains("evaluation"));
    EXPECT_FALSE(json["baselines"].empty());
    EXPECT_TRUE(json["search"]["best_by_source"].contains("baseline"));
    EXPECT_FALSE(json["fixed_types"].empty()) << "embedding and output types are reported too";

    // llama.cpp's recipes from the budget up to one bit above it, on the evaluation text.
    ASSERT_TRUE(json.contains("recipes"));
    EXPECT_FALSE(json["recipes"].empty());
    for (const auto & recipe : json["recipes"]) {
        EXPECT_GE(recipe["bpw"].get<double>(), 5.0 - 0.01) << recipe.dump();
        EXPECT_LE(recipe["bpw"].get<double>(), 6.0) << recipe.dump();
        EXPECT_TRUE(recipe.contains("evaluation")) << recipe.dump();
    }
    EXPECT_NE(result.err.find("eval KL"), std::string::npos) << "the summary table goes to stderr";

    // Stock llama.cpp loads the file and decodes with it.
    rdt::ModelPtr model = rdt::load_model(output);
    EXPECT_NE(rdt::model_meta(model.get(), "ramp.plan.source"), "");
    rdt::ContextOptions options;
    options.n_ctx = 64;
    rdt::ContextPtr ctx = rdt::make_context(model.get(), options);
    rdt::Batch batch(4);
    for (int i = 0; i < 4; ++i) {
        batch.add(1 + i, i, 0, i == 3);
    }
    EXPECT_EQ(llama_decode(ctx.get(), batch.get()), 0);
}

TEST(QuantizeCli, InfeasibleBudgetNamesRange) {
    const std::string output = tmp("infeasible.gguf");
    const auto result = run_tool("ramp", "quantize -m " + stories() + kFastSearch + " --budget 2.0 -o " + output);
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("4.5"), std::string::npos) << "the feasible range starts at Q4_0's 4.5 bpw: "
                                                          << result.err;
    EXPECT_FALSE(std::filesystem::exists(output));
}

TEST(QuantizeCli, EpisodesBelowWarmup) {
    const auto result = run_tool("ramp", "search -m " + stories() + kFastOptions +
                                             " --budget 5.0 --episodes 2 --warmup 3 -o " + tmp("p.json"));
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("warm-up"), std::string::npos) << result.err;
}

TEST(PlanCli, PolicyTransfersZeroShot) {
    const std::string policy = tmp("policy.pt");
    tmp("policy.pt.json");  // the sidecar of an earlier run, removed as well
    const auto trained = run_tool("ramp", "search -m " + stories() + kFastSearch + " --budget 5.5 -o " +
                                              tmp("trained-plan.json") + " --save-policy " + policy);
    ASSERT_EQ(trained.status, 0) << trained.err;
    ASSERT_TRUE(std::filesystem::exists(policy));

    // Apply it to the other shared causal model, with another shape and candidate family.
    const std::string plan = tmp("transferred-plan.json");
    const auto applied = run_tool("ramp", "plan -q -m " + shared("models/tiny-llama-6L-256.gguf") + " -f " +
                                              shared("data/text/calibration.txt") +
                                              " -c 128 --chunks 2 -t 2 --budget 6.0 --policy " + policy + " -o " + plan);
    ASSERT_EQ(applied.status, 0) << applied.err;
    const nlohmann::json json = nlohmann::json::parse(rdt_test::read_whole(plan));
    const double bpw = json["predicted"]["bpw"].get<double>();
    EXPECT_LE(bpw, 6.0 * (1 + 1e-9));
    // The plan is filled up to the budget: what is left is less than one type step
    // of one matrix (at most 1.94 bpw, Q6_K to Q8_0, on an MLP matrix with 3.9%
    // of the weights: 0.075 bpw).
    constexpr double kFillSlackBpw = 0.1;
    EXPECT_GE(bpw, 6.0 - kFillSlackBpw) << "a policy from another model must still spend the budget";
}

TEST(PlanCli, MissingPolicy) {
    const auto result = run_tool("ramp", "plan -m " + stories() + " -f " + shared("data/text/calibration.txt") +
                                             " --budget 5.0 --policy /nonexistent/policy.pt -o " + tmp("x.json"));
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("not found"), std::string::npos) << result.err;
}

TEST(PlanCli, CorruptPolicy) {
    const std::string policy = tmp("corrupt-policy.pt");
    std::ofstream(policy) << "not a torch archive";
    std::ofstream(policy + ".json") << "{ this is not json";
    const auto result = run_tool("ramp", "plan -m " + stories() + " -f " + shared("data/text/calibration.txt") +
                                             " --budget 5.0 --policy " + policy + " -o " + tmp("y.json"));
    EXPECT_EQ(result.status, 1) << result.err;
    EXPECT_NE(result.err.find(policy), std::string::npos) << "the error names the policy file: " << result.err;
}

TEST(SearchCli, CheckpointOfAnotherModelRejected) {
    const std::string checkpoint = tmp("stories.ckpt");
    const auto first = run_tool("ramp", "search -m " + stories() + kFastSearch + " --budget 5.0 -o " +
                                            tmp("ck-plan.json") + " --checkpoint " + checkpoint);
    ASSERT_EQ(first.status, 0) << first.err;
    ASSERT_TRUE(std::filesystem::exists(checkpoint));

    const auto resumed = run_tool("ramp", "search -m " + stories() + kFastSearch + " --budget 5.5 -o " +
                                              tmp("ck-plan2.json") + " --checkpoint " + checkpoint + " --resume");
    EXPECT_EQ(resumed.status, 1);
    EXPECT_FALSE(std::filesystem::exists(tmp("ck-plan2.json")));

    // Another action mapping changes what every stored action means.
    const auto remapped = run_tool("ramp", "search -m " + stories() + kFastSearch + " --budget 5.0 -o " +
                                               tmp("ck-plan3.json") + " --checkpoint " + checkpoint +
                                               " --resume --action-map range");
    EXPECT_EQ(remapped.status, 1);
    EXPECT_NE(remapped.err.find("--action-map budget"), std::string::npos) << remapped.err;

    // Starting over on an existing checkpoint needs --resume or --force.
    const auto again = run_tool("ramp", "search -m " + stories() + kFastSearch + " --budget 5.0 -o " +
                                            tmp("ck-plan4.json") + " --checkpoint " + checkpoint);
    EXPECT_EQ(again.status, 1);
    EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
}

// Policy and cache paths are checked before the search, like -o.
TEST(SearchCli, OutputPathsCheckedFirst) {
    const std::string plan = tmp("paths-plan.json");
    const auto missing_folder = run_tool("ramp", "search -m " + stories() + kFastSearch + " --budget 5.0 -o " + plan +
                                                     " --save-policy " + tmp("no-such-folder") + "/p.pt");
    EXPECT_EQ(missing_folder.status, 1);
    EXPECT_NE(missing_folder.err.find("no-such-folder"), std::string::npos) << missing_folder.err;
    EXPECT_EQ(missing_folder.err.find(".tmp"), std::string::npos) << "names the user's path" << missing_folder.err;
    EXPECT_EQ(missing_folder.err.find("search:"), std::string::npos) << "no search ran: " << missing_folder.err;

    const std::string policy = tmp("existing.pt");
    std::ofstream(policy) << "old";
    const auto existing = run_tool("ramp", "search -m " + stories() + kFastSearch + " --budget 5.0 -o " + plan +
                                               " --save-policy " + policy);
    EXPECT_EQ(existing.status, 1);
    EXPECT_NE(existing.err.find("--force"), std::string::npos) << existing.err;

    const auto cache = run_tool("ramp", "search -m " + stories() + kFastSearch + " --budget 5.0 -o " + plan +
                                            " --sensitivity " + tmp("no-such-folder") + "/s.json");
    EXPECT_EQ(cache.status, 1);
    EXPECT_NE(cache.err.find("--sensitivity"), std::string::npos) << cache.err;
    EXPECT_FALSE(std::filesystem::exists(plan));
}

TEST(SearchCli, InterruptLeavesCheckpointAndNoPlan) {
    const std::string checkpoint = tmp("interrupted.ckpt");
    const std::string plan = tmp("interrupted-plan.json");
    // SIGINT 12 s in: inside the episode loop of a 400-episode search without baselines
    // (features and the float reference take about 3 s).
    // timeout(1) delivers SIGINT the way Ctrl-C does; a plain background job
    // would start with SIGINT ignored.
    const auto result = rdt_test::run_shell(
        "timeout --preserve-status --signal=INT 12 " + rdt_test::tool_path("ramp") + " search -m " + stories() +
        kFastOptions + " --no-baselines --episodes 400 --warmup 3 --budget 5.0 -o " + plan + " --checkpoint " +
        checkpoint);
    EXPECT_EQ(result.status, 130) << "Ctrl-C exits with 130: " << result.err;
    EXPECT_FALSE(std::filesystem::exists(plan));
    EXPECT_TRUE(std::filesystem::exists(checkpoint)) << result.err;
    EXPECT_NE(result.err.find("--resume"), std::string::npos) << result.err;
}

}  // namespace

namespace {

TEST(QuantizeCli, MissingEvalTextFailsBeforeSearch) {
    const std::string output = tmp("no-eval-text.gguf");
    const auto result = run_tool("ramp", "quantize -m " + stories() + kFastSearch + " --budget 5.0 -o " + output +
                                             " --eval-text /nonexistent/eval.txt");
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("/nonexistent/eval.txt"), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(output)) << "no model is written when the evaluation text is missing";
}

// An evaluation that fails after the search (here: a text shorter than one chunk)
// must not leave the quantized model behind without its report.
TEST(QuantizeCli, FailedEvaluationWritesNoModel) {
    const std::string output = tmp("short-eval.gguf");
    const std::string text = (rdt_test::test_tmp_dir() / "short-eval.txt").string();
    std::ofstream(text) << "Once upon a time there was a cat.\n";
    const auto result = run_tool("ramp", "quantize -m " + stories() + kFastSearch + " --budget 5.0 -o " + output +
                                             " --eval-text " + text);
    EXPECT_EQ(result.status, 1) << result.err;
    EXPECT_FALSE(std::filesystem::exists(output)) << "the model is written only after the evaluation";
}

// Ctrl-C before the search (Scale Folding, features, sensitivity) stops with status
// 130 and a message, and leaves neither the model nor the folded intermediate.
TEST(QuantizeCli, CtrlCBeforeSearchLeavesNoFiles) {
    const std::string output = tmp("interrupted-fold.gguf");
    tmp("interrupted-fold.gguf.folded.gguf");
    // 4 s: past the start-up (about 1 s), well before tiny-llama's search ends.
    const auto result = rdt_test::run_shell(
        "timeout --preserve-status --signal=INT 4 " + rdt_test::tool_path("ramp") + " quantize -m " +
        shared("models/tiny-llama-6L-256.gguf") + kFastSearch + " --budget 4.0 --fold -o " + output);
    EXPECT_EQ(result.status, 130) << result.err;
    // "interrupted by Ctrl-C" before the search, "search interrupted" if a fast
    // machine already reached it.
    EXPECT_NE(result.err.find("interrupted"), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(output));
    EXPECT_FALSE(std::filesystem::exists(output + ".folded.gguf")) << "the folded intermediate is removed";
}

TEST(SearchCli, InvalidSacOptionsRejected) {
    for (const std::string option :
         {"--lr -1", "--hidden 0", "--batch -1", "--action-map linear", "--clone-steps -1", "--imitation -2",
          "--imitation inf", "--checkpoint-every -3"}) {
        const auto result = run_tool("ramp", "search -q -m " + stories() + " -f " +
                                                 shared("data/text/calibration.txt") + " --budget 5.0 -o " +
                                                 tmp("bad-sac.json") + " " + option);
        EXPECT_EQ(result.status, 1) << option;
        EXPECT_NE(result.err.find(option.substr(0, option.find(' '))), std::string::npos) << result.err;
        EXPECT_EQ(result.err.find("unexpected failure"), std::string::npos) << result.err;
    }
}

TEST(FoldCli, NonQuantSearchTypeRejected) {
    const auto result = run_tool("ramp", "fold -m " + stories() + " -f " + shared("data/text/calibration.txt") +
                                             " -c 128 --chunks 2 -t 1 --alpha-search --search-type i32 -o " +
                                             tmp("fold-i32.gguf"));
    EXPECT_EQ(result.status, 1) << "an invalid type is an error, not an abort: " << result.err;
    EXPECT_NE(result.err.find("i32"), std::string::npos) << result.err;
}

// stories260K's rows of 64 do not fit Q3_K's 256 blocks, so the search must log
// the type it uses instead (llama.cpp's fallback, Q4_0) rather than switch silently.
TEST(FoldCli, SearchTypeFallbackIsNamed) {
    const std::string output = tmp("fold-q3_K.gguf");
    const auto result = run_tool("ramp", "fold -m " + stories() + " -f " + shared("data/text/calibration.txt") +
                                             " -c 128 --chunks 2 -t 1 --alpha-search --search-type q3_K -o " + output);
    ASSERT_EQ(result.status, 0) << result.err;
    EXPECT_NE(result.err.find("uses q4_0 instead"), std::string::npos) << result.err;
    EXPECT_TRUE(std::filesystem::exists(output));
}

}  // namespace
