// Multiple-choice scoring batches the choices of a question as parallel
// sequences; each choice's log-likelihood must equal the one from decoding that
// choice alone, token by token through the logits of a plain causal pass.
#include <gtest/gtest.h>

#include "common/engine.hpp"
#include "common/metrics.hpp"
#include "common/multiple_choice.hpp"
#include "common/paths.hpp"
#include "common/progress.hpp"

namespace {

// Batched and single-sequence decoding run the same float kernels on different
// batch shapes; sums over ~20 tokens agree to about 1e-4 nats.
constexpr double kLogLikelihoodTolerance = 1e-3;

double score_alone(llama_model * model, const std::string & context, const std::string & choice) {
    const llama_vocab * vocab = llama_model_get_vocab(model);
    std::vector<llama_token> tokens = rdt::tokenize(vocab, context, true);
    const size_t n_context = tokens.size();
    const std::vector<llama_token> continuation = rdt::tokenize(vocab, choice, false);
    tokens.insert(tokens.end(), continuation.begin(), continuation.end());

    rdt::ContextOptions options;
    options.n_ctx = 256;
    options.n_batch = 256;
    options.n_threads = 2;
    rdt::ContextPtr ctx = rdt::make_context(model, options);
    rdt::Batch batch(static_cast<int>(tokens.size()));
    for (size_t i = 0; i < tokens.size(); ++i) {
        batch.add(tokens[i], static_cast<llama_pos>(i), 0, true);
    }
    EXPECT_EQ(llama_decode(ctx.get(), batch.get()), 0);

    double sum = 0.0;
    const int n_vocab = llama_vocab_n_tokens(vocab);
    for (size_t i = n_context; i < tokens.size(); ++i) {
        sum += rdt::token_log_prob(llama_get_logits_ith(ctx.get(), static_cast<int>(i - 1)), n_vocab, tokens[i]);
    }
    return sum;
}

TEST(MultipleChoice, BatchedEqualsSingleSequence) {
    rdt::Progress::set_enabled(false);
    rdt::ModelPtr model = rdt::load_model(rdt::shared_path("models/tiny-llama-6L-256.gguf"));
    rdt::McQuestion question;
    question.context = "Question: How do you keep bread fresh?\nAnswer:";
    question.choices = {" Store it in a sealed bag.", " Leave it in the rain overnight.", " Paint it blue."};
    question.gold = 0;

    rdt::ContextOptions options;
    options.n_seq_max = 3;
    options.n_ctx = 3 * 256;
    options.n_batch = options.n_ctx;
    options.n_threads = 2;
    rdt::ContextPtr ctx = rdt::make_context(model.get(), options);
    const rdt::MultipleChoiceQuestion scored =
        rdt::score_question(ctx.get(), llama_model_get_vocab(model.get()), question, 256);

    ASSERT_EQ(scored.log_likelihoods.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_NEAR(scored.log_likelihoods[i], score_alone(model.get(), question.context, question.choices[i]),
                    kLogLikelihoodTolerance)
            << "choice " << i;
        EXPECT_EQ(scored.lengths[i], static_cast<double>(question.choices[i].size() - 1)) << "length without the leading space";
    }
}

TEST(MultipleChoice, PiqaSubsetIsDeterministic) {
    rdt::Progress::set_enabled(false);
    rdt::ModelPtr model = rdt::load_model(rdt::shared_path("models/tiny-llama-6L-256.gguf"));
    const std::vector<rdt::McQuestion> questions =
        rdt::read_mc_questions(rdt::McFormat::Piqa, rdt::shared_path("data/commonsense/piqa/valid.jsonl"));

    const rdt::MultipleChoiceStats first = rdt::evaluate_multiple_choice(model.get(), questions, {2, 20});
    const rdt::MultipleChoiceStats second = rdt::evaluate_multiple_choice(model.get(), questions, {2, 20});
    EXPECT_EQ(first.count, 20u);
    EXPECT_EQ(first.n_correct, second.n_correct);
    EXPECT_EQ(first.n_correct_norm, second.n_correct_norm);
}

}  // namespace
