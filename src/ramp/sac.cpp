#include "ramp/sac.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "common/output.hpp"
#include "ramp/sac_networks.hpp"

namespace ramp {

namespace sac_detail {

torch::nn::Sequential make_mlp(int in_size, int hidden_size, int hidden_layers, int out_size) {
    torch::nn::Sequential layers;
    int width = in_size;
    for (int i = 0; i < hidden_layers; ++i) {
        layers->push_back(torch::nn::Linear(width, hidden_size));
        layers->push_back(torch::nn::ReLU());
        width = hidden_size;
    }
    layers->push_back(torch::nn::Linear(width, out_size));
    return layers;
}

ActorImpl::ActorImpl(int observation_size, int action_size, int hidden_size, int hidden_layers,
                     double log_std_min, double log_std_max)
    : action_size(action_size), log_std_min(log_std_min), log_std_max(log_std_max) {
    body = register_module("body", make_mlp(observation_size, hidden_size, hidden_layers, 2 * action_size));
}

std::pair<torch::Tensor, torch::Tensor> ActorImpl::forward(const torch::Tensor & observations) {
    const torch::Tensor out = body->forward(observations);
    torch::Tensor mean = out.narrow(1, 0, action_size);
    torch::Tensor log_std = out.narrow(1, action_size, action_size).clamp(log_std_min, log_std_max);
    return {mean, log_std};
}

CriticImpl::CriticImpl(int observation_size, int action_size, int hidden_size, int hidden_layers) {
    body = register_module("body", make_mlp(observation_size + action_size, hidden_size, hidden_layers, 1));
}

torch::Tensor CriticImpl::forward(const torch::Tensor & observations, const torch::Tensor & actions) {
    return body->forward(torch::cat({observations, actions}, 1));
}

SquashedSample squash_sample(const torch::Tensor & mean, const torch::Tensor & log_std,
                             const torch::Tensor & noise) {
    const torch::Tensor pre_tanh = mean + log_std.exp() * noise;

    // Gaussian log-density of pre_tanh: -noise^2 / 2 - log_std - log(2 pi) / 2 per dimension.
    const double half_log_two_pi = 0.5 * std::log(2.0 * M_PI);
    const torch::Tensor gaussian = -0.5 * noise.pow(2) - log_std - half_log_two_pi;

    // log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), exact and finite for large |u|.
    const torch::Tensor log_jacobian =
        2.0 * (std::log(2.0) - pre_tanh - torch::nn::functional::softplus(-2.0 * pre_tanh));

    SquashedSample sample;
    sample.action = torch::tanh(pre_tanh);
    sample.log_prob = (gaussian - log_jacobian).sum(1, /*keepdim=*/true);
    return sample;
}

Networks::Networks(int observation_size, int action_size, const SacParams & params)
    : actor(observation_size, action_size, params.hidden_size, params.hidden_layers, params.log_std_min,
            params.log_std_max),
      q1(observation_size, action_size, params.hidden_size, params.hidden_layers),
      q2(observation_size, action_size, params.hidden_size, params.hidden_layers),
      q1_target(observation_size, action_size, params.hidden_size, params.hidden_layers),
      q2_target(observation_size, action_size, params.hidden_size, params.hidden_layers) {
    // Targets start as copies of the critics and are never trained directly.
    torch::NoGradGuard no_grad;
    const auto copy_into = [](Critic & target, const Critic & source) {
        auto target_params = target->parameters();
        auto source_params = source->parameters();
        for (size_t i = 0; i < target_params.size(); ++i) {
            target_params[i].copy_(source_params[i]);
            target_params[i].set_requires_grad(false);
        }
    };
    copy_into(q1_target, q1);
    copy_into(q2_target, q2);
    log_alpha = torch::full({}, std::log(params.initial_alpha), torch::kFloat32).set_requires_grad(true);
}

void Networks::to(torch::Dtype dtype) {
    actor->to(dtype);
    q1->to(dtype);
    q2->to(dtype);
    q1_target->to(dtype);
    q2_target->to(dtype);
    torch::NoGradGuard no_grad;
    log_alpha = log_alpha.detach().to(dtype).set_requires_grad(true);
}

torch::Tensor critic_loss(Networks & nets, const BatchTensors & batch, double alpha, double gamma,
                          double reward_scale, const torch::Tensor & noise) {
    torch::Tensor target;
    {
        torch::NoGradGuard no_grad;
        const auto [mean, log_std] = nets.actor->forward(batch.next_observations);
        const SquashedSample next = squash_sample(mean, log_std, noise);
        const torch::Tensor next_q =
            torch::min(nets.q1_target->forward(batch.next_observations, next.action),
                       nets.q2_target->forward(batch.next_observations, next.action));
        const torch::Tensor soft_value = next_q - alpha * next.log_prob;
        target = reward_scale * batch.rewards + gamma * (1.0 - batch.dones) * soft_value;
    }
    const torch::Tensor q1 = nets.q1->forward(batch.observations, batch.actions);
    const torch::Tensor q2 = nets.q2->forward(batch.observations, batch.actions);
    return torch::mse_loss(q1, target) + torch::mse_loss(q2, target);
}

std::pair<torch::Tensor, torch::Tensor> actor_loss(Networks & nets, const torch::Tensor & observations,
                                                   double alpha, const torch::Tensor & noise) {
    const auto [mean, log_std] = nets.actor->forward(observations);
    const SquashedSample sample = squash_sample(mean, log_std, noise);
    const torch::Tensor q = torch::min(nets.q1->forward(observations, sample.action),
                                       nets.q2->forward(observations, sample.action));
    return {(alpha * sample.log_prob - q).mean(), sample.log_prob};
}

}  // namespace sac_detail

namespace {

using sac_detail::Networks;

// Standard normal noise [rows, cols] from rng; a fresh distribution per call keeps
// the draws a function of the generator state alone.
torch::Tensor normal_noise(std::mt19937_64 & rng, int64_t rows, int64_t cols) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    torch::Tensor noise = torch::empty({rows, cols}, torch::kFloat32);
    float * data = noise.data_ptr<float>();
    for (int64_t i = 0; i < rows * cols; ++i) {
        data[i] = normal(rng);
    }
    return noise;
}

torch::Tensor tensor_from(std::span<const float> values, int64_t rows, int64_t cols) {
    if (static_cast<int64_t>(values.size()) != rows * cols) {
        rdt::fail("batch array has {} values, expected {} x {}", values.size(), rows, cols);
    }
    return torch::from_blob(const_cast<float *>(values.data()), {rows, cols}, torch::kFloat32).clone();
}

// Demonstrated actions as regression targets for tanh(mean), which cannot reach
// +-1 exactly: targets at the ends are pulled inside.
torch::Tensor action_targets(std::span<const float> actions, int64_t rows, int64_t cols) {
    constexpr double kActionLimit = 0.999;
    return tensor_from(actions, rows, cols).clamp(-kActionLimit, kActionLimit);
}

torch::Tensor observation_tensor(std::span<const float> observation, int observation_size) {
    if (std::ssize(observation) != observation_size) {
        rdt::fail("observation has {} values, the agent expects {}", observation.size(), observation_size);
    }
    return torch::from_blob(const_cast<float *>(observation.data()), {1, observation_size}, torch::kFloat32)
        .clone();
}

std::vector<float> to_vector(const torch::Tensor & tensor) {
    const torch::Tensor flat = tensor.contiguous().to(torch::kFloat32).view({-1});
    return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

std::string archive_to_bytes(torch::serialize::OutputArchive & archive) {
    std::ostringstream stream;
    archive.save_to(stream);
    return stream.str();
}

void write_scalar(torch::serialize::OutputArchive & archive, const std::string & key, int64_t value) {
    archive.write(key, torch::full({}, value, torch::kInt64));
}

int64_t read_scalar(torch::serialize::InputArchive & archive, const std::string & key) {
    torch::Tensor value;
    archive.read(key, value);
    return value.item<int64_t>();
}

}  // namespace

nlohmann::json to_json(const SacParams & params) {
    return {
        {"hidden_size", params.hidden_size},
        {"hidden_layers", params.hidden_layers},
        {"actor_lr", params.actor_lr},
        {"critic_lr", params.critic_lr},
        {"alpha_lr", params.alpha_lr},
        {"batch_size", params.batch_size},
        {"gamma", params.gamma},
        {"tau", params.tau},
        {"initial_alpha", params.initial_alpha},
        {"target_entropy", params.target_entropy},
        {"reward_scale", params.reward_scale},
        {"log_std_min", params.log_std_min},
        {"log_std_max", params.log_std_max},
        {"replay_capacity", params.replay_capacity},
        {"single_thread", params.single_thread},
    };
}

SacParams sac_params_from_json(const nlohmann::json & value) {
    SacParams params;
    params.hidden_size = value.at("hidden_size").get<int>();
    params.hidden_layers = value.at("hidden_layers").get<int>();
    params.actor_lr = value.at("actor_lr").get<double>();
    params.critic_lr = value.at("critic_lr").get<double>();
    params.alpha_lr = value.at("alpha_lr").get<double>();
    params.batch_size = value.at("batch_size").get<int>();
    params.gamma = value.at("gamma").get<double>();
    params.tau = value.at("tau").get<double>();
    params.initial_alpha = value.at("initial_alpha").get<double>();
    params.target_entropy = value.at("target_entropy").get<double>();
    params.reward_scale = value.at("reward_scale").get<double>();
    params.log_std_min = value.at("log_std_min").get<double>();
    params.log_std_max = value.at("log_std_max").get<double>();
    params.replay_capacity = value.at("replay_capacity").get<int64_t>();
    params.single_thread = value.at("single_thread").get<bool>();
    return params;
}

struct SacAgent::Impl {
    Impl(int observation_size, int action_size, const SacParams & params)
        : observation_size(observation_size),
          action_size(action_size),
          params(params),
          nets(observation_size, action_size, params),
          actor_optimizer(nets.actor->parameters(), torch::optim::AdamOptions(params.actor_lr)),
          critic_optimizer(critic_parameters(nets), torch::optim::AdamOptions(params.critic_lr)),
          alpha_optimizer(std::vector<torch::Tensor>{nets.log_alpha},
                          torch::optim::AdamOptions(params.alpha_lr)) {}

    static std::vector<torch::Tensor> critic_parameters(Networks & nets) {
        std::vector<torch::Tensor> parameters = nets.q1->parameters();
        for (const auto & parameter : nets.q2->parameters()) {
            parameters.push_back(parameter);
        }
        return parameters;
    }

    int observation_size;
    int action_size;
    SacParams params;
    Networks nets;
    torch::optim::Adam actor_optimizer;
    torch::optim::Adam critic_optimizer;
    torch::optim::Adam alpha_optimizer;
    // Self-imitation demonstration (set_imitation); undefined tensors when off.
    torch::Tensor imitation_inputs;
    torch::Tensor imitation_targets;
    double imitation_weight = 0.0;
};

namespace {

void check_params(const SacParams & params, int observation_size, int action_size) {
    if (observation_size <= 0 || action_size <= 0) {
        rdt::fail("SAC needs positive observation and action sizes, got {} and {}", observation_size,
                  action_size);
    }
    if (params.hidden_size <= 0 || params.hidden_layers <= 0 || params.batch_size <= 0) {
        rdt::fail("SAC hidden size {}, hidden layers {} and batch size {} must be positive",
                  params.hidden_size, params.hidden_layers, params.batch_size);
    }
    if (!(params.tau > 0.0 && params.tau <= 1.0) || !(params.gamma >= 0.0 && params.gamma <= 1.0)) {
        rdt::fail("SAC tau {} must be in (0, 1] and gamma {} in [0, 1]", params.tau, params.gamma);
    }
    if (!(params.initial_alpha > 0.0)) {
        rdt::fail("SAC initial alpha {} must be positive", params.initial_alpha);
    }
}

}  // namespace

SacAgent::SacAgent(int observation_size, int action_size, const SacParams & params, uint64_t seed) {
    check_params(params, observation_size, action_size);
    if (params.single_thread) {
        torch::set_num_threads(1);
    }
    torch::manual_seed(seed);
    impl_ = std::make_unique<Impl>(observation_size, action_size, params);
}

SacAgent::~SacAgent() = default;
SacAgent::SacAgent(SacAgent &&) noexcept = default;
SacAgent & SacAgent::operator=(SacAgent &&) noexcept = default;

std::vector<float> SacAgent::sample_action(std::span<const float> observation, std::mt19937_64 & rng) const {
    torch::NoGradGuard no_grad;
    const torch::Tensor input = observation_tensor(observation, impl_->observation_size);
    const auto [mean, log_std] = impl_->nets.actor->forward(input);
    const torch::Tensor noise = normal_noise(rng, 1, impl_->action_size);
    return to_vector(sac_detail::squash_sample(mean, log_std, noise).action);
}

std::vector<float> SacAgent::mean_action(std::span<const float> observation) const {
    torch::NoGradGuard no_grad;
    const torch::Tensor input = observation_tensor(observation, impl_->observation_size);
    return to_vector(torch::tanh(impl_->nets.actor->forward(input).first));
}

double SacAgent::clone_actions(std::span<const float> observations, std::span<const float> actions, int steps,
                               double std) {
    const int64_t rows = std::ssize(actions) / impl_->action_size;
    if (rows == 0 || std::ssize(actions) != rows * impl_->action_size ||
        std::ssize(observations) != rows * impl_->observation_size) {
        rdt::fail("behaviour cloning needs one observation of {} values per action of {}, got {} and {} values",
                  impl_->observation_size, impl_->action_size, observations.size(), actions.size());
    }
    if (steps < 0 || !(std > 0.0)) {
        rdt::fail("behaviour cloning steps {} must not be negative and std {} must be positive", steps, std);
    }
    const torch::Tensor inputs = tensor_from(observations, rows, impl_->observation_size);
    const torch::Tensor targets = action_targets(actions, rows, impl_->action_size);
    const double target_log_std = std::log(std);

    double error = 0.0;
    for (int step = 0; step < steps; ++step) {
        impl_->actor_optimizer.zero_grad();
        const auto [mean, log_std] = impl_->nets.actor->forward(inputs);
        const torch::Tensor action_error = (torch::tanh(mean) - targets).pow(2).mean();
        const torch::Tensor loss = action_error + (log_std - target_log_std).pow(2).mean();
        loss.backward();
        impl_->actor_optimizer.step();
        error = action_error.item<double>();
    }
    return error;
}

void SacAgent::set_imitation(std::span<const float> observations, std::span<const float> actions,
                             double weight) {
    const int64_t rows = std::ssize(actions) / impl_->action_size;
    if (!std::isfinite(weight) || weight < 0.0) {
        rdt::fail("self-imitation weight {} must be finite and not negative", weight);
    }
    if (weight == 0.0 || rows == 0) {
        impl_->imitation_inputs = torch::Tensor();
        impl_->imitation_targets = torch::Tensor();
        impl_->imitation_weight = 0.0;
        return;
    }
    if (std::ssize(actions) != rows * impl_->action_size || std::ssize(observations) != rows * impl_->observation_size) {
        rdt::fail("self-imitation needs one observation of {} values per action of {}, got {} and {} values",
                  impl_->observation_size, impl_->action_size, observations.size(), actions.size());
    }
    impl_->imitation_inputs = tensor_from(observations, rows, impl_->observation_size);
    impl_->imitation_targets = action_targets(actions, rows, impl_->action_size);
    impl_->imitation_weight = weight;
}

UpdateStats SacAgent::update(const TransitionBatch & batch, std::mt19937_64 & rng) {
    auto & nets = impl_->nets;
    const auto & params = impl_->params;
    const int64_t rows = batch.size;

    sac_detail::BatchTensors tensors;
    tensors.observations = tensor_from(batch.observations, rows, impl_->observation_size);
    tensors.actions = tensor_from(batch.actions, rows, impl_->action_size);
    tensors.rewards = tensor_from(batch.rewards, rows, 1);
    tensors.next_observations = tensor_from(batch.next_observations, rows, impl_->observation_size);
    tensors.dones = tensor_from(batch.dones, rows, 1);
    const double alpha = nets.log_alpha.exp().item<double>();

    // Critics: one step on the soft Bellman error.
    const torch::Tensor next_noise = normal_noise(rng, rows, impl_->action_size);
    impl_->critic_optimizer.zero_grad();
    const torch::Tensor critic =
        sac_detail::critic_loss(nets, tensors, alpha, params.gamma, params.reward_scale, next_noise);
    critic.backward();
    impl_->critic_optimizer.step();

    // Actor: maximise min Q - alpha log pi through the reparameterised sample.
    const torch::Tensor noise = normal_noise(rng, rows, impl_->action_size);
    impl_->actor_optimizer.zero_grad();
    auto [actor, log_prob] = sac_detail::actor_loss(nets, tensors.observations, alpha, noise);
    if (impl_->imitation_weight > 0.0) {
        const torch::Tensor imitated = torch::tanh(nets.actor->forward(impl_->imitation_inputs).first);
        actor = actor + impl_->imitation_weight * (imitated - impl_->imitation_targets).pow(2).mean();
    }
    actor.backward();
    impl_->actor_optimizer.step();

    // Temperature: move the policy entropy towards the target entropy.
    impl_->alpha_optimizer.zero_grad();
    const torch::Tensor alpha_loss = -(nets.log_alpha * (log_prob.detach() + params.target_entropy)).mean();
    alpha_loss.backward();
    impl_->alpha_optimizer.step();

    // Targets: Polyak averaging.
    {
        torch::NoGradGuard no_grad;
        const auto blend = [&](sac_detail::Critic & target, const sac_detail::Critic & source) {
            auto target_params = target->parameters();
            auto source_params = source->parameters();
            for (size_t i = 0; i < target_params.size(); ++i) {
                target_params[i].mul_(1.0 - params.tau).add_(source_params[i], params.tau);
            }
        };
        blend(nets.q1_target, nets.q1);
        blend(nets.q2_target, nets.q2);
    }

    UpdateStats stats;
    stats.critic_loss = critic.item<double>();
    stats.actor_loss = actor.item<double>();
    stats.alpha_loss = alpha_loss.item<double>();
    stats.alpha = nets.log_alpha.exp().item<double>();
    stats.entropy = -log_prob.mean().item<double>();
    return stats;
}

double SacAgent::alpha() const {
    return impl_->nets.log_alpha.exp().item<double>();
}
int SacAgent::observation_size() const {
    return impl_->observation_size;
}
int SacAgent::action_size() const {
    return impl_->action_size;
}
const SacParams & SacAgent::params() const {
    return impl_->params;
}

std::string SacAgent::save_state() const {
    auto & nets = impl_->nets;
    torch::serialize::OutputArchive archive;
    write_scalar(archive, "observation_size", impl_->observation_size);
    write_scalar(archive, "action_size", impl_->action_size);
    write_scalar(archive, "hidden_size", impl_->params.hidden_size);
    write_scalar(archive, "hidden_layers", impl_->params.hidden_layers);

    const auto add_module = [&](const std::string & key, const torch::nn::Module & module) {
        torch::serialize::OutputArchive sub;
        module.save(sub);
        archive.write(key, sub);
    };
    add_module("actor", *nets.actor);
    add_module("q1", *nets.q1);
    add_module("q2", *nets.q2);
    add_module("q1_target", *nets.q1_target);
    add_module("q2_target", *nets.q2_target);

    const auto add_optimizer = [&](const std::string & key, const torch::optim::Optimizer & optimizer) {
        torch::serialize::OutputArchive sub;
        optimizer.save(sub);
        archive.write(key, sub);
    };
    add_optimizer("actor_optimizer", impl_->actor_optimizer);
    add_optimizer("critic_optimizer", impl_->critic_optimizer);
    add_optimizer("alpha_optimizer", impl_->alpha_optimizer);

    archive.write("log_alpha", nets.log_alpha.detach());
    archive.write("torch_rng_state", at::detail::getDefaultCPUGenerator().get_state());
    return archive_to_bytes(archive);
}

void SacAgent::load_state(const std::string & bytes) {
    auto & nets = impl_->nets;
    torch::serialize::InputArchive archive;
    std::istringstream stream(bytes);
    archive.load_from(stream);

    const int64_t observation_size = read_scalar(archive, "observation_size");
    const int64_t action_size = read_scalar(archive, "action_size");
    const int64_t hidden_size = read_scalar(archive, "hidden_size");
    const int64_t hidden_layers = read_scalar(archive, "hidden_layers");
    if (observation_size != impl_->observation_size || action_size != impl_->action_size ||
        hidden_size != impl_->params.hidden_size || hidden_layers != impl_->params.hidden_layers) {
        rdt::fail(
            "saved agent has observation {} action {} hidden {} x {}, this agent {} {} {} x {}; resume with "
            "the same SAC parameters",
            observation_size, action_size, hidden_layers, hidden_size, impl_->observation_size,
            impl_->action_size, impl_->params.hidden_layers, impl_->params.hidden_size);
    }

    const auto read_module = [&](const std::string & key, torch::nn::Module & module) {
        torch::serialize::InputArchive sub;
        archive.read(key, sub);
        module.load(sub);
    };
    read_module("actor", *nets.actor);
    read_module("q1", *nets.q1);
    read_module("q2", *nets.q2);
    read_module("q1_target", *nets.q1_target);
    read_module("q2_target", *nets.q2_target);

    const auto read_optimizer = [&](const std::string & key, torch::optim::Optimizer & optimizer) {
        torch::serialize::InputArchive sub;
        archive.read(key, sub);
        optimizer.load(sub);
    };
    read_optimizer("actor_optimizer", impl_->actor_optimizer);
    read_optimizer("critic_optimizer", impl_->critic_optimizer);
    read_optimizer("alpha_optimizer", impl_->alpha_optimizer);

    torch::Tensor log_alpha;
    archive.read("log_alpha", log_alpha);
    {
        torch::NoGradGuard no_grad;
        nets.log_alpha.copy_(log_alpha);
    }
    torch::Tensor rng_state;
    archive.read("torch_rng_state", rng_state);
    at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle sharing the global state
    generator.set_state(rng_state);
}

std::vector<double> SacAgent::flat_parameters() const {
    auto & nets = impl_->nets;
    std::vector<double> values;
    const auto append = [&](const std::vector<torch::Tensor> & parameters) {
        for (const auto & parameter : parameters) {
            const torch::Tensor flat = parameter.detach().contiguous().to(torch::kFloat64).view({-1});
            values.insert(values.end(), flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
        }
    };
    append(nets.actor->parameters());
    append(nets.q1->parameters());
    append(nets.q2->parameters());
    append(nets.q1_target->parameters());
    append(nets.q2_target->parameters());
    append({nets.log_alpha});
    return values;
}

std::filesystem::path policy_sidecar_path(const std::filesystem::path & path) {
    std::filesystem::path sidecar = path;
    sidecar += ".json";
    return sidecar;
}

void SacAgent::export_policy(const std::filesystem::path & path, nlohmann::json metadata) const {
    metadata["observation_size"] = impl_->observation_size;
    metadata["action_size"] = impl_->action_size;
    metadata["hidden_size"] = impl_->params.hidden_size;
    metadata["hidden_layers"] = impl_->params.hidden_layers;
    metadata["log_std_min"] = impl_->params.log_std_min;
    metadata["log_std_max"] = impl_->params.log_std_max;

    torch::serialize::OutputArchive archive;
    impl_->nets.actor->save(archive);
    const std::string bytes = archive_to_bytes(archive);
    rdt::write_file_atomic(path, bytes);
    rdt::write_file_atomic(policy_sidecar_path(path), metadata.dump(2) + "\n");
}

struct Policy::Impl {
    nlohmann::json metadata;
    sac_detail::Actor actor{nullptr};
    int observation_size = 0;
};

Policy::Policy() : impl_(std::make_unique<Impl>()) {}
Policy::~Policy() = default;
Policy::Policy(Policy &&) noexcept = default;
Policy & Policy::operator=(Policy &&) noexcept = default;

Policy Policy::load(const std::filesystem::path & path, int expected_schema_version,
                    int expected_observation_size) {
    const std::filesystem::path sidecar = policy_sidecar_path(path);
    std::ifstream sidecar_stream(sidecar);
    if (!sidecar_stream) {
        rdt::fail("policy metadata {} not found; train and save the policy with ramp search --save-policy {}, "
                  "which writes both files",
                  sidecar.string(), path.string());
    }
    Policy policy;
    try {
        policy.impl_->metadata = nlohmann::json::parse(sidecar_stream);
    } catch (const nlohmann::json::exception & error) {
        rdt::fail("policy metadata {} is not valid JSON: {}", sidecar.string(), error.what());
    }
    const auto & metadata = policy.impl_->metadata;

    const int schema_version = metadata.value("feature_schema_version", -1);
    if (schema_version != expected_schema_version) {
        rdt::fail(
            "policy {} was trained on feature schema version {}, this program computes version {}; train "
            "a new policy on this version",
            path.string(), schema_version, expected_schema_version);
    }
    const int observation_size = metadata.value("observation_size", -1);
    if (observation_size != expected_observation_size) {
        rdt::fail("policy {} expects {} observation values, this program gives {}; train a new policy",
                  path.string(), observation_size, expected_observation_size);
    }

    try {
        policy.impl_->actor = sac_detail::Actor(
            observation_size, metadata.at("action_size").get<int>(), metadata.at("hidden_size").get<int>(),
            metadata.at("hidden_layers").get<int>(), metadata.at("log_std_min").get<double>(),
            metadata.at("log_std_max").get<double>());
        torch::serialize::InputArchive archive;
        archive.load_from(path.string());
        policy.impl_->actor->load(archive);
    } catch (const nlohmann::json::exception & error) {
        rdt::fail("policy metadata {} lacks a network size field: {}", sidecar.string(), error.what());
    } catch (const c10::Error & error) {
        rdt::fail("policy {} could not be read as a torch archive of the actor ({}); the file is damaged or not "
                  "a policy, so save it again with ramp search --save-policy",
                  path.string(), error.what_without_backtrace());
    }
    policy.impl_->observation_size = observation_size;
    return policy;
}

std::vector<float> Policy::mean_action(std::span<const float> observation) const {
    torch::NoGradGuard no_grad;
    const torch::Tensor input = observation_tensor(observation, impl_->observation_size);
    return to_vector(torch::tanh(impl_->actor->forward(input).first));
}

const nlohmann::json & Policy::metadata() const {
    return impl_->metadata;
}

}  // namespace ramp
