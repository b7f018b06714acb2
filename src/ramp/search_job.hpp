#pragma once
// One plan search from start to finish, as `ramp search` and `ramp quantize` run
// it: features on the calibration text, the in-memory plan evaluator, baseline
// plans evaluated and put in the replay buffer, SAC episodes, the best plan
// within budget from any source, optional policy export.

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "ramp/plan.hpp"
#include "ramp/plan_env.hpp"
#include "ramp/sac_search.hpp"

namespace ramp {

// Default episodes and warm-up; docs/benchmarks.md gives what they reach on the
// shared models.
constexpr int kDefaultSearchEpisodes = 120;
constexpr int kDefaultWarmupEpisodes = 30;
// Action mapping of the CLI searches; see docs/benchmarks.md for the measurement
// that chose it.
constexpr ActionMapping kDefaultActionMapping = ActionMapping::kBudget;
// Behaviour-cloning steps of the CLI searches (SearchParams::clone_steps).
constexpr int kDefaultCloneSteps = 1000;
// Self-imitation weight of the CLI searches (SearchParams::imitation_weight).
constexpr double kDefaultImitationWeight = 100.0;

struct SearchJobParams {
    std::string model_path;
    std::string calibration_path;
    double budget_bpw = 0.0;
    int n_ctx = 0;  // 0: min(256, training context)
    int n_chunks = 16;
    int n_threads = 0;
    std::string imatrix_path;  // importance matrix for quantization (and IQ candidates), empty: none
    QualityMetric metric = QualityMetric::Kl;
    SearchParams search;       // episodes, warm-up, seed, SAC and reward settings, checkpoints
    std::string resume_path;   // checkpoint to continue from, empty: fresh start
    std::string policy_path;   // where to save the trained policy, empty: not saved
    bool seed_baselines = true;  // evaluate uniform and greedy plans and add them to the replay buffer
    // Per-matrix sensitivity of the greedy baseline: read from this JSON file when it
    // exists, else measured and written there. It does not depend on the budget, so
    // searches at several budgets share it. Empty: measured every time.
    std::string sensitivity_path;
};

struct SearchJobResult {
    Plan plan;                 // best plan within budget, source named
    PlanEvalResult quality;    // its calibration PPL / KL
    nlohmann::json baselines;  // per baseline: name, bpw, ppl, kl
    std::vector<std::pair<Plan, PlanEvalResult>> baseline_plans;  // the same baselines as plans
    nlohmann::json report;     // search summary (episodes, evaluations, time, history of best reward)
    bool interrupted = false;
};

using SearchProgressFn = std::function<void(const EpisodeReport &, const PlanEnvironment &)>;

SearchJobResult run_search_job(const SearchJobParams & params, const SearchProgressFn & on_episode = {});

}  // namespace ramp
