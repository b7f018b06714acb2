#pragma once
// The DiffuTruth pipeline for a set of claims: corrupt each claim, rebuild it with
// the diffusion LM, measure Semantic Energy with the NLI critic, add a
// discriminative confidence, and fuse the two over the whole set.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/datasets.hpp"
#include "diffutruth/calibration.hpp"
#include "diffutruth/confidence.hpp"
#include "diffutruth/corruption.hpp"
#include "diffutruth/critic.hpp"
#include "diffutruth/reconstructor.hpp"

namespace diffutruth {

// Default maximum claim length in reconstructor tokens. FEVER claims are under 60.
constexpr int kDefaultMaxClaimTokens = 128;

struct ScoreParams {
    std::filesystem::path reconstructor_path;
    std::filesystem::path critic_path;
    std::filesystem::path verifier_path;  // needed by ptrue and likelihood
    ConfidenceKind confidence = ConfidenceKind::None;
    CorruptionParams corruption;
    ReconstructParams reconstruct;
    double weight = 0.5;  // w of the fusion
    uint64_t seed = 42;
    int n_threads = 0;
    int max_claim_tokens = kDefaultMaxClaimTokens;
    bool skip_invalid = false;  // skip claims that cannot be scored (under 2 tokens) instead of failing
    bool keep_reconstructions = true;
};

// One rebuilt sample.
struct Reconstruction {
    double noise_level = 0.0;
    std::vector<int> masked_positions;
    std::string text;
    double entail_forward = 0.0;   // P_ent(original, reconstruction)
    double entail_backward = 0.0;  // P_ent(reconstruction, original)
    double energy = 0.0;           // 1 - (forward + backward) / 2
};

struct ClaimScore {
    std::size_t index = 0;  // position in the input set
    rdt::Claim claim;
    uint64_t seed = 0;    // the claim's own seed
    int n_tokens = 0;     // reconstructor tokens used (after truncation)
    bool truncated = false;
    double energy = 0.0;  // mean over samples and noise levels
    std::optional<double> confidence;
    double score = 0.0;        // fused hallucination score: higher = more likely false
    double probability = 0.0;  // logistic(score): P(false), uncalibrated
    std::optional<double> supervised_probability;
    std::vector<Reconstruction> reconstructions;
};

struct ScoreStats {
    std::size_t scored = 0;
    std::size_t skipped_invalid = 0;  // claims under 2 tokens, skipped with skip_invalid
    std::size_t truncated = 0;        // claims cut to max_claim_tokens
    std::size_t critic_pairs = 0;
    std::size_t critic_cache_hits = 0;
    double seconds = 0.0;               // whole score_all calls
    double reconstruct_seconds = 0.0;   // diffusion decodes
    double critic_seconds = 0.0;        // energy pairs through the critic
    double confidence_seconds = 0.0;    // verifier or evidence scores
};

class Scorer {
  public:
    // Load the models the parameters need; checks every model up front.
    explicit Scorer(const ScoreParams & params);
    ~Scorer();

    // Energy and confidence of one claim (no fusion: that needs the whole set).
    // Throws for a claim under 2 tokens.
    ClaimScore score_claim(const rdt::Claim & claim, std::size_t index);

    // Score every claim, then fuse over the set. on_done(k) is called after k claims.
    std::vector<ClaimScore> score_all(const std::vector<rdt::Claim> & claims,
                                      const std::function<void(std::size_t)> & on_done = {});

    const ScoreStats & stats() const { return stats_; }
    const ScoreParams & params() const { return params_; }
    Reconstructor & reconstructor() { return *reconstructor_; }
    NliCritic & critic() { return *critic_; }

  private:
    double confidence_of(const rdt::Claim & claim);

    ScoreParams params_;
    std::unique_ptr<Reconstructor> reconstructor_;
    std::unique_ptr<NliCritic> critic_;
    std::unique_ptr<Verifier> verifier_;
    ScoreStats stats_;
};

// Fill score and probability of every claim from its energy and confidence.
void fuse(std::vector<ClaimScore> & scores, double weight);

// The parameters as JSON (for provenance in outputs).
nlohmann::json params_to_json(const ScoreParams & params);

// One claim's result as JSON (a line of the score output).
nlohmann::json claim_score_to_json(const ClaimScore & score, bool with_reconstructions);

// The same as one JSONL line with its newline. Reconstructions can end inside a
// multi-byte character (byte-fallback tokens), so invalid UTF-8 becomes U+FFFD.
std::string claim_score_to_line(const ClaimScore & score, bool with_reconstructions);

}  // namespace diffutruth
