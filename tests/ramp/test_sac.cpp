// Tests for ramp/sac: gradients of the critic and actor losses against central
// finite differences in float64, the tanh-squashed log-density against a direct
// computation, agent state round trips, and policy export.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "ramp/sac.hpp"
#include "ramp/sac_networks.hpp"

namespace {

namespace fs = std::filesystem;
using ramp::sac_detail::Networks;

// Central-difference step in float64: truncation error ~h^2, rounding ~eps / h.
constexpr double kFiniteDifferenceStep = 1e-6;
// Relative gap allowed between autograd and finite differences in float64.
constexpr double kGradientRelativeTolerance = 1e-5;
// Absolute floor for gradients near zero (rounding of the loss ~1e-16 / h).
constexpr double kGradientAbsoluteTolerance = 1e-8;
// Direct and stable log-density formulas agree to float64 rounding for |u| < 5.
constexpr double kLogProbTolerance = 1e-9;
// Exported and in-memory actors run the same float32 arithmetic.
constexpr float kPolicyTolerance = 0.0f;

constexpr int kObservationSize = 5;
constexpr int kBatchRows = 6;

fs::path fresh_test_dir() {
#ifdef RDT_TEST_TMP_DIR
    const fs::path base = RDT_TEST_TMP_DIR;
#else
    const fs::path base = fs::temp_directory_path();
#endif
    const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir = base / "ramp_sac" / (std::string(info->test_suite_name()) + "." + info->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

ramp::SacParams small_params() {
    ramp::SacParams params;
    params.hidden_size = 8;
    params.batch_size = kBatchRows;
    return params;
}

// Float64 networks with small hidden layers.
Networks make_double_networks() {
    torch::manual_seed(11);
    Networks nets(kObservationSize, 1, small_params());
    nets.to(torch::kFloat64);
    return nets;
}

ramp::sac_detail::BatchTensors make_double_batch() {
    torch::manual_seed(12);
    const auto options = torch::TensorOptions().dtype(torch::kFloat64);
    ramp::sac_detail::BatchTensors batch;
    batch.observations = torch::randn({kBatchRows, kObservationSize}, options);
    batch.actions = torch::rand({kBatchRows, 1}, options) * 1.8 - 0.9;
    batch.rewards = torch::randn({kBatchRows, 1}, options) * 5.0;
    batch.next_observations = torch::randn({kBatchRows, kObservationSize}, options);
    batch.dones = torch::tensor({0.0, 0.0, 1.0, 0.0, 1.0, 0.0}, options).view({kBatchRows, 1});
    return batch;
}

// Compare the autograd gradient of loss() in each parameter element with a central
// difference; loss must recompute from the current parameter values.
void expect_gradients_match(const std::vector<torch::Tensor> & parameters,
                            const std::function<torch::Tensor()> & loss, const std::string & label) {
    for (const auto & parameter : parameters) {
        if (parameter.grad().defined()) {
            parameter.mutable_grad().zero_();
        }
    }
    loss().backward();

    int checked = 0;
    for (size_t p = 0; p < parameters.size(); ++p) {
        torch::Tensor values = parameters[p].detach().view({-1});
        const torch::Tensor gradient = parameters[p].grad().view({-1});
        for (int64_t i = 0; i < values.numel(); ++i) {
            const double original = values[i].item<double>();
            values[i] = original + kFiniteDifferenceStep;
            const double up = loss().item<double>();
            values[i] = original - kFiniteDifferenceStep;
            const double down = loss().item<double>();
            values[i] = original;

            const double numeric = (up - down) / (2.0 * kFiniteDifferenceStep);
            const double analytic = gradient[i].item<double>();
            const double allowed =
                kGradientRelativeTolerance * std::max(std::abs(numeric), std::abs(analytic)) +
                kGradientAbsoluteTolerance;
            EXPECT_NEAR(analytic, numeric, allowed) << label << " parameter " << p << " element " << i;
            ++checked;
        }
    }
    EXPECT_GT(checked, 100) << label;
}

TEST(SacGradients, CriticMatchesFiniteDifferences) {
    Networks nets = make_double_networks();
    const auto batch = make_double_batch();
    torch::manual_seed(13);
    const torch::Tensor noise = torch::randn({kBatchRows, 1}, torch::kFloat64);

    std::vector<torch::Tensor> parameters = nets.q1->parameters();
    for (const auto & parameter : nets.q2->parameters()) {
        parameters.push_back(parameter);
    }
    expect_gradients_match(
        parameters, [&] { return ramp::sac_detail::critic_loss(nets, batch, 0.3, 0.9, 0.5, noise); },
        "critic");
}

TEST(SacGradients, ActorMatchesFiniteDifferences) {
    Networks nets = make_double_networks();
    const auto batch = make_double_batch();
    torch::manual_seed(14);
    const torch::Tensor noise = torch::randn({kBatchRows, 1}, torch::kFloat64);

    expect_gradients_match(
        nets.actor->parameters(),
        [&] { return ramp::sac_detail::actor_loss(nets, batch.observations, 0.3, noise).first; }, "actor");
}

TEST(SquashedGaussian, LogProbMatchesDirectFormula) {
    const std::vector<double> means = {-1.5, -0.2, 0.0, 0.7, 2.0};
    const std::vector<double> log_stds = {-1.0, 0.3, -0.5, 0.0, 0.2};
    const std::vector<double> noises = {0.4, -1.2, 2.0, 0.1, 1.1};
    const auto options = torch::TensorOptions().dtype(torch::kFloat64);
    const auto column = [&](const std::vector<double> & values) {
        return torch::tensor(values, options).view({-1, 1});
    };
    const auto sample = ramp::sac_detail::squash_sample(column(means), column(log_stds), column(noises));

    // Density of a = tanh(u), u ~ N(mean, std): N(u) / |da/du| = N(u) / (1 - tanh(u)^2).
    for (size_t i = 0; i < means.size(); ++i) {
        const double std_dev = std::exp(log_stds[i]);
        const double u = means[i] + std_dev * noises[i];
        const double z = (u - means[i]) / std_dev;
        const double gaussian = -0.5 * z * z - std::log(std_dev) - 0.5 * std::log(2.0 * M_PI);
        const double expected = gaussian - std::log(1.0 - std::tanh(u) * std::tanh(u));
        EXPECT_NEAR(sample.log_prob[static_cast<int64_t>(i)][0].item<double>(), expected, kLogProbTolerance)
            << "row " << i;
        EXPECT_NEAR(sample.action[static_cast<int64_t>(i)][0].item<double>(), std::tanh(u),
                    kLogProbTolerance);
    }
}

TEST(SquashedGaussian, FiniteAtSaturation) {
    // u = 30 in float32: tanh(u) rounds to 1 and the naive log(1 - tanh^2) is -inf.
    const torch::Tensor mean = torch::full({1, 1}, 30.0f);
    const torch::Tensor log_std = torch::zeros({1, 1});
    const torch::Tensor noise = torch::zeros({1, 1});
    const auto sample = ramp::sac_detail::squash_sample(mean, log_std, noise);
    EXPECT_TRUE(std::isfinite(sample.log_prob.item<float>()));
}

ramp::TransitionBatch random_batch(std::mt19937_64 & rng, int rows) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    ramp::TransitionBatch batch;
    batch.size = rows;
    for (int i = 0; i < rows * kObservationSize; ++i) {
        batch.observations.push_back(normal(rng));
        batch.next_observations.push_back(normal(rng));
    }
    for (int i = 0; i < rows; ++i) {
        batch.actions.push_back(std::tanh(normal(rng)));
        batch.rewards.push_back(-10.0f * std::abs(normal(rng)));
        batch.dones.push_back(i % 3 == 0 ? 1.0f : 0.0f);
    }
    return batch;
}

TEST(SacAgent, SeedFixesInitialWeights) {
    const ramp::SacAgent first(kObservationSize, 1, small_params(), 5);
    const ramp::SacAgent second(kObservationSize, 1, small_params(), 5);
    const ramp::SacAgent other(kObservationSize, 1, small_params(), 6);
    EXPECT_EQ(first.flat_parameters(), second.flat_parameters());
    EXPECT_NE(first.flat_parameters(), other.flat_parameters());
}

TEST(SacAgent, StateRoundTripContinuesIdentically) {
    std::mt19937_64 rng(21);
    ramp::SacAgent agent(kObservationSize, 1, small_params(), 1);
    for (int i = 0; i < 5; ++i) {
        agent.update(random_batch(rng, kBatchRows), rng);
    }

    // A differently seeded agent that loads the state must match, and one more
    // update on both (same batch, same generator state) must stay equal: the
    // optimiser moments were restored too.
    ramp::SacAgent copy(kObservationSize, 1, small_params(), 2);
    copy.load_state(agent.save_state());
    EXPECT_EQ(copy.flat_parameters(), agent.flat_parameters());

    const ramp::TransitionBatch batch = random_batch(rng, kBatchRows);
    std::mt19937_64 rng_a(99);
    std::mt19937_64 rng_b(99);
    agent.update(batch, rng_a);
    copy.update(batch, rng_b);
    EXPECT_EQ(copy.flat_parameters(), agent.flat_parameters());
    EXPECT_EQ(copy.alpha(), agent.alpha());
}

TEST(SacAgent, LoadRejectsOtherNetworkSize) {
    const ramp::SacAgent agent(kObservationSize, 1, small_params(), 1);
    ramp::SacParams wider = small_params();
    wider.hidden_size = 16;
    ramp::SacAgent other(kObservationSize, 1, wider, 1);
    EXPECT_THROW(other.load_state(agent.save_state()), rdt::Error);
}

TEST(SacAgent, UpdateMovesTemperatureTowardTarget) {
    // With a near-deterministic target entropy far below the initial policy's, alpha
    // must fall as updates proceed.
    ramp::SacParams params = small_params();
    params.target_entropy = -5.0;
    ramp::SacAgent agent(kObservationSize, 1, params, 3);
    std::mt19937_64 rng(4);
    ramp::UpdateStats stats;
    for (int i = 0; i < 20; ++i) {
        stats = agent.update(random_batch(rng, kBatchRows), rng);
    }
    EXPECT_LT(stats.alpha, params.initial_alpha);
    EXPECT_TRUE(std::isfinite(stats.critic_loss));
    EXPECT_TRUE(std::isfinite(stats.actor_loss));
}

// Mean squared action error allowed after cloning six demonstrated actions with
// 300 Adam steps at the small test network's learning rate.
constexpr double kCloneErrorLimit = 1e-3;
// Per-row bound implied by that mean over six rows: sqrt(6e-3) = 0.077, rounded up.
constexpr double kCloneActionTolerance = 0.08;

TEST(SacAgent, CloneActionsReproducesDemonstration) {
    ramp::SacParams params = small_params();
    params.actor_lr = 1e-2;
    ramp::SacAgent agent(kObservationSize, 1, params, 7);
    std::mt19937_64 rng(8);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> observations(static_cast<size_t>(kBatchRows * kObservationSize));
    for (float & value : observations) {
        value = uniform(rng);
    }
    const std::vector<float> actions = {-0.8f, -0.3f, 0.0f, 0.2f, 0.6f, 1.0f};  // 1.0 is pulled to 0.999

    const double error = agent.clone_actions(observations, actions, 300, 0.1);
    EXPECT_LT(error, kCloneErrorLimit);
    for (int row = 0; row < kBatchRows; ++row) {
        const std::span<const float> observation(observations.data() + row * kObservationSize, kObservationSize);
        EXPECT_NEAR(agent.mean_action(observation)[0], actions[static_cast<size_t>(row)], kCloneActionTolerance)
            << "row " << row;
    }

    EXPECT_THROW(agent.clone_actions(observations, std::vector<float>{0.5f}, 10, 0.1), rdt::Error);
    EXPECT_THROW(agent.clone_actions(observations, actions, 10, 0.0), rdt::Error);
}

TEST(SacAgent, SelfImitationHoldsThePolicyNearTheDemonstration) {
    std::mt19937_64 data_rng(12);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> observations(static_cast<size_t>(kBatchRows * kObservationSize));
    for (float & value : observations) {
        value = uniform(data_rng);
    }
    const std::vector<float> actions = {0.5f, -0.5f, 0.25f, -0.25f, 0.75f, -0.75f};
    auto imitation_error = [&](double weight) {
        ramp::SacParams params = small_params();
        params.actor_lr = 1e-2;  // the default 3e-4 barely moves the small network in 200 steps
        ramp::SacAgent agent(kObservationSize, 1, params, 9);
        agent.set_imitation(observations, actions, weight);
        std::mt19937_64 rng(10);
        for (int i = 0; i < 200; ++i) {
            agent.update(random_batch(rng, kBatchRows), rng);
        }
        double error = 0.0;
        for (int row = 0; row < kBatchRows; ++row) {
            const std::span<const float> observation(observations.data() + row * kObservationSize,
                                                     kObservationSize);
            const double difference = agent.mean_action(observation)[0] - actions[static_cast<size_t>(row)];
            error += difference * difference;
        }
        return error / kBatchRows;
    };
    // Same seeds and batches: only the imitation term differs.
    EXPECT_LT(imitation_error(10.0), 0.5 * imitation_error(0.0));
    ramp::SacAgent agent(kObservationSize, 1, small_params(), 9);
    EXPECT_THROW(agent.set_imitation(observations, actions, -1.0), rdt::Error);
}

TEST(SacParams, JsonRoundTrip) {
    ramp::SacParams params;
    params.gamma = 0.5;
    params.hidden_size = 32;
    const ramp::SacParams copy = ramp::sac_params_from_json(ramp::to_json(params));
    EXPECT_EQ(ramp::to_json(copy), ramp::to_json(params));
    EXPECT_EQ(ramp::to_json(ramp::SacParams{}).at("batch_size").get<int>(), 256);
    EXPECT_EQ(ramp::to_json(ramp::SacParams{}).at("tau").get<double>(), 0.005);
}

TEST(PolicyExport, LoadAppliesSameMeanAction) {
    const fs::path dir = fresh_test_dir();
    const ramp::SacAgent agent(kObservationSize, 1, small_params(), 8);
    agent.export_policy(dir / "policy.pt", {{"feature_schema_version", 3}, {"training_model", "toy"}});
    ASSERT_TRUE(fs::exists(ramp::policy_sidecar_path(dir / "policy.pt")));

    const ramp::Policy policy = ramp::Policy::load(dir / "policy.pt", 3, kObservationSize);
    EXPECT_EQ(policy.metadata().at("training_model").get<std::string>(), "toy");
    const std::vector<float> observation = {0.1f, -0.4f, 1.2f, 0.0f, 0.5f};
    const float expected = agent.mean_action(observation)[0];
    EXPECT_NEAR(policy.mean_action(observation)[0], expected, kPolicyTolerance);
}

TEST(PolicyExport, RejectsOtherSchemaOrMissingSidecar) {
    const fs::path dir = fresh_test_dir();
    const ramp::SacAgent agent(kObservationSize, 1, small_params(), 8);
    agent.export_policy(dir / "policy.pt", {{"feature_schema_version", 3}});

    EXPECT_THROW(ramp::Policy::load(dir / "policy.pt", 4, kObservationSize), rdt::Error);
    EXPECT_THROW(ramp::Policy::load(dir / "policy.pt", 3, kObservationSize + 1), rdt::Error);
    fs::remove(ramp::policy_sidecar_path(dir / "policy.pt"));
    EXPECT_THROW(ramp::Policy::load(dir / "policy.pt", 3, kObservationSize), rdt::Error);
}

}  // namespace
