#include "common/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "common/interrupt.hpp"

namespace rdt {

namespace {

constexpr int kBarWidth = 30;
// Plain (non-terminal) output is for log files: one line per 5 s keeps them short.
constexpr std::chrono::seconds kPlainInterval{5};
// Terminal redraws are throttled so that fast loops do not flood the terminal.
constexpr std::chrono::milliseconds kTerminalInterval{100};

std::atomic<bool> & global_enabled() {
    static std::atomic<bool> enabled{true};
    return enabled;
}

}  // namespace

std::string format_duration(double seconds) {
    if (seconds < 0 || seconds != seconds) {
        return "?";
    }
    const auto total = static_cast<int64_t>(seconds + 0.5);
    if (total >= 3600) {
        return fmt::format("{}h{:02d}m", total / 3600, (total % 3600) / 60);
    }
    if (total >= 60) {
        return fmt::format("{}m{:02d}s", total / 60, total % 60);
    }
    return fmt::format("{}s", total);
}

void Progress::set_enabled(bool enabled) { global_enabled() = enabled; }

bool Progress::enabled() { return global_enabled(); }

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      enabled_(enabled && global_enabled()),
      terminal_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
    if (!finished_) {
        finish();
    }
}

double Progress::elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(int64_t done, const std::string & note) {
    check_interrupt();  // long loops report progress, so Ctrl-C is noticed here
    done_ = done;
    if (!enabled_) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    const auto interval = terminal_ ? std::chrono::duration_cast<std::chrono::milliseconds>(kTerminalInterval)
                                    : std::chrono::duration_cast<std::chrono::milliseconds>(kPlainInterval);
    // The last unit is left to finish(), which prints the closing line once.
    if (now - last_draw_ < interval || done_ >= total_) {
        return;
    }
    last_draw_ = now;
    draw(false, note);
}

void Progress::finish(const std::string & note) {
    if (finished_) {
        return;
    }
    finished_ = true;
    if (enabled_) {
        draw(true, note);
    }
}

void Progress::draw(bool final_line, const std::string & note) {
    const double elapsed = elapsed_seconds();
    const double fraction = static_cast<double>(done_) / static_cast<double>(total_);
    const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : -1.0;

    std::string timing = final_line ? fmt::format("done in {}", format_duration(elapsed))
                                    : fmt::format("{:.2f} {}/s, ETA {}", rate, label_, format_duration(eta));
    std::string suffix = note.empty() ? "" : "  " + note;

    if (terminal_) {
        const int filled = static_cast<int>(fraction * kBarWidth);
        std::string bar(static_cast<size_t>(std::clamp(filled, 0, kBarWidth)), '#');
        bar.resize(kBarWidth, '.');
        fmt::print(stderr, "\r\033[K[{}] {}/{} {}  {}{}", bar, done_, total_, label_, timing, suffix);
        if (final_line) {
            fmt::print(stderr, "\n");
        }
    } else {
        fmt::print(stderr, "{}/{} {} ({:.0f}%)  {}{}\n", done_, total_, label_, 100.0 * fraction, timing, suffix);
    }
    std::fflush(stderr);
}

}  // namespace rdt
