#pragma once
// Shared behaviour of the command-line tools: common flags, logging set-up and
// the error policy (rdt::Error and other exceptions print "error: ..." on stderr
// and exit with status 1; CLI11 usage errors exit with CLI11's non-zero code).

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace rdt {

struct GlobalFlags {
    bool verbose = false;  // debug logs, llama.cpp's included
    bool quiet = false;    // no progress output
};

// Add --verbose and --quiet to app.
void add_global_flags(CLI::App & app, GlobalFlags & flags);

// Apply flags: logging level and progress output.
void apply_global_flags(const GlobalFlags & flags);

// Run body with the Ctrl-C handler of common/interrupt.hpp installed, mapping
// exceptions to an error line and exit status 1 (130 after Ctrl-C).
int run_guarded(const std::function<void()> & body);

}  // namespace rdt
