#pragma once
// Search checkpoint file: a header line, then three length-prefixed sections (JSON
// search state, replay buffer bytes, agent bytes). Written atomically (temporary
// file, then rename), so an interrupted write leaves the previous checkpoint intact.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace ramp {

// Version of the checkpoint layout; files with another version are rejected.
constexpr int kCheckpointVersion = 1;

struct CheckpointData {
    std::string fingerprint;  // environment identity (model, features, candidates, budget)
    uint64_t seed = 0;
    int episode = 0;       // episodes completed
    nlohmann::json state;  // search state: best plan, history, RNG, evaluation cache, parameters
    std::string replay_buffer;
    std::string agent;
};

void write_checkpoint(const std::filesystem::path & path, const CheckpointData & data);

// Fails when the file is missing, truncated or of another version.
CheckpointData read_checkpoint(const std::filesystem::path & path);

// Fail, naming both values, when the checkpoint was written for another environment
// or seed.
void check_checkpoint_matches(const CheckpointData & data, const std::string & fingerprint, uint64_t seed,
                              const std::filesystem::path & path);

}  // namespace ramp
