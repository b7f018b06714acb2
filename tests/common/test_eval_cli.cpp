// End-to-end tests of `ramp eval`: results on stdout as JSON, and a clear error
// with a non-zero exit for each kind of bad input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "support/run_command.hpp"

namespace {

using rdt_test::run_tool;
using rdt_test::shared;

const std::string kStories = "models/stories260K.gguf";
const std::string kTinyStories = "data/text/tinystories-valid-head.txt";

std::string write_temp(const std::string & name, const std::string & bytes) {
    const std::filesystem::path path = rdt_test::test_tmp_dir() / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
}

void expect_error(const rdt_test::CommandResult & result, const std::string & fragment) {
    EXPECT_EQ(result.status, 1) << result.err;
    EXPECT_NE(result.err.find(fragment), std::string::npos) << "stderr: " << result.err;
    EXPECT_TRUE(result.out.empty()) << "no result on stdout after an error: " << result.out;
}

TEST(EvalCli, PrintsJsonResult) {
    const auto result = run_tool("ramp", "eval -q -m " + shared(kStories) + " -f " + shared(kTinyStories) +
                                             " -c 128 --chunks 4 -t 2");
    ASSERT_EQ(result.status, 0) << result.err;
    const nlohmann::json json = nlohmann::json::parse(result.out);
    EXPECT_EQ(json["chunks"], 4);
    EXPECT_EQ(json["n_ctx"], 128);
    EXPECT_GT(json["perplexity"]["ppl"].get<double>(), 1.0);
    EXPECT_EQ(json["model"]["architecture"], "llama");
}

TEST(EvalCli, KlBaseAndMultipleChoice) {
    const auto result =
        run_tool("ramp", "eval -q -m " + shared(kStories) + " -f " + shared(kTinyStories) + " -c 128 --chunks 2 -t 2" +
                             " --kl-base " + shared(kStories) + " --mc piqa --mc-file " +
                             shared("data/commonsense/piqa/valid.jsonl") + " --mc-limit 10");
    ASSERT_EQ(result.status, 0) << result.err;
    const nlohmann::json json = nlohmann::json::parse(result.out);
    EXPECT_NEAR(json["ppl_ratio"].get<double>(), 1.0, 1e-9);
    EXPECT_EQ(json["multiple_choice"]["count"], 10);
}

// A base model of another vocabulary is named before any chunk is decoded.
TEST(EvalCli, KlBaseOfOtherVocabularyFailsFirst) {
    const auto result = run_tool("ramp", "eval -q -m " + shared(kStories) + " -f " + shared(kTinyStories) +
                                             " -c 128 --chunks 2 -t 1 --kl-base " +
                                             shared("models/tiny-llama-6L-256.gguf"));
    expect_error(result, "--kl-base");
    EXPECT_NE(result.err.find("vocabulary entries"), std::string::npos) << result.err;
}

// A multiple-choice file of another format fails before the perplexity run.
TEST(EvalCli, MultipleChoiceFormatMismatchFailsFirst) {
    const auto result = run_tool("ramp", "eval -m " + shared(kStories) + " -f " + shared(kTinyStories) +
                                             " -c 128 --chunks 2 -t 1 --mc obqa --mc-file " +
                                             shared("data/commonsense/piqa/valid.jsonl"));
    EXPECT_EQ(result.status, 1) << result.err;
    EXPECT_EQ(result.err.find("PPL ="), std::string::npos) << "perplexity ran before the check: " << result.err;
}

TEST(EvalCli, MissingModelFile) {
    expect_error(run_tool("ramp", "eval -m /nonexistent/model.gguf -f " + shared(kTinyStories)), "not found");
}

TEST(EvalCli, NotGgufFile) {
    const std::string path = write_temp("not-a-model.gguf", "this is plain text, not a model\n");
    expect_error(run_tool("ramp", "eval -m " + path + " -f " + shared(kTinyStories)), "is not a GGUF file");
}

TEST(EvalCli, TruncatedGgufFile) {
    const std::string bytes = rdt_test::read_whole(shared(kStories));
    const std::string path = write_temp("truncated.gguf", bytes.substr(0, bytes.size() / 2));
    expect_error(run_tool("ramp", "eval -m " + path + " -f " + shared(kTinyStories)), "truncated");
}

TEST(EvalCli, TextTooShort) {
    const std::string path = write_temp("short.txt", "Once upon a time there was a small cat.\n");
    expect_error(run_tool("ramp", "eval -m " + shared(kStories) + " -f " + path + " -c 128"), "needs at least 256");
}

TEST(EvalCli, ContextAboveTraining) {
    expect_error(run_tool("ramp", "eval -m " + shared("models/tiny-llama-6L-256.gguf") + " -f " + shared(kTinyStories) +
                                      " -c 1024"),
                 "training context 256");
}

TEST(EvalCli, NonUtf8Text) {
    const std::string path = write_temp("latin1.txt", "caf\xe9 au lait\n");
    expect_error(run_tool("ramp", "eval -m " + shared(kStories) + " -f " + path), "UTF-8");
}

TEST(EvalCli, UnknownMultipleChoiceFormat) {
    expect_error(run_tool("ramp", "eval -m " + shared(kStories) + " -f " + shared(kTinyStories) +
                                      " --mc hellaswag --mc-file " + shared("data/commonsense/piqa/valid.jsonl")),
                 "piqa");
}

TEST(EvalCli, MissingRequiredOption) {
    const auto result = run_tool("ramp", "eval -f " + shared(kTinyStories));
    EXPECT_NE(result.status, 0);
    EXPECT_NE(result.err.find("--model"), std::string::npos) << result.err;
}

}  // namespace
