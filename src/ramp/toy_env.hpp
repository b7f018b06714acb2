#pragma once
// A synthetic search environment with a known optimum, for testing the agent.
// Each matrix gets random features; its sensitivity is exp(1.5 feature 6), so a
// policy can learn from the features which matrices deserve more bits. The quality
// loss is
//   q = quality_scale * sum_i share_i * sensitivity_i * 4^-(bpw_i - min bpw),
// normalised so that every matrix at the smallest candidate gives q = quality_scale.
// The budget repair keeps the default Environment::predicted_loss, which reads
// feature 8 and ignores the true sensitivities, so a good plan must come from the
// search and not from the repair.

#include <cstdint>
#include <string>
#include <vector>

#include "ramp/reward.hpp"
#include "ramp/search_env.hpp"

namespace ramp {

struct ToyEnvironmentParams {
    int n_matrices = 8;
    double budget_bpw = 4.5;
    uint64_t seed = 1;           // draws features and element counts
    double quality_scale = 1.0;  // q with all matrices at their smallest candidate
};

class ToyEnvironment : public Environment {
  public:
    explicit ToyEnvironment(const ToyEnvironmentParams & params);

    const std::vector<StepSpec> & steps() const override { return steps_; }
    double budget_bpw() const override { return params_.budget_bpw; }
    std::string fingerprint() const override;
    double evaluate(const std::vector<int> & choices) override;
    // The true loss term of step at candidate (the toy loss is a sum of such terms).
    double true_loss(int step, int candidate) const;

    int evaluation_count() const { return evaluation_count_; }

  private:
    ToyEnvironmentParams params_;
    std::vector<StepSpec> steps_;
    std::vector<double> sensitivity_;  // per step, normalised
    int evaluation_count_ = 0;
};

// Best plan within budget by reward, found by enumerating every plan.
struct ToyOptimum {
    std::vector<int> choices;
    double reward = 0.0;
    double quality_loss = 0.0;
    double bpw = 0.0;
};

// Enumerate all plans (product of the candidate counts, at most 10^8) and return
// the one within budget with the highest reward; fails when none fits.
ToyOptimum find_toy_optimum(const ToyEnvironment & env, const RewardParams & reward);

}  // namespace ramp
