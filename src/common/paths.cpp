#include "common/paths.hpp"

#include <cstdlib>

namespace rdt {

std::filesystem::path shared_dir() {
    const char * from_env = std::getenv("RDT_SHARED_DIR");
    if (from_env != nullptr && from_env[0] != '\0') {
        return std::filesystem::path(from_env);
    }
    return std::filesystem::path(RDT_SHARED_DIR_DEFAULT);
}

std::filesystem::path shared_path(const std::string & relative) {
    return shared_dir() / relative;
}

}  // namespace rdt
