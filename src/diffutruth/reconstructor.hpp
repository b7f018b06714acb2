#pragma once
// Reconstruction of masked claims by a bidirectional diffusion LM (llama.cpp
// architectures such as llada and dream). Iterative unmasking: at each step the
// model reads every sample with its remaining masks and predicts every masked
// position. The scheduled number of positions is committed in the chosen order,
// and the rest stay masked for the next step. All samples of a claim go into
// one llama_decode call as separate sequences (one sequence each, non-causal
// attention, each sequence sees only itself).

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "diffutruth/corruption.hpp"

namespace diffutruth {

// Order in which masked positions are committed at each step.
enum class RemaskOrder {
    Confidence,  // highest probability of the chosen token first (low-confidence remasking)
    Random,      // uniformly random
    Entropy,     // lowest predictive entropy first
    Margin,      // largest gap between the two most probable tokens first
};

// Parse confidence, random, entropy or margin; throws listing the accepted names.
RemaskOrder parse_remask_order(const std::string & name);
std::string remask_order_name(RemaskOrder order);

// Longest step schedule: one step per two masked tokens is the default, capped here
// because more steps cost a full forward pass each and gain little on short claims.
constexpr int kMaxDefaultSteps = 16;

struct ReconstructParams {
    int steps = 0;             // unmasking steps per sample; 0: ceil(masked / 2), at most kMaxDefaultSteps
    double temperature = 0.0;  // 0: argmax; > 0: sample from softmax(logits / temperature)
    RemaskOrder order = RemaskOrder::Confidence;
    bool batch_samples = true;  // false: decode one sample at a time (for speed comparison)
};

// Steps used for a sample with `masked` masked tokens.
int steps_for(int masked, const ReconstructParams & params);

// Tokens committed at step `step` (0-based) of `steps` when `masked` tokens are
// masked: an even spread whose sum over all steps is `masked`.
int commits_at_step(int masked, int steps, int step);

class Reconstructor {
  public:
    // Load a diffusion LM. max_claim_tokens: longest claim the context must hold;
    // max_samples: sequences per decode. Throws when the model is not a diffusion
    // model or has no mask token.
    Reconstructor(const std::filesystem::path & path, int max_claim_tokens, int max_samples, int n_threads);

    const llama_vocab * vocab() const { return llama_model_get_vocab(model_.get()); }
    const llama_model * model() const { return model_.get(); }
    llama_token mask_token() const { return mask_token_; }
    bool shift_logits() const { return shift_logits_; }
    int max_claim_tokens() const { return max_claim_tokens_; }

    // Fill every mask of every sample; returns one token vector per sample, equal to
    // the sample's tokens outside its masked positions. rng drives sampling and the
    // random order.
    std::vector<std::vector<llama_token>> reconstruct(const std::vector<CorruptedSample> & samples,
                                                      const ReconstructParams & params, std::mt19937_64 & rng);

  private:
    struct Work;
    void run_step(std::vector<Work> & group, const ReconstructParams & params, int step, std::mt19937_64 & rng);

    rdt::ModelPtr model_;
    rdt::ContextPtr ctx_;
    llama_token mask_token_ = LLAMA_TOKEN_NULL;
    bool shift_logits_ = false;
    int max_claim_tokens_ = 0;
    int max_samples_ = 0;
};

}  // namespace diffutruth
