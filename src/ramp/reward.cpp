#include "ramp/reward.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace ramp {

double compute_reward(double quality_loss, double plan_bpw, double budget_bpw, const RewardParams & params) {
    if (!(budget_bpw > 0.0) || !std::isfinite(budget_bpw)) {
        rdt::fail("budget {} bpw is invalid; pass a positive bits-per-weight budget", budget_bpw);
    }
    if (!std::isfinite(quality_loss) || !std::isfinite(plan_bpw)) {
        rdt::fail("reward inputs must be finite, got quality loss {} and plan bpw {}", quality_loss,
                  plan_bpw);
    }

    const double excess = plan_bpw / budget_bpw - 1.0;
    if (excess > params.cliff_excess) {
        return -params.cliff_base - params.cliff_slope * excess;
    }
    return -params.quality_weight * quality_loss - params.under_weight * std::max(0.0, -excess) -
           params.over_weight * std::max(0.0, excess);
}

nlohmann::json to_json(const RewardParams & params) {
    return {
        {"quality_weight", params.quality_weight}, {"under_weight", params.under_weight},
        {"over_weight", params.over_weight},       {"cliff_excess", params.cliff_excess},
        {"cliff_base", params.cliff_base},         {"cliff_slope", params.cliff_slope},
    };
}

}  // namespace ramp
