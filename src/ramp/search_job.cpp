#include "ramp/search_job.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <map>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/text.hpp"
#include "ramp/baselines.hpp"
#include "ramp/budget.hpp"
#include "ramp/quant_types.hpp"
#include "ramp/sha256.hpp"

namespace ramp {

namespace {

nlohmann::json quality_json(const std::string & name, const PlanEvalResult & result) {
    return {{"name", name},         {"bpw", result.bpw}, {"file_bytes", result.file_bytes},
            {"calibration_ppl", result.ppl}, {"calibration_kl", result.kl_mean}};
}

// The uniform types just below and just above the budget (the shared candidate
// list of the most common row length), as HAQ-style seeds for the replay buffer.
std::vector<ggml_type> uniform_seed_types(const PlanEvaluator & evaluator, double budget_bpw) {
    const std::vector<ggml_type> candidates =
        candidate_types(evaluator.layout().matrices.front().n_in, evaluator.with_imatrix());
    std::vector<ggml_type> seeds;
    for (size_t i = 0; i < candidates.size(); ++i) {
        const bool below = type_bpw(candidates[i]) <= budget_bpw;
        const bool next_above = i + 1 == candidates.size() || type_bpw(candidates[i + 1]) > budget_bpw;
        if (below && next_above) {
            seeds.push_back(candidates[i]);
            if (i + 1 < candidates.size()) {
                seeds.push_back(candidates[i + 1]);
            }
        }
    }
    return seeds;
}

// Evaluate the baseline plans, put them in the replay buffer and report them.
void seed_with_baselines(PlanSearch & search, PlanEnvironment & env, PlanEvaluator & evaluator,
                         const SearchJobParams & params, const ModelFeatures & features, SearchJobResult & result) {
    const double budget_bpw = params.budget_bpw;
    std::vector<Plan> plans;
    for (ggml_type type : uniform_seed_types(evaluator, budget_bpw)) {
        plans.push_back(uniform_plan(evaluator, type));
    }
    spdlog::info("search: per-matrix sensitivity for the greedy baseline");
    const nlohmann::json identity = {
        {"model", model_file_hash(params.model_path)},
        {"calibration", calibration_to_json(features.calibration)},
        {"imatrix", params.imatrix_path.empty() ? std::string() : sha256_file_hex(params.imatrix_path)}};
    const Sensitivity sensitivity =
        cached_sensitivity(evaluator, identity, params.sensitivity_path, /*progress=*/true);
    plans.push_back(greedy_plan(evaluator, sensitivity, budget_bpw));

    result.baselines = nlohmann::json::array();
    for (const Plan & plan : plans) {
        const std::vector<int> choices = env.choices_of(plan.matrix_types());
        search.add_evaluated_plan(plan.source, choices, env.evaluate(choices));
        result.baselines.push_back(quality_json(plan.source, env.last_result()));
        result.baseline_plans.emplace_back(plan, env.last_result());
    }
}

// Return the best plan within budget of each source family ("sac",
// "random-warmup", "baseline"). This shows whether the learned policy found
// something itself, apart from the seeds it was given.
nlohmann::json best_by_source(const std::vector<EpisodeRecord> & history) {
    std::map<std::string, const EpisodeRecord *> best;
    for (const EpisodeRecord & record : history) {
        if (!record.within_budget) {
            continue;
        }
        const std::string family = record.source.substr(0, record.source.find(':'));
        const EpisodeRecord *& current = best[family];
        if (current == nullptr || record.reward > current->reward) {
            current = &record;
        }
    }
    nlohmann::json rows = nlohmann::json::object();
    for (const auto & [family, record] : best) {
        rows[family] = {{"source", record->source},
                        {"episode", record->episode},
                        {"quality_loss", record->quality_loss},
                        {"bpw", record->bpw},
                        {"reward", record->reward}};
    }
    return rows;
}

}  // namespace

SearchJobResult run_search_job(const SearchJobParams & params, const SearchProgressFn & on_episode) {
    const ModelLayout layout = read_model_layout(params.model_path);
    check_budget_feasible(layout, params.budget_bpw, !params.imatrix_path.empty());
    if (params.search.episodes < params.search.warmup_episodes) {
        rdt::fail("--episodes {} is below the warm-up of {} random episodes; pass --episodes {} or more, or lower "
                  "--warmup",
                  params.search.episodes, params.search.warmup_episodes, params.search.warmup_episodes);
    }

    spdlog::info("search: features of {} on {}", params.model_path, params.calibration_path);
    const ModelFeatures features = analyze_model_features(
        {params.model_path, params.calibration_path, params.n_ctx, params.n_chunks, params.n_threads});

    PlanEvalOptions eval_options;
    eval_options.n_ctx = features.calibration.n_ctx;
    eval_options.n_chunks = params.n_chunks;
    eval_options.n_threads = params.n_threads;
    eval_options.imatrix_path = params.imatrix_path;
    PlanEvaluator evaluator(params.model_path, rdt::read_text_file(params.calibration_path), eval_options);
    PlanEnvironment env(features, evaluator, params.budget_bpw, params.metric);
    spdlog::info("search: {} matrices, budget {:.4f} bpw, quality = {}, {} episodes ({} warm-up), seed {}",
                 env.steps().size(), params.budget_bpw, quality_metric_name(params.metric), params.search.episodes,
                 params.search.warmup_episodes, params.search.seed);
    spdlog::info("search: parameters {}", to_json(params.search).dump());

    PlanSearch search(env, params.search);
    SearchJobResult result;
    if (!params.resume_path.empty()) {
        search.resume(params.resume_path);
        spdlog::info("search: resumed from {}", params.resume_path);
    } else if (params.seed_baselines) {
        seed_with_baselines(search, env, evaluator, params, features, result);
    }

    SearchCallbacks callbacks;
    if (on_episode) {
        callbacks.on_episode = [&](const EpisodeReport & report) { on_episode(report, env); };
    }
    const SearchResult searched = search.run(callbacks);
    if (searched.interrupted) {
        if (searched.checkpoint.empty()) {
            throw rdt::Interrupted(fmt::format(
                "search interrupted after {} episodes; nothing was written (pass --checkpoint FILE to keep "
                "progress)",
                searched.episodes_completed));
        }
        throw rdt::Interrupted(fmt::format(
            "search interrupted after {} episodes; checkpoint written to {}; continue with --checkpoint {} --resume",
            searched.episodes_completed, searched.checkpoint.string(), searched.checkpoint.string()));
    }
    if (!searched.best.found) {
        rdt::fail("the search found no plan within the budget of {:.4f} bpw", params.budget_bpw);
    }
    if (!params.policy_path.empty()) {
        search.export_policy(params.policy_path);
    }

    const std::vector<ggml_type> types = env.types_of(searched.best.choices);
    result.plan = evaluator.make_plan(types, searched.best.source);
    result.plan.target_bpw = params.budget_bpw;
    result.plan.provenance = {{"seed", params.search.seed},
                              {"episodes", searched.episodes_completed},
                              {"quality_metric", quality_metric_name(params.metric)},
                              {"calibration", calibration_to_json(features.calibration)}};
    result.quality = evaluator.evaluate(types);
    result.interrupted = searched.interrupted;
    result.report = {{"episodes", searched.episodes_completed},
                     {"evaluations", searched.evaluations},
                     {"best_source", searched.best.source},
                     {"best_episode", searched.best.episode},
                     {"best_reward", searched.best.reward},
                     {"interrupted", searched.interrupted},
                     {"checkpoint", searched.checkpoint.string()},
                     {"parameters", to_json(params.search)}};
    result.report["best_by_source"] = best_by_source(searched.history);
    return result;
}

}  // namespace ramp
