#include "ramp/search_env.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "ramp/features.hpp"

namespace ramp {

static_assert(kObservationFeatureCount == kFeatureCount, "the observation carries every matrix feature");

namespace {

// Relative slack when comparing a weighted mean bpw to the budget: the sum of
// products rounds differently from the budget written by the user.
constexpr double kBudgetRelativeSlack = 1e-9;

// Storage bpw at which feature 8 measures the relative quantization error (Q4_K).
constexpr double kFeatureErrorBpw = 4.5;
// Index of feature 8 (log10 relative error at about 4.5 bpw) in the feature array.
constexpr int kErrorFeatureIndex = 7;

// Smallest budget left per element (bits) that ActionMapping::kBudget scales from:
// once the budget is spent the target must stay positive for the log2 scale.
constexpr double kMinimumBpwLeft = 0.1;

int64_t total_elements(const std::vector<StepSpec> & steps) {
    int64_t total = 0;
    for (const auto & step : steps) {
        total += step.n_elements;
    }
    return total;
}

}  // namespace

double Environment::predicted_loss(int step, int candidate) const {
    const auto & spec = steps().at(static_cast<size_t>(step));
    const double share = static_cast<double>(spec.n_elements) / static_cast<double>(total_elements(steps()));
    const double bpw = spec.candidate_bpw.at(static_cast<size_t>(candidate));
    const double reference_error = std::pow(10.0, spec.features[kErrorFeatureIndex]);
    return share * reference_error * std::pow(4.0, -(bpw - kFeatureErrorBpw));
}

void validate_environment(const Environment & env) {
    const auto & steps = env.steps();
    if (steps.empty()) {
        rdt::fail(
            "the search environment has no decided matrices; check that the model has quantizable blocks");
    }
    const double budget = env.budget_bpw();
    if (!(budget > 0.0) || !std::isfinite(budget)) {
        rdt::fail("budget {} bpw is invalid; pass a positive bits-per-weight budget", budget);
    }

    for (const auto & step : steps) {
        if (step.candidate_bpw.empty()) {
            rdt::fail("matrix {} has no candidate types; leave it out of the search", step.name);
        }
        if (!step.candidate_names.empty() && step.candidate_names.size() != step.candidate_bpw.size()) {
            rdt::fail("matrix {} has {} candidate names for {} candidate bpw values", step.name,
                      step.candidate_names.size(), step.candidate_bpw.size());
        }
        for (size_t i = 1; i < step.candidate_bpw.size(); ++i) {
            if (!(step.candidate_bpw[i] > step.candidate_bpw[i - 1])) {
                rdt::fail("candidate bpw of matrix {} must be strictly increasing, got {} after {}",
                          step.name, step.candidate_bpw[i], step.candidate_bpw[i - 1]);
            }
        }
        if (step.n_elements <= 0) {
            rdt::fail("matrix {} has element count {}; it must be positive", step.name, step.n_elements);
        }
        for (int i = 0; i < kObservationFeatureCount; ++i) {
            if (!std::isfinite(step.features[static_cast<size_t>(i)])) {
                rdt::fail("feature {} of matrix {} is {}; features must be finite", i + 1, step.name,
                          step.features[static_cast<size_t>(i)]);
            }
        }
    }
}

int action_to_candidate(std::span<const double> candidate_bpw, double action) {
    if (candidate_bpw.empty()) {
        rdt::fail("cannot map an action onto an empty candidate list");
    }
    const double clamped = std::clamp(action, -1.0, 1.0);
    const double low = candidate_bpw.front();
    const double high = candidate_bpw.back();
    const double target = low + (clamped + 1.0) * 0.5 * (high - low);

    int best = 0;
    double best_distance = std::numeric_limits<double>::infinity();
    for (int i = 0; i < std::ssize(candidate_bpw); ++i) {
        const double distance = std::abs(candidate_bpw[static_cast<size_t>(i)] - target);
        if (distance < best_distance) {
            best = i;
            best_distance = distance;
        }
    }
    return best;
}

double candidate_to_action(std::span<const double> candidate_bpw, int index) {
    if (index < 0 || index >= std::ssize(candidate_bpw)) {
        rdt::fail("candidate index {} is outside the {} candidates", index, candidate_bpw.size());
    }
    const double low = candidate_bpw.front();
    const double high = candidate_bpw.back();
    if (high == low) {
        return 0.0;
    }
    return 2.0 * (candidate_bpw[static_cast<size_t>(index)] - low) / (high - low) - 1.0;
}

std::string_view to_string(ActionMapping mapping) {
    return mapping == ActionMapping::kBudget ? "budget" : "range";
}

ActionMapping parse_action_mapping(std::string_view text) {
    if (text == "range") {
        return ActionMapping::kRange;
    }
    if (text == "budget") {
        return ActionMapping::kBudget;
    }
    rdt::fail("action mapping '{}' is unknown; use 'range' or 'budget'", text);
}

int action_to_candidate(ActionMapping mapping, std::span<const double> candidate_bpw, double action,
                        double bpw_left) {
    if (mapping == ActionMapping::kRange) {
        return action_to_candidate(candidate_bpw, action);
    }
    if (candidate_bpw.empty()) {
        rdt::fail("cannot map an action onto an empty candidate list");
    }
    // Nearest on a log2 scale: log2(target) = log2(left) + a * octaves.
    const double clamped = std::clamp(action, -1.0, 1.0);
    const double log_target = std::log2(std::max(bpw_left, kMinimumBpwLeft)) + clamped * kBudgetActionOctaves;
    int best = 0;
    double best_distance = std::numeric_limits<double>::infinity();
    for (int i = 0; i < std::ssize(candidate_bpw); ++i) {
        const double distance = std::abs(std::log2(candidate_bpw[static_cast<size_t>(i)]) - log_target);
        if (distance < best_distance) {
            best = i;
            best_distance = distance;
        }
    }
    return best;
}

double candidate_to_action(ActionMapping mapping, std::span<const double> candidate_bpw, int index,
                           double bpw_left) {
    if (mapping == ActionMapping::kRange) {
        return candidate_to_action(candidate_bpw, index);
    }
    if (index < 0 || index >= std::ssize(candidate_bpw)) {
        rdt::fail("candidate index {} is outside the {} candidates", index, candidate_bpw.size());
    }
    const double octaves = std::log2(candidate_bpw[static_cast<size_t>(index)] / std::max(bpw_left, kMinimumBpwLeft));
    return std::clamp(octaves / kBudgetActionOctaves, -1.0, 1.0);
}

double plan_bpw(const std::vector<StepSpec> & steps, const std::vector<int> & choices) {
    if (choices.size() != steps.size()) {
        rdt::fail("plan has {} choices for {} decided matrices", choices.size(), steps.size());
    }
    double bits = 0.0;
    int64_t elements = 0;
    for (size_t i = 0; i < steps.size(); ++i) {
        const int choice = choices[i];
        if (choice < 0 || choice >= std::ssize(steps[i].candidate_bpw)) {
            rdt::fail("plan chooses candidate {} for matrix {}, which has {} candidates", choice,
                      steps[i].name, steps[i].candidate_bpw.size());
        }
        bits +=
            steps[i].candidate_bpw[static_cast<size_t>(choice)] * static_cast<double>(steps[i].n_elements);
        elements += steps[i].n_elements;
    }
    return bits / static_cast<double>(elements);
}

bool within_budget(double plan_bpw, double budget_bpw) {
    return plan_bpw <= budget_bpw * (1.0 + kBudgetRelativeSlack);
}

EpisodeWalker::EpisodeWalker(const Environment & env, ActionMapping mapping)
    : steps_(env.steps()),
      mapping_(mapping),
      budget_bpw_(env.budget_bpw()),
      elements_left_(total_elements(env.steps())) {
    bits_left_ = budget_bpw_ * static_cast<double>(elements_left_);
}

Observation EpisodeWalker::observation() const {
    if (done()) {
        rdt::fail("the episode is finished; no observation after the last matrix");
    }
    Observation observation{};
    const auto & features = steps_[static_cast<size_t>(step_)].features;
    for (int i = 0; i < kObservationFeatureCount; ++i) {
        observation[static_cast<size_t>(i)] = static_cast<float>(features[static_cast<size_t>(i)]);
    }
    observation[kObservationFeatureCount] = previous_action_;
    observation[kObservationFeatureCount + 1] = static_cast<float>(bpw_left() / budget_bpw_);
    return observation;
}

double EpisodeWalker::bpw_left() const {
    return bits_left_ / static_cast<double>(elements_left_);
}

int EpisodeWalker::apply(double action) {
    if (done()) {
        rdt::fail("the episode is finished; no matrix left for action {}", action);
    }
    const auto & step = steps_[static_cast<size_t>(step_)];
    const int choice = action_to_candidate(mapping_, step.candidate_bpw, action, bpw_left());
    advance(choice, action);
    return choice;
}

void EpisodeWalker::apply_choice(int choice) {
    if (done()) {
        rdt::fail("the episode is finished; no matrix left for candidate {}", choice);
    }
    const auto & step = steps_[static_cast<size_t>(step_)];
    advance(choice, candidate_to_action(mapping_, step.candidate_bpw, choice, bpw_left()));
}

void EpisodeWalker::advance(int choice, double action) {
    const auto & step = steps_[static_cast<size_t>(step_)];
    bits_left_ -= step.candidate_bpw[static_cast<size_t>(choice)] * static_cast<double>(step.n_elements);
    elements_left_ -= step.n_elements;
    previous_action_ = static_cast<float>(action);
    choices_.push_back(choice);
    actions_.push_back(static_cast<float>(action));
    ++step_;
}

EpisodeTrace run_episode(const Environment & env,
                         const std::function<float(const Observation &)> & choose_action,
                         ActionMapping mapping) {
    EpisodeWalker walker(env, mapping);
    EpisodeTrace trace;
    while (!walker.done()) {
        const Observation observation = walker.observation();
        const float action = choose_action(observation);
        walker.apply(action);
        trace.observations.push_back(observation);
    }
    trace.actions = walker.actions();
    trace.choices = walker.choices();
    return trace;
}

EpisodeTrace replay_plan(const Environment & env, const std::vector<int> & choices, ActionMapping mapping) {
    const auto & steps = env.steps();
    if (choices.size() != steps.size()) {
        rdt::fail("plan has {} choices for {} decided matrices", choices.size(), steps.size());
    }
    plan_bpw(steps, choices);  // fails on a choice outside a matrix's candidates

    EpisodeWalker walker(env, mapping);
    EpisodeTrace trace;
    for (const int choice : choices) {
        trace.observations.push_back(walker.observation());
        walker.apply_choice(choice);
    }
    trace.actions = walker.actions();
    trace.choices = walker.choices();
    return trace;
}

std::vector<int> repair_choices_to_budget(const Environment & env, std::vector<int> choices) {
    const auto & steps = env.steps();
    const double budget = env.budget_bpw();

    while (!within_budget(plan_bpw(steps, choices), budget)) {
        int best_step = -1;
        double best_cost = std::numeric_limits<double>::infinity();
        for (int i = 0; i < std::ssize(steps); ++i) {
            const int choice = choices[static_cast<size_t>(i)];
            if (choice == 0) {
                continue;
            }
            const auto & bpw = steps[static_cast<size_t>(i)].candidate_bpw;
            const double saved_bits =
                (bpw[static_cast<size_t>(choice)] - bpw[static_cast<size_t>(choice - 1)]) *
                static_cast<double>(steps[static_cast<size_t>(i)].n_elements);
            const double added_loss = env.predicted_loss(i, choice - 1) - env.predicted_loss(i, choice);
            const double cost = added_loss / saved_bits;
            if (cost < best_cost) {
                best_cost = cost;
                best_step = i;
            }
        }
        if (best_step < 0) {
            rdt::fail("budget {} bpw is below the smallest possible plan ({} bpw); raise the budget", budget,
                      plan_bpw(steps, choices));
        }
        --choices[static_cast<size_t>(best_step)];
    }
    return choices;
}

std::vector<int> fill_choices_to_budget(const Environment & env, std::vector<int> choices) {
    const auto & steps = env.steps();
    const double budget = env.budget_bpw();
    double bpw = plan_bpw(steps, choices);
    const double total = static_cast<double>(total_elements(steps));

    while (true) {
        int best_step = -1;
        double best_gain = -std::numeric_limits<double>::infinity();
        for (int i = 0; i < std::ssize(steps); ++i) {
            const int choice = choices[static_cast<size_t>(i)];
            const auto & candidates = steps[static_cast<size_t>(i)].candidate_bpw;
            if (choice + 1 >= std::ssize(candidates)) {
                continue;
            }
            const double added_bits = (candidates[static_cast<size_t>(choice + 1)] -
                                       candidates[static_cast<size_t>(choice)]) *
                                      static_cast<double>(steps[static_cast<size_t>(i)].n_elements);
            if (!within_budget(bpw + added_bits / total, budget)) {
                continue;
            }
            const double gain = (env.predicted_loss(i, choice) - env.predicted_loss(i, choice + 1)) / added_bits;
            if (gain > best_gain) {
                best_gain = gain;
                best_step = i;
            }
        }
        if (best_step < 0) {
            return choices;
        }
        ++choices[static_cast<size_t>(best_step)];
        bpw = plan_bpw(steps, choices);
    }
}

}  // namespace ramp
