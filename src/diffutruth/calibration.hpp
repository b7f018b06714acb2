#pragma once
// Hybrid Calibration: fuse Semantic Energy E (higher = claim changes meaning under
// reconstruction) with a discriminative confidence C (higher = more likely true)
// into a hallucination score where higher means "more likely false".
//   unsupervised  s = w z(E) - (1 - w) z(C), z = robust standardisation over the
//                 evaluated claims; P(false) = 1 / (1 + exp(-s))
//   supervised    logistic regression of "false" on (E, C), fitted on a labelled
//                 calibration set and applied to another set

#include <span>
#include <vector>

namespace diffutruth {

// MAD to standard deviation under a normal distribution.
constexpr double kMadToSigma = 1.4826;
// Smallest spread used as a divisor; below it every z is 0 (all values equal).
constexpr double kMinSpread = 1e-12;

// Robust location and spread of a set of values.
struct RobustScale {
    double center = 0.0;  // median
    double spread = 1.0;  // kMadToSigma * MAD; the standard deviation when MAD is 0; at least kMinSpread
};

RobustScale robust_scale(std::span<const double> values);

// (values - median) / spread, elementwise.
std::vector<double> robust_z(std::span<const double> values);

double logistic(double x);

// s_i = w z(E)_i - (1 - w) z(C)_i; w in [0, 1]. With no confidence (empty span), s = z(E).
std::vector<double> fuse_scores(std::span<const double> energies, std::span<const double> confidences, double weight);

// Logistic regression on (E, C) for the probability that a claim is false.
// Inputs are standardised by the calibration set's mean and standard deviation;
// fitted by Newton's method with a small L2 penalty on the slopes.
struct LogisticModel {
    double intercept = 0.0;
    double weight_energy = 0.0;
    double weight_confidence = 0.0;
    double mean_energy = 0.0;
    double scale_energy = 1.0;
    double mean_confidence = 0.0;
    double scale_confidence = 1.0;
    int iterations = 0;

    double probability(double energy, double confidence) const;
};

// Fit on labelled claims; is_false[i] = 1 for a false claim. Needs both classes.
LogisticModel fit_logistic(std::span<const double> energies, std::span<const double> confidences,
                           std::span<const int> is_false);

}  // namespace diffutruth
