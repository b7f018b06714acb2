// `ramp quantize`: the main job. Float GGUF + calibration text + budget in,
// quantized GGUF + report out.
#include <CLI/CLI.hpp>

#include "common/output.hpp"
#include "ramp/quantize_job.hpp"
#include "tools/ramp/commands.hpp"
#include "tools/ramp/search_options.hpp"

namespace ramp_cli {

namespace {

struct QuantizeCommand {
    SearchCli search;
    ramp::QuantizeParams params;
    std::string report_path;
};

void register_quantize(CLI::App & app, const SetAction & set_action) {
    auto cli = std::make_shared<QuantizeCommand>();
    ramp::QuantizeParams & params = cli->params;
    CLI::App * cmd = app.add_subcommand(
        "quantize", "Quantize a float GGUF under a bits-per-weight budget: analyze, optional fold, SAC search, "
                    "export, report");
    add_search_options(*cmd, cli->search);
    cmd->add_option("-o,--output", params.output_path, "Quantized model to write (GGUF)")->required();
    cmd->add_flag("--force", params.force, "Overwrite existing output files");
    cmd->add_flag("--fold", params.fold, "Apply Scale Folding before the search");
    cmd->add_option("--alpha", params.fold_alpha, "Scale Folding strength in [0, 1]")->capture_default_str();
    cmd->add_flag("--alpha-search", params.fold_alpha_search, "Pick the folding strength per group by output error");
    cmd->add_option("--eval-text", params.eval_text_path, "UTF-8 text for the final perplexity and KL divergence");
    cmd->add_option("--eval-chunks", params.eval_chunks, "Evaluation chunks, -1 for all")->capture_default_str();
    cmd->add_option("--plan-out", params.plan_path, "Also write the chosen plan (JSON)");
    cmd->add_option("--plot", params.plot_path, "Plot of bits per matrix over depth (.png or .svg)");
    cmd->add_option("--report", cli->report_path, "Write the JSON report here instead of stdout");

    cmd->callback([cli, set_action] {
        set_action([cli] {
            finish_search_options(cli->search, cli->params.force);
            cli->params.search = cli->search.params;
            if (!cli->report_path.empty()) {
                rdt::check_output_path(cli->report_path, cli->params.force, "--report");
            }
            rdt::emit_json(ramp::run_quantize(cli->params, report_episode), cli->report_path);
        });
    });
}

const CommandRegistrar registrar(5, register_quantize);

}  // namespace

}  // namespace ramp_cli
