#include "common/cli.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/log.hpp"
#include "common/progress.hpp"

namespace rdt {

void add_global_flags(CLI::App & app, GlobalFlags & flags) {
    app.add_flag("-v,--verbose", flags.verbose, "Show debug logs, including llama.cpp's own messages");
    app.add_flag("-q,--quiet", flags.quiet, "Hide progress output on stderr");
}

void apply_global_flags(const GlobalFlags & flags) {
    static bool logging_ready = false;
    if (!logging_ready) {
        init_logging(flags.verbose);
        logging_ready = true;
    }
    Progress::set_enabled(!flags.quiet);
}

int run_guarded(const std::function<void()> & body) {
    install_interrupt_handler();
    try {
        body();
        return 0;
    } catch (const Interrupted & error) {
        std::fprintf(stderr, "error: %s\n", error.what());
        return kInterruptedExitStatus;
    } catch (const Error & error) {
        std::fprintf(stderr, "error: %s\n", error.what());
    } catch (const std::exception & error) {
        std::fprintf(stderr, "error: unexpected failure: %s\n", error.what());
    }
    return 1;
}

}  // namespace rdt
