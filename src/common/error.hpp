#pragma once
// Error type of the whole toolkit. Messages name the offending value and the fix,
// for example: "context size 4096 is larger than the model's training context 256;
// pass -c 256 or less". CLIs print what() and exit with status 1.

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace rdt {

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string & message) : std::runtime_error(message) {}
};

// Throw rdt::Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args &&... args) {
    throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace rdt
