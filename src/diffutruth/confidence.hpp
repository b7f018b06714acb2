#pragma once
// Discriminative confidence: how strongly a verifier believes a claim is true.
// Higher means "more likely true" for every kind.
//   ptrue        a causal LM reads kPtruePrompt with the claim filled in and the
//                score is P(yes) / (P(yes) + P(no)) for its next token
//   likelihood   mean natural-log probability of the claim's tokens under a
//                causal LM (BOS first when the vocabulary adds one)
//   nli-evidence the critic's P(entailment) of (evidence, claim); needs evidence text

#include <filesystem>
#include <string>
#include <vector>

#include "common/engine.hpp"

namespace diffutruth {

enum class ConfidenceKind {
    None,  // energy only
    Ptrue,
    Likelihood,
    NliEvidence,
};

// Parse none, ptrue, likelihood or nli-evidence; throws listing the accepted names.
ConfidenceKind parse_confidence_kind(const std::string & name);
std::string confidence_kind_name(ConfidenceKind kind);

// The P(true) question; "{claim}" is replaced by the claim text. The answer tokens
// are the first tokens of " yes" and " no" after this prompt.
constexpr const char * kPtruePrompt =
    "Question: Is the following statement true?\nStatement: {claim}\nAnswer (yes or no):";

// A causal LM that scores claims (ptrue and likelihood).
class Verifier {
  public:
    // Throws when the model is a diffusion model or a classifier (not a causal LM).
    Verifier(const std::filesystem::path & path, int n_threads);

    // P(yes) / (P(yes) + P(no)) after kPtruePrompt with the claim.
    double ptrue(const std::string & claim);

    // Mean log-probability (nats) of the claim's tokens.
    double likelihood(const std::string & claim);

    // Number of prompts or claims cut to fit the context so far.
    std::size_t truncated() const { return truncated_; }

  private:
    // Decode tokens as sequence 0 from an empty memory, logits for every row.
    void decode_fresh(const std::vector<llama_token> & tokens);
    llama_token answer_token(const std::string & prompt, const std::string & answer);

    rdt::ModelPtr model_;
    rdt::ContextPtr ctx_;
    int n_ctx_ = 0;
    std::size_t truncated_ = 0;
};

}  // namespace diffutruth
