#include "diffutruth/reconstructor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/error.hpp"

namespace diffutruth {

namespace {

// Text of the mask token in vocabularies that do not set tokenizer.ggml.mask_token_id.
constexpr const char * kMaskText = "<mask>";

llama_token find_mask_token(const llama_vocab * vocab) {
    const llama_token id = llama_vocab_mask(vocab);
    if (id != LLAMA_TOKEN_NULL) {
        return id;
    }
    for (llama_token token = 0; token < llama_vocab_n_tokens(vocab); ++token) {
        const char * text = llama_vocab_get_text(vocab, token);
        if (text != nullptr && std::string(text) == kMaskText) {
            return token;
        }
    }
    return LLAMA_TOKEN_NULL;
}

// Prediction for one masked position: the chosen token and its ordering score
// (higher = commit earlier).
struct Prediction {
    int position = 0;
    llama_token token = 0;
    double score = 0.0;
};

// Choose a token from one logit row (mask token excluded) and score it for `order`.
Prediction predict(const float * logits, int n_vocab, llama_token mask_token, const ReconstructParams & params,
                   std::mt19937_64 & rng) {
    const double inv_temperature = params.temperature > 0.0 ? 1.0 / params.temperature : 1.0;
    double max_logit = -std::numeric_limits<double>::infinity();
    for (int v = 0; v < n_vocab; ++v) {
        if (v != mask_token) {
            max_logit = std::max(max_logit, static_cast<double>(logits[v]) * inv_temperature);
        }
    }

    // probabilities[v] = softmax(logits / T), the mask token at 0; sums in double.
    std::vector<double> probabilities(static_cast<size_t>(n_vocab), 0.0);
    double total = 0.0;
    for (int v = 0; v < n_vocab; ++v) {
        if (v != mask_token) {
            probabilities[static_cast<size_t>(v)] = std::exp(static_cast<double>(logits[v]) * inv_temperature - max_logit);
            total += probabilities[static_cast<size_t>(v)];
        }
    }
    for (double & p : probabilities) {
        p /= total;
    }

    Prediction prediction;
    if (params.temperature > 0.0) {
        std::discrete_distribution<int> draw(probabilities.begin(), probabilities.end());
        prediction.token = draw(rng);
    } else {
        prediction.token = static_cast<llama_token>(
            std::max_element(probabilities.begin(), probabilities.end()) - probabilities.begin());
    }

    switch (params.order) {
        case RemaskOrder::Confidence:
            prediction.score = probabilities[static_cast<size_t>(prediction.token)];
            break;
        case RemaskOrder::Random:
            prediction.score = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
            break;
        case RemaskOrder::Entropy: {
            double entropy = 0.0;
            for (const double p : probabilities) {
                entropy -= p > 0.0 ? p * std::log(p) : 0.0;
            }
            prediction.score = -entropy;
            break;
        }
        case RemaskOrder::Margin: {
            double first = 0.0;
            double second = 0.0;
            for (const double p : probabilities) {
                if (p > first) {
                    second = first;
                    first = p;
                } else if (p > second) {
                    second = p;
                }
            }
            prediction.score = first - second;
            break;
        }
    }
    return prediction;
}

}  // namespace

RemaskOrder parse_remask_order(const std::string & name) {
    if (name == "confidence") {
        return RemaskOrder::Confidence;
    }
    if (name == "random") {
        return RemaskOrder::Random;
    }
    if (name == "entropy") {
        return RemaskOrder::Entropy;
    }
    if (name == "margin") {
        return RemaskOrder::Margin;
    }
    rdt::fail("unknown remasking order \"{}\"; use one of: confidence, random, entropy, margin", name);
}

std::string remask_order_name(RemaskOrder order) {
    switch (order) {
        case RemaskOrder::Confidence:
            return "confidence";
        case RemaskOrder::Random:
            return "random";
        case RemaskOrder::Entropy:
            return "entropy";
        case RemaskOrder::Margin:
            return "margin";
    }
    return "confidence";
}

int steps_for(int masked, const ReconstructParams & params) {
    const int wanted = params.steps > 0 ? params.steps : std::min(kMaxDefaultSteps, (masked + 1) / 2);
    return std::clamp(wanted, 1, std::max(1, masked));
}

int commits_at_step(int masked, int steps, int step) {
    const auto done_after = [&](int s) { return static_cast<int>(static_cast<int64_t>(masked) * s / steps); };
    return done_after(step + 1) - done_after(step);
}

// One sample being rebuilt.
struct Reconstructor::Work {
    std::vector<llama_token> tokens;
    std::vector<int> remaining;  // positions still masked
    int masked = 0;
    int steps = 0;
};

Reconstructor::Reconstructor(const std::filesystem::path & path, int max_claim_tokens, int max_samples,
                             int n_threads)
    : model_(rdt::load_model(path)), max_samples_(max_samples) {
    if (!llama_model_is_diffusion(model_.get())) {
        rdt::fail("reconstructor '{}' (architecture {}) is not a diffusion model; pass a masked diffusion LM such "
                  "as a llada or dream GGUF (-r)",
                  path.string(), rdt::model_architecture(model_.get()));
    }
    mask_token_ = find_mask_token(vocab());
    if (mask_token_ == LLAMA_TOKEN_NULL) {
        rdt::fail("reconstructor '{}' has no mask token (neither tokenizer.ggml.mask_token_id nor a \"{}\" "
                  "token); convert the model with its mask token",
                  path.string(), kMaskText);
    }

    // As llama.cpp's diffusion example: metadata "true" shifts, absent also shifts.
    const std::string shift = rdt::model_meta(model_.get(), "diffusion.shift_logits", "true");
    shift_logits_ = shift == "true";

    max_claim_tokens_ = std::min(max_claim_tokens, llama_model_n_ctx_train(model_.get()));
    rdt::ContextOptions options;
    options.n_ctx = max_claim_tokens_ * std::max(1, max_samples);
    options.n_batch = options.n_ctx;
    options.n_ubatch = options.n_ctx;
    options.n_seq_max = std::max(1, max_samples);
    options.n_threads = n_threads;
    ctx_ = rdt::make_context(model_.get(), options);
    llama_set_causal_attn(ctx_.get(), false);
    spdlog::debug("reconstructor: mask token {}, shift_logits {}, up to {} tokens x {} sequences", mask_token_,
                  shift_logits_, max_claim_tokens_, max_samples_);
}

void Reconstructor::run_step(std::vector<Work> & group, const ReconstructParams & params, int step,
                             std::mt19937_64 & rng) {
    // Samples that still have a step to run at this step index.
    std::vector<Work *> active;
    int n_tokens = 0;
    for (Work & work : group) {
        if (step < work.steps && !work.remaining.empty()) {
            active.push_back(&work);
            n_tokens += static_cast<int>(work.tokens.size());
        }
    }
    if (active.empty()) {
        return;
    }

    // Batch layout: sample j is sequence j at positions 0..n-1; every row gives logits
    // (a non-causal context outputs all rows anyway).
    rdt::Batch batch(n_tokens, static_cast<int>(active.size()));
    std::vector<int> first_row;
    for (size_t j = 0; j < active.size(); ++j) {
        first_row.push_back(batch.size());
        for (size_t i = 0; i < active[j]->tokens.size(); ++i) {
            batch.add(active[j]->tokens[i], static_cast<llama_pos>(i), static_cast<llama_seq_id>(j), true);
        }
    }
    if (llama_decode(ctx_.get(), batch.get()) != 0) {
        rdt::fail("the reconstructor's forward pass failed on {} tokens in {} sequences", n_tokens, active.size());
    }

    const int n_vocab = llama_vocab_n_tokens(vocab());
    for (size_t j = 0; j < active.size(); ++j) {
        Work & work = *active[j];

        // With shifted logits, row p - 1 predicts position p (row 0 for position 0).
        std::vector<Prediction> predictions;
        for (const int position : work.remaining) {
            const int row = shift_logits_ ? std::max(0, position - 1) : position;
            const float * logits = llama_get_logits_ith(ctx_.get(), first_row[j] + row);
            Prediction prediction = predict(logits, n_vocab, mask_token_, params, rng);
            prediction.position = position;
            predictions.push_back(prediction);
        }

        // Commit the best-scored predictions; the others stay masked.
        const bool last = step + 1 >= work.steps;
        const int commits = last ? static_cast<int>(predictions.size())
                                 : std::min(static_cast<int>(predictions.size()),
                                            commits_at_step(work.masked, work.steps, step));
        std::stable_sort(predictions.begin(), predictions.end(),
                         [](const Prediction & a, const Prediction & b) { return a.score > b.score; });
        for (int c = 0; c < commits; ++c) {
            work.tokens[static_cast<size_t>(predictions[static_cast<size_t>(c)].position)] =
                predictions[static_cast<size_t>(c)].token;
        }
        work.remaining.clear();
        for (size_t c = static_cast<size_t>(commits); c < predictions.size(); ++c) {
            work.remaining.push_back(predictions[c].position);
        }
        std::sort(work.remaining.begin(), work.remaining.end());
    }
}

std::vector<std::vector<llama_token>> Reconstructor::reconstruct(const std::vector<CorruptedSample> & samples,
                                                                 const ReconstructParams & params,
                                                                 std::mt19937_64 & rng) {
    if (static_cast<int>(samples.size()) > max_samples_) {
        rdt::fail("internal: {} samples exceed the reconstructor's {} sequences", samples.size(), max_samples_);
    }
    std::vector<Work> works;
    for (const CorruptedSample & sample : samples) {
        if (static_cast<int>(sample.tokens.size()) > max_claim_tokens_) {
            rdt::fail("internal: a sample of {} tokens exceeds the reconstructor's {} tokens", sample.tokens.size(),
                      max_claim_tokens_);
        }
        Work work;
        work.tokens = sample.tokens;
        work.remaining = sample.masked_positions;
        work.masked = static_cast<int>(sample.masked_positions.size());
        work.steps = steps_for(work.masked, params);
        works.push_back(std::move(work));
    }

    int max_steps = 0;
    for (const Work & work : works) {
        max_steps = std::max(max_steps, work.steps);
    }

    if (params.batch_samples) {
        for (int step = 0; step < max_steps; ++step) {
            run_step(works, params, step, rng);
        }
    } else {
        // One sequence per decode: the same steps, one sample after another.
        for (Work & work : works) {
            std::vector<Work> single{std::move(work)};
            for (int step = 0; step < single[0].steps; ++step) {
                run_step(single, params, step, rng);
            }
            work = std::move(single[0]);
        }
    }

    std::vector<std::vector<llama_token>> result;
    for (Work & work : works) {
        result.push_back(std::move(work.tokens));
    }
    return result;
}

}  // namespace diffutruth
