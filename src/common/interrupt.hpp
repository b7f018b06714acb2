#pragma once
// Ctrl-C for the command-line tools outside the plan search, which has its own
// handler that writes a checkpoint. The first SIGINT sets a flag, and the next
// progress update turns it into an Interrupted exception. Destructors and the
// write-through-temporary helpers then remove unfinished files, and the tool
// exits with status 130. A second SIGINT exits at once.

#include "common/error.hpp"

namespace rdt {

// Exit status of a tool stopped by Ctrl-C (128 + SIGINT, as shells report it).
constexpr int kInterruptedExitStatus = 130;

class Interrupted : public Error {
  public:
    Interrupted();
};

// Install the SIGINT handler described above (idempotent).
void install_interrupt_handler();

// Throw Interrupted when a SIGINT arrived since the handler was installed.
void check_interrupt();

}  // namespace rdt
