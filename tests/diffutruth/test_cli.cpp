// End-to-end tests of the diffutruth CLI and of the evaluation helpers: bad
// input files, skipping, one-class sets, summaries and the ROC plot.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "common/paths.hpp"
#include "diffutruth/evaluation.hpp"

namespace {

namespace fs = std::filesystem;

fs::path test_dir() {
    const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir = fs::path(RDT_TEST_TMP_DIR) / "diffutruth_cli" / info->name();
    static std::string prepared_for;
    if (prepared_for != dir.string()) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        prepared_for = dir.string();
    }
    return dir;
}

fs::path write_file(const std::string & name, const std::string & text) {
    const fs::path path = test_dir() / name;
    std::ofstream(path) << text;
    return path;
}

std::string read_all(const fs::path & path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

struct RunResult {
    int status = 0;
    std::string stderr_text;
};

// Run the CLI with the shared models and fast settings; arguments are appended.
RunResult run_cli(const std::string & arguments) {
    const fs::path err = test_dir() / "stderr.txt";
    const std::string command = std::string(RDT_BIN_DIR "/diffutruth ") + arguments + " -r " +
                                rdt::shared_path("models/tiny-llada-6L-256.gguf").string() + " -c " +
                                rdt::shared_path("models/tiny-bert-nli.gguf").string() +
                                " -t 2 --samples 1 --noise-levels 0.3 -q 2> " + err.string() + " > /dev/null";
    const int raw = std::system(command.c_str());
    return {WEXITSTATUS(raw), read_all(err)};
}

::testing::AssertionResult contains(const std::string & text, const std::string & part) {
    if (text.find(part) != std::string::npos) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

const std::string kGoodLines =
    "{\"id\": 1, \"claim\": \"Paris is the capital of France.\", \"label\": \"SUPPORTS\"}\n"
    "{\"id\": 2, \"claim\": \"The Sun orbits the Earth every day.\", \"label\": \"REFUTES\"}\n"
    "{\"id\": 3, \"claim\": \"Water boils at one hundred degrees.\", \"label\": \"SUPPORTS\"}\n"
    "{\"id\": 4, \"claim\": \"Cats are a kind of fish.\", \"label\": \"REFUTES\"}\n";

TEST(Cli, ScoreWritesOneLinePerClaimWithReconstructions) {
    const fs::path input = write_file("claims.jsonl", kGoodLines);
    const fs::path output = test_dir() / "scores-written.jsonl";
    fs::remove(output);
    const RunResult result = run_cli("score -i " + input.string() + " -o " + output.string());
    ASSERT_EQ(result.status, 0) << result.stderr_text;
    std::ifstream in(output);
    std::string line;
    int count = 0;
    while (std::getline(in, line)) {
        const auto json = nlohmann::json::parse(line);
        EXPECT_TRUE(json.contains("energy"));
        EXPECT_TRUE(json.contains("score"));
        EXPECT_TRUE(json.contains("probability_false"));
        EXPECT_EQ(json["reconstructions"].size(), 1u);
        count += 1;
    }
    EXPECT_EQ(count, 4);
}

TEST(Cli, ExistingOutputNeedsForce) {
    const fs::path input = write_file("claims-force.jsonl", kGoodLines);
    const fs::path output = write_file("existing-scores.jsonl", "keep me\n");
    const RunResult refused = run_cli("score -i " + input.string() + " -o " + output.string());
    EXPECT_EQ(refused.status, 1);
    EXPECT_TRUE(contains(refused.stderr_text, "--force"));
    EXPECT_EQ(read_all(output), "keep me\n") << "an existing file is not overwritten without --force";

    const RunResult forced = run_cli("score --force -i " + input.string() + " -o " + output.string());
    EXPECT_EQ(forced.status, 0) << forced.stderr_text;
    EXPECT_NE(read_all(output), "keep me\n");
}

TEST(Cli, BalancedNeedsLimit) {
    const fs::path input = write_file("claims-balanced.jsonl", kGoodLines);
    const RunResult result = run_cli("eval --dataset fever --balanced -i " + input.string());
    EXPECT_EQ(result.status, 1);
    EXPECT_TRUE(contains(result.stderr_text, "--limit"));
}

TEST(Cli, MalformedLineFailsOrSkips) {
    const fs::path input = write_file("bad.jsonl", kGoodLines + "{\"id\": 5, \"claim\": \"broken\n");
    const fs::path output = test_dir() / "scores-malformed.jsonl";
    fs::remove(output);
    const RunResult failed = run_cli("score -i " + input.string() + " -o " + output.string());
    EXPECT_EQ(failed.status, 1);
    EXPECT_TRUE(contains(failed.stderr_text, "bad.jsonl:5"));
    EXPECT_FALSE(fs::exists(output)) << "no partial output after an error";

    const RunResult skipped = run_cli("score --skip-invalid -i " + input.string() + " -o " + output.string());
    EXPECT_EQ(skipped.status, 0) << skipped.stderr_text;
    EXPECT_TRUE(contains(skipped.stderr_text, "1 malformed record(s) skipped"));
}

TEST(Cli, EmptyClaimAndUnknownLabelAreRejected) {
    const fs::path empty = write_file("empty.jsonl", "{\"claim\": \"\", \"label\": \"SUPPORTS\"}\n");
    const RunResult empty_result = run_cli("score -i " + empty.string());
    EXPECT_EQ(empty_result.status, 1);
    EXPECT_TRUE(contains(empty_result.stderr_text, "empty.jsonl:1"));

    const fs::path label = write_file("label.jsonl", "{\"claim\": \"Paris is in France.\", \"label\": \"MAYBE\"}\n");
    const RunResult label_result = run_cli("score --format jsonl -i " + label.string());
    EXPECT_EQ(label_result.status, 1);
    EXPECT_TRUE(contains(label_result.stderr_text, "unknown label \"MAYBE\""));
    EXPECT_TRUE(contains(label_result.stderr_text, "SUPPORTS"));
}

TEST(Cli, BadModelsGiveClearErrors) {
    const fs::path input = write_file("claims.jsonl", kGoodLines);
    const std::string llama = rdt::shared_path("models/tiny-llama-6L-256.gguf").string();
    // run_cli passes the good models, so build these command lines by hand.
    const fs::path err = test_dir() / "err.txt";
    const std::string base = std::string(RDT_BIN_DIR "/diffutruth score -q -t 2 --samples 1 -i ") + input.string();
    const std::string critic = rdt::shared_path("models/tiny-bert-nli.gguf").string();
    const std::string llada = rdt::shared_path("models/tiny-llada-6L-256.gguf").string();

    int raw = std::system((base + " -r " + llama + " -c " + critic + " 2> " + err.string() + " >/dev/null").c_str());
    EXPECT_EQ(WEXITSTATUS(raw), 1);
    EXPECT_TRUE(contains(read_all(err), "is not a diffusion model"));

    raw = std::system((base + " -r " + llada + " -c " + llama + " 2> " + err.string() + " >/dev/null").c_str());
    EXPECT_EQ(WEXITSTATUS(raw), 1);
    EXPECT_TRUE(contains(read_all(err), "no classifier head"));
}

TEST(Cli, EvalOnOneClassExplainsAurocIsUndefined) {
    const fs::path input = write_file(
        "one.jsonl", "{\"id\": 1, \"claim\": \"Paris is the capital of France.\", \"label\": \"SUPPORTS\"}\n"
                     "{\"id\": 3, \"claim\": \"Water boils at one hundred degrees.\", \"label\": \"SUPPORTS\"}\n");
    const RunResult result = run_cli("eval --dataset fever -i " + input.string());
    EXPECT_EQ(result.status, 1);
    EXPECT_TRUE(contains(result.stderr_text, "AUROC is undefined with one class only"));
}

TEST(Cli, EvalWritesSummaryAndPlot) {
    const fs::path input = write_file("claims.jsonl", kGoodLines);
    const fs::path summary = test_dir() / "summary.json";
    const fs::path plot = test_dir() / "roc.svg";
    fs::remove(summary);
    fs::remove(plot);
    const RunResult result = run_cli("eval --dataset fever --bootstrap 50 -i " + input.string() + " -o " +
                                     summary.string() + " --plot " + plot.string());
    ASSERT_EQ(result.status, 0) << result.stderr_text;
    const auto json = nlohmann::json::parse(read_all(summary));
    EXPECT_EQ(json["claims"], 4);
    EXPECT_EQ(json["false_claims"], 2);
    for (const char * signal : {"energy", "random"}) {
        const auto & metrics = json["signals"][signal];
        EXPECT_GE(metrics["auroc"]["estimate"].get<double>(), 0.0);
        EXPECT_LE(metrics["auroc"]["estimate"].get<double>(), 1.0);
        EXPECT_TRUE(metrics.contains("auprc"));
        EXPECT_TRUE(metrics.contains("ece"));
    }
    EXPECT_TRUE(contains(read_all(plot), "<svg"));
}

TEST(Evaluation, SelectionFalseLabelsAndSignalDirection) {
    std::vector<rdt::Claim> claims;
    for (int i = 0; i < 10; ++i) {
        rdt::Claim claim;
        claim.text = "c";
        claim.label = i < 7 ? 1 : 0;  // 7 true, then 3 false
        claims.push_back(claim);
    }
    const auto balanced = diffutruth::select_claims(claims, 4, true);
    ASSERT_EQ(balanced.size(), 4u);
    EXPECT_EQ(diffutruth::false_labels(balanced, "x"), (std::vector<int>{0, 0, 1, 1}));
    const auto first = diffutruth::select_claims(claims, 4, false);
    EXPECT_THROW(diffutruth::false_labels(first, "x"), rdt::Error);  // true claims only

    // Confidence enters negated: a claim the verifier trusts less ranks as more likely false.
    std::vector<diffutruth::ClaimScore> scores(2);
    scores[0].energy = 0.2;
    scores[0].confidence = 0.9;
    scores[1].energy = 0.8;
    scores[1].confidence = 0.1;
    diffutruth::fuse(scores, 0.5);
    const auto signals = diffutruth::build_signals(scores, 1);
    ASSERT_EQ(signals[1].name, "confidence");
    EXPECT_GT(signals[1].scores[1], signals[1].scores[0]);
    ASSERT_EQ(signals[2].name, "fusion");
    EXPECT_GT(signals[2].scores[1], signals[2].scores[0]);
    EXPECT_GT(signals[2].probabilities[1], 0.5);
}

}  // namespace
