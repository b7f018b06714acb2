#include "diffutruth/confidence.hpp"

#include <spdlog/spdlog.h>

#include <cmath>

#include "common/error.hpp"
#include "common/metrics.hpp"

namespace diffutruth {

namespace {

// Longest verifier context: claims are short; the prompt adds about 20 tokens.
constexpr int kVerifierMaxContext = 512;

std::string fill_prompt(const std::string & claim) {
    std::string prompt = kPtruePrompt;
    const std::string slot = "{claim}";
    prompt.replace(prompt.find(slot), slot.size(), claim);
    return prompt;
}

}  // namespace

ConfidenceKind parse_confidence_kind(const std::string & name) {
    if (name == "none") {
        return ConfidenceKind::None;
    }
    if (name == "ptrue") {
        return ConfidenceKind::Ptrue;
    }
    if (name == "likelihood") {
        return ConfidenceKind::Likelihood;
    }
    if (name == "nli-evidence") {
        return ConfidenceKind::NliEvidence;
    }
    rdt::fail("unknown confidence \"{}\"; use one of: ptrue, likelihood, nli-evidence, none", name);
}

std::string confidence_kind_name(ConfidenceKind kind) {
    switch (kind) {
        case ConfidenceKind::None:
            return "none";
        case ConfidenceKind::Ptrue:
            return "ptrue";
        case ConfidenceKind::Likelihood:
            return "likelihood";
        case ConfidenceKind::NliEvidence:
            return "nli-evidence";
    }
    return "none";
}

Verifier::Verifier(const std::filesystem::path & path, int n_threads) : model_(rdt::load_model(path)) {
    if (llama_model_is_diffusion(model_.get())) {
        rdt::fail("verifier '{}' is a diffusion model; pass a causal LM (--verifier)", path.string());
    }
    if (llama_model_cls_label(model_.get(), 0) != nullptr) {
        rdt::fail("verifier '{}' is a sequence classifier; pass a causal LM (--verifier)", path.string());
    }
    n_ctx_ = std::min(llama_model_n_ctx_train(model_.get()), kVerifierMaxContext);
    rdt::ContextOptions options;
    options.n_ctx = n_ctx_;
    options.n_batch = n_ctx_;
    options.n_threads = n_threads;
    ctx_ = rdt::make_context(model_.get(), options);
}

void Verifier::decode_fresh(const std::vector<llama_token> & tokens) {
    llama_memory_clear(llama_get_memory(ctx_.get()), true);
    rdt::Batch batch(static_cast<int>(tokens.size()));
    for (size_t i = 0; i < tokens.size(); ++i) {
        batch.add(tokens[i], static_cast<llama_pos>(i), 0, true);
    }
    if (llama_decode(ctx_.get(), batch.get()) != 0) {
        rdt::fail("the verifier's forward pass failed on {} tokens", tokens.size());
    }
}

llama_token Verifier::answer_token(const std::string & prompt, const std::string & answer) {
    // The answer's first token as it follows the prompt (SentencePiece merges the space).
    const llama_vocab * vocab = llama_model_get_vocab(model_.get());
    const std::vector<llama_token> base = rdt::tokenize(vocab, prompt, true);
    const std::vector<llama_token> full = rdt::tokenize(vocab, prompt + answer, true);
    if (full.size() > base.size() && std::equal(base.begin(), base.end(), full.begin())) {
        return full[base.size()];
    }
    return rdt::tokenize(vocab, answer, false).front();
}

double Verifier::ptrue(const std::string & claim) {
    const llama_vocab * vocab = llama_model_get_vocab(model_.get());
    const std::string prompt = fill_prompt(claim);
    std::vector<llama_token> tokens = rdt::tokenize(vocab, prompt, true);
    if (static_cast<int>(tokens.size()) > n_ctx_) {
        // Keep the end: the question's answer slot must stay.
        truncated_ += 1;
        tokens.erase(tokens.begin(), tokens.end() - n_ctx_);
    }
    decode_fresh(tokens);

    const float * logits = llama_get_logits_ith(ctx_.get(), static_cast<int32_t>(tokens.size()) - 1);
    const int n_vocab = llama_vocab_n_tokens(vocab);
    const double log_yes = rdt::token_log_prob(logits, n_vocab, answer_token(prompt, " yes"));
    const double log_no = rdt::token_log_prob(logits, n_vocab, answer_token(prompt, " no"));
    // P(yes) / (P(yes) + P(no)) = logistic(log_yes - log_no).
    return 1.0 / (1.0 + std::exp(log_no - log_yes));
}

double Verifier::likelihood(const std::string & claim) {
    const llama_vocab * vocab = llama_model_get_vocab(model_.get());
    std::vector<llama_token> tokens = rdt::tokenize(vocab, claim, false);
    const bool add_bos = llama_vocab_get_add_bos(vocab) || tokens.empty();
    if (add_bos) {
        tokens.insert(tokens.begin(), llama_vocab_bos(vocab));
    }
    if (static_cast<int>(tokens.size()) > n_ctx_) {
        truncated_ += 1;
        tokens.resize(static_cast<size_t>(n_ctx_));
    }
    if (tokens.size() < 2) {
        rdt::fail("the claim \"{}\" has no token to score after BOS", claim);
    }
    decode_fresh(tokens);

    // Row i predicts token i + 1; the first token has no prediction without BOS.
    const int n_vocab = llama_vocab_n_tokens(vocab);
    double sum = 0.0;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
        sum += rdt::token_log_prob(llama_get_logits_ith(ctx_.get(), static_cast<int32_t>(i)), n_vocab, tokens[i + 1]);
    }
    return sum / static_cast<double>(tokens.size() - 1);
}

}  // namespace diffutruth
