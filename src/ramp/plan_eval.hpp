#pragma once
// Evaluation of bit plans without writing a file. The quantized model is built in
// memory with llama_model_init_from_user from the metadata and tensor directory the
// export would write, and its tensors are filled from a cache of quantized matrices
// (each (tensor, type) pair is quantized once per evaluator, with the same
// ggml_quantize_chunk calls as llama.cpp's quantizer), so the perplexity equals the
// exported file's. KL divergence is measured against the float model's log-probs,
// computed once on the same chunks.

#include <ggml.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/engine.hpp"
#include "common/perplexity.hpp"
#include "ramp/gguf_weights.hpp"
#include "ramp/model_layout.hpp"
#include "ramp/plan.hpp"

namespace ramp {

// Quantized bytes of source tensors, computed on first request and kept.
class QuantCache {
  public:
    // importance: E[x^2] per input column by tensor name (may be empty).
    QuantCache(const GgufWeights & weights, std::map<std::string, std::vector<float>> importance, int n_threads);

    // Data of tensor name at type: quantized from the source values, or the source
    // bytes when type is the source type. Fails for a type that needs an importance
    // matrix when none was given.
    const std::vector<uint8_t> & get(const std::string & name, ggml_type type);

    int64_t bytes() const { return bytes_; }
    int64_t hits() const { return hits_; }
    int64_t misses() const { return misses_; }
    bool has_importance() const { return !importance_.empty(); }

  private:
    std::vector<uint8_t> quantize(const ggml_tensor * tensor, ggml_type type) const;

    const GgufWeights & weights_;
    std::map<std::string, std::vector<float>> importance_;
    int n_threads_;
    std::map<std::pair<std::string, ggml_type>, std::vector<uint8_t>> entries_;
    std::mutex mutex_;
    int64_t bytes_ = 0;
    int64_t hits_ = 0;
    int64_t misses_ = 0;
};

struct PlanEvalOptions {
    int n_ctx = 256;      // tokens per chunk
    int n_chunks = 16;    // chunks of the text to score, -1 for all
    int n_threads = 0;    // 0: all hardware threads
    std::filesystem::path imatrix_path;  // importance matrix for quantization, empty for none
    bool progress = false;               // per-evaluation progress bars
};

struct PlanEvalResult {
    double ppl = 0.0;
    double ppl_uncertainty = 0.0;
    double kl_mean = 0.0;       // mean KL divergence to the float model (nats per token)
    double kl_std_error = 0.0;
    double same_top = 0.0;      // fraction of tokens whose argmax equals the float model's
    double bpw = 0.0;           // storage bpw over the decided matrices
    int64_t file_bytes = 0;     // predicted size of the exported file
    double seconds = 0.0;       // wall time of this evaluation (model build and decoding)
};

class PlanEvaluator {
  public:
    // Load model_path's weights, cut text into chunks and compute the float
    // model's reference log-probs on them.
    PlanEvaluator(const std::filesystem::path & model_path, const std::string & text,
                  const PlanEvalOptions & options);
    ~PlanEvaluator();
    PlanEvaluator(const PlanEvaluator &) = delete;
    PlanEvaluator & operator=(const PlanEvaluator &) = delete;

    // Perplexity, KL and size of plan (checked against the model first).
    PlanEvalResult evaluate(const Plan & plan);
    // As above for decided types in model order, fixed tensors at their defaults.
    PlanEvalResult evaluate(const std::vector<ggml_type> & types);

    // Perplexity and KL of the float model with only decided matrix `matrix` at
    // type (every other tensor at its source type): the sensitivity of one matrix.
    PlanEvalResult evaluate_isolated(size_t matrix, ggml_type type);

    // The plan's quantized model in memory, as the export would load.
    rdt::ModelPtr build_model(const Plan & plan);

    // A plan over this model with the given decided types and default fixed types,
    // its prediction filled.
    Plan make_plan(const std::vector<ggml_type> & types, const std::string & source) const;

    const ModelLayout & layout() const { return layout_; }
    const ModelIdentity & identity() const { return identity_; }
    const std::vector<FixedType> & default_fixed() const { return default_fixed_; }
    const gguf_context * gguf() const { return weights_.gguf(); }
    const rdt::EvalChunks & chunks() const { return chunks_; }
    bool with_imatrix() const { return cache_.has_importance(); }
    std::string imatrix_name() const;
    double reference_ppl() const { return reference_.ppl; }
    const QuantCache & cache() const { return cache_; }
    // Tokens per llama_decode call of every evaluation (also used for the reference).
    int batch_tokens() const;
    int64_t evaluations() const { return evaluations_; }

  private:
    rdt::ModelPtr build_unchecked(const Plan & plan);
    PlanEvalResult measure(const Plan & plan);

    PlanEvalOptions options_;
    GgufWeights weights_;
    ModelLayout layout_;
    ModelIdentity identity_;
    std::vector<FixedType> default_fixed_;
    QuantCache cache_;
    rdt::EvalChunks chunks_;
    rdt::ReferenceLogProbs reference_;
    int64_t evaluations_ = 0;
};

}  // namespace ramp
