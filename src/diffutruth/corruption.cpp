#include "diffutruth/corruption.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.hpp"

namespace diffutruth {

int masked_count(int n_tokens, double noise_level) {
    if (n_tokens < 2) {
        rdt::fail("a claim of {} token(s) cannot be corrupted: at least 2 tokens are needed so that one stays "
                  "unmasked",
                  n_tokens);
    }
    if (!(noise_level > 0.0 && noise_level < 1.0)) {
        rdt::fail("noise level {} is outside (0, 1); pass fractions such as 0.15,0.3,0.5", noise_level);
    }
    const int wanted = static_cast<int>(std::ceil(noise_level * n_tokens));
    return std::clamp(wanted, 1, n_tokens - 1);
}

uint64_t claim_seed(uint64_t run_seed, uint64_t index) {
    // SplitMix64 finaliser over the run seed and the index (golden-ratio stride).
    uint64_t z = run_seed + (index + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void validate(const CorruptionParams & params) {
    if (params.noise_levels.empty()) {
        rdt::fail("no noise levels given; pass at least one, e.g. --noise-levels 0.15,0.3,0.5");
    }
    for (const double level : params.noise_levels) {
        if (!(level > 0.0 && level < 1.0)) {
            rdt::fail("noise level {} is outside (0, 1); pass fractions such as 0.15,0.3,0.5", level);
        }
    }
    if (params.samples_per_level < 1) {
        rdt::fail("samples per noise level is {}; pass --samples 1 or more", params.samples_per_level);
    }
}

std::vector<CorruptedSample> corrupt_claim(const std::vector<llama_token> & tokens, llama_token mask_token,
                                           const CorruptionParams & params, std::mt19937_64 & rng) {
    validate(params);
    const int n = static_cast<int>(tokens.size());
    std::vector<int> order(static_cast<size_t>(n));

    std::vector<CorruptedSample> samples;
    for (const double level : params.noise_levels) {
        const int count = masked_count(n, level);
        for (int k = 0; k < params.samples_per_level; ++k) {
            // Partial Fisher-Yates: the first `count` entries become a uniform random subset.
            std::iota(order.begin(), order.end(), 0);
            for (int i = 0; i < count; ++i) {
                std::uniform_int_distribution<int> pick(i, n - 1);
                std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(pick(rng))]);
            }

            CorruptedSample sample;
            sample.noise_level = level;
            sample.masked_positions.assign(order.begin(), order.begin() + count);
            std::sort(sample.masked_positions.begin(), sample.masked_positions.end());
            sample.tokens = tokens;
            for (const int position : sample.masked_positions) {
                sample.tokens[static_cast<size_t>(position)] = mask_token;
            }
            samples.push_back(std::move(sample));
        }
    }
    return samples;
}

}  // namespace diffutruth
