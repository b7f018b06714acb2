#include "ramp/toy_env.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <random>

#include "common/error.hpp"

namespace ramp {

namespace {

// K-family candidates (storage bpw with block scales) as in llama.cpp.
const std::vector<double> kToyCandidateBpw = {2.625, 3.4375, 4.5, 5.5, 6.5625, 8.5};
const std::vector<std::string> kToyCandidateNames = {"q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "q8_0"};

// Index of feature 6 (weight kurtosis), which sets sensitivity, and its weight in
// the exponent: a spread of about e^3 between -1 and +1 standard deviation.
constexpr int kSensitivityFeature = 5;
constexpr double kSensitivityGain = 1.5;
// Element counts are a random multiple (1 to 4) of this, like attention vs MLP sizes.
constexpr int64_t kElementUnit = 65536;
// Upper limit on plans enumerated by find_toy_optimum (about a minute of work).
constexpr double kMaxEnumeratedPlans = 1e8;

}  // namespace

ToyEnvironment::ToyEnvironment(const ToyEnvironmentParams & params) : params_(params) {
    if (params.n_matrices <= 0) {
        rdt::fail("toy environment needs at least one matrix, got {}", params.n_matrices);
    }
    std::mt19937_64 rng(params.seed);
    std::normal_distribution<double> feature_noise(0.0, 1.0);
    std::uniform_int_distribution<int> size_units(1, 4);

    double weight_total = 0.0;
    int64_t elements_total = 0;
    for (int i = 0; i < params.n_matrices; ++i) {
        StepSpec step;
        step.name = fmt::format("toy.{}.weight", i);
        for (auto & feature : step.features) {
            feature = feature_noise(rng);
        }
        step.candidate_bpw = kToyCandidateBpw;
        step.candidate_names = kToyCandidateNames;
        step.n_elements = kElementUnit * size_units(rng);
        elements_total += step.n_elements;
        steps_.push_back(step);
    }

    // Sensitivity times element share, normalised so the all-smallest plan has q = scale.
    for (const auto & step : steps_) {
        const double share = static_cast<double>(step.n_elements) / static_cast<double>(elements_total);
        sensitivity_.push_back(share * std::exp(kSensitivityGain * step.features[kSensitivityFeature]));
        weight_total += sensitivity_.back();
    }
    for (auto & value : sensitivity_) {
        value *= params.quality_scale / weight_total;
    }
    validate_environment(*this);
}

std::string ToyEnvironment::fingerprint() const {
    return fmt::format("toy:n={}:seed={}:budget={}:scale={}", params_.n_matrices, params_.seed,
                       params_.budget_bpw, params_.quality_scale);
}

double ToyEnvironment::true_loss(int step, int candidate) const {
    const auto & bpw = steps_.at(static_cast<size_t>(step)).candidate_bpw;
    return sensitivity_[static_cast<size_t>(step)] *
           std::pow(4.0, -(bpw.at(static_cast<size_t>(candidate)) - bpw.front()));
}

double ToyEnvironment::evaluate(const std::vector<int> & choices) {
    plan_bpw(steps_, choices);  // validates the plan
    ++evaluation_count_;
    double loss = 0.0;
    for (int i = 0; i < std::ssize(steps_); ++i) {
        loss += true_loss(i, choices[static_cast<size_t>(i)]);
    }
    return loss;
}

ToyOptimum find_toy_optimum(const ToyEnvironment & env, const RewardParams & reward) {
    const auto & steps = env.steps();
    double plan_count = 1.0;
    for (const auto & step : steps) {
        plan_count *= static_cast<double>(step.candidate_bpw.size());
    }
    if (plan_count > kMaxEnumeratedPlans) {
        rdt::fail(
            "toy environment has {:.3g} plans, more than the {:.3g} that exhaustive search allows; use fewer "
            "matrices",
            plan_count, kMaxEnumeratedPlans);
    }

    // Odometer over all plans, the first step turning fastest.
    std::vector<int> choices(steps.size(), 0);
    ToyOptimum best;
    best.reward = -std::numeric_limits<double>::infinity();
    while (true) {
        const double bpw = plan_bpw(steps, choices);
        if (within_budget(bpw, env.budget_bpw())) {
            double loss = 0.0;
            for (int i = 0; i < std::ssize(steps); ++i) {
                loss += env.true_loss(i, choices[static_cast<size_t>(i)]);
            }
            const double value = compute_reward(loss, bpw, env.budget_bpw(), reward);
            if (value > best.reward) {
                best = ToyOptimum{choices, value, loss, bpw};
            }
        }

        size_t digit = 0;
        while (digit < steps.size()) {
            if (++choices[digit] < std::ssize(steps[digit].candidate_bpw)) {
                break;
            }
            choices[digit] = 0;
            ++digit;
        }
        if (digit == steps.size()) {
            break;
        }
    }
    if (best.choices.empty()) {
        rdt::fail("no toy plan fits the budget {} bpw; raise the budget", env.budget_bpw());
    }
    return best;
}

}  // namespace ramp
