#pragma once
// Subcommands of the `ramp` CLI. Each cmd_*.cpp registers itself with a static
// CommandRegistrar; main() adds the subcommands in `order` and runs the action
// that the selected subcommand set while parsing.
#include <functional>

namespace CLI {
class App;
}

namespace ramp_cli {

// Hands the selected subcommand's work to main(), to run after parsing.
using SetAction = std::function<void(std::function<void()>)>;
using RegisterFn = void (*)(CLI::App & app, const SetAction & set_action);

struct CommandRegistrar {
    // order: position in the help listing (lower first).
    CommandRegistrar(int order, RegisterFn register_fn);
};

// Add every registered subcommand to app.
void register_all(CLI::App & app, const SetAction & set_action);

}  // namespace ramp_cli
