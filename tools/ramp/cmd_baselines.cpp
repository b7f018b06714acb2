// `ramp baselines`: uniform, llama.cpp-recipe and greedy plans, evaluated and plotted.
#include <CLI/CLI.hpp>

#include "ramp/baseline_run.hpp"
#include "tools/ramp/commands.hpp"

namespace ramp_cli {

namespace {

void register_baselines(CLI::App & app, const SetAction & set_action) {
    auto params = std::make_shared<ramp::BaselineParams>();
    CLI::App * cmd = app.add_subcommand(
        "baselines",
        "Make and evaluate baseline plans: every candidate type uniformly, llama.cpp's K-quant recipes, and a "
        "greedy allocation from per-matrix sensitivity at each budget");
    cmd->add_option("-m,--model", params->model_path, "Float model (GGUF)")->required();
    cmd->add_option("-f,--file", params->calibration_path, "UTF-8 calibration text for the sensitivity")
        ->required();
    cmd->add_option("--eval-text", params->eval_path, "UTF-8 text for the reported perplexity and KL")
        ->required();
    cmd->add_option("--budgets", params->budgets, "Greedy budgets in storage bpw, comma-separated")
        ->delimiter(',');
    cmd->add_option("--recipes", params->recipes,
                    "llama.cpp recipes to read back, comma-separated (default: Q2_K ... Q6_K)")
        ->delimiter(',');
    cmd->add_flag("!--no-uniform", params->uniform, "Skip the uniform plans");
    cmd->add_flag("!--no-greedy", params->greedy, "Skip the sensitivity measurement and greedy plans");
    cmd->add_option("--imatrix", params->imatrix_path, "Importance matrix (llama-imatrix GGUF); adds IQ types");
    cmd->add_option("-c,--ctx-size", params->n_ctx, "Tokens per chunk")->capture_default_str()->check(
        CLI::PositiveNumber);
    cmd->add_option("--chunks", params->n_chunks, "Calibration chunks for the sensitivity, -1 for all")
        ->capture_default_str();
    cmd->add_option("--eval-chunks", params->n_eval_chunks, "Evaluation chunks, -1 for all")
        ->capture_default_str();
    cmd->add_option("-t,--threads", params->n_threads, "CPU threads, 0 for all")->capture_default_str();
    cmd->add_flag("!--no-plot", params->plot, "Skip the gnuplot PNG and SVG");
    cmd->add_flag("--force", params->force, "Replace results already in the output folder");
    cmd->add_option("-o,--output", params->output_dir, "Folder for plans, table and plot")->required();

    cmd->callback([params, set_action] { set_action([params] { ramp::run_baselines(*params); }); });
}

const CommandRegistrar registrar(50, register_baselines);

}  // namespace

}  // namespace ramp_cli
