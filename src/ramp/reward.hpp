#pragma once
// Episode reward of the plan search (quality first). With q the quality loss of a
// plan (PPL(plan) / PPL(reference) - 1, or the mean KL divergence to the float
// model) and x = bpw(plan) / budget - 1:
//   r = -quality_weight q - under_weight max(0, -x) - over_weight max(0, x),
// and past the cliff (x > cliff_excess) r = -cliff_base - cliff_slope x, where
// quality no longer counts. Unused budget costs a little, excess a lot.

#include <nlohmann/json.hpp>

namespace ramp {

struct RewardParams {
    double quality_weight = 100.0;  // per unit of quality loss
    double under_weight = 2.0;      // per unit of relative unused budget
    double over_weight = 50.0;      // per unit of relative excess below the cliff
    double cliff_excess = 0.02;     // relative excess where the cliff starts
    double cliff_base = 100.0;      // reward offset past the cliff (negated)
    double cliff_slope = 500.0;     // per unit of relative excess past the cliff
};

// Return the reward of a plan with quality loss quality_loss and mean storage bpw
// plan_bpw under the budget budget_bpw (> 0).
double compute_reward(double quality_loss, double plan_bpw, double budget_bpw, const RewardParams & params);

nlohmann::json to_json(const RewardParams & params);

}  // namespace ramp
