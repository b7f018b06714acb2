// `ramp search`: SAC search for the best plan under a budget; writes the plan.
#include <CLI/CLI.hpp>

#include "common/output.hpp"
#include "tools/ramp/commands.hpp"
#include "tools/ramp/search_options.hpp"

namespace ramp_cli {

namespace {

struct SearchCommand {
    SearchCli search;
    std::string output_path;
    bool force = false;
};

void run(SearchCommand & cli) {
    finish_search_options(cli.search, cli.force);
    rdt::check_output_path(cli.output_path, cli.force, "-o");
    const ramp::SearchJobResult result = ramp::run_search_job(cli.search.params, report_episode);
    ramp::write_plan(result.plan, cli.output_path);

    nlohmann::json summary = result.report;
    summary["plan"] = cli.output_path;
    summary["source"] = result.plan.source;
    summary["bpw"] = result.quality.bpw;
    summary["file_bytes"] = result.quality.file_bytes;
    summary["calibration_ppl"] = result.quality.ppl;
    summary["calibration_kl"] = result.quality.kl_mean;
    summary["baselines"] = result.baselines;
    rdt::emit_json(summary, "");
}

void register_search(CLI::App & app, const SetAction & set_action) {
    auto cli = std::make_shared<SearchCommand>();
    CLI::App * cmd = app.add_subcommand("search", "Search a plan with Soft Actor-Critic and write it as JSON");
    add_search_options(*cmd, cli->search);
    cmd->add_option("-o,--output", cli->output_path, "Plan file to write (JSON)")->required();
    cmd->add_flag("--force", cli->force, "Overwrite an existing plan file");
    cmd->callback([cli, set_action] { set_action([cli] { run(*cli); }); });
}

const CommandRegistrar registrar(60, register_search);

}  // namespace

}  // namespace ramp_cli
