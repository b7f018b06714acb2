#include "common/multiple_choice.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/progress.hpp"

namespace rdt {

namespace {

// Per-sequence context cap in tokens. Longer pairs keep the end of the context;
// the questions of PIQA, SIQA and OpenBookQA are far shorter.
constexpr int kMaxTokensPerChoice = 1024;

}  // namespace

MultipleChoiceQuestion score_question(llama_context * ctx, const llama_vocab * vocab, const McQuestion & question,
                                      int n_ctx_per_seq) {
    const int n_vocab = llama_vocab_n_tokens(vocab);
    const std::vector<llama_token> context = tokenize(vocab, question.context, /*add_special=*/true);

    // Each choice is its own sequence: context tokens then choice tokens, logits
    // from the last context token on (that row predicts the first choice token).
    Batch batch(static_cast<int>(question.choices.size()) * n_ctx_per_seq, 1);
    std::vector<std::vector<llama_token>> continuations;
    std::vector<int> first_row;  // batch index of each sequence's last context token
    for (size_t seq = 0; seq < question.choices.size(); ++seq) {
        std::vector<llama_token> continuation = tokenize(vocab, question.choices[seq], /*add_special=*/false);
        if (continuation.empty()) {
            fail("choice {} of a question tokenizes to nothing; remove empty choices from the data", seq);
        }
        // Keep the end of the context when the pair is longer than a sequence may be.
        const int room = n_ctx_per_seq - static_cast<int>(continuation.size());
        if (room < 1) {
            fail("choice {} has {} tokens, more than the {} that fit in a sequence", seq, continuation.size(),
                 n_ctx_per_seq);
        }
        const int n_context = std::min(static_cast<int>(context.size()), room);
        const int skip = static_cast<int>(context.size()) - n_context;

        int pos = 0;
        for (int i = skip; i < static_cast<int>(context.size()); ++i) {
            batch.add(context[static_cast<size_t>(i)], pos++, static_cast<llama_seq_id>(seq), i + 1 == static_cast<int>(context.size()));
        }
        first_row.push_back(batch.size() - 1);
        for (size_t i = 0; i + 1 < continuation.size(); ++i) {
            batch.add(continuation[i], pos++, static_cast<llama_seq_id>(seq), true);
        }
        continuations.push_back(std::move(continuation));
    }

    llama_memory_clear(llama_get_memory(ctx), true);
    if (llama_decode(ctx, batch.get()) != 0) {
        fail("llama_decode failed on a multiple-choice question; run with --verbose for llama.cpp's messages");
    }

    MultipleChoiceQuestion scored;
    scored.gold = static_cast<size_t>(question.gold);
    for (size_t seq = 0; seq < continuations.size(); ++seq) {
        double log_likelihood = 0.0;
        for (size_t i = 0; i < continuations[seq].size(); ++i) {
            // Batch index first_row + i contains the logits that predict continuation token i.
            const float * row = llama_get_logits_ith(ctx, first_row[seq] + static_cast<int>(i));
            log_likelihood += token_log_prob(row, n_vocab, continuations[seq][i]);
        }
        scored.log_likelihoods.push_back(log_likelihood);
        // acc_norm divides by the choice's length in bytes without the leading
        // space that joins it to the context, as lm-evaluation-harness does.
        const std::string & choice = question.choices[seq];
        const size_t length = (!choice.empty() && choice.front() == ' ') ? choice.size() - 1 : choice.size();
        scored.lengths.push_back(static_cast<double>(std::max<size_t>(1, length)));
    }
    return scored;
}

MultipleChoiceStats evaluate_multiple_choice(llama_model * model, const std::vector<McQuestion> & questions,
                                             const McEvalOptions & options) {
    if (questions.empty()) {
        fail("the multiple-choice file has no questions; check the file and its format");
    }
    const size_t n_questions = options.limit < 0 ? questions.size()
                                                 : std::min(questions.size(), static_cast<size_t>(options.limit));
    size_t max_choices = 1;
    for (size_t i = 0; i < n_questions; ++i) {
        max_choices = std::max(max_choices, questions[i].choices.size());
    }

    const int n_ctx_per_seq = std::min(llama_model_n_ctx_train(model), kMaxTokensPerChoice);
    ContextOptions context_options;
    context_options.n_seq_max = static_cast<int>(max_choices);
    context_options.n_ctx = n_ctx_per_seq * context_options.n_seq_max;
    context_options.n_batch = context_options.n_ctx;
    context_options.n_threads = options.n_threads;
    ContextPtr ctx = make_context(model, context_options);

    MultipleChoiceAccuracy accuracy;
    Progress progress("questions", static_cast<int64_t>(n_questions));
    for (size_t i = 0; i < n_questions; ++i) {
        accuracy.add(score_question(ctx.get(), llama_model_get_vocab(model), questions[i], n_ctx_per_seq));
        progress.update(static_cast<int64_t>(i + 1));
    }
    progress.finish();
    return accuracy.stats();
}

}  // namespace rdt
