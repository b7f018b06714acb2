// Tests for diffutruth/corruption: mask counts, never masking everything, seeding.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "common/error.hpp"
#include "diffutruth/corruption.hpp"

namespace {

// A stand-in mask id outside the claim's tokens below.
constexpr llama_token kMask = 3;

std::vector<llama_token> claim_of(int n) {
    std::vector<llama_token> tokens;
    for (int i = 0; i < n; ++i) {
        tokens.push_back(100 + i);
    }
    return tokens;
}

TEST(Corruption, MaskedCountClampsCeil) {
    EXPECT_EQ(diffutruth::masked_count(10, 0.15), 2);  // ceil(1.5)
    EXPECT_EQ(diffutruth::masked_count(10, 0.3), 3);
    EXPECT_EQ(diffutruth::masked_count(10, 0.5), 5);
    EXPECT_EQ(diffutruth::masked_count(3, 0.15), 1);   // ceil(0.45)
    EXPECT_EQ(diffutruth::masked_count(2, 0.5), 1);
    EXPECT_EQ(diffutruth::masked_count(2, 0.99), 1);   // never all
    EXPECT_EQ(diffutruth::masked_count(40, 0.99), 39);
    EXPECT_THROW(diffutruth::masked_count(1, 0.5), rdt::Error);
    EXPECT_THROW(diffutruth::masked_count(10, 0.0), rdt::Error);
    EXPECT_THROW(diffutruth::masked_count(10, 1.0), rdt::Error);
}

TEST(Corruption, SamplesRespectCountsAndKeepUnmaskedTokens) {
    diffutruth::CorruptionParams params;  // 0.15, 0.3, 0.5 with K = 4
    for (int n = 2; n <= 30; ++n) {
        const std::vector<llama_token> tokens = claim_of(n);
        std::mt19937_64 rng(static_cast<uint64_t>(n));
        const auto samples = diffutruth::corrupt_claim(tokens, kMask, params, rng);
        ASSERT_EQ(samples.size(), 12u);
        for (const auto & sample : samples) {
            const int expected = diffutruth::masked_count(n, sample.noise_level);
            ASSERT_EQ(static_cast<int>(sample.masked_positions.size()), expected);
            ASSERT_LT(expected, n);
            ASSERT_TRUE(std::is_sorted(sample.masked_positions.begin(), sample.masked_positions.end()));
            const std::set<int> masked(sample.masked_positions.begin(), sample.masked_positions.end());
            ASSERT_EQ(masked.size(), sample.masked_positions.size()) << "a position was drawn twice";
            for (int i = 0; i < n; ++i) {
                if (masked.count(i) > 0) {
                    ASSERT_EQ(sample.tokens[static_cast<size_t>(i)], kMask);
                } else {
                    ASSERT_EQ(sample.tokens[static_cast<size_t>(i)], tokens[static_cast<size_t>(i)]);
                }
            }
        }
    }
}

TEST(Corruption, LevelsComeInOrderWithKSamplesEach) {
    diffutruth::CorruptionParams params;
    params.noise_levels = {0.5, 0.2};
    params.samples_per_level = 3;
    std::mt19937_64 rng(1);
    const auto samples = diffutruth::corrupt_claim(claim_of(10), kMask, params, rng);
    ASSERT_EQ(samples.size(), 6u);
    EXPECT_DOUBLE_EQ(samples[0].noise_level, 0.5);
    EXPECT_DOUBLE_EQ(samples[2].noise_level, 0.5);
    EXPECT_DOUBLE_EQ(samples[3].noise_level, 0.2);
}

TEST(Corruption, SameSeedSameMasksAndClaimSeedsDiffer) {
    diffutruth::CorruptionParams params;
    std::mt19937_64 first(diffutruth::claim_seed(42, 7));
    std::mt19937_64 second(diffutruth::claim_seed(42, 7));
    const auto a = diffutruth::corrupt_claim(claim_of(20), kMask, params, first);
    const auto b = diffutruth::corrupt_claim(claim_of(20), kMask, params, second);
    for (size_t s = 0; s < a.size(); ++s) {
        EXPECT_EQ(a[s].masked_positions, b[s].masked_positions);
    }
    EXPECT_NE(diffutruth::claim_seed(42, 7), diffutruth::claim_seed(42, 8));
    EXPECT_NE(diffutruth::claim_seed(42, 7), diffutruth::claim_seed(43, 7));
}

TEST(Corruption, MasksCoverAllPositionsOverManyDraws) {
    // Uniform choice: over 2,000 draws of 3 of 10 positions each position is hit.
    constexpr int kDraws = 2000;
    diffutruth::CorruptionParams params;
    params.noise_levels = {0.3};
    params.samples_per_level = 1;
    std::mt19937_64 rng(5);
    std::vector<int> hits(10, 0);
    for (int d = 0; d < kDraws; ++d) {
        const auto samples = diffutruth::corrupt_claim(claim_of(10), kMask, params, rng);
        for (const int p : samples[0].masked_positions) {
            hits[static_cast<size_t>(p)] += 1;
        }
    }
    // Expected 600 hits per position; 450 is more than 6 standard deviations (about 20.5) below.
    constexpr int kMinHits = 450;
    for (const int h : hits) {
        EXPECT_GT(h, kMinHits);
    }
}

TEST(Corruption, RejectsBadParameters) {
    diffutruth::CorruptionParams params;
    params.noise_levels = {};
    EXPECT_THROW(diffutruth::validate(params), rdt::Error);
    params.noise_levels = {1.5};
    EXPECT_THROW(diffutruth::validate(params), rdt::Error);
    params.noise_levels = {0.3};
    params.samples_per_level = 0;
    EXPECT_THROW(diffutruth::validate(params), rdt::Error);
}

}  // namespace
