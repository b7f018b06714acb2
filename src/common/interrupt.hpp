#pragma once
// Ctrl-C for the command-line tools outside the plan search, which has its own
// handler that writes a checkpoint. The first SIGINT sets a flag, and the next
// progress update turns it into an Interrupted exception. Destructors and the
// write-through-temporary helpers then remove unfinished files, and the tool
// exits with status 130. A second SIGINT exits at once.

#include <stdexcept>
#include <string>

namespace rdt {

// Exit status of a tool stopped by Ctrl-C (128 + SIGINT, as shells report it).
constexpr int kInterruptedExitStatus = 130;

// Not an rdt::Error on purpose. Code that skips a failed item and goes on (a
// recipe that does not apply, a claim that cannot be scored) catches rdt::Error
// and must not swallow Ctrl-C.
class Interrupted : public std::runtime_error {
  public:
    Interrupted();
    explicit Interrupted(const std::string & message) : std::runtime_error(message) {}
};

// Install the SIGINT handler described above (idempotent).
void install_interrupt_handler();

// Throw Interrupted when a SIGINT arrived since the handler was installed.
void check_interrupt();

}  // namespace rdt
