#pragma once
// Zero-shot transfer: a policy trained by `ramp search` on one model picks the
// types of another model's matrices from that model's features (deterministic
// mean actions), and the plan is repaired to the budget. No episodes run.

#include <string>

#include "ramp/plan.hpp"

namespace ramp {

struct PolicyPlanParams {
    std::string model_path;
    std::string calibration_path;
    std::string policy_path;
    double budget_bpw = 0.0;
    int n_ctx = 0;  // 0: min(256, training context)
    int n_chunks = 16;
    int n_threads = 0;
};

// The policy's plan for params.model_path, source "policy:<policy file name>".
Plan plan_from_policy(const PolicyPlanParams & params);

}  // namespace ramp
