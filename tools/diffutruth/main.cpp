// diffutruth: hallucination detection for claims with a diffusion LM and an NLI critic.
//   diffutruth score  per-claim Semantic Energy, confidence and fused score (JSONL)
//   diffutruth eval   AUROC, AUPRC, accuracy and ECE of each signal on a labelled set
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include "common/cli.hpp"
#include "common/error.hpp"
#include "common/output.hpp"
#include "common/progress.hpp"
#include "diffutruth/evaluation.hpp"

namespace {

// Options shared by score and eval, kept as text until the run starts so that a
// bad name is reported by the library with the accepted values.
struct CommonOptions {
    diffutruth::ScoreParams params;
    std::string confidence = "none";
    std::string order = "confidence";
    std::string format = "auto";
    std::size_t limit = 0;
    bool no_batch = false;
    bool force = false;  // overwrite existing output files
};

void add_common_options(CLI::App * cmd, CommonOptions & o) {
    cmd->add_option("-r,--reconstructor", o.params.reconstructor_path, "Diffusion LM (GGUF, e.g. llada)")->required();
    cmd->add_option("-c,--critic", o.params.critic_path, "NLI sequence classifier (GGUF, pooling rank)")->required();
    cmd->add_option("--verifier", o.params.verifier_path, "Causal LM for --confidence ptrue or likelihood");
    cmd->add_option("--confidence", o.confidence, "Discriminative confidence: ptrue, likelihood, nli-evidence, none")
        ->capture_default_str();
    cmd->add_option("--format", o.format, "Claim file format: auto, fever, fever-symmetric, hover, jsonl, csv")
        ->capture_default_str();
    cmd->add_option("--limit", o.limit, "Score only the first N claims (0: all)")->capture_default_str();
    cmd->add_option("-t,--threads", o.params.n_threads, "CPU threads, 0 for all")->capture_default_str();
    cmd->add_option("--seed", o.params.seed, "Run seed (each claim derives its own)")->capture_default_str();
    cmd->add_option("--noise-levels", o.params.corruption.noise_levels, "Masked fractions, comma-separated")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--samples", o.params.corruption.samples_per_level, "Samples per noise level (K)")
        ->capture_default_str();
    cmd->add_option("--steps", o.params.reconstruct.steps,
                    "Unmasking steps per sample (0: one per two masked tokens, at most 16)")
        ->capture_default_str();
    cmd->add_option("--temperature", o.params.reconstruct.temperature, "0: argmax; > 0: sample")
        ->capture_default_str();
    cmd->add_option("--remask", o.order, "Unmasking order: confidence, random, entropy, margin")->capture_default_str();
    cmd->add_option("--weight", o.params.weight, "Fusion weight w of the energy")->capture_default_str();
    cmd->add_option("--max-tokens", o.params.max_claim_tokens, "Longer claims are truncated to this many tokens")
        ->capture_default_str();
    cmd->add_flag("--skip-invalid", o.params.skip_invalid, "Skip malformed records and unscorable claims, counted");
    cmd->add_flag("--no-batch", o.no_batch, "Decode the samples of a claim one at a time (speed comparison)");
    cmd->add_flag("--force", o.force, "Overwrite existing output files");
}

// Fail before any work when an output file exists without --force.
void check_output(const std::string & path, bool force, const std::string & option) {
    if (!path.empty() && path != "-") {
        rdt::check_output_path(path, force, option);
    }
}

// Turn the text options into parameters; names are checked here.
void finish_common(CommonOptions & o) {
    o.params.confidence = diffutruth::parse_confidence_kind(o.confidence);
    o.params.reconstruct.order = diffutruth::parse_remask_order(o.order);
    o.params.reconstruct.batch_samples = !o.no_batch;
}

void run_score(CommonOptions & o, const std::string & input, const std::string & output, bool no_reconstructions) {
    finish_common(o);
    if (!output.empty() && output != "-") {
        rdt::check_output_path(output, o.force, "-o");
    }
    rdt::ClaimReadOptions read_options;
    read_options.format = rdt::parse_claim_format(o.format);
    read_options.skip_invalid = o.params.skip_invalid;
    read_options.keep_not_enough_info = true;
    const rdt::ClaimSet set = rdt::read_claims(input, read_options);
    for (const std::string & example : set.stats.invalid_examples) {
        spdlog::warn("skipped: {}", example);
    }
    if (set.stats.skipped_invalid > 0) {
        spdlog::warn("{} malformed record(s) skipped", set.stats.skipped_invalid);
    }
    const std::vector<rdt::Claim> claims = diffutruth::select_claims(set.claims, o.limit, false);
    if (claims.empty()) {
        rdt::fail("{} holds no claims to score", input);
    }

    o.params.keep_reconstructions = !no_reconstructions;
    diffutruth::Scorer scorer(o.params);
    rdt::Progress progress("claims", static_cast<int64_t>(claims.size()));
    const auto scores =
        scorer.score_all(claims, [&](std::size_t done) { progress.update(static_cast<int64_t>(done)); });
    progress.finish();

    std::string lines;
    for (const auto & score : scores) {
        lines += diffutruth::claim_score_to_line(score, !no_reconstructions);
    }
    if (output.empty() || output == "-") {
        std::cout << lines;
    } else {
        rdt::write_file_atomic(output, lines);
    }
    const auto & stats = scorer.stats();
    spdlog::info("scored {} claims in {:.1f} s ({:.2f} claims/s): reconstruction {:.1f} s, critic {:.1f} s, "
                 "confidence {:.1f} s; critic cache hits {} of {} pairs",
                 stats.scored, stats.seconds, stats.seconds > 0 ? stats.scored / stats.seconds : 0.0,
                 stats.reconstruct_seconds, stats.critic_seconds, stats.confidence_seconds, stats.critic_cache_hits,
                 stats.critic_pairs);
}

}  // namespace

int main(int argc, char ** argv) {
    CLI::App app{"diffutruth: detect false claims from how a diffusion LM rebuilds them (Semantic Energy) and a "
                 "discriminative confidence"};
    app.require_subcommand(1);
    app.fallthrough();  // -v and -q also after the subcommand
    rdt::GlobalFlags flags;
    rdt::add_global_flags(app, flags);
    std::function<void()> action;

    // score
    auto score_options = std::make_shared<CommonOptions>();
    auto score_input = std::make_shared<std::string>();
    auto score_output = std::make_shared<std::string>();
    auto no_reconstructions = std::make_shared<bool>(false);
    CLI::App * score = app.add_subcommand("score", "Score claims: energy, confidence, fused score, reconstructions");
    add_common_options(score, *score_options);
    score->add_option("-i,--input", *score_input, "Claims (FEVER, FEVER-Symmetric, HOVER, JSONL or CSV)")->required();
    score->add_option("-o,--output", *score_output, "JSONL output, one line per claim (default: stdout)");
    score->add_flag("--no-reconstructions", *no_reconstructions, "Leave the reconstructions out of the output");
    score->callback([&] {
        action = [=] { run_score(*score_options, *score_input, *score_output, *no_reconstructions); };
    });

    // eval
    auto eval_options = std::make_shared<CommonOptions>();
    auto eval = std::make_shared<diffutruth::EvalParams>();
    auto dataset = std::make_shared<std::string>("auto");
    auto calibration_format = std::make_shared<std::string>("auto");
    auto eval_output = std::make_shared<std::string>();
    CLI::App * eval_cmd = app.add_subcommand("eval", "Evaluate on a labelled claim set (positive class: false claim)");
    add_common_options(eval_cmd, *eval_options);
    eval_cmd->add_option("--dataset", *dataset, "fever, hover, fever-symmetric, jsonl, csv or auto")
        ->capture_default_str();
    eval_cmd->add_option("-i,--input", eval->input, "Labelled claims")->required();
    eval_cmd->add_flag("--balanced", eval->balanced, "With --limit N: the first N/2 true and N/2 false claims");
    eval_cmd->add_option("--calibration", eval->calibration,
                         "Labelled claims for the supervised fusion (ids present in -i are left out)");
    eval_cmd->add_option("--calibration-format", *calibration_format, "Format of --calibration")
        ->capture_default_str();
    eval_cmd->add_option("--calibration-limit", eval->calibration_limit,
                         "Use the first N/2 true and N/2 false calibration claims (0: all)")
        ->capture_default_str();
    eval_cmd->add_option("--plot", eval->plot, "ROC plot (.png or .svg, drawn with gnuplot)");
    eval_cmd->add_option("--scores", eval->scores_output, "Also write per-claim scores as JSONL");
    eval_cmd->add_option("--bootstrap", eval->bootstrap_resamples, "Bootstrap resamples for the AUROC interval")
        ->capture_default_str();
    eval_cmd->add_option("-o,--output", *eval_output, "JSON summary (default: stdout)");
    eval_cmd->callback([&] {
        action = [=] {
            CommonOptions & o = *eval_options;
            finish_common(o);
            const std::string format_name = *dataset != "auto" ? *dataset : o.format;
            eval->format = rdt::parse_claim_format(format_name);
            eval->calibration_format = rdt::parse_claim_format(*calibration_format);
            eval->limit = o.limit;
            eval->score = o.params;
            check_output(*eval_output, o.force, "-o");
            check_output(eval->plot, o.force, "--plot");
            check_output(eval->scores_output, o.force, "--scores");
            if (eval->balanced && o.limit == 0) {
                rdt::fail("--balanced needs --limit N (N/2 true and N/2 false claims); pass --limit or drop "
                          "--balanced");
            }
            rdt::emit_json(diffutruth::run_eval(*eval), *eval_output);
        };
    });

    CLI11_PARSE(app, argc, argv);
    rdt::apply_global_flags(flags);
    return rdt::run_guarded(action);
}
