#pragma once
// SHA-256 (FIPS 180-4, computed by OpenSSL) of bytes and files, to record which calibration text
// produced a result.

#include <filesystem>
#include <string>
#include <string_view>

namespace ramp {

// Lower-case hex digest of bytes.
std::string sha256_hex(std::string_view bytes);

// Lower-case hex digest of a file's bytes; fails naming the path when unreadable.
std::string sha256_file_hex(const std::filesystem::path & path);

}  // namespace ramp
