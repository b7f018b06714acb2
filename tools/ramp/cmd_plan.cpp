// `ramp plan`: apply a trained policy zero-shot to a model (no episodes).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "common/output.hpp"
#include "ramp/plan_env.hpp"
#include "ramp/policy_plan.hpp"
#include "tools/ramp/commands.hpp"

namespace ramp_cli {

namespace {

struct PlanCommand {
    ramp::PolicyPlanParams params;
    std::string output_path;
    bool force = false;
};

void register_plan(CLI::App & app, const SetAction & set_action) {
    auto cli = std::make_shared<PlanCommand>();
    ramp::PolicyPlanParams & params = cli->params;
    CLI::App * cmd =
        app.add_subcommand("plan", "Apply a trained policy to a model zero-shot and write the plan (no search)");
    cmd->add_option("-m,--model", params.model_path, "Float model (GGUF)")->required();
    cmd->add_option("-f,--file", params.calibration_path, "UTF-8 calibration text for the features")->required();
    cmd->add_option("--policy", params.policy_path, "Policy from ramp search --save-policy; its action mapping comes with it")->required();
    cmd->add_option("--budget", params.budget_bpw, "Mean storage bits per weight over the decided matrices")
        ->required();
    cmd->add_option("-c,--ctx-size", params.n_ctx, "Tokens per calibration chunk; 0: 256 or the training context")
        ->capture_default_str();
    cmd->add_option("--chunks", params.n_chunks, "Calibration chunks for the features")->capture_default_str();
    cmd->add_option("-t,--threads", params.n_threads, "CPU threads, 0 for all")->capture_default_str();
    cmd->add_option("-o,--output", cli->output_path, "Plan file to write (JSON)")->required();
    cmd->add_flag("--force", cli->force, "Overwrite an existing plan file");

    cmd->callback([cli, set_action] {
        set_action([cli] {
            rdt::check_output_path(cli->output_path, cli->force, "-o");
            const ramp::Plan plan = ramp::plan_from_policy(cli->params);
            ramp::write_plan(plan, cli->output_path);
            rdt::emit_json({{"plan", cli->output_path},
                            {"source", plan.source},
                            {"bpw", plan.predicted.bpw},
                            {"file_bytes", plan.predicted.file_bytes}},
                           "");
        });
    });
}

const CommandRegistrar registrar(70, register_plan);

}  // namespace

}  // namespace ramp_cli
