#pragma once
// Corruption of a claim: for each noise level t and each of K samples, replace
// ceil(t n) randomly chosen token positions (at least one, never all n) with the
// reconstructor's mask token. The positions come from a std::mt19937_64 seeded
// per claim, so a run is reproducible and each claim's draws are independent of
// the claims before it.

#include <llama.h>

#include <cstdint>
#include <random>
#include <vector>

namespace diffutruth {

struct CorruptionParams {
    std::vector<double> noise_levels = {0.15, 0.3, 0.5};  // fractions of the claim's tokens, each in (0, 1)
    int samples_per_level = 4;                            // K
};

// One masked copy of the claim.
struct CorruptedSample {
    double noise_level = 0.0;
    std::vector<int> masked_positions;  // ascending token indices into the claim
    std::vector<llama_token> tokens;    // the claim with masked_positions set to the mask token
};

// Number of positions to mask in a claim of n tokens at noise level t:
// ceil(t n) clamped to [1, n - 1]. Throws when n < 2 (a single token cannot be
// masked without masking everything) or t is outside (0, 1).
int masked_count(int n_tokens, double noise_level);

// Seed of claim `index` in a run with `run_seed` (a SplitMix64 step over both, so
// neighbouring indices give unrelated streams).
uint64_t claim_seed(uint64_t run_seed, uint64_t index);

// Check noise levels and samples; throws rdt::Error naming the bad value.
void validate(const CorruptionParams & params);

// Draw every sample of one claim, level by level (levels in the given order,
// K samples each), from rng.
std::vector<CorruptedSample> corrupt_claim(const std::vector<llama_token> & tokens, llama_token mask_token,
                                           const CorruptionParams & params, std::mt19937_64 & rng);

}  // namespace diffutruth
