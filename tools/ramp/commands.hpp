#pragma once
// Subcommands of the `ramp` CLI. Each register_* adds its subcommand to app and,
// when it is selected, hands the work to set_action (run after parsing).
#include <functional>

namespace CLI {
class App;
}

namespace ramp_cli {

using SetAction = std::function<void(std::function<void()>)>;

void register_eval(CLI::App & app, const SetAction & set_action);

}  // namespace ramp_cli
