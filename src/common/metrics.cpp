#include "common/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <string_view>

#include "common/error.hpp"

namespace rdt {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// ---------------------------------------------------------------------------
// Logit rows
// ---------------------------------------------------------------------------

void validate_row(const float * logits, int32_t n_vocab, std::string_view row_name) {
    if (logits == nullptr) {
        fail("{} logits are null; pass a row of n_vocab floats", row_name);
    }
    if (n_vocab < 1) {
        fail("n_vocab is {}; a logit row needs at least 1 entry", n_vocab);
    }
    for (int32_t i = 0; i < n_vocab; ++i) {
        if (!std::isfinite(logits[i])) {
            fail("{} logit {} of {} is {}; non-finite logits mean a broken model or quantization", row_name,
                 i, n_vocab, logits[i]);
        }
    }
}

// The two numbers that turn a logit row into log-probabilities:
// log p[i] = (logits[i] - max_logit) - log_sum_exp.
struct SoftmaxNorm {
    float max_logit = 0.0f;
    double log_sum_exp = 0.0;  // log of sum_i expf(logits[i] - max_logit)
};

// Subtracting the maximum keeps expf in range, and the double sum keeps a vocabulary
// of 1e5 or more small terms accurate. Both choices follow llama-perplexity.
SoftmaxNorm compute_softmax_norm(const float * logits, int32_t n_vocab, std::string_view row_name) {
    validate_row(logits, n_vocab, row_name);

    float max_logit = logits[0];
    for (int32_t i = 1; i < n_vocab; ++i) {
        max_logit = std::max(max_logit, logits[i]);
    }

    double sum_exp = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) {
        sum_exp += std::exp(logits[i] - max_logit);
    }
    return {max_logit, std::log(sum_exp)};
}

double log_prob_at(const float * logits, const SoftmaxNorm & norm, int32_t index) {
    return static_cast<double>(logits[index] - norm.max_logit) - norm.log_sum_exp;
}

// ---------------------------------------------------------------------------
// Binary classification inputs
// ---------------------------------------------------------------------------

struct ClassCounts {
    std::size_t n_positive = 0;
    std::size_t n_negative = 0;
};

// Checks sizes, labels and NaN values. `values_name` ("scores" or "probabilities")
// names the first argument in messages.
ClassCounts validate_binary(std::span<const double> values, std::span<const int> labels,
                            std::string_view values_name) {
    if (values.size() != labels.size()) {
        fail("got {} {} but {} labels; pass one label per sample", values.size(), values_name, labels.size());
    }
    if (values.empty()) {
        fail("no {} given; a classification metric needs at least one sample", values_name);
    }

    ClassCounts counts;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] != 0 && labels[i] != 1) {
            fail("labels[{}] is {}; labels must be 1 (positive) or 0 (negative)", i, labels[i]);
        }
        if (std::isnan(values[i])) {
            fail("{}[{}] is NaN; remove the sample or fix the scorer", values_name, i);
        }
        if (labels[i] == 1) {
            ++counts.n_positive;
        } else {
            ++counts.n_negative;
        }
    }
    return counts;
}

void require_both_classes(const ClassCounts & counts, std::string_view metric_name) {
    if (counts.n_positive == 0 || counts.n_negative == 0) {
        fail(
            "{} is undefined with only positives or only negatives: got {} positives (label 1) and {} "
            "negatives (label 0); pass a set that contains both classes",
            metric_name, counts.n_positive, counts.n_negative);
    }
}

// All samples that share one score value.
struct ScoreGroup {
    double score = 0.0;
    std::size_t n_positive = 0;
    std::size_t n_negative = 0;
};

// Returns the samples grouped by equal score, in ascending score order. Grouping
// makes every metric treat tied scores as one threshold step.
std::vector<ScoreGroup> group_by_score(std::span<const double> scores, std::span<const int> labels) {
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });

    std::vector<ScoreGroup> groups;
    for (const std::size_t index : order) {
        if (groups.empty() || scores[index] != groups.back().score) {
            groups.push_back({scores[index], 0, 0});
        }
        if (labels[index] == 1) {
            ++groups.back().n_positive;
        } else {
            ++groups.back().n_negative;
        }
    }
    return groups;
}

// Returns a uniform index in [0, n) by rejection sampling. std::uniform_int_distribution
// differs between standard libraries, while std::mt19937_64's output sequence is fixed
// by the C++ standard, so this keeps bootstrap resamples identical on every platform.
std::size_t draw_index(std::mt19937_64 & rng, std::size_t n) {
    constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
    const uint64_t bound = n;

    // Draws at or above the largest multiple of bound would favour the low indices.
    const uint64_t limit = kMax - kMax % bound;
    uint64_t draw = rng();
    while (draw >= limit) {
        draw = rng();
    }
    return static_cast<std::size_t>(draw % bound);
}

// Returns the index of the largest value. Ties go to the lowest index.
std::size_t index_of_max(std::span<const double> values) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < values.size(); ++i) {
        if (values[i] > values[best]) {
            best = i;
        }
    }
    return best;
}

double binomial_std_error(double fraction, double denominator) {
    return std::sqrt(fraction * (1.0 - fraction) / denominator);
}

}  // namespace

// ---------------------------------------------------------------------------
// Perplexity
// ---------------------------------------------------------------------------

void NllAccumulator::add(double nll) {
    if (!std::isfinite(nll)) {
        fail("NLL {} of token {} is not finite; check the logits of that token", nll, count_);
    }
    ++count_;
    sum_nll_ += nll;
    sum_nll_squared_ += nll * nll;
}

double NllAccumulator::mean() const {
    if (count_ == 0) {
        fail("mean NLL of 0 tokens is undefined; add at least one token before reading it");
    }
    return sum_nll_ / static_cast<double>(count_);
}

double NllAccumulator::ppl() const {
    return std::exp(mean());
}

double NllAccumulator::ppl_uncertainty() const {
    if (count_ < 2) {
        fail("perplexity uncertainty needs at least 2 tokens, got {}; evaluate more text", count_);
    }
    const double mean_nll = mean();
    const double variance = sum_nll_squared_ / static_cast<double>(count_) - mean_nll * mean_nll;
    if (variance <= 0.0) {
        return 0.0;
    }
    return ppl() * std::sqrt(variance / static_cast<double>(count_ - 1));
}

PplStats NllAccumulator::stats() const {
    return {count_, mean(), ppl(), ppl_uncertainty()};
}

// ---------------------------------------------------------------------------
// Softmax and KL divergence
// ---------------------------------------------------------------------------

double token_log_prob(const float * logits, int32_t n_vocab, int32_t token) {
    const SoftmaxNorm norm = compute_softmax_norm(logits, n_vocab, "input");
    if (token < 0 || token >= n_vocab) {
        fail("token {} is out of range for n_vocab {}; pass a token id in [0, n_vocab)", token, n_vocab);
    }
    return log_prob_at(logits, norm, token);
}

std::vector<double> log_softmax(const float * logits, int32_t n_vocab) {
    const SoftmaxNorm norm = compute_softmax_norm(logits, n_vocab, "input");
    std::vector<double> log_probs(static_cast<std::size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) {
        log_probs[static_cast<std::size_t>(i)] = log_prob_at(logits, norm, i);
    }
    return log_probs;
}

int32_t argmax(const float * logits, int32_t n_vocab) {
    validate_row(logits, n_vocab, "input");
    int32_t best = 0;
    for (int32_t i = 1; i < n_vocab; ++i) {
        if (logits[i] > logits[best]) {
            best = i;
        }
    }
    return best;
}

double kl_divergence(const float * ref_logits, const float * test_logits, int32_t n_vocab) {
    const SoftmaxNorm ref_norm = compute_softmax_norm(ref_logits, n_vocab, "reference");
    const SoftmaxNorm test_norm = compute_softmax_norm(test_logits, n_vocab, "test");

    double kl = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) {
        const double ref_log_prob = log_prob_at(ref_logits, ref_norm, i);
        const double test_log_prob = log_prob_at(test_logits, test_norm, i);
        kl += std::exp(ref_log_prob) * (ref_log_prob - test_log_prob);
    }
    return kl;
}

double percentile_of_sorted(std::span<const double> sorted, double q) {
    if (sorted.empty()) {
        fail("percentile of an empty set is undefined; add values first");
    }
    if (!(q >= 0.0 && q <= 1.0)) {
        fail("percentile fraction {} is outside [0, 1]; pass 0.9 for the 90th percentile", q);
    }
    if (!std::is_sorted(sorted.begin(), sorted.end())) {
        fail("percentile_of_sorted got {} values that are not in ascending order; sort them first",
             sorted.size());
    }

    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto lower = static_cast<std::size_t>(position);
    if (lower + 1 >= sorted.size()) {
        return sorted.back();
    }
    const double fraction = position - static_cast<double>(lower);
    return sorted[lower] + fraction * (sorted[lower + 1] - sorted[lower]);
}

void KlSummary::add_logits(const float * ref_logits, const float * test_logits, int32_t n_vocab) {
    TokenKl token;
    token.kl = kl_divergence(ref_logits, test_logits, n_vocab);
    token.same_top = argmax(ref_logits, n_vocab) == argmax(test_logits, n_vocab);
    add(token);
}

void KlSummary::add(const TokenKl & token) {
    if (!std::isfinite(token.kl) || token.kl < -kKlRoundingTolerance) {
        fail("KL divergence {} of token {} is invalid; KL must be finite and >= 0", token.kl, values_.size());
    }
    values_.push_back(token.kl);
    if (token.same_top) {
        ++n_same_top_;
    }
}

KlStats KlSummary::stats() const {
    const std::size_t count = values_.size();
    if (count < 2) {
        fail("KL statistics need at least 2 tokens, got {}; evaluate more text", count);
    }
    const auto n = static_cast<double>(count);

    KlStats stats;
    stats.count = count;

    // Mean and its standard error from the plain sums, as llama-perplexity computes them.
    double sum = 0.0;
    double sum_squared = 0.0;
    for (const double kl : values_) {
        sum += kl;
        sum_squared += kl * kl;
    }
    stats.mean = sum / n;
    const double variance = std::max(sum_squared / n - stats.mean * stats.mean, 0.0);
    stats.mean_std_error = std::sqrt(variance / (n - 1.0));

    std::vector<double> sorted = values_;
    std::sort(sorted.begin(), sorted.end());
    stats.median = percentile_of_sorted(sorted, 0.50);
    stats.p90 = percentile_of_sorted(sorted, 0.90);
    stats.p95 = percentile_of_sorted(sorted, 0.95);
    stats.p99 = percentile_of_sorted(sorted, 0.99);
    stats.max = sorted.back();

    stats.same_top_fraction = static_cast<double>(n_same_top_) / n;
    stats.same_top_std_error = binomial_std_error(stats.same_top_fraction, n - 1.0);
    return stats;
}

// ---------------------------------------------------------------------------
// Multiple-choice accuracy
// ---------------------------------------------------------------------------

MultipleChoicePrediction predict_choice(const MultipleChoiceQuestion & question) {
    const std::size_t n_choices = question.log_likelihoods.size();
    if (n_choices < 2) {
        fail("question has {} choices; multiple choice needs at least 2", n_choices);
    }
    if (question.lengths.size() != n_choices) {
        fail("question has {} log-likelihoods but {} lengths; pass one of each per choice", n_choices,
             question.lengths.size());
    }
    if (question.gold >= n_choices) {
        fail("gold index {} is out of range for {} choices; pass an index in [0, {})", question.gold,
             n_choices, n_choices);
    }

    std::vector<double> normalized(n_choices);
    for (std::size_t i = 0; i < n_choices; ++i) {
        const double log_likelihood = question.log_likelihoods[i];
        const double length = question.lengths[i];
        if (std::isnan(log_likelihood)) {
            fail("log-likelihood of choice {} is NaN; check the logits of that continuation", i);
        }
        if (!(length > 0.0) || !std::isfinite(length)) {
            fail("length of choice {} is {}; pass the positive byte or token count of the continuation", i,
                 length);
        }
        normalized[i] = log_likelihood / length;
    }

    return {index_of_max(question.log_likelihoods), index_of_max(normalized)};
}

void MultipleChoiceAccuracy::add(const MultipleChoiceQuestion & question) {
    const MultipleChoicePrediction prediction = predict_choice(question);
    ++count_;
    if (prediction.by_sum == question.gold) {
        ++n_correct_;
    }
    if (prediction.by_normalized == question.gold) {
        ++n_correct_norm_;
    }
}

MultipleChoiceStats MultipleChoiceAccuracy::stats() const {
    if (count_ == 0) {
        fail("accuracy of 0 questions is undefined; add at least one question");
    }
    const auto n = static_cast<double>(count_);

    MultipleChoiceStats stats;
    stats.count = count_;
    stats.n_correct = n_correct_;
    stats.n_correct_norm = n_correct_norm_;
    stats.acc = static_cast<double>(n_correct_) / n;
    stats.acc_std_error = binomial_std_error(stats.acc, n);
    stats.acc_norm = static_cast<double>(n_correct_norm_) / n;
    stats.acc_norm_std_error = binomial_std_error(stats.acc_norm, n);
    return stats;
}

// ---------------------------------------------------------------------------
// Binary classification
// ---------------------------------------------------------------------------

double auroc(std::span<const double> scores, std::span<const int> labels) {
    const ClassCounts counts = validate_binary(scores, labels, "scores");
    require_both_classes(counts, "AUROC");

    // Walking up the scores, each positive beats every negative below it and ties
    // with the negatives of its own group for 1/2 each. The total is the
    // Mann-Whitney U of the positives with midranks for ties.
    double n_pairs_won = 0.0;
    std::size_t n_negative_below = 0;
    for (const ScoreGroup & group : group_by_score(scores, labels)) {
        const double wins_per_positive =
            static_cast<double>(n_negative_below) + 0.5 * static_cast<double>(group.n_negative);
        n_pairs_won += static_cast<double>(group.n_positive) * wins_per_positive;
        n_negative_below += group.n_negative;
    }
    return n_pairs_won / (static_cast<double>(counts.n_positive) * static_cast<double>(counts.n_negative));
}

double auprc(std::span<const double> scores, std::span<const int> labels) {
    const ClassCounts counts = validate_binary(scores, labels, "scores");
    require_both_classes(counts, "AUPRC");

    const std::vector<ScoreGroup> groups = group_by_score(scores, labels);
    std::size_t true_positives = 0;
    std::size_t false_positives = 0;
    double average_precision = 0.0;
    for (auto group = groups.rbegin(); group != groups.rend(); ++group) {
        true_positives += group->n_positive;
        false_positives += group->n_negative;

        const double recall_step =
            static_cast<double>(group->n_positive) / static_cast<double>(counts.n_positive);
        const double precision =
            static_cast<double>(true_positives) / static_cast<double>(true_positives + false_positives);
        average_precision += recall_step * precision;
    }
    return average_precision;
}

BestThreshold best_threshold_accuracy(std::span<const double> scores, std::span<const int> labels) {
    const ClassCounts counts = validate_binary(scores, labels, "scores");
    const std::vector<ScoreGroup> groups = group_by_score(scores, labels);
    const auto n = static_cast<double>(scores.size());

    // The lowest score as threshold predicts all positive.
    std::size_t n_correct = counts.n_positive;
    std::size_t best_correct = n_correct;
    double best_threshold = groups.front().score;

    // Raising the threshold past a group turns its positives wrong and its negatives right.
    for (std::size_t g = 0; g < groups.size(); ++g) {
        n_correct = n_correct - groups[g].n_positive + groups[g].n_negative;
        if (n_correct > best_correct) {
            best_correct = n_correct;
            best_threshold = g + 1 < groups.size() ? groups[g + 1].score : kInfinity;
        }
    }
    return {static_cast<double>(best_correct) / n, best_threshold};
}

double expected_calibration_error(std::span<const double> probabilities, std::span<const int> labels,
                                  int n_bins) {
    validate_binary(probabilities, labels, "probabilities");
    if (n_bins < 1) {
        fail("ECE bin count {} is invalid; pass 1 or more (default {})", n_bins, kDefaultEceBins);
    }
    for (std::size_t i = 0; i < probabilities.size(); ++i) {
        if (probabilities[i] < 0.0 || probabilities[i] > 1.0) {
            fail("probabilities[{}] is {}, outside [0, 1]; ECE needs probabilities, not raw scores", i,
                 probabilities[i]);
        }
    }

    const auto n_bins_size = static_cast<std::size_t>(n_bins);
    std::vector<std::size_t> bin_count(n_bins_size, 0);
    std::vector<std::size_t> bin_positives(n_bins_size, 0);
    std::vector<double> bin_probability_sum(n_bins_size, 0.0);
    for (std::size_t i = 0; i < probabilities.size(); ++i) {
        // Probability 1.0 would open bin n_bins, so it joins the last bin.
        const auto bin = std::min(static_cast<std::size_t>(probabilities[i] * n_bins), n_bins_size - 1);
        ++bin_count[bin];
        bin_positives[bin] += static_cast<std::size_t>(labels[i]);
        bin_probability_sum[bin] += probabilities[i];
    }

    const auto n = static_cast<double>(probabilities.size());
    double ece = 0.0;
    for (std::size_t bin = 0; bin < n_bins_size; ++bin) {
        if (bin_count[bin] == 0) {
            continue;
        }
        const auto count = static_cast<double>(bin_count[bin]);
        const double mean_probability = bin_probability_sum[bin] / count;
        const double positive_rate = static_cast<double>(bin_positives[bin]) / count;
        ece += (count / n) * std::abs(mean_probability - positive_rate);
    }
    return ece;
}

std::vector<RocPoint> roc_curve(std::span<const double> scores, std::span<const int> labels) {
    const ClassCounts counts = validate_binary(scores, labels, "scores");
    require_both_classes(counts, "ROC curve");

    const std::vector<ScoreGroup> groups = group_by_score(scores, labels);
    const auto n_positive = static_cast<double>(counts.n_positive);
    const auto n_negative = static_cast<double>(counts.n_negative);

    std::vector<RocPoint> points;
    points.reserve(groups.size() + 1);
    points.push_back({0.0, 0.0, kInfinity});

    std::size_t true_positives = 0;
    std::size_t false_positives = 0;
    for (auto group = groups.rbegin(); group != groups.rend(); ++group) {
        true_positives += group->n_positive;
        false_positives += group->n_negative;
        points.push_back({static_cast<double>(false_positives) / n_negative,
                          static_cast<double>(true_positives) / n_positive, group->score});
    }
    return points;
}

ConfidenceInterval bootstrap_ci(std::span<const double> scores, std::span<const int> labels,
                                const BinaryMetric & metric, const BootstrapParams & params) {
    const ClassCounts counts = validate_binary(scores, labels, "scores");
    require_both_classes(counts, "a bootstrap interval");
    if (params.n_resamples < 1) {
        fail("bootstrap needs at least 1 resample, got {}; the usual value is 1000", params.n_resamples);
    }
    if (!(params.confidence > 0.0 && params.confidence < 1.0)) {
        fail("confidence level {} is outside (0, 1); pass 0.95 for a 95% interval", params.confidence);
    }

    ConfidenceInterval interval;
    interval.estimate = metric(scores, labels);

    std::mt19937_64 rng(params.seed);
    const std::size_t n = scores.size();
    std::vector<double> resampled_scores(n);
    std::vector<int> resampled_labels(n);
    std::vector<double> resampled_values;
    resampled_values.reserve(params.n_resamples);

    for (std::size_t r = 0; r < params.n_resamples; ++r) {
        std::size_t n_positive = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t index = draw_index(rng, n);
            resampled_scores[i] = scores[index];
            resampled_labels[i] = labels[index];
            n_positive += static_cast<std::size_t>(labels[index]);
        }

        if (n_positive == 0 || n_positive == n) {
            ++interval.n_resamples_skipped;
            continue;
        }
        resampled_values.push_back(metric(resampled_scores, resampled_labels));
    }

    if (resampled_values.empty()) {
        fail(
            "all {} bootstrap resamples of {} samples contained a single class ({} positives, {} negatives); "
            "use a larger or more balanced set",
            params.n_resamples, n, counts.n_positive, counts.n_negative);
    }
    interval.n_resamples_used = resampled_values.size();

    std::sort(resampled_values.begin(), resampled_values.end());
    const double tail = (1.0 - params.confidence) / 2.0;
    interval.lower = percentile_of_sorted(resampled_values, tail);
    interval.upper = percentile_of_sorted(resampled_values, 1.0 - tail);
    return interval;
}

// ---------------------------------------------------------------------------
// JSON conversion
// ---------------------------------------------------------------------------

void to_json(nlohmann::json & json, const PplStats & stats) {
    json = {{"count", stats.count},
            {"mean_nll", stats.mean_nll},
            {"ppl", stats.ppl},
            {"ppl_uncertainty", stats.ppl_uncertainty}};
}

void to_json(nlohmann::json & json, const KlStats & stats) {
    json = {{"count", stats.count},
            {"mean", stats.mean},
            {"mean_std_error", stats.mean_std_error},
            {"median", stats.median},
            {"p90", stats.p90},
            {"p95", stats.p95},
            {"p99", stats.p99},
            {"max", stats.max},
            {"same_top_fraction", stats.same_top_fraction},
            {"same_top_std_error", stats.same_top_std_error}};
}

void to_json(nlohmann::json & json, const MultipleChoiceStats & stats) {
    json = {{"count", stats.count},
            {"n_correct", stats.n_correct},
            {"n_correct_norm", stats.n_correct_norm},
            {"acc", stats.acc},
            {"acc_std_error", stats.acc_std_error},
            {"acc_norm", stats.acc_norm},
            {"acc_norm_std_error", stats.acc_norm_std_error}};
}

void to_json(nlohmann::json & json, const BestThreshold & best) {
    json = {{"accuracy", best.accuracy}, {"threshold", best.threshold}};
}

void to_json(nlohmann::json & json, const RocPoint & point) {
    json = {{"fpr", point.fpr}, {"tpr", point.tpr}, {"threshold", point.threshold}};
}

void to_json(nlohmann::json & json, const ConfidenceInterval & interval) {
    json = {{"estimate", interval.estimate},
            {"lower", interval.lower},
            {"upper", interval.upper},
            {"n_resamples_used", interval.n_resamples_used},
            {"n_resamples_skipped", interval.n_resamples_skipped}};
}

}  // namespace rdt
