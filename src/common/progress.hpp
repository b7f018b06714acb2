#pragma once
// Progress on stderr for long work: a redrawn bar on a terminal, plain lines
// otherwise (at most one per kPlainInterval), each with rate and ETA.

#include <chrono>
#include <cstdint>
#include <string>

namespace rdt {

class Progress {
  public:
    // label: what is counted ("chunks", "claims"); total: expected count (> 0).
    Progress(std::string label, int64_t total, bool enabled = true);
    ~Progress();
    Progress(const Progress &) = delete;
    Progress & operator=(const Progress &) = delete;

    // Report that done units are complete; note is shown after the counts.
    void update(int64_t done, const std::string & note = "");
    // Print the final line (called by the destructor when not called before).
    void finish(const std::string & note = "");

    double elapsed_seconds() const;

    // Globally silence all progress output (CLIs set it for --quiet, tests too).
    static void set_enabled(bool enabled);
    static bool enabled();

  private:
    void draw(bool final_line, const std::string & note);

    std::string label_;
    int64_t total_;
    int64_t done_ = 0;
    bool enabled_;
    bool terminal_;
    bool finished_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

// Format seconds as "1h02m", "3m05s" or "42s".
std::string format_duration(double seconds);

}  // namespace rdt
