// Tests for diffutruth/calibration: robust standardisation, fusion direction,
// logistic regression, and the unmasking schedule of the reconstructor.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/error.hpp"
#include "diffutruth/calibration.hpp"
#include "diffutruth/reconstructor.hpp"

namespace {

// Double rounding on sums of a handful of values.
constexpr double kExact = 1e-12;

TEST(Calibration, RobustZUsesMedianAndScaledMad) {
    const std::vector<double> values = {1, 2, 3, 4, 100};  // median 3, MAD 1
    const auto z = diffutruth::robust_z(values);
    EXPECT_NEAR(z[2], 0.0, kExact);
    EXPECT_NEAR(z[3], 1.0 / diffutruth::kMadToSigma, kExact);
    EXPECT_NEAR(z[4], 97.0 / diffutruth::kMadToSigma, kExact);
}

TEST(Calibration, RobustZFallsBackWhenMadIsZero) {
    const std::vector<double> mostly_equal = {5, 5, 5, 5, 9};  // MAD 0: standard deviation around the median
    const auto z = diffutruth::robust_z(mostly_equal);
    EXPECT_NEAR(z[0], 0.0, kExact);
    EXPECT_GT(z[4], 0.0);
    EXPECT_TRUE(std::isfinite(z[4]));
    const std::vector<double> constant = {2, 2, 2};
    for (const double v : diffutruth::robust_z(constant)) {
        EXPECT_EQ(v, 0.0);
    }
}

TEST(Calibration, FusionRanksFalseClaimsHigher) {
    // Claim 0: low energy, high confidence (looks true); claim 2: the opposite.
    const std::vector<double> energy = {0.1, 0.5, 0.9, 0.4, 0.6};
    const std::vector<double> confidence = {0.9, 0.5, 0.1, 0.6, 0.4};
    const auto s = diffutruth::fuse_scores(energy, confidence, 0.5);
    EXPECT_LT(s[0], s[1]);
    EXPECT_LT(s[1], s[2]);
    EXPECT_GT(diffutruth::logistic(s[2]), 0.5);
    EXPECT_LT(diffutruth::logistic(s[0]), 0.5);

    // w = 1 is energy alone, w = 0 confidence alone.
    const auto energy_only = diffutruth::fuse_scores(energy, confidence, 1.0);
    const auto z_energy = diffutruth::robust_z(energy);
    for (size_t i = 0; i < energy.size(); ++i) {
        EXPECT_NEAR(energy_only[i], z_energy[i], kExact);
    }
    EXPECT_THROW(diffutruth::fuse_scores(energy, confidence, 1.5), rdt::Error);
}

TEST(Calibration, LogisticRegressionLearnsTheDirection) {
    // False claims have higher energy and lower confidence, with noise.
    std::mt19937_64 rng(3);
    std::normal_distribution<double> noise(0.0, 1.0);
    std::vector<double> energy;
    std::vector<double> confidence;
    std::vector<int> is_false;
    for (int i = 0; i < 400; ++i) {
        const int y = i % 2;
        energy.push_back(0.5 + 0.3 * y + 0.2 * noise(rng));
        confidence.push_back(-1.0 - 0.5 * y + 0.5 * noise(rng));
        is_false.push_back(y);
    }
    const auto model = diffutruth::fit_logistic(energy, confidence, is_false);
    EXPECT_GT(model.weight_energy, 0.0);
    EXPECT_LT(model.weight_confidence, 0.0);
    EXPECT_GT(model.probability(1.0, -2.0), 0.5);
    EXPECT_LT(model.probability(0.3, -0.5), 0.5);

    const std::vector<int> one_class(400, 1);
    EXPECT_THROW(diffutruth::fit_logistic(energy, confidence, one_class), rdt::Error);
}

TEST(Schedule, DefaultStepsAndCommitsSumToMaskedCount) {
    diffutruth::ReconstructParams params;
    EXPECT_EQ(diffutruth::steps_for(1, params), 1);
    EXPECT_EQ(diffutruth::steps_for(5, params), 3);
    EXPECT_EQ(diffutruth::steps_for(100, params), diffutruth::kMaxDefaultSteps);
    params.steps = 50;
    EXPECT_EQ(diffutruth::steps_for(4, params), 4);  // never more steps than masks
    for (int masked = 1; masked < 40; ++masked) {
        for (int steps = 1; steps <= masked; ++steps) {
            int total = 0;
            for (int s = 0; s < steps; ++s) {
                const int k = diffutruth::commits_at_step(masked, steps, s);
                EXPECT_GE(k, 1);
                total += k;
            }
            EXPECT_EQ(total, masked);
        }
    }
}

}  // namespace
