#include "common/interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace rdt {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
    if (g_interrupted.exchange(true)) {
        _exit(kInterruptedExitStatus);  // a second Ctrl-C stops at once, without cleanup
    }
}

}  // namespace

Interrupted::Interrupted()
    : std::runtime_error("interrupted by Ctrl-C; unfinished output files were removed (press Ctrl-C twice to stop at once)") {}

void install_interrupt_handler() {
    std::signal(SIGINT, on_interrupt);
}

void check_interrupt() {
    if (g_interrupted.load()) {
        throw Interrupted();
    }
}

}  // namespace rdt
