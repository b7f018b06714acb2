// Tests for ramp/reward: the quality-first reward with its budget penalties and cliff.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "ramp/reward.hpp"

namespace {

// Rounding of bpw / budget - 1 in double precision, far below any reward step.
constexpr double kRewardTolerance = 1e-9;

struct RewardCase {
    std::string name;
    double quality_loss;
    double plan_bpw;
    double expected;  // computed by hand from the default constants, budget 4 bpw
};

TEST(Reward, DefaultTable) {
    const double budget = 4.0;
    const std::vector<RewardCase> cases = {
        // x = 3.8 / 4 - 1 = -0.05: -100 * 0.05 - 2 * 0.05
        {"under budget", 0.05, 3.8, -5.1},
        // x = 0: -100 * 0.05
        {"at budget", 0.05, 4.0, -5.0},
        // x = 0.01 (below the 0.02 cliff): -100 * 0.05 - 50 * 0.01
        {"slightly over", 0.05, 4.04, -5.5},
        // x = 0.05 > 0.02: quality no longer counts, -100 - 500 * 0.05
        {"past the cliff", 0.05, 4.2, -125.0},
        // q = 0, x = 0: a perfect plan at budget
        {"q zero at budget", 0.0, 4.0, 0.0},
        // q = 0, x = -0.25: -2 * 0.25
        {"q zero under budget", 0.0, 3.0, -0.5},
        // q = 0, x = 0.015: -50 * 0.015
        {"q zero slightly over", 0.0, 4.06, -0.75},
        // q = 0, x = 0.25: -100 - 500 * 0.25
        {"q zero past the cliff", 0.0, 5.0, -225.0},
    };
    for (const auto & item : cases) {
        EXPECT_NEAR(ramp::compute_reward(item.quality_loss, item.plan_bpw, budget, {}), item.expected,
                    kRewardTolerance)
            << item.name;
    }
}

TEST(Reward, CustomConstants) {
    ramp::RewardParams params;
    params.quality_weight = 10.0;
    params.under_weight = 1.0;
    params.over_weight = 20.0;
    params.cliff_excess = 0.1;
    params.cliff_base = 7.0;
    params.cliff_slope = 3.0;

    // x = -0.5: -10 * 0.2 - 1 * 0.5
    EXPECT_NEAR(ramp::compute_reward(0.2, 2.0, 4.0, params), -2.5, kRewardTolerance);
    // x = 0.05, inside the wider cliff: -10 * 0.2 - 20 * 0.05
    EXPECT_NEAR(ramp::compute_reward(0.2, 4.2, 4.0, params), -3.0, kRewardTolerance);
    // x = 0.25 past the cliff: -7 - 3 * 0.25
    EXPECT_NEAR(ramp::compute_reward(0.2, 5.0, 4.0, params), -7.75, kRewardTolerance);
}

TEST(Reward, CliffIsBelowAnyQualityReward) {
    // Just past the cliff the reward drops below a plan at budget with q = 0.99.
    const double at_budget = ramp::compute_reward(0.99, 4.0, 4.0, {});
    const double past_cliff = ramp::compute_reward(0.0, 4.0 * 1.0201, 4.0, {});
    EXPECT_LT(past_cliff, at_budget);
}

TEST(Reward, RejectsInvalidInputs) {
    EXPECT_THROW(ramp::compute_reward(0.1, 4.0, 0.0, {}), rdt::Error);
    EXPECT_THROW(ramp::compute_reward(0.1, 4.0, -1.0, {}), rdt::Error);
    EXPECT_THROW(ramp::compute_reward(std::nan(""), 4.0, 4.0, {}), rdt::Error);
}

TEST(Reward, ParamsAsJson) {
    const nlohmann::json value = ramp::to_json(ramp::RewardParams{});
    EXPECT_EQ(value.at("quality_weight").get<double>(), 100.0);
    EXPECT_EQ(value.at("cliff_excess").get<double>(), 0.02);
    EXPECT_EQ(value.at("cliff_slope").get<double>(), 500.0);
}

}  // namespace
