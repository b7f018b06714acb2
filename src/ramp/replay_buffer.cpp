#include "ramp/replay_buffer.hpp"

#include <algorithm>
#include <cstring>

#include "common/error.hpp"

namespace ramp {

namespace {

// First bytes of a serialized buffer, to reject foreign data early.
constexpr uint32_t kBufferMagic = 0x52504c42;  // "RPLB"

template <typename T>
void append_raw(std::string & out, const T & value) {
    out.append(reinterpret_cast<const char *>(&value), sizeof(T));
}

void append_floats(std::string & out, const std::vector<float> & values, int64_t count) {
    out.append(reinterpret_cast<const char *>(values.data()), static_cast<size_t>(count) * sizeof(float));
}

// Sequential reader over serialized bytes that fails on truncation.
class ByteReader {
  public:
    explicit ByteReader(const std::string & bytes) : bytes_(bytes) {}

    template <typename T>
    T read() {
        T value;
        take(&value, sizeof(T));
        return value;
    }

    void read_floats(std::vector<float> & values, int64_t count) {
        take(values.data(), static_cast<size_t>(count) * sizeof(float));
    }

    bool at_end() const { return offset_ == bytes_.size(); }

  private:
    void take(void * destination, size_t count) {
        if (offset_ + count > bytes_.size()) {
            rdt::fail("replay buffer data is truncated at byte {} of {}; the checkpoint is damaged", offset_,
                      bytes_.size());
        }
        std::memcpy(destination, bytes_.data() + offset_, count);
        offset_ += count;
    }

    const std::string & bytes_;
    size_t offset_ = 0;
};

}  // namespace

ReplayBuffer::ReplayBuffer(int observation_size, int action_size, int64_t capacity)
    : observation_size_(observation_size), action_size_(action_size), capacity_(capacity) {
    if (observation_size <= 0 || action_size <= 0 || capacity <= 0) {
        rdt::fail("replay buffer sizes must be positive, got observation {} action {} capacity {}",
                  observation_size, action_size, capacity);
    }
    observations_.resize(static_cast<size_t>(capacity * observation_size));
    next_observations_.resize(static_cast<size_t>(capacity * observation_size));
    actions_.resize(static_cast<size_t>(capacity * action_size));
    rewards_.resize(static_cast<size_t>(capacity));
    dones_.resize(static_cast<size_t>(capacity));
}

void ReplayBuffer::add(std::span<const float> observation, std::span<const float> action, float reward,
                       std::span<const float> next_observation, bool done) {
    if (std::ssize(observation) != observation_size_ || std::ssize(next_observation) != observation_size_ ||
        std::ssize(action) != action_size_) {
        rdt::fail("transition sizes observation {} next {} action {} do not match the buffer's {} and {}",
                  observation.size(), next_observation.size(), action.size(), observation_size_,
                  action_size_);
    }

    const int64_t slot = next_;
    std::copy(observation.begin(), observation.end(), observations_.begin() + slot * observation_size_);
    std::copy(next_observation.begin(), next_observation.end(),
              next_observations_.begin() + slot * observation_size_);
    std::copy(action.begin(), action.end(), actions_.begin() + slot * action_size_);
    rewards_[static_cast<size_t>(slot)] = reward;
    dones_[static_cast<size_t>(slot)] = done ? 1.0f : 0.0f;

    next_ = (next_ + 1) % capacity_;
    size_ = std::min(size_ + 1, capacity_);
}

TransitionBatch ReplayBuffer::sample(int batch_size, std::mt19937_64 & rng) const {
    if (size_ == 0) {
        rdt::fail("cannot sample from an empty replay buffer; run warm-up episodes first");
    }
    TransitionBatch batch;
    batch.size = batch_size;
    batch.observations.reserve(static_cast<size_t>(batch_size * observation_size_));
    batch.next_observations.reserve(static_cast<size_t>(batch_size * observation_size_));
    batch.actions.reserve(static_cast<size_t>(batch_size * action_size_));

    std::uniform_int_distribution<int64_t> pick(0, size_ - 1);
    for (int row = 0; row < batch_size; ++row) {
        const int64_t slot = pick(rng);
        const auto obs_begin = observations_.begin() + slot * observation_size_;
        batch.observations.insert(batch.observations.end(), obs_begin, obs_begin + observation_size_);
        const auto next_begin = next_observations_.begin() + slot * observation_size_;
        batch.next_observations.insert(batch.next_observations.end(), next_begin,
                                       next_begin + observation_size_);
        const auto action_begin = actions_.begin() + slot * action_size_;
        batch.actions.insert(batch.actions.end(), action_begin, action_begin + action_size_);
        batch.rewards.push_back(rewards_[static_cast<size_t>(slot)]);
        batch.dones.push_back(dones_[static_cast<size_t>(slot)]);
    }
    return batch;
}

std::string ReplayBuffer::serialize() const {
    std::string out;
    append_raw(out, kBufferMagic);
    append_raw(out, static_cast<int64_t>(observation_size_));
    append_raw(out, static_cast<int64_t>(action_size_));
    append_raw(out, capacity_);
    append_raw(out, size_);
    append_raw(out, next_);

    // Only the filled slots are stored; while not full they are the first size_ slots.
    const int64_t stored = size_;
    append_floats(out, observations_, stored * observation_size_);
    append_floats(out, next_observations_, stored * observation_size_);
    append_floats(out, actions_, stored * action_size_);
    append_floats(out, rewards_, stored);
    append_floats(out, dones_, stored);
    return out;
}

void ReplayBuffer::deserialize(const std::string & bytes) {
    ByteReader reader(bytes);
    if (reader.read<uint32_t>() != kBufferMagic) {
        rdt::fail(
            "replay buffer data has an unknown header; the checkpoint is damaged or from another program");
    }
    const auto observation_size = reader.read<int64_t>();
    const auto action_size = reader.read<int64_t>();
    const auto capacity = reader.read<int64_t>();
    if (observation_size != observation_size_ || action_size != action_size_ || capacity != capacity_) {
        rdt::fail(
            "replay buffer in the checkpoint has observation {} action {} capacity {}, expected {} {} {}; "
            "resume with the same search parameters",
            observation_size, action_size, capacity, observation_size_, action_size_, capacity_);
    }
    const auto size = reader.read<int64_t>();
    const auto next = reader.read<int64_t>();
    if (size < 0 || size > capacity || next < 0 || next >= capacity) {
        rdt::fail("replay buffer in the checkpoint has invalid fill {} / next slot {} for capacity {}", size,
                  next, capacity);
    }

    reader.read_floats(observations_, size * observation_size_);
    reader.read_floats(next_observations_, size * observation_size_);
    reader.read_floats(actions_, size * action_size_);
    reader.read_floats(rewards_, size);
    reader.read_floats(dones_, size);
    if (!reader.at_end()) {
        rdt::fail("replay buffer data has trailing bytes; the checkpoint is damaged");
    }
    size_ = size;
    next_ = next;
}

}  // namespace ramp
