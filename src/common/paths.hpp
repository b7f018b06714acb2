#pragma once
// Location of the shared data and models (the folder holding data/ and models/).
// Resolution order: the environment variable RDT_SHARED_DIR, then the CMake cache
// variable of the same name (default: ../shared beside the source tree).

#include <filesystem>
#include <string>

namespace rdt {

// Return the shared folder; it need not exist.
std::filesystem::path shared_dir();

// Return shared_dir() / relative.
std::filesystem::path shared_path(const std::string & relative);

}  // namespace rdt
