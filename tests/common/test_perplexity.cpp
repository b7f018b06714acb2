// Perplexity must match llama.cpp's llama-perplexity on the same model, text,
// context and chunk count. Reference values come from the pinned llama.cpp's
// llama-perplexity; regenerate them with:
//   scripts/build-llama-tools.sh
//   third_party/llama.cpp/build-tools/bin/llama-perplexity -m MODEL -f TEXT -c 256 [--chunks N] -t 1
// and copy the "Final estimate: PPL = ..." value.
#include <gtest/gtest.h>

#include <cmath>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/perplexity.hpp"
#include "common/progress.hpp"
#include "common/text.hpp"
#include "support/run_command.hpp"

namespace {

// Accepted distance from llama-perplexity: 0.1% relative. Both tools run the same
// ggml kernels, so differences are expected from the order of float sums only.
constexpr double kPplRelativeTolerance = 1e-3;

struct PerplexityCase {
    const char * model;
    const char * text;
    int n_ctx;
    int n_chunks;
    double llama_perplexity;  // llama-perplexity's final estimate
};

class PerplexityMatchesLlama : public ::testing::TestWithParam<PerplexityCase> {};

TEST_P(PerplexityMatchesLlama, FinalEstimate) {
    const PerplexityCase & c = GetParam();
    rdt::Progress::set_enabled(false);
    rdt::ModelPtr model = rdt::load_model(rdt::shared_path(c.model));
    const std::string text = rdt::read_text_file(rdt::shared_path(c.text));
    const rdt::EvalChunks chunks = rdt::make_eval_chunks(model.get(), text, c.n_ctx, c.n_chunks);

    rdt::ChunkRunOptions options;
    options.n_threads = 2;
    const rdt::PerplexityResult result = rdt::evaluate_perplexity(model.get(), chunks, options);

    EXPECT_NEAR(result.ppl.ppl / c.llama_perplexity, 1.0, kPplRelativeTolerance)
        << "ramp " << result.ppl.ppl << " vs llama-perplexity " << c.llama_perplexity;
    EXPECT_GT(result.ppl.ppl_uncertainty, 0.0);
    EXPECT_EQ(static_cast<int64_t>(result.ppl.count), chunks.n_scored());
}

INSTANTIATE_TEST_SUITE_P(
    SharedModels, PerplexityMatchesLlama,
    ::testing::Values(
        PerplexityCase{"models/stories260K.gguf", "data/text/tinystories-valid-head.txt", 256, -1, 6.4217},
        PerplexityCase{"models/stories260K.gguf", "data/text/wikitext-2-raw-test.txt", 256, 20, 139.2812},
        PerplexityCase{"models/tiny-llama-6L-256.gguf", "data/text/wikitext-2-raw-test.txt", 256, 40, 187.6105},
        PerplexityCase{"models/tiny-llama-6L-256.gguf", "data/text/tinystories-valid-head.txt", 256, -1, 76.3032}));

TEST(Perplexity, ChunkLayoutAsLlamaPerplexity) {
    rdt::ModelPtr model = rdt::load_model(rdt::shared_path("models/stories260K.gguf"));
    const std::string text = rdt::read_text_file(rdt::shared_path("data/text/tinystories-valid-head.txt"));
    const rdt::EvalChunks chunks = rdt::make_eval_chunks(model.get(), text, 128, 3);

    EXPECT_EQ(chunks.n_chunks, 3);
    EXPECT_EQ(chunks.first, 64);
    EXPECT_EQ(chunks.n_scored_per_chunk(), 63);
    const llama_vocab * vocab = llama_model_get_vocab(model.get());
    EXPECT_EQ(chunks.tokens.front(), llama_vocab_bos(vocab)) << "the text is tokenized with BOS first";
}

TEST(Perplexity, KlToItselfIsZero) {
    // Same model twice: KL is zero up to float rounding of the stored log-probs.
    constexpr double kSelfKlTolerance = 1e-6;
    rdt::Progress::set_enabled(false);
    rdt::ModelPtr model = rdt::load_model(rdt::shared_path("models/stories260K.gguf"));
    const std::string text = rdt::read_text_file(rdt::shared_path("data/text/tinystories-valid-head.txt"));
    const rdt::EvalChunks chunks = rdt::make_eval_chunks(model.get(), text, 128, 4);
    rdt::ChunkRunOptions options;
    options.n_threads = 2;

    const rdt::ReferenceLogProbs reference = rdt::compute_reference(model.get(), chunks, options);
    const rdt::PerplexityResult result = rdt::evaluate_perplexity(model.get(), chunks, options, &reference);

    ASSERT_TRUE(result.kl.has_value());
    EXPECT_LT(result.kl->mean, kSelfKlTolerance);
    EXPECT_LT(result.kl->max, kSelfKlTolerance);
    EXPECT_DOUBLE_EQ(result.kl->same_top_fraction, 1.0);
    EXPECT_NEAR(result.ppl.ppl, reference.ppl, 1e-9 * reference.ppl);
}

TEST(Perplexity, TooShortTextFails) {
    rdt::ModelPtr model = rdt::load_model(rdt::shared_path("models/stories260K.gguf"));
    try {
        rdt::make_eval_chunks(model.get(), "Once upon a time there was a cat.", 128, -1);
        FAIL() << "a 10-token text must be rejected";
    } catch (const rdt::Error & error) {
        EXPECT_NE(std::string(error.what()).find("at least 256"), std::string::npos) << error.what();
    }
}

TEST(Perplexity, ContextLargerThanTrainingFails) {
    rdt::ModelPtr model = rdt::load_model(rdt::shared_path("models/tiny-llama-6L-256.gguf"));
    const std::string text = rdt::read_text_file(rdt::shared_path("data/text/tinystories-valid-head.txt"));
    try {
        rdt::make_eval_chunks(model.get(), text, 512, -1);
        FAIL() << "n_ctx 512 exceeds the training context 256";
    } catch (const rdt::Error & error) {
        EXPECT_NE(std::string(error.what()).find("training context 256"), std::string::npos) << error.what();
    }
}

}  // namespace
