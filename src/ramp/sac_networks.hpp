#pragma once
// LibTorch networks and losses of the SAC agent. Internal: included by sac.cpp and
// the gradient tests only, so that other files do not pay for the torch headers.
// Shapes: observations [B, O], actions [B, A], rewards and dones [B, 1].

#include <torch/torch.h>

#include "ramp/sac.hpp"

namespace ramp::sac_detail {

// Linear-ReLU stack: in -> hidden (x layers) -> out.
torch::nn::Sequential make_mlp(int in_size, int hidden_size, int hidden_layers, int out_size);

struct ActorImpl : torch::nn::Module {
    ActorImpl(int observation_size, int action_size, int hidden_size, int hidden_layers, double log_std_min,
              double log_std_max);
    // Mean and clamped log standard deviation of the pre-tanh Gaussian, each [B, A].
    std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor & observations);

    torch::nn::Sequential body{nullptr};
    int action_size;
    double log_std_min;
    double log_std_max;
};
TORCH_MODULE(Actor);

struct CriticImpl : torch::nn::Module {
    CriticImpl(int observation_size, int action_size, int hidden_size, int hidden_layers);
    // Q(s, a) of shape [B, 1].
    torch::Tensor forward(const torch::Tensor & observations, const torch::Tensor & actions);

    torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(Critic);

// A tanh-squashed Gaussian sample: action = tanh(mean + std * noise) [B, A], and its
// log-density summed over action dimensions [B, 1], including the tanh correction
// -sum log(1 - tanh(u)^2), computed as -sum 2 (log 2 - u - softplus(-2u)) for
// stability at large |u|.
struct SquashedSample {
    torch::Tensor action;
    torch::Tensor log_prob;
};
SquashedSample squash_sample(const torch::Tensor & mean, const torch::Tensor & log_std,
                             const torch::Tensor & noise);

struct Networks {
    Networks(int observation_size, int action_size, const SacParams & params);
    // Cast every network and log alpha to dtype (the gradient tests use float64).
    void to(torch::Dtype dtype);

    Actor actor;
    Critic q1, q2, q1_target, q2_target;
    torch::Tensor log_alpha;  // scalar, requires grad
};

// Batch tensors built from a TransitionBatch, in the networks' dtype.
struct BatchTensors {
    torch::Tensor observations, actions, rewards, next_observations, dones;
};

// Mean squared Bellman error of both critics against the soft target
// reward_scale r + gamma (1 - done) (min Q_target(s', a') - alpha log pi(a'|s')),
// with a' from next_noise ([B, A]); the target carries no gradient.
torch::Tensor critic_loss(Networks & nets, const BatchTensors & batch, double alpha, double gamma,
                          double reward_scale, const torch::Tensor & noise);

// Actor loss mean(alpha log pi(a|s) - min Q(s, a)) with a from noise ([B, A]); also
// returns the log-probabilities (for the temperature loss).
std::pair<torch::Tensor, torch::Tensor> actor_loss(Networks & nets, const torch::Tensor & observations,
                                                   double alpha, const torch::Tensor & noise);

}  // namespace ramp::sac_detail
