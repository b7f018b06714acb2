#pragma once
// Fixed-capacity ring buffer of transitions (s, a, r, s', done) for off-policy
// learning. Rows are stored flat in float32, the precision the networks train in.

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace ramp {

// A sampled mini-batch, row-major: observations [size x observation_size],
// actions [size x action_size], rewards [size], next_observations
// [size x observation_size], dones [size] (1 for the last step of an episode).
struct TransitionBatch {
    int size = 0;
    std::vector<float> observations;
    std::vector<float> actions;
    std::vector<float> rewards;
    std::vector<float> next_observations;
    std::vector<float> dones;
};

class ReplayBuffer {
  public:
    ReplayBuffer(int observation_size, int action_size, int64_t capacity);

    // Append one transition; once full, the oldest one is overwritten.
    void add(std::span<const float> observation, std::span<const float> action, float reward,
             std::span<const float> next_observation, bool done);

    // Draw batch_size transitions uniformly with replacement (fails when empty).
    TransitionBatch sample(int batch_size, std::mt19937_64 & rng) const;

    int64_t size() const { return size_; }
    int64_t capacity() const { return capacity_; }
    int observation_size() const { return observation_size_; }
    int action_size() const { return action_size_; }

    // Binary form for checkpoints (native byte order), and its reverse, which fails
    // when the sizes differ from this buffer's.
    std::string serialize() const;
    void deserialize(const std::string & bytes);

  private:
    int observation_size_;
    int action_size_;
    int64_t capacity_;
    int64_t size_ = 0;
    int64_t next_ = 0;  // slot the next transition is written to
    std::vector<float> observations_;
    std::vector<float> actions_;
    std::vector<float> rewards_;
    std::vector<float> next_observations_;
    std::vector<float> dones_;
};

}  // namespace ramp
