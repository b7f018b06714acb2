#pragma once
// Run a built CLI in a shell for end-to-end tests and capture its exit status,
// stdout and stderr.

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/paths.hpp"

namespace rdt_test {

struct CommandResult {
    int status = -1;  // exit status, or -1 when the process did not exit normally
    std::string out;
    std::string err;
};

inline std::string read_whole(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// Folder for test outputs, created on first use.
inline std::filesystem::path test_tmp_dir() {
    const std::filesystem::path dir = RDT_TEST_TMP_DIR;
    std::filesystem::create_directories(dir);
    return dir;
}

// Run a shell command line (in a subshell, so that "a & b; wait" works) and
// capture its exit status, stdout and stderr.
inline CommandResult run_shell(const std::string & command_line) {
    static int counter = 0;
    const std::filesystem::path dir = test_tmp_dir();
    const std::string stem = "cmd-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    const std::filesystem::path out_path = dir / (stem + ".out");
    const std::filesystem::path err_path = dir / (stem + ".err");

    const std::string command =
        "( " + command_line + " ) >" + out_path.string() + " 2>" + err_path.string() + " </dev/null";
    const int raw = std::system(command.c_str());

    CommandResult result;
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    result.out = read_whole(out_path);
    result.err = read_whole(err_path);
    std::filesystem::remove(out_path);
    std::filesystem::remove(err_path);
    return result;
}

// Path of a built CLI.
inline std::string tool_path(const std::string & tool) { return std::string(RDT_BIN_DIR) + "/" + tool; }

// Run RDT_BIN_DIR/<tool> with arguments (a shell-quoted string).
inline CommandResult run_tool(const std::string & tool, const std::string & arguments) {
    return run_shell(tool_path(tool) + " " + arguments);
}

inline std::string shared(const std::string & relative) { return rdt::shared_path(relative).string(); }

}  // namespace rdt_test
