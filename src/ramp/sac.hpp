#pragma once
// Soft Actor-Critic agent (twin Q critics with Polyak-averaged targets, a
// tanh-squashed Gaussian actor, automatic entropy temperature) on LibTorch. This
// header is torch-free; the networks live behind a pointer to an implementation.
// All randomness the agent consumes at run time (action noise, batch noise) comes
// from the caller's std::mt19937_64, so a checkpointed generator resumes exactly.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "ramp/replay_buffer.hpp"

namespace ramp {

struct SacParams {
    int hidden_size = 256;   // units per hidden layer
    int hidden_layers = 2;   // ReLU hidden layers in actor and critics
    double actor_lr = 3e-4;  // Adam learning rates
    double critic_lr = 3e-4;
    double alpha_lr = 3e-4;
    int batch_size = 256;
    // Every transition already carries the whole episode's reward (the terminal
    // reward given to each step, as in HAQ), so Q(s, a) is the expected episode
    // reward. Bootstrapping would add that same reward once more per remaining step,
    // and the Q scale would grow with the distance to the episode end instead of
    // with plan quality. Hence 0: a per-step contextual bandit on the episode return.
    double gamma = 0.0;
    double tau = 0.005;  // Polyak factor of the target critics
    // Entropy temperature at the start. Scaled rewards differ by about 0.1 to 1
    // between plans, so 0.1 keeps the entropy bonus from drowning them. On the toy
    // environment 1.0 left the policy random for longer.
    double initial_alpha = 0.1;
    double target_entropy = -1.0;  // nats; -action size
    // Rewards are multiplied by this before learning, because episode rewards span
    // tens of units and past the cliff hundreds.
    double reward_scale = 0.1;
    double log_std_min = -20.0;  // clamp of the actor's log standard deviation
    double log_std_max = 2.0;
    int64_t replay_capacity = 100000;  // transitions
    bool single_thread = true;         // torch::set_num_threads(1), for bit-reproducible runs
};

nlohmann::json to_json(const SacParams & params);
SacParams sac_params_from_json(const nlohmann::json & value);

// Losses and temperature of one update.
struct UpdateStats {
    double critic_loss = 0.0;
    double actor_loss = 0.0;
    double alpha_loss = 0.0;
    double alpha = 0.0;
    double entropy = 0.0;  // mean -log pi of the sampled actions
};

class SacAgent {
  public:
    // Seeds torch with seed before building the networks, so initial weights are
    // reproducible.
    SacAgent(int observation_size, int action_size, const SacParams & params, uint64_t seed);
    ~SacAgent();
    SacAgent(SacAgent &&) noexcept;
    SacAgent & operator=(SacAgent &&) noexcept;

    // Action in [-1, 1]^action_size sampled from the policy, with Gaussian noise
    // drawn from rng.
    std::vector<float> sample_action(std::span<const float> observation, std::mt19937_64 & rng) const;
    // Deterministic action tanh(mean).
    std::vector<float> mean_action(std::span<const float> observation) const;

    // One gradient step on the critics, the actor and the temperature, then a
    // Polyak update of the targets. Noise for the sampled actions comes from rng.
    UpdateStats update(const TransitionBatch & batch, std::mt19937_64 & rng);

    // Behaviour cloning of a demonstration (a known good episode): `steps` full-batch
    // steps of the actor's optimiser that pull tanh(mean) towards actions and the
    // log standard deviation towards log(std), so that sampled actions explore
    // around the demonstration. observations contains one row of observation_size
    // per action row. Returns the mean squared action error after the last step.
    double clone_actions(std::span<const float> observations, std::span<const float> actions, int steps,
                         double std);

    // Self-imitation: every later update adds weight times the mean squared error
    // between tanh(mean) and actions on these observations to the actor's loss,
    // which keeps the policy near a demonstrated plan while the critics steer it.
    // Weight 0 turns it off. Not part of save_state: the caller derives the
    // demonstration from its own state and sets it again after a resume.
    void set_imitation(std::span<const float> observations, std::span<const float> actions, double weight);

    double alpha() const;
    int observation_size() const;
    int action_size() const;
    const SacParams & params() const;

    // Networks, targets, optimiser states, log alpha and torch's CPU generator
    // state, as bytes (a torch archive); load_state fails on other network sizes.
    std::string save_state() const;
    void load_state(const std::string & bytes);

    // All parameters of actor, critics and targets, then log alpha, in a fixed order
    // (for comparing two agents).
    std::vector<double> flat_parameters() const;

    // Write the actor alone to path (torch archive) and metadata as JSON to
    // policy_sidecar_path(path); the metadata gets the network sizes added.
    void export_policy(const std::filesystem::path & path, nlohmann::json metadata) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// path with ".json" appended: "policy.pt" -> "policy.pt.json".
std::filesystem::path policy_sidecar_path(const std::filesystem::path & path);

// An exported actor, applied deterministically (tanh of the mean).
class Policy {
  public:
    // Load the actor and its sidecar; fails when the sidecar is missing, or its
    // feature_schema_version or observation_size differ from expected ones.
    static Policy load(const std::filesystem::path & path, int expected_schema_version,
                       int expected_observation_size);
    ~Policy();
    Policy(Policy &&) noexcept;
    Policy & operator=(Policy &&) noexcept;

    std::vector<float> mean_action(std::span<const float> observation) const;
    const nlohmann::json & metadata() const;

  private:
    Policy();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ramp
