#include "common/perplexity.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/progress.hpp"

namespace rdt {

EvalChunks make_eval_chunks(const llama_model * model, const std::string & text, int n_ctx, int max_chunks) {
    const int n_ctx_train = llama_model_n_ctx_train(model);
    if (n_ctx < 8) {
        fail("context size {} is too small; pass -c 8 or more (typically 256 to {})", n_ctx, n_ctx_train);
    }
    if (n_ctx > n_ctx_train) {
        fail("context size {} is larger than the model's training context {}; pass -c {} or less", n_ctx,
             n_ctx_train, n_ctx_train);
    }

    const llama_vocab * vocab = llama_model_get_vocab(model);
    if (llama_vocab_get_add_eos(vocab)) {
        fail("the model's vocabulary appends EOS to every text, so perplexity chunks would end early; "
             "perplexity needs a causal LM without add_eos");
    }

    EvalChunks chunks;
    chunks.tokens = tokenize(vocab, text, /*add_special=*/true);
    chunks.n_ctx = n_ctx;
    chunks.first = n_ctx / 2;

    const int64_t n_tokens = static_cast<int64_t>(chunks.tokens.size());
    if (n_tokens < 2 * static_cast<int64_t>(n_ctx)) {
        fail("the text has only {} tokens but a context of {} needs at least {} (2 x n_ctx); use a longer text or "
             "a smaller -c",
             n_tokens, n_ctx, 2 * n_ctx);
    }
    const int available = static_cast<int>(n_tokens / n_ctx);
    chunks.n_chunks = max_chunks < 0 ? available : std::min(max_chunks, available);
    if (chunks.n_chunks < 1) {
        fail("--chunks {} selects no chunk; pass a positive number or -1 for all {}", max_chunks, available);
    }
    return chunks;
}

namespace {

// Put one chunk into the batch as sequence seq, BOS first, logits from `first` on.
void add_chunk_to_batch(Batch & batch, const EvalChunks & chunks, int chunk, int seq, llama_token bos, bool add_bos) {
    const size_t start = static_cast<size_t>(chunk) * chunks.n_ctx;
    for (int k = 0; k < chunks.n_ctx; ++k) {
        llama_token token = chunks.tokens[start + k];
        if (k == 0 && add_bos) {
            token = bos;
        }
        batch.add(token, k, seq, k >= chunks.first);
    }
}

}  // namespace

double run_chunks(llama_model * model, const EvalChunks & chunks, const ChunkRunOptions & options,
                  const ChunkLogitsFn & on_chunk) {
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);
    const bool add_bos = llama_vocab_get_add_bos(vocab);

    // As llama-perplexity: batch_tokens / n_ctx chunks per decode, each its own sequence.
    const int n_seq = std::max(1, options.batch_tokens / chunks.n_ctx);
    ContextOptions context_options;
    context_options.n_ctx = n_seq * chunks.n_ctx;
    context_options.n_batch = n_seq * chunks.n_ctx;
    context_options.n_seq_max = n_seq;
    context_options.n_threads = options.n_threads;
    context_options.eval_callback = options.eval_callback;
    context_options.eval_callback_data = options.eval_callback_data;
    ContextPtr ctx = make_context(model, context_options);

    Batch batch(n_seq * chunks.n_ctx, 1);
    std::vector<llama_token> targets(static_cast<size_t>(chunks.n_scored_per_chunk()));
    Progress progress(options.progress_label, chunks.n_chunks, options.progress);

    for (int chunk0 = 0; chunk0 < chunks.n_chunks; chunk0 += n_seq) {
        const int n_in_batch = std::min(n_seq, chunks.n_chunks - chunk0);
        llama_memory_clear(llama_get_memory(ctx.get()), true);

        batch.clear();
        for (int seq = 0; seq < n_in_batch; ++seq) {
            add_chunk_to_batch(batch, chunks, chunk0 + seq, seq, llama_vocab_bos(vocab), add_bos);
        }
        if (llama_decode(ctx.get(), batch.get()) != 0) {
            fail("llama_decode failed on chunk {}; run with --verbose for llama.cpp's messages", chunk0);
        }

        // Outputs are numbered in batch order: each sequence has n_ctx - first of them.
        for (int seq = 0; seq < n_in_batch; ++seq) {
            const int chunk = chunk0 + seq;
            const float * logits = llama_get_logits_ith(ctx.get(), seq * chunks.n_ctx + chunks.first);
            const size_t start = static_cast<size_t>(chunk) * chunks.n_ctx + chunks.first + 1;
            std::copy_n(chunks.tokens.begin() + static_cast<std::ptrdiff_t>(start), targets.size(), targets.begin());
            on_chunk(chunk, logits, targets.data(), chunks.n_scored_per_chunk(), n_vocab);
        }
        progress.update(chunk0 + n_in_batch);
    }
    progress.finish();
    return progress.elapsed_seconds();
}

ReferenceLogProbs compute_reference(llama_model * model, const EvalChunks & chunks, const ChunkRunOptions & options) {
    ReferenceLogProbs reference;
    reference.n_scored_per_chunk = chunks.n_scored_per_chunk();
    reference.chunks.resize(static_cast<size_t>(chunks.n_chunks));
    NllAccumulator nll;

    run_chunks(model, chunks, options,
               [&](int chunk, const float * logits, const llama_token * targets, int n_scored, int n_vocab) {
                   reference.n_vocab = n_vocab;
                   std::vector<float> & store = reference.chunks[static_cast<size_t>(chunk)];
                   store.resize(static_cast<size_t>(n_scored) * n_vocab);
                   for (int i = 0; i < n_scored; ++i) {
                       const float * row = logits + static_cast<size_t>(i) * n_vocab;
                       const std::vector<double> log_probs = log_softmax(row, n_vocab);
                       std::copy(log_probs.begin(), log_probs.end(), store.begin() + static_cast<size_t>(i) * n_vocab);
                       reference.argmax.push_back(argmax(row, n_vocab));
                       nll.add(-log_probs[static_cast<size_t>(targets[i])]);
                   }
               });
    reference.ppl = nll.ppl();
    return reference;
}

namespace {

// KL(P_ref || P_test) from stored reference log-probs and a test logit row, in nats.
double kl_from_reference(const float * ref_log_probs, const std::vector<double> & test_log_probs) {
    double kl = 0.0;
    for (size_t i = 0; i < test_log_probs.size(); ++i) {
        const double log_p = ref_log_probs[i];
        kl += std::exp(log_p) * (log_p - test_log_probs[i]);
    }
    // Stored reference log-probs are floats, so identical models can give -1e-7
    // instead of 0; KL is never negative in exact arithmetic.
    return std::max(kl, 0.0);
}

}  // namespace

PerplexityResult evaluate_perplexity(llama_model * model, const EvalChunks & chunks, const ChunkRunOptions & options,
                                     const ReferenceLogProbs * reference) {
    PerplexityResult result;
    NllAccumulator nll;
    KlSummary kl;

    if (reference != nullptr && reference->n_vocab != llama_vocab_n_tokens(llama_model_get_vocab(model))) {
        fail("the KL base model has {} vocabulary entries but the evaluated model has {}; both must share one "
             "vocabulary",
             reference->n_vocab, llama_vocab_n_tokens(llama_model_get_vocab(model)));
    }

    result.seconds = run_chunks(
        model, chunks, options, [&](int chunk, const float * logits, const llama_token * targets, int n_scored, int n_vocab) {
            for (int i = 0; i < n_scored; ++i) {
                const float * row = logits + static_cast<size_t>(i) * n_vocab;
                if (reference == nullptr) {
                    nll.add(-token_log_prob(row, n_vocab, targets[i]));
                    continue;
                }
                // With a reference the full log-softmax is needed anyway; reuse it for the NLL.
                const std::vector<double> log_probs = log_softmax(row, n_vocab);
                nll.add(-log_probs[static_cast<size_t>(targets[i])]);
                const float * ref_row = reference->chunks[static_cast<size_t>(chunk)].data() + static_cast<size_t>(i) * n_vocab;
                const size_t token_index = static_cast<size_t>(chunk) * n_scored + i;
                kl.add({.kl = kl_from_reference(ref_row, log_probs), .same_top = argmax(row, n_vocab) == reference->argmax[token_index]});
            }
            result.running_ppl.push_back(nll.ppl());
        });

    result.ppl = nll.stats();
    if (reference != nullptr) {
        result.kl = kl.stats();
    }
    const double n_decoded = static_cast<double>(chunks.n_chunks) * chunks.n_ctx;
    result.tokens_per_second = result.seconds > 0 ? n_decoded / result.seconds : 0.0;
    return result;
}

}  // namespace rdt
