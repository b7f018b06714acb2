#pragma once
// Perplexity and KL divergence computed the way llama.cpp's llama-perplexity does.
// The whole text is tokenized once (BOS first when the vocabulary adds one) and cut
// into chunks of n_ctx tokens. The first token of every chunk is replaced by BOS.
// Only the second half of each chunk is scored (positions n_ctx/2 .. n_ctx-2
// predict tokens n_ctx/2+1 .. n_ctx-1), so every scored token has at least
// n_ctx/2 tokens of context. Several chunks run as parallel sequences in one batch.

#include <llama.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/metrics.hpp"

namespace rdt {

// llama-perplexity's default logical batch: 2048 tokens, i.e. 2048 / n_ctx chunks
// decoded together as separate sequences.
constexpr int kPerplexityBatchTokens = 2048;

// Tokens of a text cut into evaluation chunks.
struct EvalChunks {
    std::vector<llama_token> tokens;  // the whole text; chunk i is tokens[i*n_ctx, (i+1)*n_ctx)
    int n_ctx = 0;
    int n_chunks = 0;
    int first = 0;  // first position that gets logits, n_ctx / 2

    int n_scored_per_chunk() const { return n_ctx - 1 - first; }
    int64_t n_scored() const { return static_cast<int64_t>(n_chunks) * n_scored_per_chunk(); }
};

// Tokenize text for model and cut it into chunks. max_chunks < 0 uses every whole
// chunk. Fails when n_ctx exceeds the training context or when the text has
// fewer than 2 * n_ctx tokens, naming the numbers and the fix.
EvalChunks make_eval_chunks(const llama_model * model, const std::string & text, int n_ctx, int max_chunks);

// Called for every chunk in order: logits has n_scored rows of n_vocab floats
// (positions first .. n_ctx-2), targets the n_scored tokens they predict.
using ChunkLogitsFn =
    std::function<void(int chunk, const float * logits, const llama_token * targets, int n_scored, int n_vocab)>;

struct ChunkRunOptions {
    int n_threads = 0;  // 0: all hardware threads
    int batch_tokens = kPerplexityBatchTokens;
    bool progress = true;
    std::string progress_label = "chunks";
    ggml_backend_sched_eval_callback eval_callback = nullptr;  // e.g. activation statistics
    void * eval_callback_data = nullptr;
};

// Decode every chunk of chunks with model and hand the scored logits to on_chunk.
// Returns the wall time in seconds.
double run_chunks(llama_model * model, const EvalChunks & chunks, const ChunkRunOptions & options,
                  const ChunkLogitsFn & on_chunk);

// Log-probabilities of a reference model at every scored position of every chunk,
// kept in memory to compute KL divergence against other models on the same chunks.
// Size: n_scored * n_vocab floats (16 chunks of 256 with a 32k vocabulary: 260 MB).
struct ReferenceLogProbs {
    int n_vocab = 0;
    int n_scored_per_chunk = 0;
    std::vector<std::vector<float>> chunks;  // [chunk][position * n_vocab + token]
    std::vector<int> argmax;                 // per scored token, chunk-major
    double ppl = 0.0;
};

ReferenceLogProbs compute_reference(llama_model * model, const EvalChunks & chunks, const ChunkRunOptions & options);

struct PerplexityResult {
    PplStats ppl;
    std::vector<double> running_ppl;  // after each chunk, as llama-perplexity prints
    std::optional<KlStats> kl;        // when a reference was given
    double seconds = 0.0;
    double tokens_per_second = 0.0;   // all decoded tokens (n_chunks * n_ctx) per second
};

// Perplexity of model on chunks, and KL divergence to reference when given.
PerplexityResult evaluate_perplexity(llama_model * model, const EvalChunks & chunks, const ChunkRunOptions & options,
                                     const ReferenceLogProbs * reference = nullptr);

}  // namespace rdt
