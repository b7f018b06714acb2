#include "ramp/sha256.hpp"

#include <openssl/evp.h>

#include <array>

#include "common/error.hpp"
#include "common/text.hpp"

namespace ramp {

std::string sha256_hex(std::string_view bytes) {
    // OpenSSL's one-shot digest; SHA-256 always yields 32 bytes.
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
        rdt::fail("OpenSSL failed to compute a SHA-256 digest of {} bytes", bytes.size());
    }

    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0xf];
    }
    return hex;
}

std::string sha256_file_hex(const std::filesystem::path & path) {
    return sha256_hex(rdt::read_file_bytes(path));
}

}  // namespace ramp
