#pragma once
// The environment of the plan search: one episode walks the decided matrices in
// model order and picks one candidate type per matrix. An Environment supplies the
// per-matrix features, candidates and element counts, the budget, and the
// (expensive) quality loss of a finished plan. The helpers here turn actions into
// candidates and build the agent's observations.

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ramp {

// Per-matrix features (depth, attention flag, role position, size, fan ratio,
// weight and activation statistics, reference quantization errors).
constexpr int kObservationFeatureCount = 11;
// Episode context after the features: the previous action and the ratio of budget
// still available per remaining element to the target.
constexpr int kContextCount = 2;
constexpr int kObservationSize = kObservationFeatureCount + kContextCount;
// Version of the observation layout (feature meaning, order and scaling). Bump it
// when a feature changes, so that exported policies trained on the old layout are
// rejected instead of applied to numbers they were not trained on.
constexpr int kObservationSchemaVersion = 1;
// Actions are one number in [-1, 1] per step.
constexpr int kActionSize = 1;

using Observation = std::array<float, kObservationSize>;

// One decision of an episode: a decided matrix and its candidate types.
struct StepSpec {
    std::string name;  // tensor name, e.g. "blk.0.attn_q.weight"
    std::array<double, kObservationFeatureCount> features{};
    std::vector<double> candidate_bpw;         // storage bpw, strictly increasing
    std::vector<std::string> candidate_names;  // type names in the same order, e.g. "q4_K"
    int64_t n_elements = 0;
};

class Environment {
  public:
    virtual ~Environment() = default;

    // The decisions in model order (fixed for the lifetime of the environment).
    virtual const std::vector<StepSpec> & steps() const = 0;
    // Target mean storage bpw over the decided matrices, weighted by element count.
    virtual double budget_bpw() const = 0;
    // Identity of model, features, candidates and budget; checkpoints store it and a
    // resume with another fingerprint is rejected.
    virtual std::string fingerprint() const = 0;
    // Quality loss q >= 0 of a plan (one candidate index per step): PPL ratio - 1 or
    // mean KL divergence. Expensive; the search caches results by plan.
    virtual double evaluate(const std::vector<int> & choices) = 0;

    // Predicted quality loss contribution of step at candidate, used only to order
    // the final budget repair. The default models the relative squared error as
    // 10^feature8 (measured at about 4.5 bpw) times 4^-(bpw - 4.5), one bit of code
    // length quartering the error, weighted by the matrix's share of elements.
    virtual double predicted_loss(int step, int candidate) const;
};

// Fail with the offending step when steps are empty, a candidate list is empty,
// unsorted or of mismatched length, an element count is not positive, a feature is
// not finite, or the budget is not positive.
void validate_environment(const Environment & env);

// Mapping from an action in [-1, 1] to a target bpw, which is then rounded to
// the nearest candidate.
enum class ActionMapping {
    // Linear over the matrix's own candidate range [min bpw, max bpw] (docs/design.md).
    // The same action means other types on a model with another candidate range.
    kRange,
    // Relative to the budget still available per remaining element:
    // target = left * 2^(a * kBudgetActionOctaves). Action 0 spends the rest of the
    // budget evenly, so random and untrained actions give plans near the budget,
    // and an action keeps its meaning on models with other candidate ranges.
    kBudget,
};

// Octaves of target bpw that the action spans on each side of the budget left per
// element under ActionMapping::kBudget: one octave turns 4 bpw left into [2, 8].
constexpr double kBudgetActionOctaves = 1.0;

std::string_view to_string(ActionMapping mapping);
// "range" or "budget"; fails naming the text and the accepted values otherwise.
ActionMapping parse_action_mapping(std::string_view text);

// Map action in [-1, 1] linearly onto [min bpw, max bpw] and return the index of the
// nearest candidate by bpw (the lower one on a tie). Actions outside are clamped.
int action_to_candidate(std::span<const double> candidate_bpw, double action);

// The action that maps exactly onto candidate index (0 for a single candidate).
double candidate_to_action(std::span<const double> candidate_bpw, int index);

// The same under mapping. bpw_left is the budget still available per remaining
// element, used by kBudget only and raised to 0.1 bit so that an exhausted budget
// still yields a target. Under kBudget the nearest candidate is taken on a log2
// scale, so candidate_to_action maps back exactly. A candidate outside the
// action's span gets an action clamped to -1 or 1.
int action_to_candidate(ActionMapping mapping, std::span<const double> candidate_bpw, double action,
                        double bpw_left);
double candidate_to_action(ActionMapping mapping, std::span<const double> candidate_bpw, int index,
                           double bpw_left);

// Mean storage bpw of a plan, weighted by element count.
double plan_bpw(const std::vector<StepSpec> & steps, const std::vector<int> & choices);

// Whether a plan of plan_bpw fits budget_bpw, allowing a relative 1e-9 for the
// rounding of the weighted mean.
bool within_budget(double plan_bpw, double budget_bpw);

// Walks one episode: builds each step's observation and records the choices.
class EpisodeWalker {
  public:
    explicit EpisodeWalker(const Environment & env, ActionMapping mapping = ActionMapping::kRange);

    bool done() const { return step_ == std::ssize(steps_); }
    int step() const { return step_; }

    // Observation of the current step: its features, the previous action (0 at the
    // first step) and (budget bits left / elements left) / budget.
    Observation observation() const;

    // Apply action to the current step and advance; returns the chosen candidate.
    int apply(double action);
    // Take candidate choice at the current step and record the action that maps onto
    // it (clamped to [-1, 1] when the candidate lies outside the action's span).
    void apply_choice(int choice);

    const std::vector<int> & choices() const { return choices_; }
    const std::vector<float> & actions() const { return actions_; }

  private:
    double bpw_left() const;
    void advance(int choice, double action);

    const std::vector<StepSpec> & steps_;
    ActionMapping mapping_;
    double budget_bpw_;
    double bits_left_;       // budget bits still available for the remaining steps
    int64_t elements_left_;  // elements of the current and later steps
    int step_ = 0;
    float previous_action_ = 0.0f;
    std::vector<int> choices_;
    std::vector<float> actions_;
};

// Observations, actions and choices of a whole episode. observations[t] is the state
// before step t. The last step is terminal, so its next state is a copy of its own.
struct EpisodeTrace {
    std::vector<Observation> observations;
    std::vector<float> actions;
    std::vector<int> choices;
};

// Run one episode, asking choose_action for each step's action.
EpisodeTrace run_episode(const Environment & env,
                         const std::function<float(const Observation &)> & choose_action,
                         ActionMapping mapping = ActionMapping::kRange);

// Replay a fixed plan as an episode: each step takes its chosen candidate and
// records the action that maps onto it (for baseline and repaired plans put into
// the replay buffer). The trace's choices are the plan's.
EpisodeTrace replay_plan(const Environment & env, const std::vector<int> & choices,
                         ActionMapping mapping = ActionMapping::kRange);

// Lower the matrix whose predicted loss increase per saved bit is smallest, one
// candidate step at a time, until the plan fits the budget. Fails when even the
// smallest candidates exceed the budget. A plan already within budget is returned
// unchanged.
std::vector<int> repair_choices_to_budget(const Environment & env, std::vector<int> choices);

// The reverse of the repair for a plan under budget: raise the matrix whose
// predicted loss decrease per added bit is largest, one candidate step at a time,
// while the raised plan still fits the budget. A plan that no single step fits
// is returned unchanged.
std::vector<int> fill_choices_to_budget(const Environment & env, std::vector<int> choices);

}  // namespace ramp
