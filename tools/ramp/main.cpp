// ramp: mixed-precision post-training quantization of GGUF models.
#include <CLI/CLI.hpp>

#include "common/cli.hpp"
#include "tools/ramp/commands.hpp"

int main(int argc, char ** argv) {
    CLI::App app{"ramp: choose a GGUF quant type per weight matrix under a bits-per-weight budget"};
    app.require_subcommand(1);
    rdt::GlobalFlags flags;
    rdt::add_global_flags(app, flags);

    std::function<void()> action;
    const ramp_cli::SetAction set_action = [&action](std::function<void()> work) { action = std::move(work); };
    ramp_cli::register_eval(app, set_action);

    CLI11_PARSE(app, argc, argv);
    rdt::apply_global_flags(flags);
    return rdt::run_guarded(action);
}
