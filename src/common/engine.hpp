#pragma once
// RAII handles over llama.cpp's C API and the few engine calls every tool needs:
// checked model loading, context creation, batches and tokenization.

#include <gguf.h>
#include <llama.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace rdt {

struct ModelDeleter {
    void operator()(llama_model * model) const { llama_model_free(model); }
};
struct ContextDeleter {
    void operator()(llama_context * ctx) const { llama_free(ctx); }
};
struct SamplerDeleter {
    void operator()(llama_sampler * sampler) const { llama_sampler_free(sampler); }
};
struct GgufDeleter {
    void operator()(gguf_context * ctx) const { gguf_free(ctx); }
};

using ModelPtr = std::unique_ptr<llama_model, ModelDeleter>;
using ContextPtr = std::unique_ptr<llama_context, ContextDeleter>;
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerDeleter>;
using GgufPtr = std::unique_ptr<gguf_context, GgufDeleter>;

// Initialise the llama.cpp backend once per process (safe to call repeatedly).
void ensure_backend();

// Open a GGUF file's metadata and tensor directory (no tensor data) after checking
// that it exists, starts with the GGUF magic and is not truncated. Errors name the
// path and the problem.
GgufPtr open_gguf_checked(const std::filesystem::path & path);

// Load a model for CPU inference after the same checks as open_gguf_checked.
ModelPtr load_model(const std::filesystem::path & path);

// Context settings used across the toolkit; zero means "llama.cpp's default".
struct ContextOptions {
    int n_ctx = 0;        // total KV cells over all sequences
    int n_batch = 0;      // logical batch (tokens per llama_decode call)
    int n_ubatch = 0;     // physical batch
    int n_seq_max = 1;    // parallel sequences
    int n_threads = 0;    // 0: all hardware threads
    bool embeddings = false;
    enum llama_pooling_type pooling = LLAMA_POOLING_TYPE_UNSPECIFIED;
    ggml_backend_sched_eval_callback eval_callback = nullptr;
    void * eval_callback_data = nullptr;
};

ContextPtr make_context(llama_model * model, const ContextOptions & options);

// Default thread count: the hardware threads (llama-perplexity's default as well).
int default_threads();

// A llama_batch that frees itself; add() appends one token.
class Batch {
  public:
    explicit Batch(int capacity, int n_seq_max = 1);
    ~Batch();
    Batch(const Batch &) = delete;
    Batch & operator=(const Batch &) = delete;

    void clear() { batch_.n_tokens = 0; }
    void add(llama_token token, llama_pos pos, llama_seq_id seq, bool want_logits);
    int size() const { return batch_.n_tokens; }
    int capacity() const { return capacity_; }
    llama_batch & get() { return batch_; }

  private:
    llama_batch batch_;
    int capacity_;
};

// Tokenize text. add_special follows the vocabulary's add-BOS/EOS flags;
// parse_special=false treats text like "<s>" as plain characters.
std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool add_special,
                                  bool parse_special = false);

// Return the text of tokens (for showing reconstructions).
std::string detokenize(const llama_vocab * vocab, const std::vector<llama_token> & tokens);

// Return a string metadata value of the model, or fallback when absent.
std::string model_meta(const llama_model * model, const std::string & key, const std::string & fallback = "");

// Return the architecture name (general.architecture).
std::string model_architecture(const llama_model * model);

}  // namespace rdt
