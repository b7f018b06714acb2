#pragma once
// The plan search loop: random warm-up episodes, then SAC episodes. The environment
// evaluates each episode's plan, and every transition of the episode gets the
// episode's reward. The loop tracks the best evaluated plan within budget from any
// source ("sac", "random-warmup", "baseline:<name>"). It writes checkpoints every N
// episodes and on SIGINT, and a resumed search reaches the same result as an
// uninterrupted one.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ramp/reward.hpp"
#include "ramp/sac.hpp"
#include "ramp/search_env.hpp"

namespace ramp {

struct SearchParams {
    uint64_t seed = 1;
    int episodes = 300;           // total episodes, warm-up included
    int warmup_episodes = 50;     // random-action episodes before learning starts
    int updates_per_episode = 0;  // gradient updates after each episode; 0: one per step
    // Every k-th learning episode takes the policy's mean actions instead of sampled
    // ones (still recorded as source "sac"): exploration noise alone rarely hits the
    // plan the policy currently prefers. 0 turns this off.
    int mean_action_every = 5;
    // Repair an over-budget episode plan (Environment::predicted_loss order) before it
    // is evaluated, and store the repaired plan's actions, as HAQ enforces its
    // resource constraint. Without it the agent must learn the budget from the reward
    // penalties alone: in 200-episode toy runs the mean episode reward then stayed
    // between -55 and -100, mostly past the cliff.
    bool repair_episodes = true;
    // How actions become types; exported policies carry it, so that `ramp plan`
    // applies them the same way.
    ActionMapping action_mapping = ActionMapping::kRange;
    // Behaviour-cloning steps when the warm-up ends. They pull the actor towards the
    // best plan so far (a seed or a warm-up episode) with a pre-tanh standard
    // deviation of clone_std. Learning episodes then explore around that plan
    // instead of starting from a random policy. 0 turns cloning off.
    int clone_steps = 0;
    double clone_std = 0.1;
    // Weight of self-imitation (Oh et al., 2018). Once learning starts, every actor
    // update adds this weight times the mean squared distance to the best plan's
    // actions. Each new best plan becomes the demonstration, and the critics steer
    // the search around it. 0 turns self-imitation off.
    double imitation_weight = 0.0;
    SacParams sac;
    RewardParams reward;
    std::filesystem::path checkpoint_path;  // empty: no checkpoints
    int checkpoint_every = 0;               // episodes between checkpoints; 0: only on SIGINT and at the end
    bool handle_sigint = true;              // install a SIGINT handler that stops after the current episode
};

nlohmann::json to_json(const SearchParams & params);

// One evaluated plan: an episode or an inserted baseline.
struct EpisodeRecord {
    int episode = 0;  // 0-based episode index; baselines get the count of episodes before them
    std::string source;
    std::vector<int> choices;
    double quality_loss = 0.0;
    double bpw = 0.0;
    double reward = 0.0;
    bool within_budget = false;
};

struct BestPlan {
    bool found = false;
    std::string source;
    int episode = -1;
    std::vector<int> choices;
    double quality_loss = 0.0;
    double bpw = 0.0;
    double reward = -std::numeric_limits<double>::infinity();
};

struct EpisodeReport {
    int episodes_completed = 0;
    int episodes_total = 0;
    const EpisodeRecord & record;
    const BestPlan & best;
    double eta_seconds = 0.0;  // estimate from the mean episode time of this run
    double alpha = 0.0;        // entropy temperature after this episode's updates
};

struct SearchCallbacks {
    std::function<void(const EpisodeReport &)> on_episode;
};

struct SearchResult {
    BestPlan best;
    std::vector<EpisodeRecord> history;
    int episodes_completed = 0;
    bool interrupted = false;          // stopped by SIGINT or request_search_stop
    std::filesystem::path checkpoint;  // last checkpoint written, empty when none
    int evaluations = 0;               // environment evaluations (cache misses)
};

class PlanSearch {
  public:
    PlanSearch(Environment & env, const SearchParams & params);
    ~PlanSearch();
    PlanSearch(const PlanSearch &) = delete;
    PlanSearch & operator=(const PlanSearch &) = delete;

    // Restore agent, replay buffer, RNG, episode counter, best plan and history.
    // Fails when the checkpoint was written for another fingerprint or seed.
    void resume(const std::filesystem::path & checkpoint);

    // Put an externally evaluated plan into the replay buffer as a full episode
    // (each step with the action that maps onto its type), source "baseline:<name>".
    void add_evaluated_plan(const std::string & name, const std::vector<int> & choices, double quality_loss);
    // As above, evaluating the plan with the environment (cached).
    void add_baseline(const std::string & name, const std::vector<int> & choices);

    // Run episodes until params.episodes are completed or a stop is requested. When
    // no plan within budget was found, the best plan is repaired to the budget and
    // evaluated (source "<source>+repair").
    SearchResult run(const SearchCallbacks & callbacks = {});

    void save_checkpoint(const std::filesystem::path & path) const;

    // Export the actor and a sidecar with feature schema version, observation size,
    // candidate types, training model fingerprint, budget and episodes.
    void export_policy(const std::filesystem::path & path) const;

    const SacAgent & agent() const;
    SearchResult result() const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

SearchResult run_search(Environment & env, const SearchParams & params,
                        const SearchCallbacks & callbacks = {});

// Ask a running search to stop after the current episode, as SIGINT does.
void request_search_stop();

// Return the plan a policy picks on env with deterministic actions, under the
// action mapping in its metadata ("range" when absent). The plan is repaired when
// over the budget and filled up to it when under it, so that a policy trained on
// another model or budget still spends the budget it is given.
std::vector<int> plan_with_policy(const Policy & policy, const Environment & env);

}  // namespace ramp
