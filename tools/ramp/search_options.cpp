#include "tools/ramp/search_options.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "common/error.hpp"
#include "common/output.hpp"
#include "common/progress.hpp"

namespace ramp_cli {

void add_search_options(CLI::App & cmd, SearchCli & cli) {
    ramp::SearchJobParams & params = cli.params;
    ramp::SearchParams & search = params.search;
    search.episodes = ramp::kDefaultSearchEpisodes;
    search.warmup_episodes = ramp::kDefaultWarmupEpisodes;
    search.clone_steps = ramp::kDefaultCloneSteps;
    search.imitation_weight = ramp::kDefaultImitationWeight;

    cmd.add_option("-m,--model", params.model_path, "Float model (GGUF)")->required();
    cmd.add_option("-f,--file", params.calibration_path, "UTF-8 calibration text (features and plan quality)")
        ->required();
    cmd.add_option("--budget", params.budget_bpw, "Mean storage bits per weight over the decided matrices")
        ->required();
    cmd.add_option("-c,--ctx-size", params.n_ctx, "Tokens per calibration chunk; 0: 256 or the training context")
        ->capture_default_str();
    cmd.add_option("--chunks", params.n_chunks, "Calibration chunks for features and plan quality")
        ->capture_default_str();
    cmd.add_option("-t,--threads", params.n_threads, "CPU threads, 0 for all")->capture_default_str();
    cmd.add_option("--imatrix", params.imatrix_path, "Importance matrix (GGUF, from ramp analyze --imatrix-out)");
    cmd.add_option("--quality", cli.metric, "Quality loss in the reward: kl or ppl")->capture_default_str();
    cmd.add_option("--episodes", search.episodes, "Episodes in all, warm-up included")->capture_default_str();
    cmd.add_option("--warmup", search.warmup_episodes, "Random-action episodes before learning")
        ->capture_default_str();
    cmd.add_option("--action-map", cli.action_mapping,
                   "How an action becomes a type: budget (relative to the budget left per weight) or range "
                   "(linear over the matrix's candidate bpw range)")
        ->capture_default_str();
    cmd.add_option("--clone-steps", search.clone_steps,
                   "Behaviour-cloning steps that start the policy from the best plan of the warm-up and "
                   "baselines; 0: off")
        ->capture_default_str();
    cmd.add_option("--imitation", search.imitation_weight,
                   "Weight of self-imitation of the best plan so far in the actor's loss; 0: off")
        ->capture_default_str();
    cmd.add_option("--seed", search.seed, "Random seed (agent, warm-up, replay sampling)")->capture_default_str();
    cmd.add_flag("!--no-baselines", params.seed_baselines,
                 "Do not evaluate uniform and greedy plans into the replay buffer");
    cmd.add_option("--sensitivity", params.sensitivity_path,
                   "Cache of the greedy baseline's per-matrix sensitivity (JSON): read when present, else "
                   "measured and written; shared by searches at other budgets");
    cmd.add_option("--hidden", search.sac.hidden_size, "Units per hidden layer of actor and critics")
        ->capture_default_str();
    cmd.add_option("--batch", search.sac.batch_size, "SAC minibatch size")->capture_default_str();
    cmd.add_option("--lr", search.sac.actor_lr, "Adam learning rate of the actor")->capture_default_str();
    cmd.add_option("--reward-quality", search.reward.quality_weight, "Reward weight of the quality loss")
        ->capture_default_str();
    cmd.add_option("--checkpoint", cli.checkpoint_path, "Checkpoint file (written every N episodes and on Ctrl-C)");
    cmd.add_option("--checkpoint-every", cli.checkpoint_every, "Episodes between checkpoints, 0: only at the end")
        ->capture_default_str();
    cmd.add_flag("--resume", cli.resume, "Continue from --checkpoint");
    cmd.add_option("--save-policy", params.policy_path, "Write the trained actor here (LibTorch archive P) and its metadata to P.json beside it");
}

namespace {

void check_search_outputs(const SearchCli & cli, bool force) {
    const ramp::SearchJobParams & params = cli.params;
    if (!params.policy_path.empty()) {
        rdt::check_output_path(params.policy_path, force, "--save-policy");
        rdt::check_output_path(ramp::policy_sidecar_path(params.policy_path), force, "--save-policy");
    }
    if (!cli.checkpoint_path.empty() && !cli.resume && std::filesystem::exists(cli.checkpoint_path) && !force) {
        rdt::fail("checkpoint '{}' already exists; pass --resume to continue it, --force to start over, or "
                  "another --checkpoint",
                  cli.checkpoint_path);
    }
    if (!cli.checkpoint_path.empty()) {
        rdt::check_output_folder(cli.checkpoint_path, "--checkpoint");
    }
    if (!params.sensitivity_path.empty()) {
        rdt::check_output_folder(params.sensitivity_path, "--sensitivity");
    }
}

}  // namespace

void finish_search_options(SearchCli & cli, bool force) {
    const ramp::SacParams & sac = cli.params.search.sac;
    if (sac.hidden_size < 1) {
        rdt::fail("--hidden {} must be at least 1 (default 256)", sac.hidden_size);
    }
    if (sac.batch_size < 1) {
        rdt::fail("--batch {} must be at least 1 (default 256)", sac.batch_size);
    }
    if (!(sac.actor_lr > 0.0)) {
        rdt::fail("--lr {} must be positive (default 3e-4)", sac.actor_lr);
    }
    const ramp::SearchParams & search = cli.params.search;
    if (search.clone_steps < 0) {
        rdt::fail("--clone-steps {} must not be negative (default {}, 0 turns cloning off)", search.clone_steps,
                  ramp::kDefaultCloneSteps);
    }
    if (!std::isfinite(search.imitation_weight) || search.imitation_weight < 0.0) {
        rdt::fail("--imitation {} must be a finite number of at least 0 (default {}, 0 turns self-imitation off)",
                  search.imitation_weight, ramp::kDefaultImitationWeight);
    }
    if (cli.checkpoint_every < 0) {
        rdt::fail("--checkpoint-every {} must not be negative (0: only at the end and on Ctrl-C)",
                  cli.checkpoint_every);
    }
    if (!(cli.params.budget_bpw > 0.0)) {
        rdt::fail("--budget {} must be a positive number of bits per weight", cli.params.budget_bpw);
    }
    cli.params.metric = ramp::parse_quality_metric(cli.metric);
    try {
        cli.params.search.action_mapping = ramp::parse_action_mapping(cli.action_mapping);
    } catch (const rdt::Error & error) {
        rdt::fail("--action-map: {}", error.what());
    }
    cli.params.search.checkpoint_path = cli.checkpoint_path;
    cli.params.search.checkpoint_every = cli.checkpoint_every;
    if (cli.resume) {
        if (cli.checkpoint_path.empty()) {
            rdt::fail("--resume needs the checkpoint: pass --checkpoint FILE");
        }
        if (!std::filesystem::exists(cli.checkpoint_path)) {
            rdt::fail("checkpoint '{}' not found; run without --resume to start a new search", cli.checkpoint_path);
        }
        cli.params.resume_path = cli.checkpoint_path;
    }
    check_search_outputs(cli, force);
}

void report_episode(const ramp::EpisodeReport & report, const ramp::PlanEnvironment & env) {
    if (!rdt::Progress::enabled()) {
        return;
    }
    const std::string quality = env.metric() == ramp::QualityMetric::Kl ? "KL" : "PPL ratio-1";
    const std::string best = report.best.found ? fmt::format("best {:.3f} ({}, {:.3f} bpw, {} {:.5f})", report.best.reward,
                                                             report.best.source, report.best.bpw, quality,
                                                             report.best.quality_loss)
                                               : "no plan within budget yet";
    fmt::print(stderr, "episode {}/{}: reward {:.3f} at {:.3f} bpw; {}; ETA {}\n", report.episodes_completed,
               report.episodes_total, report.record.reward, report.record.bpw, best,
               rdt::format_duration(report.eta_seconds));
}

}  // namespace ramp_cli
