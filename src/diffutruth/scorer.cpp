#include "diffutruth/scorer.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

#include "common/error.hpp"

namespace diffutruth {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Truncation warnings printed one by one before only the final count is given.
constexpr std::size_t kMaxTruncationWarnings = 5;

std::string describe(const rdt::Claim & claim, std::size_t index) {
    return claim.id.empty() ? fmt::format("claim {}", index + 1) : fmt::format("claim {} (id {})", index + 1, claim.id);
}

}  // namespace

Scorer::Scorer(const ScoreParams & params) : params_(params) {
    validate(params_.corruption);
    if (params_.max_claim_tokens < 2) {
        rdt::fail("maximum claim length {} is too small; pass --max-tokens 2 or more", params_.max_claim_tokens);
    }
    if (params_.reconstruct.temperature < 0.0) {
        rdt::fail("temperature {} is negative; pass 0 for argmax or a positive value", params_.reconstruct.temperature);
    }
    const bool needs_verifier =
        params_.confidence == ConfidenceKind::Ptrue || params_.confidence == ConfidenceKind::Likelihood;
    if (needs_verifier && params_.verifier_path.empty()) {
        rdt::fail("--confidence {} needs a causal LM; pass --verifier MODEL.gguf",
                  confidence_kind_name(params_.confidence));
    }

    const int samples = static_cast<int>(params_.corruption.noise_levels.size()) * params_.corruption.samples_per_level;
    reconstructor_ = std::make_unique<Reconstructor>(params_.reconstructor_path, params_.max_claim_tokens, samples,
                                                     params_.n_threads);
    critic_ = std::make_unique<NliCritic>(params_.critic_path, params_.n_threads);
    if (needs_verifier) {
        verifier_ = std::make_unique<Verifier>(params_.verifier_path, params_.n_threads);
    }
}

Scorer::~Scorer() = default;

double Scorer::confidence_of(const rdt::Claim & claim) {
    switch (params_.confidence) {
        case ConfidenceKind::Ptrue:
            return verifier_->ptrue(claim.text);
        case ConfidenceKind::Likelihood:
            return verifier_->likelihood(claim.text);
        case ConfidenceKind::NliEvidence:
            if (claim.evidence.empty()) {
                rdt::fail("claim \"{}\" has no evidence text; --confidence nli-evidence needs data with evidence "
                          "sentences (fever-symmetric, or an evidence column)",
                          claim.text);
            }
            return critic_->score({{claim.evidence, claim.text}}).front().entailment;
        case ConfidenceKind::None:
            break;
    }
    return 0.0;
}

ClaimScore Scorer::score_claim(const rdt::Claim & claim, std::size_t index) {
    ClaimScore result;
    result.index = index;
    result.claim = claim;
    result.seed = claim_seed(params_.seed, index);

    // Tokens without BOS; too long claims are cut to the reconstructor's limit.
    std::vector<llama_token> tokens = rdt::tokenize(reconstructor_->vocab(), claim.text, false);
    if (tokens.size() < 2) {
        rdt::fail("{} \"{}\" has {} token(s); at least 2 are needed to mask some and keep one (pass --skip-invalid "
                  "to skip such claims)",
                  describe(claim, index), claim.text, tokens.size());
    }
    if (static_cast<int>(tokens.size()) > reconstructor_->max_claim_tokens()) {
        tokens.resize(static_cast<size_t>(reconstructor_->max_claim_tokens()));
        result.truncated = true;
    }
    result.n_tokens = static_cast<int>(tokens.size());
    const std::string original = rdt::detokenize(reconstructor_->vocab(), tokens);

    // Corrupt and rebuild every sample of the claim in one pass.
    std::mt19937_64 rng(result.seed);
    const std::vector<CorruptedSample> samples =
        corrupt_claim(tokens, reconstructor_->mask_token(), params_.corruption, rng);
    auto start = std::chrono::steady_clock::now();
    const std::vector<std::vector<llama_token>> rebuilt = reconstructor_->reconstruct(samples, params_.reconstruct, rng);
    stats_.reconstruct_seconds += seconds_since(start);

    // Both directions of every (original, reconstruction) pair in one critic call.
    std::vector<TextPair> pairs;
    std::vector<std::string> texts;
    for (const auto & tokens_out : rebuilt) {
        texts.push_back(rdt::detokenize(reconstructor_->vocab(), tokens_out));
        pairs.emplace_back(original, texts.back());
        pairs.emplace_back(texts.back(), original);
    }
    start = std::chrono::steady_clock::now();
    const std::vector<NliScores> nli = critic_->score(pairs);
    stats_.critic_seconds += seconds_since(start);

    double energy_sum = 0.0;
    for (size_t s = 0; s < samples.size(); ++s) {
        Reconstruction reconstruction;
        reconstruction.noise_level = samples[s].noise_level;
        reconstruction.masked_positions = samples[s].masked_positions;
        reconstruction.text = texts[s];
        reconstruction.entail_forward = nli[2 * s].entailment;
        reconstruction.entail_backward = nli[2 * s + 1].entailment;
        reconstruction.energy = 1.0 - 0.5 * (reconstruction.entail_forward + reconstruction.entail_backward);
        energy_sum += reconstruction.energy;
        if (params_.keep_reconstructions) {
            result.reconstructions.push_back(std::move(reconstruction));
        }
    }
    result.energy = energy_sum / static_cast<double>(samples.size());

    if (params_.confidence != ConfidenceKind::None) {
        start = std::chrono::steady_clock::now();
        result.confidence = confidence_of(claim);
        stats_.confidence_seconds += seconds_since(start);
    }
    return result;
}

std::vector<ClaimScore> Scorer::score_all(const std::vector<rdt::Claim> & claims,
                                          const std::function<void(std::size_t)> & on_done) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<ClaimScore> results;
    for (size_t i = 0; i < claims.size(); ++i) {
        try {
            results.push_back(score_claim(claims[i], i));
        } catch (const rdt::Error & error) {
            const bool too_short = rdt::tokenize(reconstructor_->vocab(), claims[i].text, false).size() < 2;
            if (!(params_.skip_invalid && too_short)) {
                throw;
            }
            stats_.skipped_invalid += 1;
            spdlog::warn("skipped: {}", error.what());
        }
        if (!results.empty() && results.back().index == i && results.back().truncated) {
            stats_.truncated += 1;
            if (stats_.truncated <= kMaxTruncationWarnings) {
                spdlog::warn("{} is longer than {} tokens; only its first {} tokens are scored",
                             describe(claims[i], i), params_.max_claim_tokens, results.back().n_tokens);
            }
        }
        if (on_done) {
            on_done(i + 1);
        }
    }
    if (stats_.truncated > 0) {
        spdlog::warn("{} claim(s) were truncated to {} tokens", stats_.truncated, reconstructor_->max_claim_tokens());
    }
    if (stats_.skipped_invalid > 0) {
        spdlog::warn("{} claim(s) were skipped for having fewer than 2 tokens", stats_.skipped_invalid);
    }

    stats_.scored += results.size();
    stats_.critic_pairs = critic_->cache_hits() + critic_->cache_misses();
    stats_.critic_cache_hits = critic_->cache_hits();
    stats_.seconds += seconds_since(start);
    if (!results.empty()) {
        fuse(results, params_.weight);
    }
    return results;
}

void fuse(std::vector<ClaimScore> & scores, double weight) {
    std::vector<double> energies;
    std::vector<double> confidences;
    for (const ClaimScore & score : scores) {
        energies.push_back(score.energy);
        if (score.confidence) {
            confidences.push_back(*score.confidence);
        }
    }
    if (!confidences.empty() && confidences.size() != energies.size()) {
        rdt::fail("internal: {} of {} claims have a confidence", confidences.size(), energies.size());
    }
    const std::vector<double> fused = fuse_scores(energies, confidences, weight);
    for (size_t i = 0; i < scores.size(); ++i) {
        scores[i].score = fused[i];
        scores[i].probability = logistic(fused[i]);
    }
}

nlohmann::json params_to_json(const ScoreParams & params) {
    nlohmann::json json;
    json["reconstructor"] = params.reconstructor_path.string();
    json["critic"] = params.critic_path.string();
    json["verifier"] = params.verifier_path.string();
    json["confidence"] = confidence_kind_name(params.confidence);
    json["noise_levels"] = params.corruption.noise_levels;
    json["samples_per_level"] = params.corruption.samples_per_level;
    json["steps"] = params.reconstruct.steps;
    json["temperature"] = params.reconstruct.temperature;
    json["remask_order"] = remask_order_name(params.reconstruct.order);
    json["batch_samples"] = params.reconstruct.batch_samples;
    json["weight"] = params.weight;
    json["seed"] = params.seed;
    json["max_claim_tokens"] = params.max_claim_tokens;
    return json;
}

nlohmann::json claim_score_to_json(const ClaimScore & score, bool with_reconstructions) {
    nlohmann::json json;
    json["index"] = score.index;
    json["id"] = score.claim.id;
    json["claim"] = score.claim.text;
    json["label"] = score.claim.raw_label.empty() ? nlohmann::json(nullptr) : nlohmann::json(score.claim.raw_label);
    json["seed"] = score.seed;
    json["n_tokens"] = score.n_tokens;
    json["truncated"] = score.truncated;
    json["energy"] = score.energy;
    json["confidence"] = score.confidence ? nlohmann::json(*score.confidence) : nlohmann::json(nullptr);
    json["score"] = score.score;
    json["probability_false"] = score.probability;
    if (score.supervised_probability) {
        json["supervised_probability_false"] = *score.supervised_probability;
    }
    if (with_reconstructions) {
        nlohmann::json list = nlohmann::json::array();
        for (const Reconstruction & r : score.reconstructions) {
            list.push_back({{"noise", r.noise_level},
                            {"masked", r.masked_positions},
                            {"text", r.text},
                            {"p_ent_forward", r.entail_forward},
                            {"p_ent_backward", r.entail_backward},
                            {"energy", r.energy}});
        }
        json["reconstructions"] = list;
    }
    return json;
}

std::string claim_score_to_line(const ClaimScore & score, bool with_reconstructions) {
    return claim_score_to_json(score, with_reconstructions).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
}

}  // namespace diffutruth
