#pragma once
// NLI critic: a GGUF sequence classifier (BERT or RoBERTa cross-encoder, pooling
// RANK) that gives P(entailment), P(neutral), P(contradiction) for a (premise,
// hypothesis) pair. Labels come from the model's classifier metadata in any
// order. Pairs are laid out as llama.cpp lays out rerank pairs:
// [BOS] premise [EOS] [SEP] hypothesis [EOS], each special token present when the
// vocabulary's add-BOS / add-EOS / add-SEP flag is set. Several pairs share one
// decode as separate sequences, and results are cached by pair text.

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/engine.hpp"

namespace diffutruth {

// Class probabilities of one pair (softmax over the classifier outputs).
struct NliScores {
    double entailment = 0.0;
    double neutral = 0.0;        // 0 when the model has no neutral class
    double contradiction = 0.0;  // 0 when the model has no contradiction class
};

using TextPair = std::pair<std::string, std::string>;  // (premise, hypothesis)

// Tokens per decode: pairs are packed until this many tokens; the non-causal
// attention mask grows with its square, so small packs are cheaper.
constexpr int kCriticBatchTokens = 1024;

class NliCritic {
  public:
    // Load and check the critic; throws when it has no classifier head with labels
    // or no entailment label.
    NliCritic(const std::filesystem::path & path, int n_threads);

    const llama_vocab * vocab() const { return llama_model_get_vocab(model_.get()); }
    const std::vector<std::string> & labels() const { return labels_; }

    // Scores of each pair, in order. Cached pairs are not decoded again.
    std::vector<NliScores> score(const std::vector<TextPair> & pairs);

    // Token layout of one pair (exposed for tests), truncated to the context.
    std::vector<llama_token> layout(const std::string & premise, const std::string & hypothesis);

    std::size_t cache_hits() const { return cache_hits_; }
    std::size_t cache_misses() const { return cache_misses_; }
    std::size_t truncated_pairs() const { return truncated_pairs_; }

  private:
    void decode_pack(const std::vector<std::vector<llama_token>> & pack, std::vector<NliScores> & out);

    rdt::ModelPtr model_;
    rdt::ContextPtr ctx_;
    std::vector<std::string> labels_;
    int entailment_index_ = -1;
    int neutral_index_ = -1;
    int contradiction_index_ = -1;
    int max_pair_tokens_ = 0;
    int max_sequences_ = 0;
    std::map<TextPair, NliScores> cache_;
    std::size_t cache_hits_ = 0;
    std::size_t cache_misses_ = 0;
    std::size_t truncated_pairs_ = 0;
};

}  // namespace diffutruth
