#include "diffutruth/critic.hpp"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/error.hpp"

namespace diffutruth {

namespace {

// Pairs per decode; with short claims the token limit is usually reached first.
constexpr int kCriticMaxSequences = 64;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// Cut tokens to at most `limit`, keeping the start.
void truncate_to(std::vector<llama_token> & tokens, int limit) {
    if (static_cast<int>(tokens.size()) > limit) {
        tokens.resize(static_cast<size_t>(std::max(limit, 0)));
    }
}

}  // namespace

NliCritic::NliCritic(const std::filesystem::path & path, int n_threads) : model_(rdt::load_model(path)) {
    const uint32_t n_out = llama_model_n_cls_out(model_.get());
    for (uint32_t i = 0; i < n_out; ++i) {
        const char * label = llama_model_cls_label(model_.get(), i);
        if (label == nullptr) {
            break;
        }
        labels_.push_back(label);
    }
    if (n_out < 2 || labels_.size() != n_out) {
        rdt::fail("critic '{}' (architecture {}) has no classifier head with labels ({} outputs, {} labels); pass "
                  "an NLI sequence classifier GGUF such as a BERT or RoBERTa MNLI cross-encoder (-c)",
                  path.string(), rdt::model_architecture(model_.get()), n_out, labels_.size());
    }

    for (size_t i = 0; i < labels_.size(); ++i) {
        const std::string name = lower(labels_[i]);
        const int index = static_cast<int>(i);
        if (name == "entailment") {
            entailment_index_ = index;
        } else if (name == "neutral") {
            neutral_index_ = index;
        } else if (name == "contradiction") {
            contradiction_index_ = index;
        }
    }
    if (entailment_index_ < 0) {
        rdt::fail("critic '{}' has labels [{}] but none is \"entailment\"; pass an NLI classifier whose labels are "
                  "entailment, neutral and contradiction",
                  path.string(), fmt::join(labels_, ", "));
    }

    max_pair_tokens_ = std::min(llama_model_n_ctx_train(model_.get()), kCriticBatchTokens);
    max_sequences_ = kCriticMaxSequences;
    rdt::ContextOptions options;
    options.n_ctx = kCriticBatchTokens;
    options.n_batch = kCriticBatchTokens;
    options.n_ubatch = kCriticBatchTokens;
    options.n_seq_max = max_sequences_;
    options.n_threads = n_threads;
    options.embeddings = true;
    options.pooling = LLAMA_POOLING_TYPE_RANK;
    ctx_ = rdt::make_context(model_.get(), options);
    spdlog::debug("critic: labels [{}], up to {} tokens per pair", fmt::join(labels_, ", "), max_pair_tokens_);
}

std::vector<llama_token> NliCritic::layout(const std::string & premise, const std::string & hypothesis) {
    const llama_vocab * v = vocab();
    std::vector<llama_token> first = rdt::tokenize(v, premise, false);
    std::vector<llama_token> second = rdt::tokenize(v, hypothesis, false);

    // As llama.cpp's rerank input: EOS, or SEP when the vocabulary has no EOS.
    llama_token eos = llama_vocab_eos(v);
    if (eos == LLAMA_TOKEN_NULL) {
        eos = llama_vocab_sep(v);
    }
    const bool add_bos = llama_vocab_get_add_bos(v);
    const bool add_eos = llama_vocab_get_add_eos(v);
    const bool add_sep = llama_vocab_get_add_sep(v);
    const int n_special = (add_bos ? 1 : 0) + (add_eos ? 2 : 0) + (add_sep ? 1 : 0);

    // Too long for the context: shorten the longer text first, half the room each.
    const int room = max_pair_tokens_ - n_special;
    if (static_cast<int>(first.size() + second.size()) > room) {
        truncated_pairs_ += 1;
        const int half = room / 2;
        if (static_cast<int>(first.size()) <= half) {
            truncate_to(second, room - static_cast<int>(first.size()));
        } else if (static_cast<int>(second.size()) <= room - half) {
            truncate_to(first, room - static_cast<int>(second.size()));
        } else {
            truncate_to(first, half);
            truncate_to(second, room - half);
        }
    }

    std::vector<llama_token> tokens;
    if (add_bos) {
        tokens.push_back(llama_vocab_bos(v));
    }
    tokens.insert(tokens.end(), first.begin(), first.end());
    if (add_eos) {
        tokens.push_back(eos);
    }
    if (add_sep) {
        tokens.push_back(llama_vocab_sep(v));
    }
    tokens.insert(tokens.end(), second.begin(), second.end());
    if (add_eos) {
        tokens.push_back(eos);
    }
    return tokens;
}

void NliCritic::decode_pack(const std::vector<std::vector<llama_token>> & pack, std::vector<NliScores> & out) {
    int n_tokens = 0;
    for (const auto & tokens : pack) {
        n_tokens += static_cast<int>(tokens.size());
    }
    rdt::Batch batch(n_tokens, static_cast<int>(pack.size()));
    for (size_t s = 0; s < pack.size(); ++s) {
        for (size_t i = 0; i < pack[s].size(); ++i) {
            batch.add(pack[s][i], static_cast<llama_pos>(i), static_cast<llama_seq_id>(s), true);
        }
    }
    if (llama_decode(ctx_.get(), batch.get()) != 0) {
        rdt::fail("the critic's forward pass failed on {} tokens in {} pairs", n_tokens, pack.size());
    }

    const int n_out = static_cast<int>(labels_.size());
    for (size_t s = 0; s < pack.size(); ++s) {
        const float * logits = llama_get_embeddings_seq(ctx_.get(), static_cast<llama_seq_id>(s));
        if (logits == nullptr) {
            rdt::fail("the critic returned no class scores for pair {} of a pack", s);
        }

        // Softmax over the classes, in double.
        double max_logit = logits[0];
        for (int c = 1; c < n_out; ++c) {
            max_logit = std::max(max_logit, static_cast<double>(logits[c]));
        }
        std::vector<double> probability(static_cast<size_t>(n_out));
        double total = 0.0;
        for (int c = 0; c < n_out; ++c) {
            probability[static_cast<size_t>(c)] = std::exp(static_cast<double>(logits[c]) - max_logit);
            total += probability[static_cast<size_t>(c)];
        }
        NliScores scores;
        scores.entailment = probability[static_cast<size_t>(entailment_index_)] / total;
        if (neutral_index_ >= 0) {
            scores.neutral = probability[static_cast<size_t>(neutral_index_)] / total;
        }
        if (contradiction_index_ >= 0) {
            scores.contradiction = probability[static_cast<size_t>(contradiction_index_)] / total;
        }
        out.push_back(scores);
    }
}

std::vector<NliScores> NliCritic::score(const std::vector<TextPair> & pairs) {
    // Distinct uncached pairs, in first-seen order.
    std::vector<TextPair> todo;
    for (const TextPair & pair : pairs) {
        if (cache_.count(pair) == 0 && std::find(todo.begin(), todo.end(), pair) == todo.end()) {
            todo.push_back(pair);
        }
    }

    // Pack them into decodes of at most kCriticBatchTokens tokens and max_sequences_ pairs.
    std::vector<std::vector<llama_token>> pack;
    std::vector<NliScores> fresh;
    int pack_tokens = 0;
    for (const TextPair & pair : todo) {
        std::vector<llama_token> tokens = layout(pair.first, pair.second);
        const int size = static_cast<int>(tokens.size());
        if (!pack.empty() && (pack_tokens + size > kCriticBatchTokens || static_cast<int>(pack.size()) >= max_sequences_)) {
            decode_pack(pack, fresh);
            pack.clear();
            pack_tokens = 0;
        }
        pack.push_back(std::move(tokens));
        pack_tokens += size;
    }
    if (!pack.empty()) {
        decode_pack(pack, fresh);
    }
    for (size_t i = 0; i < todo.size(); ++i) {
        cache_[todo[i]] = fresh[i];
    }
    cache_misses_ += todo.size();
    cache_hits_ += pairs.size() - todo.size();

    std::vector<NliScores> result;
    for (const TextPair & pair : pairs) {
        result.push_back(cache_.at(pair));
    }
    return result;
}

}  // namespace diffutruth
