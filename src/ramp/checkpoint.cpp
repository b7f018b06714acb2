#include "ramp/checkpoint.hpp"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "common/error.hpp"
#include "common/output.hpp"

namespace ramp {

namespace {

// First line of every checkpoint file; the version follows it.
constexpr const char * kCheckpointMagic = "RAMP-SAC-CHECKPOINT";

void append_section(std::string & out, const std::string & section) {
    const uint64_t length = section.size();
    out.append(reinterpret_cast<const char *>(&length), sizeof(length));
    out.append(section);
}

std::string take_section(const std::string & bytes, size_t & offset, const std::filesystem::path & path,
                         const char * name) {
    uint64_t length = 0;
    if (offset + sizeof(length) > bytes.size()) {
        rdt::fail("checkpoint {} is truncated before its {} section; use an older checkpoint or start again",
                  path.string(), name);
    }
    std::memcpy(&length, bytes.data() + offset, sizeof(length));
    offset += sizeof(length);
    if (length > bytes.size() - offset) {
        rdt::fail("checkpoint {} is truncated inside its {} section ({} bytes missing)", path.string(), name,
                  length - (bytes.size() - offset));
    }
    std::string section = bytes.substr(offset, length);
    offset += length;
    return section;
}

}  // namespace

void write_checkpoint(const std::filesystem::path & path, const CheckpointData & data) {
    nlohmann::json header = data.state;
    header["fingerprint"] = data.fingerprint;
    header["seed"] = data.seed;
    header["episode"] = data.episode;

    std::string out = fmt::format("{} {}\n", kCheckpointMagic, kCheckpointVersion);
    append_section(out, header.dump());
    append_section(out, data.replay_buffer);
    append_section(out, data.agent);
    rdt::write_file_atomic(path, out);
}

CheckpointData read_checkpoint(const std::filesystem::path & path) {
    std::ifstream stream(path, std::ios::binary);
    if (!stream) {
        rdt::fail("checkpoint {} not found; check the path given to resume", path.string());
    }
    const std::string bytes((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());

    const std::string expected_line = fmt::format("{} {}\n", kCheckpointMagic, kCheckpointVersion);
    if (bytes.compare(0, expected_line.size(), expected_line) != 0) {
        const std::string first_line = bytes.substr(0, std::min<size_t>(bytes.find('\n'), 60));
        rdt::fail(
            "{} is not a version {} search checkpoint (first line \"{}\"); pass a checkpoint written by "
            "this version",
            path.string(), kCheckpointVersion, first_line);
    }

    size_t offset = expected_line.size();
    const std::string header_text = take_section(bytes, offset, path, "state");
    CheckpointData data;
    data.replay_buffer = take_section(bytes, offset, path, "replay buffer");
    data.agent = take_section(bytes, offset, path, "agent");
    if (offset != bytes.size()) {
        rdt::fail("checkpoint {} has {} unexpected trailing bytes; it is damaged", path.string(),
                  bytes.size() - offset);
    }

    try {
        data.state = nlohmann::json::parse(header_text);
        data.fingerprint = data.state.at("fingerprint").get<std::string>();
        data.seed = data.state.at("seed").get<uint64_t>();
        data.episode = data.state.at("episode").get<int>();
    } catch (const nlohmann::json::exception & error) {
        rdt::fail("checkpoint {} has an invalid state section: {}", path.string(), error.what());
    }
    return data;
}

void check_checkpoint_matches(const CheckpointData & data, const std::string & fingerprint, uint64_t seed,
                              const std::filesystem::path & path) {
    if (data.fingerprint != fingerprint) {
        rdt::fail(
            "checkpoint {} was written for \"{}\", but this search is for \"{}\"; resume with the same "
            "model, "
            "features, candidates and budget, or start a new search",
            path.string(), data.fingerprint, fingerprint);
    }
    if (data.seed != seed) {
        rdt::fail(
            "checkpoint {} was written with seed {}, but this search uses seed {}; pass seed {} to resume",
            path.string(), data.seed, seed, data.seed);
    }
}

}  // namespace ramp
