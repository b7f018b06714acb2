#include "common/output.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/error.hpp"

namespace rdt {

namespace {

std::filesystem::path temporary_for(const std::filesystem::path & path) {
    return path.string() + fmt::format(".{}.tmp", static_cast<long>(getpid()));
}

}  // namespace

void write_via_temporary(const std::filesystem::path & path,
                         const std::function<void(const std::filesystem::path &)> & writer) {
    const std::filesystem::path temporary = temporary_for(path);
    try {
        writer(temporary);
        std::error_code error;
        std::filesystem::rename(temporary, path, error);
        if (error) {
            fail("cannot rename '{}' to '{}': {}", temporary.string(), path.string(), error.message());
        }
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw;
    }
}

void write_file_atomic(const std::filesystem::path & path, const std::string & content) {
    write_via_temporary(path, [&](const std::filesystem::path & temporary) {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) {
            fail("cannot open '{}' for writing; check that the folder exists and is writable", temporary.string());
        }
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        out.flush();
        if (!out) {
            fail("writing '{}' failed (disk full?)", temporary.string());
        }
    });
}

void emit_json(const nlohmann::json & value, const std::string & path) {
    const std::string text = value.dump(2) + "\n";
    if (path.empty() || path == "-") {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return;
    }
    write_file_atomic(path, text);
}

void check_output_path(const std::filesystem::path & path, bool force, const std::string & option_name) {
    std::error_code error;
    if (std::filesystem::exists(path, error) && !force) {
        fail("output file '{}' already exists; pass --force to overwrite it or choose another {}", path.string(),
             option_name);
    }
    check_output_folder(path, option_name);
}

void check_output_folder(const std::filesystem::path & path, const std::string & option_name) {
    std::error_code error;
    const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
    if (!std::filesystem::is_directory(folder, error)) {
        fail("folder '{}' of {} file '{}' does not exist; create it first", folder.string(), option_name,
             path.string());
    }
}

}  // namespace rdt
