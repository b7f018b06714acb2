#pragma once
// Result output: JSON to stdout or to a file, and whole-file writes that never
// leave a partial file behind (write to PATH.tmp, then rename).

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>

namespace rdt {

// Write content to path through a temporary file in the same folder, renamed on
// success. On any failure the temporary file is removed and rdt::Error thrown.
void write_file_atomic(const std::filesystem::path & path, const std::string & content);

// Call writer(temporary_path), then rename it to path; on any exception the
// temporary file is removed. For writers that need a file name (GGUF, gnuplot).
void write_via_temporary(const std::filesystem::path & path,
                         const std::function<void(const std::filesystem::path &)> & writer);

// Print JSON (indented) to stdout when path is empty or "-", else write it atomically.
void emit_json(const nlohmann::json & value, const std::string & path);

// Fail when path exists and overwriting was not allowed; fail when the folder is missing.
void check_output_path(const std::filesystem::path & path, bool force, const std::string & option_name);

// Fail when the folder of path is missing; the file itself may exist (a cache or a
// checkpoint that is read back). The message names option_name and path.
void check_output_folder(const std::filesystem::path & path, const std::string & option_name);

}  // namespace rdt
