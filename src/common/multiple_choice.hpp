#pragma once
// Zero-shot multiple-choice evaluation (PIQA, SIQA, OpenBookQA). Every choice is
// scored by the summed log-probability of its tokens after the question's
// context. acc takes the best sum, and acc_norm the best sum per byte of the
// choice text (lm-evaluation-harness's acc_norm).

#include <llama.h>

#include <vector>

#include "common/datasets.hpp"
#include "common/metrics.hpp"

namespace rdt {

struct McEvalOptions {
    int n_threads = 0;  // 0: all hardware threads
    int limit = -1;     // questions to score from the start, -1: all
};

// Log-likelihood and byte length of every choice of one question.
MultipleChoiceQuestion score_question(llama_context * ctx, const llama_vocab * vocab, const McQuestion & question,
                                      int n_ctx_per_seq);

MultipleChoiceStats evaluate_multiple_choice(llama_model * model, const std::vector<McQuestion> & questions,
                                             const McEvalOptions & options);

}  // namespace rdt
