// Tests for ramp/budget and ramp/plan_size: exact bpw, feasible range, repair and
// the predicted file size.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/paths.hpp"
#include "ramp/budget.hpp"
#include "ramp/model_layout.hpp"
#include "ramp/plan.hpp"
#include "ramp/plan_size.hpp"
#include "ramp/quant_types.hpp"

namespace {

// Sums of integer byte counts: exact in double for these sizes.
constexpr double kExact = 0.0;
// bpw of plans assembled from doubles: rounding of the weighted mean.
constexpr double kBpwRounding = 1e-12;

struct TinyModel {
    rdt::GgufPtr gguf = rdt::open_gguf_checked(rdt::shared_path("models/tiny-llama-6L-256.gguf"));
    ramp::ModelLayout layout = ramp::read_model_layout(gguf.get());
};

std::string error_of(const std::function<void()> & body) {
    try {
        body();
    } catch (const rdt::Error & error) {
        return error.what();
    }
    return "";
}

TEST(Budget, UniformBpwEqualsTypeBpw) {
    const TinyModel model;
    for (const ggml_type type : ramp::candidate_types(256, false)) {
        const std::vector<ggml_type> types(model.layout.matrices.size(), type);
        const ramp::DecidedSize size = ramp::decided_size(model.layout, types);
        EXPECT_NEAR(size.bpw, ramp::type_bpw(type), kExact) << ramp::type_name(type);
        EXPECT_NEAR(size.nominal_bpw, ramp::type_nominal_bits(type), kExact) << ramp::type_name(type);
    }
}

TEST(Budget, MixedBpwIsElementWeighted) {
    const TinyModel model;
    std::vector<ggml_type> types(model.layout.matrices.size(), GGML_TYPE_Q4_K);
    types[0] = GGML_TYPE_Q8_0;
    int64_t elements = 0;
    for (const auto & matrix : model.layout.matrices) {
        elements += matrix.n_elements();
    }
    const double n0 = static_cast<double>(model.layout.matrices[0].n_elements());
    const double expected = (4.5 * (static_cast<double>(elements) - n0) + 8.5 * n0) / static_cast<double>(elements);
    EXPECT_NEAR(ramp::decided_size(model.layout, types).bpw, expected, kBpwRounding);
}

TEST(Budget, FeasibleRange) {
    const TinyModel model;
    const ramp::BudgetRange plain = ramp::feasible_range(model.layout, false);
    EXPECT_NEAR(plain.min_bpw, 2.625, kExact);
    EXPECT_NEAR(plain.max_bpw, 8.5, kExact);
    const ramp::BudgetRange with_imatrix = ramp::feasible_range(model.layout, true);
    EXPECT_NEAR(with_imatrix.min_bpw, 2.3125, kExact);
}

TEST(Budget, InfeasibleBudgetGivesRange) {
    const TinyModel model;
    const std::string low = error_of([&] { ramp::check_budget_feasible(model.layout, 2.0, false); });
    EXPECT_NE(low.find("2.6250"), std::string::npos) << low;
    EXPECT_NE(low.find("8.5000"), std::string::npos) << low;
    const std::string high = error_of([&] { ramp::check_budget_feasible(model.layout, 9.0, false); });
    EXPECT_NE(high.find("2.6250"), std::string::npos) << high;
    EXPECT_TRUE(error_of([&] { ramp::check_budget_feasible(model.layout, 4.0, false); }).empty());
}

TEST(Budget, RepairFitsAndLowersCheapestFirst) {
    const TinyModel model;
    const size_t n = model.layout.matrices.size();
    std::vector<ggml_type> types(n, GGML_TYPE_Q6_K);
    // Matrix 0 predicts a huge loss for any lowering, the rest a small one.
    const ramp::MatrixLossFn loss = [](size_t matrix, ggml_type type) {
        const double scale = matrix == 0 ? 1e6 : 1.0;
        return scale * (8.5 - ramp::type_bpw(type));
    };
    const auto repaired = ramp::repair_to_budget(model.layout, types, 4.0, false, loss);
    EXPECT_LE(ramp::decided_size(model.layout, repaired).bpw, 4.0);
    EXPECT_EQ(repaired[0], GGML_TYPE_Q6_K);
    // Greedy steps of one candidate: no matrix skips below what the budget needs.
    EXPECT_GT(ramp::decided_size(model.layout, repaired).bpw, 3.5);
}

TEST(Budget, RepairKeepsFittingPlan) {
    const TinyModel model;
    const std::vector<ggml_type> types(model.layout.matrices.size(), GGML_TYPE_Q3_K);
    const auto loss = [](size_t, ggml_type) { return 0.0; };
    EXPECT_EQ(ramp::repair_to_budget(model.layout, types, 4.0, false, loss), types);
}

TEST(Budget, RepairRejectsInfeasibleBudget) {
    const TinyModel model;
    const std::vector<ggml_type> types(model.layout.matrices.size(), GGML_TYPE_Q3_K);
    const auto loss = [](size_t, ggml_type) { return 0.0; };
    const std::string message = error_of([&] { ramp::repair_to_budget(model.layout, types, 1.5, false, loss); });
    EXPECT_NE(message.find("infeasible"), std::string::npos) << message;
}

TEST(Budget, ProxyLossDecreasesWithBits) {
    const TinyModel model;
    const size_t n = model.layout.matrices.size();
    const auto loss = ramp::proxy_loss(model.layout, std::vector<double>(n, 1e-2),
                                       std::vector<ggml_type>(n, GGML_TYPE_Q4_K));
    EXPECT_GT(loss(0, GGML_TYPE_Q2_K), loss(0, GGML_TYPE_Q4_K));
    EXPECT_GT(loss(0, GGML_TYPE_Q4_K), loss(0, GGML_TYPE_Q8_0));
}

TEST(Budget, PredictionFillsSizes) {
    // The exact file size is checked against a real export in test_export.
    const TinyModel model;
    const ramp::ModelIdentity identity =
        ramp::model_identity(rdt::shared_path("models/tiny-llama-6L-256.gguf"), model.gguf.get());
    const std::vector<ggml_type> types(model.layout.matrices.size(), GGML_TYPE_Q4_K);
    ramp::Plan plan = ramp::make_plan(identity, model.layout, ramp::default_fixed_types(model.gguf.get(), model.layout),
                                      types, "uniform-q4_K", false);
    ramp::fill_prediction(plan, model.layout, model.gguf.get());
    EXPECT_NEAR(plan.predicted.bpw, 4.5, kExact);
    EXPECT_GT(plan.predicted.file_bytes, plan.predicted.decided_bytes);
    // The F32 source is about 32 / 4.5 times larger than a mostly-Q4_K export.
    const auto source_bytes = static_cast<int64_t>(
        std::filesystem::file_size(rdt::shared_path("models/tiny-llama-6L-256.gguf")));
    EXPECT_LT(plan.predicted.file_bytes, source_bytes / 4);
}

}  // namespace
