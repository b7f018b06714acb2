// ramp: mixed-precision post-training quantization of GGUF models.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <utility>
#include <vector>

#include "common/cli.hpp"
#include "tools/ramp/commands.hpp"

namespace ramp_cli {

namespace {

std::vector<std::pair<int, RegisterFn>> & registry() {
    static std::vector<std::pair<int, RegisterFn>> commands;
    return commands;
}

}  // namespace

CommandRegistrar::CommandRegistrar(int order, RegisterFn register_fn) { registry().emplace_back(order, register_fn); }

void register_all(CLI::App & app, const SetAction & set_action) {
    std::sort(registry().begin(), registry().end(),
              [](const auto & left, const auto & right) { return left.first < right.first; });
    for (const auto & [order, register_fn] : registry()) {
        register_fn(app, set_action);
    }
}

}  // namespace ramp_cli

int main(int argc, char ** argv) {
    CLI::App app{"ramp: choose a GGUF quant type per weight matrix under a bits-per-weight budget"};
    app.require_subcommand(1);
    app.fallthrough(true);  // global flags (-v, -q) may follow the subcommand
    rdt::GlobalFlags flags;
    rdt::add_global_flags(app, flags);

    std::function<void()> action;
    ramp_cli::register_all(app, [&action](std::function<void()> work) { action = std::move(work); });

    CLI11_PARSE(app, argc, argv);
    rdt::apply_global_flags(flags);
    return rdt::run_guarded(action);
}
