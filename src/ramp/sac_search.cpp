#include "ramp/sac_search.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <map>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "ramp/checkpoint.hpp"
#include "ramp/replay_buffer.hpp"

namespace ramp {

namespace {

// Set by the SIGINT handler or request_search_stop; lock-free, so safe in a handler.
std::atomic<bool> g_stop_requested{false};

extern "C" void stop_on_sigint(int) {
    g_stop_requested.store(true);
    // A second Ctrl-C terminates at once.
    std::signal(SIGINT, SIG_DFL);
}

// Installs the SIGINT handler for the lifetime of a run and restores the previous one.
class SigintGuard {
  public:
    explicit SigintGuard(bool enabled) : enabled_(enabled) {
        if (enabled_) {
            previous_ = std::signal(SIGINT, stop_on_sigint);
        }
    }
    ~SigintGuard() {
        if (enabled_) {
            std::signal(SIGINT, previous_);
        }
    }
    SigintGuard(const SigintGuard &) = delete;
    SigintGuard & operator=(const SigintGuard &) = delete;

  private:
    bool enabled_;
    void (*previous_)(int) = SIG_DFL;
};

constexpr const char * kWarmupSource = "random-warmup";
constexpr const char * kSacSource = "sac";

nlohmann::json to_json(const EpisodeRecord & record) {
    return {{"episode", record.episode},
            {"source", record.source},
            {"choices", record.choices},
            {"quality_loss", record.quality_loss},
            {"bpw", record.bpw},
            {"reward", record.reward},
            {"within_budget", record.within_budget}};
}

EpisodeRecord record_from_json(const nlohmann::json & value) {
    EpisodeRecord record;
    record.episode = value.at("episode").get<int>();
    record.source = value.at("source").get<std::string>();
    record.choices = value.at("choices").get<std::vector<int>>();
    record.quality_loss = value.at("quality_loss").get<double>();
    record.bpw = value.at("bpw").get<double>();
    record.reward = value.at("reward").get<double>();
    record.within_budget = value.at("within_budget").get<bool>();
    return record;
}

nlohmann::json to_json(const BestPlan & best) {
    if (!best.found) {
        return nullptr;
    }
    return {{"source", best.source},   {"episode", best.episode},
            {"choices", best.choices}, {"quality_loss", best.quality_loss},
            {"bpw", best.bpw},         {"reward", best.reward}};
}

BestPlan best_from_json(const nlohmann::json & value) {
    BestPlan best;
    if (value.is_null()) {
        return best;
    }
    best.found = true;
    best.source = value.at("source").get<std::string>();
    best.episode = value.at("episode").get<int>();
    best.choices = value.at("choices").get<std::vector<int>>();
    best.quality_loss = value.at("quality_loss").get<double>();
    best.bpw = value.at("bpw").get<double>();
    best.reward = value.at("reward").get<double>();
    return best;
}

}  // namespace

nlohmann::json to_json(const SearchParams & params) {
    return {
        {"seed", params.seed},
        {"episodes", params.episodes},
        {"warmup_episodes", params.warmup_episodes},
        {"updates_per_episode", params.updates_per_episode},
        {"mean_action_every", params.mean_action_every},
        {"repair_episodes", params.repair_episodes},
        {"action_mapping", to_string(params.action_mapping)},
        {"clone_steps", params.clone_steps},
        {"clone_std", params.clone_std},
        {"imitation_weight", params.imitation_weight},
        {"sac", to_json(params.sac)},
        {"reward", to_json(params.reward)},
        {"checkpoint_path", params.checkpoint_path.string()},
        {"checkpoint_every", params.checkpoint_every},
    };
}

void request_search_stop() {
    g_stop_requested.store(true);
}

struct PlanSearch::State {
    State(Environment & env, const SearchParams & params)
        : env(env),
          params(params),
          agent(kObservationSize, kActionSize, params.sac, params.seed),
          buffer(kObservationSize, kActionSize, params.sac.replay_capacity),
          rng(params.seed) {}

    // Quality loss of a plan, from the cache or the environment.
    double evaluate(const std::vector<int> & choices) {
        const auto cached = cache.find(choices);
        if (cached != cache.end()) {
            return cached->second;
        }
        const double loss = env.evaluate(choices);
        if (!std::isfinite(loss)) {
            rdt::fail("the environment returned quality loss {} for a plan; it must be finite", loss);
        }
        ++evaluations;
        cache.emplace(choices, loss);
        return loss;
    }

    // Score an episode's plan, store its transitions and update the best plan.
    const EpisodeRecord & record_episode(const EpisodeTrace & trace, const std::string & source, int episode,
                                         double quality_loss) {
        EpisodeRecord record;
        record.episode = episode;
        record.source = source;
        record.choices = trace.choices;
        record.quality_loss = quality_loss;
        record.bpw = plan_bpw(env.steps(), trace.choices);
        record.reward = compute_reward(quality_loss, record.bpw, env.budget_bpw(), params.reward);
        record.within_budget = within_budget(record.bpw, env.budget_bpw());

        // Every transition receives the episode's reward; the last one is terminal.
        const size_t steps = trace.observations.size();
        for (size_t t = 0; t < steps; ++t) {
            const Observation & next = trace.observations[t + 1 < steps ? t + 1 : t];
            const float action = trace.actions[t];
            buffer.add(trace.observations[t], std::span<const float>(&action, 1),
                       static_cast<float>(record.reward), next, t + 1 == steps);
        }

        if (record.within_budget && record.reward > best.reward) {
            best = BestPlan{true,       source,       episode, record.choices, record.quality_loss,
                            record.bpw, record.reward};
        }
        history.push_back(record);
        return history.back();
    }

    // Make the best plan the self-imitation demonstration when it changed.
    void refresh_imitation() {
        if (params.imitation_weight <= 0.0 || !best.found || best.choices == imitated) {
            return;
        }
        const auto [observations, actions] = best_demonstration();
        agent.set_imitation(observations, actions, params.imitation_weight);
        imitated = best.choices;
    }

    void run_updates() {
        refresh_imitation();
        const int updates = params.updates_per_episode > 0 ? params.updates_per_episode
                                                           : static_cast<int>(env.steps().size());
        for (int i = 0; i < updates; ++i) {
            const TransitionBatch batch = buffer.sample(params.sac.batch_size, rng);
            agent.update(batch, rng);
        }
    }

    // The best plan's episode as flat observation rows and actions.
    std::pair<std::vector<float>, std::vector<float>> best_demonstration() const {
        const EpisodeTrace trace = replay_plan(env, best.choices, params.action_mapping);
        std::vector<float> observations;
        for (const Observation & observation : trace.observations) {
            observations.insert(observations.end(), observation.begin(), observation.end());
        }
        return {observations, trace.actions};
    }

    // Pull the actor towards the best plan so far (see SearchParams::clone_steps).
    void clone_best() {
        if (!best.found) {
            spdlog::info("no plan within budget to clone yet; the policy starts from its own weights");
            return;
        }
        const auto [observations, actions] = best_demonstration();
        const double error = agent.clone_actions(observations, actions, params.clone_steps, params.clone_std);
        spdlog::info("cloned the best plan so far ({}, reward {:.3f}) into the policy: {} steps, mean squared "
                     "action error {:.2e}",
                     best.source, best.reward, params.clone_steps, error);
    }

    // The repaired best plan, used when no evaluated plan fits the budget.
    void repair_best() {
        const EpisodeRecord * best_over = nullptr;
        for (const auto & record : history) {
            if (best_over == nullptr || record.reward > best_over->reward) {
                best_over = &record;
            }
        }
        if (best_over == nullptr) {
            return;
        }
        const std::vector<int> repaired = repair_choices_to_budget(env, best_over->choices);
        const double loss = evaluate(repaired);
        const EpisodeTrace trace = replay_plan(env, repaired, params.action_mapping);
        const auto & record = record_episode(trace, best_over->source + "+repair", episode, loss);
        spdlog::warn(
            "no evaluated plan fit the budget {} bpw; repaired the best one to {:.4f} bpw (reward {:.3f})",
            env.budget_bpw(), record.bpw, record.reward);
    }

    CheckpointData checkpoint_data() const {
        CheckpointData data;
        data.fingerprint = env.fingerprint();
        data.seed = params.seed;
        data.episode = episode;

        std::ostringstream rng_text;
        rng_text << rng;
        nlohmann::json cache_json = nlohmann::json::array();
        for (const auto & [choices, loss] : cache) {
            cache_json.push_back({{"choices", choices}, {"quality_loss", loss}});
        }
        nlohmann::json history_json = nlohmann::json::array();
        for (const auto & record : history) {
            history_json.push_back(to_json(record));
        }
        data.state = {{"rng", rng_text.str()}, {"best", to_json(best)},      {"history", history_json},
                      {"cache", cache_json},   {"evaluations", evaluations}, {"params", to_json(params)}};
        data.replay_buffer = buffer.serialize();
        data.agent = agent.save_state();
        return data;
    }

    Environment & env;
    SearchParams params;
    SacAgent agent;
    ReplayBuffer buffer;
    std::mt19937_64 rng;
    int episode = 0;  // episodes completed
    int evaluations = 0;
    BestPlan best;
    std::vector<EpisodeRecord> history;
    std::map<std::vector<int>, double> cache;
    std::filesystem::path last_checkpoint;
    std::vector<int> imitated;  // plan of the current self-imitation demonstration
};

PlanSearch::PlanSearch(Environment & env, const SearchParams & params) {
    validate_environment(env);
    if (params.clone_steps < 0 || !(params.clone_std > 0.0) || !std::isfinite(params.clone_std) ||
        !std::isfinite(params.imitation_weight) || params.imitation_weight < 0.0) {
        rdt::fail("behaviour cloning steps {} must not be negative, the self-imitation weight {} must be finite "
                  "and not negative, and the cloning std {} must be finite and positive",
                  params.clone_steps, params.imitation_weight, params.clone_std);
    }
    if (params.episodes < 0 || params.warmup_episodes < 0 || params.updates_per_episode < 0 ||
        params.checkpoint_every < 0 || params.mean_action_every < 0) {
        rdt::fail(
            "episodes {}, warm-up episodes {}, updates per episode {}, checkpoint interval {} and "
            "mean-action "
            "interval {} must not be negative",
            params.episodes, params.warmup_episodes, params.updates_per_episode, params.checkpoint_every,
            params.mean_action_every);
    }
    state_ = std::make_unique<State>(env, params);
}

PlanSearch::~PlanSearch() = default;

void PlanSearch::resume(const std::filesystem::path & checkpoint) {
    State & state = *state_;
    const CheckpointData data = read_checkpoint(checkpoint);
    check_checkpoint_matches(data, state.env.fingerprint(), state.params.seed, checkpoint);

    // The mapping gives every stored action its meaning, so it must not change.
    std::string stored_mapping = "range";  // checkpoints written before the mapping was recorded
    try {
        if (data.state.contains("params")) {
            stored_mapping = data.state.at("params").value("action_mapping", stored_mapping);
        }
    } catch (const nlohmann::json::exception & error) {
        rdt::fail("checkpoint {} has invalid search parameters: {}", checkpoint.string(), error.what());
    }
    if (stored_mapping != to_string(state.params.action_mapping)) {
        rdt::fail("checkpoint {} was written with --action-map {}, but this search uses {}; pass --action-map {} "
                  "to resume",
                  checkpoint.string(), stored_mapping, to_string(state.params.action_mapping), stored_mapping);
    }
    state.agent.load_state(data.agent);
    state.buffer.deserialize(data.replay_buffer);
    try {
        std::istringstream rng_text(data.state.at("rng").get<std::string>());
        rng_text >> state.rng;
        if (!rng_text) {
            rdt::fail("checkpoint {} has an unreadable random generator state", checkpoint.string());
        }
        state.best = best_from_json(data.state.at("best"));
        state.history.clear();
        for (const auto & record : data.state.at("history")) {
            state.history.push_back(record_from_json(record));
        }
        state.cache.clear();
        for (const auto & entry : data.state.at("cache")) {
            state.cache.emplace(entry.at("choices").get<std::vector<int>>(),
                                entry.at("quality_loss").get<double>());
        }
        state.evaluations = data.state.at("evaluations").get<int>();
    } catch (const nlohmann::json::exception & error) {
        rdt::fail("checkpoint {} has an invalid search state: {}", checkpoint.string(), error.what());
    }
    state.episode = data.episode;
    spdlog::info("resumed search from {} at episode {} (best reward {:.3f})", checkpoint.string(),
                 state.episode, state.best.reward);
}

void PlanSearch::add_evaluated_plan(const std::string & name, const std::vector<int> & choices,
                                    double quality_loss) {
    State & state = *state_;
    if (!std::isfinite(quality_loss)) {
        rdt::fail("baseline {} has quality loss {}; it must be finite", name, quality_loss);
    }
    const EpisodeTrace trace = replay_plan(state.env, choices, state.params.action_mapping);
    state.cache.emplace(choices, quality_loss);
    const auto & record = state.record_episode(trace, "baseline:" + name, state.episode, quality_loss);
    spdlog::info("baseline {}: {:.4f} bpw, quality loss {:.5f}, reward {:.3f}", name, record.bpw,
                 record.quality_loss, record.reward);
}

void PlanSearch::add_baseline(const std::string & name, const std::vector<int> & choices) {
    plan_bpw(state_->env.steps(), choices);  // validates the plan before the expensive evaluation
    add_evaluated_plan(name, choices, state_->evaluate(choices));
}

SearchResult PlanSearch::run(const SearchCallbacks & callbacks) {
    State & state = *state_;
    const SearchParams & params = state.params;
    const SigintGuard sigint_guard(params.handle_sigint);
    g_stop_requested.store(false);

    spdlog::info("plan search: {} episodes ({} random warm-up) from episode {}; parameters {}",
                 params.episodes, params.warmup_episodes, state.episode, to_json(params).dump());
    const auto start = std::chrono::steady_clock::now();
    const int first_episode = state.episode;
    bool interrupted = false;

    while (state.episode < params.episodes) {
        if (g_stop_requested.load()) {
            interrupted = true;
            break;
        }
        const int episode = state.episode;
        const bool warmup = episode < params.warmup_episodes;
        if (episode == params.warmup_episodes && params.clone_steps > 0) {
            state.clone_best();
        }
        const bool mean_actions = !warmup && params.mean_action_every > 0 &&
                                  (episode - params.warmup_episodes + 1) % params.mean_action_every == 0;

        // Walk the matrices, choosing each action at random (warm-up) or from the policy.
        EpisodeTrace trace = run_episode(state.env, [&](const Observation & observation) {
            if (warmup) {
                return std::uniform_real_distribution<float>(-1.0f, 1.0f)(state.rng);
            }
            if (mean_actions) {
                return state.agent.mean_action(observation)[0];
            }
            return state.agent.sample_action(observation, state.rng)[0];
        }, params.action_mapping);
        if (params.repair_episodes &&
            !within_budget(plan_bpw(state.env.steps(), trace.choices), state.env.budget_bpw())) {
            trace = replay_plan(state.env, repair_choices_to_budget(state.env, trace.choices),
                                params.action_mapping);
        }
        const double loss = state.evaluate(trace.choices);
        const EpisodeRecord & record =
            state.record_episode(trace, warmup ? kWarmupSource : kSacSource, episode, loss);

        if (episode + 1 >= params.warmup_episodes) {
            state.run_updates();
        }
        state.episode = episode + 1;

        if (!params.checkpoint_path.empty() && params.checkpoint_every > 0 &&
            state.episode % params.checkpoint_every == 0) {
            save_checkpoint(params.checkpoint_path);
        }
        if (callbacks.on_episode) {
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const double per_episode = elapsed / static_cast<double>(state.episode - first_episode);
            const EpisodeReport report{state.episode,
                                       params.episodes,
                                       record,
                                       state.best,
                                       per_episode * static_cast<double>(params.episodes - state.episode),
                                       state.agent.alpha()};
            callbacks.on_episode(report);
        }
    }

    // A Ctrl-C during the last episode ends the loop like a finished search; it is
    // still a request to stop.
    interrupted = interrupted || g_stop_requested.load();
    if (interrupted) {
        if (params.checkpoint_path.empty()) {
            spdlog::warn(
                "search interrupted after episode {}; no checkpoint path was set, so nothing was saved",
                state.episode);
        } else {
            save_checkpoint(params.checkpoint_path);
            spdlog::warn(
                "search interrupted after episode {}; checkpoint written to {}; resume from it to continue",
                state.episode, params.checkpoint_path.string());
        }
    } else {
        if (!state.best.found) {
            state.repair_best();
        }
        if (!params.checkpoint_path.empty()) {
            save_checkpoint(params.checkpoint_path);
        }
    }

    SearchResult search_result = result();
    search_result.interrupted = interrupted;
    return search_result;
}

void PlanSearch::save_checkpoint(const std::filesystem::path & path) const {
    write_checkpoint(path, state_->checkpoint_data());
    state_->last_checkpoint = path;
}

void PlanSearch::export_policy(const std::filesystem::path & path) const {
    const State & state = *state_;
    std::vector<std::string> types;
    std::set<std::string> seen;
    for (const auto & step : state.env.steps()) {
        for (const auto & name : step.candidate_names) {
            if (seen.insert(name).second) {
                types.push_back(name);
            }
        }
    }
    const nlohmann::json metadata = {
        {"feature_schema_version", kObservationSchemaVersion},
        {"candidate_types", types},
        {"training_model", state.env.fingerprint()},
        {"budget_bpw", state.env.budget_bpw()},
        {"episodes", state.episode},
        {"seed", state.params.seed},
        {"action_mapping", to_string(state.params.action_mapping)},
        {"sac", to_json(state.params.sac)},
        {"reward", to_json(state.params.reward)},
    };
    state.agent.export_policy(path, metadata);
}

const SacAgent & PlanSearch::agent() const {
    return state_->agent;
}

SearchResult PlanSearch::result() const {
    SearchResult search_result;
    search_result.best = state_->best;
    search_result.history = state_->history;
    search_result.episodes_completed = state_->episode;
    search_result.checkpoint = state_->last_checkpoint;
    search_result.evaluations = state_->evaluations;
    return search_result;
}

SearchResult run_search(Environment & env, const SearchParams & params, const SearchCallbacks & callbacks) {
    PlanSearch search(env, params);
    return search.run(callbacks);
}

std::vector<int> plan_with_policy(const Policy & policy, const Environment & env) {
    validate_environment(env);
    const std::string mapping_name = policy.metadata().value("action_mapping", std::string("range"));
    const ActionMapping mapping = parse_action_mapping(mapping_name);
    const EpisodeTrace trace = run_episode(
        env, [&](const Observation & observation) { return policy.mean_action(observation)[0]; }, mapping);
    return fill_choices_to_budget(env, repair_choices_to_budget(env, trace.choices));
}

}  // namespace ramp
