#pragma once
// Evaluation metrics shared by ramp (perplexity, KL divergence, multiple-choice accuracy
// of a quantized model) and diffutruth (AUROC, AUPRC, calibration of a hallucination
// score). Every function validates its input and throws rdt::Error on a bad value.
// All sums are accumulated in double. The result structs convert to JSON through
// to_json(), so a CLI can write `nlohmann::json j = stats;`.
// "llama-perplexity" below means tools/perplexity/perplexity.cpp of llama.cpp at the
// pinned commit de3ff81.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <vector>

namespace rdt {

// ---------------------------------------------------------------------------
// Perplexity
// ---------------------------------------------------------------------------

// Perplexity summary for JSON output.
struct PplStats {
    std::size_t count = 0;
    double mean_nll = 0.0;
    double ppl = 0.0;
    double ppl_uncertainty = 0.0;
};

// Running mean of per-token negative log-likelihoods (natural log, in nats) with
// the perplexity and its uncertainty computed as llama.cpp's llama-perplexity does.
class NllAccumulator {
  public:
    // Adds the NLL of one token. Throws if nll is NaN or infinite.
    void add(double nll);

    std::size_t count() const { return count_; }

    // Mean NLL. Throws when no value was added.
    double mean() const;

    // exp(mean NLL). Throws when no value was added.
    double ppl() const;

    // Standard error of ppl() by the delta method:
    // ppl * sqrt((E[nll^2] - mean^2) / (count - 1)), with E[] the plain average.
    // Returns 0 when rounding makes the variance zero or negative, and throws when
    // fewer than 2 values were added.
    double ppl_uncertainty() const;

    // Collects count, mean NLL, ppl and its uncertainty. Needs at least 2 values.
    PplStats stats() const;

  private:
    std::size_t count_ = 0;
    double sum_nll_ = 0.0;
    double sum_nll_squared_ = 0.0;
};

// ---------------------------------------------------------------------------
// Softmax and KL divergence over one logit row of n_vocab floats
// ---------------------------------------------------------------------------
// Each row must contain only finite values. A NaN or infinite logit means the model
// output is broken, so these functions throw instead of returning NaN.

// Returns the natural-log probability of `token` under softmax(logits). As in
// llama-perplexity, the maximum logit is subtracted before expf and the sum of
// the exponentials is accumulated in double.
double token_log_prob(const float * logits, int32_t n_vocab, int32_t token);

// Returns log softmax(logits) for all n_vocab entries, computed as token_log_prob().
std::vector<double> log_softmax(const float * logits, int32_t n_vocab);

// Returns the index of the largest logit. Ties go to the lowest index.
int32_t argmax(const float * logits, int32_t n_vocab);

// Returns KL(P_ref || P_test) = sum_i p_ref[i] * (log p_ref[i] - log p_test[i]) in
// nats, with P = softmax of each row. The sum runs over the whole vocabulary in
// double. llama-perplexity instead stores the reference log-probs in 16 bits and skips
// tokens with log p_ref < -16, so its values can differ in the last digits.
double kl_divergence(const float * ref_logits, const float * test_logits, int32_t n_vocab);

// Returns the q-quantile (q in [0, 1]) of ascending `sorted` values by linear
// interpolation between closest ranks: position h = q * (n - 1), result
// sorted[floor(h)] + (h - floor(h)) * (sorted[floor(h) + 1] - sorted[floor(h)]).
// This is the default ("linear", Hyndman-Fan type 7) of numpy.percentile and the rule
// llama-perplexity uses for its KLD percentiles. Throws when `sorted` is empty.
double percentile_of_sorted(std::span<const double> sorted, double q);

// KL divergence summary for JSON output. Percentiles follow percentile_of_sorted().
struct KlStats {
    std::size_t count = 0;
    double mean = 0.0;
    // sqrt((E[kl^2] - mean^2) / (count - 1)), the formula of llama-perplexity, which
    // prints 0 instead below 11 tokens.
    double mean_std_error = 0.0;
    double median = 0.0;
    double p90 = 0.0;
    double p95 = 0.0;
    double p99 = 0.0;
    double max = 0.0;
    double same_top_fraction = 0.0;   // fraction of tokens whose rows share the argmax ("Same top p")
    double same_top_std_error = 0.0;  // sqrt(f * (1 - f) / (count - 1)), as llama-perplexity
};

// Comparison of one token's reference and test logit rows.
struct TokenKl {
    double kl = 0.0;        // KL(P_ref || P_test) in nats
    bool same_top = false;  // whether both rows have the same argmax
};

// Per-token KL divergences and top-1 agreement between a reference model and a test
// model, such as an unquantized and a quantized one.
class KlSummary {
  public:
    // Computes KL and top-1 agreement of one token from its two logit rows.
    void add_logits(const float * ref_logits, const float * test_logits, int32_t n_vocab);

    // Adds a precomputed comparison, for example `add({.kl = 0.02, .same_top = true})`.
    // Throws if kl is NaN, infinite or below -kKlRoundingTolerance.
    void add(const TokenKl & token);

    std::size_t count() const { return values_.size(); }
    const std::vector<double> & values() const { return values_; }

    // Computes all statistics with one sort. Throws when fewer than 2 tokens were added,
    // because the standard errors divide by count - 1.
    KlStats stats() const;

    // Largest negative KL, in nats, that add() accepts as rounding error, because KL is
    // >= 0 in exact arithmetic.
    static constexpr double kKlRoundingTolerance = 1e-9;

  private:
    std::vector<double> values_;
    std::size_t n_same_top_ = 0;
};

// ---------------------------------------------------------------------------
// Multiple-choice accuracy (HellaSwag, ARC, MMLU style)
// ---------------------------------------------------------------------------

// One question: for each choice, the summed log-likelihood of its continuation and
// that continuation's length. The caller decides the length unit (bytes or characters
// of the continuation text, or its tokens) and must use one unit for a whole run.
struct MultipleChoiceQuestion {
    std::vector<double> log_likelihoods;  // natural log, one per choice
    std::vector<double> lengths;          // > 0, one per choice
    std::size_t gold = 0;                 // index of the correct choice
};

// Choices picked for one question. Ties go to the lowest index.
struct MultipleChoicePrediction {
    std::size_t by_sum = 0;         // argmax of log_likelihoods[i]
    std::size_t by_normalized = 0;  // argmax of log_likelihoods[i] / lengths[i]
};

// Validates a question and returns its two predictions. Throws when there are fewer
// than 2 choices, the vectors differ in size, gold is out of range, a log-likelihood
// is NaN or a length is not positive.
MultipleChoicePrediction predict_choice(const MultipleChoiceQuestion & question);

// Accuracy summary for JSON output. Standard errors are sqrt(p * (1 - p) / count).
struct MultipleChoiceStats {
    std::size_t count = 0;
    std::size_t n_correct = 0;
    std::size_t n_correct_norm = 0;
    double acc = 0.0;
    double acc_std_error = 0.0;
    double acc_norm = 0.0;
    double acc_norm_std_error = 0.0;
};

// Running acc (argmax of the summed log-likelihood) and acc_norm (argmax of the
// log-likelihood divided by the length) over questions.
class MultipleChoiceAccuracy {
  public:
    void add(const MultipleChoiceQuestion & question);

    std::size_t count() const { return count_; }

    // Throws when no question was added.
    MultipleChoiceStats stats() const;

  private:
    std::size_t count_ = 0;
    std::size_t n_correct_ = 0;
    std::size_t n_correct_norm_ = 0;
};

// ---------------------------------------------------------------------------
// Binary classification
// ---------------------------------------------------------------------------
// `labels` are 1 for the positive class and 0 for the negative class. A higher score
// means "more likely positive". scores and labels must be non-empty and of equal size,
// and scores must not be NaN (infinities are allowed). Each function validates this.

// Area under the ROC curve: the probability that a random positive scores above a
// random negative, counting ties as 1/2. This is the Mann-Whitney U statistic with
// midranks for ties, divided by n_pos * n_neg. O(n log n). Throws unless both classes
// are present.
double auroc(std::span<const double> scores, std::span<const int> labels);

// Average precision: sum over distinct score thresholds t, from the highest down, of
// (recall(t) - recall(previous t)) * precision(t), where samples with score >= t are
// predicted positive. Equal scores enter together, so ties cannot reorder the sum.
// There is no interpolation between steps. This is the formula that scikit-learn
// documents for average_precision_score since version 0.19. Throws unless both
// classes are present.
double auprc(std::span<const double> scores, std::span<const int> labels);

// Best accuracy of the rule "predict positive when score >= threshold".
struct BestThreshold {
    double accuracy = 0.0;
    // One of the scores, or +infinity for the rule that predicts all negative
    // (JSON writes +infinity as null). Among equal accuracies the lowest threshold wins.
    double threshold = 0.0;
};

// Tries every threshold that changes a prediction: each distinct score (the lowest one
// predicts all positive) and +infinity (all negative). Works with one class.
BestThreshold best_threshold_accuracy(std::span<const double> scores, std::span<const int> labels);

// Default number of equal-width bins for expected_calibration_error().
constexpr int kDefaultEceBins = 10;

// Expected calibration error of probabilities in [0, 1]: bin b covers
// [b / n_bins, (b + 1) / n_bins), with 1.0 in the last bin, and
// ECE = sum over non-empty bins of (bin size / n) * |mean probability - positive rate|.
// Works with one class. Throws if a probability is outside [0, 1] or n_bins < 1.
double expected_calibration_error(std::span<const double> probabilities, std::span<const int> labels,
                                  int n_bins = kDefaultEceBins);

// One point of an ROC curve: the rates of the rule "score >= threshold".
struct RocPoint {
    double fpr = 0.0;
    double tpr = 0.0;
    double threshold = 0.0;  // +infinity for the first point (0, 0), written as null in JSON
};

// Returns the ROC curve from (0, 0) to (1, 1), one point per distinct score, by
// decreasing threshold. Connecting the points with straight lines gives an area equal
// to auroc(). Throws unless both classes are present.
std::vector<RocPoint> roc_curve(std::span<const double> scores, std::span<const int> labels);

// A metric over (scores, labels), for example auroc, or a lambda around
// best_threshold_accuracy or expected_calibration_error.
using BinaryMetric = std::function<double(std::span<const double>, std::span<const int>)>;

struct BootstrapParams {
    std::size_t n_resamples = 1000;
    double confidence = 0.95;  // central interval, so 0.95 spans the 2.5% to 97.5% percentiles
    uint64_t seed = 42;        // std::mt19937_64 seed
};

// Point estimate with a bootstrap confidence interval, for JSON output.
struct ConfidenceInterval {
    double estimate = 0.0;  // the metric on the full set
    double lower = 0.0;
    double upper = 0.0;
    std::size_t n_resamples_used = 0;
    std::size_t n_resamples_skipped = 0;  // resamples with a single class
};

// Percentile bootstrap: draws params.n_resamples resamples of (score, label) pairs with
// replacement, evaluates the metric on each, and returns the percentile_of_sorted() values
// at (1 - confidence) / 2 and (1 + confidence) / 2. Resamples that contain a single
// class are skipped and counted, because AUROC and AUPRC are undefined on them. For a
// fixed seed the result is the same on every platform. Throws unless the full set
// has both classes, and when every resample was skipped.
ConfidenceInterval bootstrap_ci(std::span<const double> scores, std::span<const int> labels,
                                const BinaryMetric & metric, const BootstrapParams & params = {});

// ---------------------------------------------------------------------------
// JSON conversion (found by nlohmann::json through argument-dependent lookup)
// ---------------------------------------------------------------------------

void to_json(nlohmann::json & json, const PplStats & stats);
void to_json(nlohmann::json & json, const KlStats & stats);
void to_json(nlohmann::json & json, const MultipleChoiceStats & stats);
void to_json(nlohmann::json & json, const BestThreshold & best);
void to_json(nlohmann::json & json, const RocPoint & point);
void to_json(nlohmann::json & json, const ConfidenceInterval & interval);

}  // namespace rdt
