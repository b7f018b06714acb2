// Tests for ramp/replay_buffer and the episode helpers of ramp/search_env
// (action mapping, observations, plan bpw, budget repair).

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "common/error.hpp"
#include "ramp/replay_buffer.hpp"
#include "ramp/search_env.hpp"
#include "ramp/toy_env.hpp"

namespace {

// Observations are float32; values built from small integers are exact.
constexpr float kExactFloat = 0.0f;
// float32 rounding of the budget ratio feature.
constexpr float kObservationTolerance = 1e-6f;

std::vector<float> filled(int size, float value) {
    return std::vector<float>(static_cast<size_t>(size), value);
}

TEST(ReplayBuffer, RingOverwritesOldest) {
    ramp::ReplayBuffer buffer(2, 1, 3);
    for (int i = 0; i < 5; ++i) {
        buffer.add(filled(2, static_cast<float>(i)), filled(1, 0.5f), static_cast<float>(i), filled(2, 0.0f),
                   i == 4);
    }
    EXPECT_EQ(buffer.size(), 3);

    // Only transitions 2, 3 and 4 remain, so every sampled reward is one of them.
    std::mt19937_64 rng(7);
    const ramp::TransitionBatch batch = buffer.sample(64, rng);
    ASSERT_EQ(batch.rewards.size(), 64u);
    for (int row = 0; row < batch.size; ++row) {
        const float reward = batch.rewards[static_cast<size_t>(row)];
        EXPECT_GE(reward, 2.0f);
        EXPECT_EQ(batch.observations[static_cast<size_t>(2 * row)], reward);
        EXPECT_EQ(batch.dones[static_cast<size_t>(row)], reward == 4.0f ? 1.0f : 0.0f);
    }
}

TEST(ReplayBuffer, SerializeRoundTrip) {
    ramp::ReplayBuffer buffer(3, 1, 10);
    for (int i = 0; i < 4; ++i) {
        buffer.add(filled(3, static_cast<float>(i)), filled(1, -0.25f), -static_cast<float>(i),
                   filled(3, 1.0f), false);
    }
    ramp::ReplayBuffer copy(3, 1, 10);
    copy.deserialize(buffer.serialize());
    EXPECT_EQ(copy.size(), 4);

    // The same generator state draws the same batch from both.
    std::mt19937_64 rng_a(3);
    std::mt19937_64 rng_b(3);
    const auto batch_a = buffer.sample(16, rng_a);
    const auto batch_b = copy.sample(16, rng_b);
    EXPECT_EQ(batch_a.observations, batch_b.observations);
    EXPECT_EQ(batch_a.rewards, batch_b.rewards);
    EXPECT_EQ(batch_a.actions, batch_b.actions);
}

TEST(ReplayBuffer, RejectsMismatchedSizes) {
    ramp::ReplayBuffer buffer(3, 1, 10);
    EXPECT_THROW(buffer.add(filled(2, 0.0f), filled(1, 0.0f), 0.0f, filled(3, 0.0f), false), rdt::Error);
    std::mt19937_64 rng(1);
    EXPECT_THROW(buffer.sample(4, rng), rdt::Error);

    ramp::ReplayBuffer other(4, 1, 10);
    EXPECT_THROW(other.deserialize(buffer.serialize()), rdt::Error);
    EXPECT_THROW(buffer.deserialize("not a buffer"), rdt::Error);
}

TEST(ActionMapping, EndsAndNearest) {
    const std::vector<double> bpw = {2.625, 3.4375, 4.5, 5.5, 6.5625, 8.5};
    EXPECT_EQ(ramp::action_to_candidate(bpw, -1.0), 0);
    EXPECT_EQ(ramp::action_to_candidate(bpw, 1.0), 5);
    EXPECT_EQ(ramp::action_to_candidate(bpw, -3.0), 0);  // clamped
    EXPECT_EQ(ramp::action_to_candidate(bpw, 3.0), 5);

    // a = 0 maps to (2.625 + 8.5) / 2 = 5.5625, nearest 5.5 (index 3).
    EXPECT_EQ(ramp::action_to_candidate(bpw, 0.0), 3);

    // Each candidate's own action maps back onto it.
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(ramp::action_to_candidate(bpw, ramp::candidate_to_action(bpw, i)), i) << "candidate " << i;
    }
    const std::vector<double> single = {4.5};
    EXPECT_EQ(ramp::candidate_to_action(single, 0), 0.0);
    EXPECT_EQ(ramp::action_to_candidate(single, 0.7), 0);
}

TEST(ActionMapping, BudgetRelative) {
    using ramp::ActionMapping;
    const std::vector<double> bpw = {2.625, 3.4375, 4.5, 5.5, 6.5625, 8.5};

    // 4.5 bpw left: a = 0 targets 4.5, a = -1 targets 2.25, a = 1 targets 9.
    EXPECT_EQ(ramp::action_to_candidate(ActionMapping::kBudget, bpw, 0.0, 4.5), 2);
    EXPECT_EQ(ramp::action_to_candidate(ActionMapping::kBudget, bpw, -1.0, 4.5), 0);
    EXPECT_EQ(ramp::action_to_candidate(ActionMapping::kBudget, bpw, 1.0, 4.5), 5);

    // The same action follows the budget left. With 3 bpw left, a = 0 targets 3:
    // 2.625 is 0.193 octaves away and 3.4375 is 0.196, so the log2 scale picks 2.625.
    // With 3.1 bpw left the distances are 0.240 and 0.149.
    EXPECT_EQ(ramp::action_to_candidate(ActionMapping::kBudget, bpw, 0.0, 3.0), 0);
    EXPECT_EQ(ramp::action_to_candidate(ActionMapping::kBudget, bpw, 0.0, 3.1), 1);

    // Candidates inside the span round-trip; those outside get a clamped action.
    for (int i = 0; i < 6; ++i) {
        const double action = ramp::candidate_to_action(ActionMapping::kBudget, bpw, i, 4.5);
        EXPECT_EQ(ramp::action_to_candidate(ActionMapping::kBudget, bpw, action, 4.5), i) << "candidate " << i;
    }
    EXPECT_EQ(ramp::candidate_to_action(ActionMapping::kBudget, bpw, 5, 2.0), 1.0);

    // An exhausted budget (negative bits left) still maps onto the lowest type.
    EXPECT_EQ(ramp::action_to_candidate(ActionMapping::kBudget, bpw, 1.0, -3.0), 0);

    // The range mapping ignores the budget left.
    EXPECT_EQ(ramp::action_to_candidate(ActionMapping::kRange, bpw, 0.0, 100.0), 3);

    EXPECT_EQ(ramp::parse_action_mapping("budget"), ActionMapping::kBudget);
    EXPECT_EQ(ramp::to_string(ActionMapping::kRange), "range");
    EXPECT_THROW(ramp::parse_action_mapping("linear"), rdt::Error);
}

// Two matrices of 100 and 300 elements, budget 4 bpw.
class TwoStepEnvironment : public ramp::Environment {
  public:
    TwoStepEnvironment() {
        for (int i = 0; i < 2; ++i) {
            ramp::StepSpec step;
            step.name = "m" + std::to_string(i);
            step.features.fill(static_cast<double>(i + 1));
            step.candidate_bpw = {2.0, 4.0, 8.0};
            step.n_elements = i == 0 ? 100 : 300;
            steps_.push_back(step);
        }
    }
    const std::vector<ramp::StepSpec> & steps() const override { return steps_; }
    double budget_bpw() const override { return 4.0; }
    std::string fingerprint() const override { return "two-step"; }
    double evaluate(const std::vector<int> &) override { return 0.0; }

  private:
    std::vector<ramp::StepSpec> steps_;
};

TEST(EpisodeWalker, ObservationContext) {
    const TwoStepEnvironment env;
    ramp::EpisodeWalker walker(env);

    // Step 0: features 1, previous action 0, full budget per element -> ratio 1.
    ramp::Observation first = walker.observation();
    EXPECT_NEAR(first[0], 1.0f, kExactFloat);
    EXPECT_NEAR(first[ramp::kObservationFeatureCount], 0.0f, kExactFloat);
    EXPECT_NEAR(first[ramp::kObservationFeatureCount + 1], 1.0f, kObservationTolerance);

    // Action 1 picks 8 bpw for 100 elements: 1600 - 800 = 800 bits left for 300
    // elements, 2.667 bpw, ratio 2/3 of the target.
    EXPECT_EQ(walker.apply(1.0), 2);
    ramp::Observation second = walker.observation();
    EXPECT_NEAR(second[0], 2.0f, kExactFloat);
    EXPECT_NEAR(second[ramp::kObservationFeatureCount], 1.0f, kExactFloat);
    EXPECT_NEAR(second[ramp::kObservationFeatureCount + 1], 2.0f / 3.0f, kObservationTolerance);

    walker.apply(-1.0);
    EXPECT_TRUE(walker.done());
    EXPECT_EQ(walker.choices(), (std::vector<int>{2, 0}));
    EXPECT_THROW(walker.observation(), rdt::Error);
}

TEST(EpisodeWalker, BudgetMappingFollowsBudgetLeft) {
    const TwoStepEnvironment env;
    ramp::EpisodeWalker walker(env, ramp::ActionMapping::kBudget);

    // 4 bpw left: a = 0 picks 4 bpw. Then 1600 - 400 = 1200 bits for 300 elements,
    // still 4 bpw, so a = 0 picks 4 bpw again.
    EXPECT_EQ(walker.apply(0.0), 1);
    EXPECT_EQ(walker.apply(0.0), 1);
    EXPECT_EQ(walker.choices(), (std::vector<int>{1, 1}));
}

TEST(BudgetFill, RaisesTheBestMatrixWhileItFits) {
    const TwoStepEnvironment env;

    // From 2 bpw everywhere: matrix 1 (three quarters of the weights, feature 8 = 2,
    // so ten times the predicted error) saves more per added bit and goes first to
    // 4 bpw (3.5 bpw in all); then matrix 0 to 4 bpw fits exactly (4.0). Any further
    // step would pass the budget.
    const std::vector<int> filled = ramp::fill_choices_to_budget(env, {0, 0});
    EXPECT_EQ(filled, (std::vector<int>{1, 1}));
    EXPECT_DOUBLE_EQ(ramp::plan_bpw(env.steps(), filled), 4.0);

    // A plan where no single step fits stays as it is.
    EXPECT_EQ(ramp::fill_choices_to_budget(env, {2, 0}), (std::vector<int>{2, 0}));
}

TEST(EpisodeWalker, ReplayKeepsPlansOutsideTheActionSpan) {
    const TwoStepEnvironment env;

    // 8 bpw for the first matrix is inside the span (4 bpw left, up to 8); the second
    // then has 800 / 300 = 2.67 bpw left, so 8 bpw lies outside and its action is
    // clamped to 1, yet the replayed plan keeps the choice.
    const ramp::EpisodeTrace trace = ramp::replay_plan(env, {2, 2}, ramp::ActionMapping::kBudget);
    EXPECT_EQ(trace.choices, (std::vector<int>{2, 2}));
    ASSERT_EQ(trace.actions.size(), 2u);
    EXPECT_NEAR(trace.actions[0], 1.0f, kObservationTolerance);
    EXPECT_EQ(trace.actions[1], 1.0f);
    EXPECT_EQ(trace.observations.size(), 2u);
    EXPECT_THROW(ramp::replay_plan(env, {3, 0}, ramp::ActionMapping::kBudget), rdt::Error);
}

TEST(PlanBpw, WeightedByElements) {
    const TwoStepEnvironment env;
    // (8 * 100 + 2 * 300) / 400 = 3.5
    EXPECT_DOUBLE_EQ(ramp::plan_bpw(env.steps(), {2, 0}), 3.5);
    EXPECT_THROW(ramp::plan_bpw(env.steps(), {0}), rdt::Error);
    EXPECT_THROW(ramp::plan_bpw(env.steps(), {0, 3}), rdt::Error);
}

TEST(BudgetRepair, LowersCheapestFirst) {
    ramp::ToyEnvironmentParams params;
    params.n_matrices = 6;
    params.budget_bpw = 4.0;
    const ramp::ToyEnvironment env(params);

    // The all-largest plan is far over budget; repair must fit it.
    const std::vector<int> top(6, 5);
    const std::vector<int> repaired = ramp::repair_choices_to_budget(env, top);
    EXPECT_TRUE(ramp::within_budget(ramp::plan_bpw(env.steps(), repaired), env.budget_bpw()));

    // Repair stops at the first fitting plan, so it undershoots the budget by less
    // than the largest single-step saving (8.5 - 6.5625 bpw on the largest matrix).
    int64_t total = 0;
    int64_t largest = 0;
    for (const auto & step : env.steps()) {
        total += step.n_elements;
        largest = std::max(largest, step.n_elements);
    }
    const double max_step_saving = (8.5 - 6.5625) * static_cast<double>(largest) / static_cast<double>(total);
    EXPECT_LT(env.budget_bpw() - ramp::plan_bpw(env.steps(), repaired), max_step_saving);

    // A plan within budget is returned unchanged.
    EXPECT_EQ(ramp::repair_choices_to_budget(env, repaired), repaired);

    ramp::ToyEnvironmentParams tight = params;
    tight.budget_bpw = 2.0;  // below the smallest candidate, 2.625
    EXPECT_THROW(ramp::repair_choices_to_budget(ramp::ToyEnvironment(tight), top), rdt::Error);
}

}  // namespace
