// Tests for ramp/features: scale-free feature functions, feature tables of the
// shared models, and the `ramp analyze` outputs.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/output.hpp"
#include "common/progress.hpp"
#include "common/text.hpp"
#include "fold_test_support.hpp"
#include "ramp/analysis.hpp"
#include "ramp/features.hpp"
#include "ramp/quant_types.hpp"

namespace {

// 3.7 is not a power of two, so scaling changes every float's rounding.
constexpr float kScale = 3.7f;
// Moments of scaled floats differ from the unscaled ones by float rounding (1e-7
// relative per value); the log features move by far less than 1e-5.
constexpr double kMomentTolerance = 1e-5;
// The quantizers pick block scales by a float search, so a scaled matrix may round a
// few weights differently. The log10 relative error then moves by well under 0.01.
constexpr double kQuantErrorTolerance = 1e-2;

// A heavy-tailed matrix (Student-t like) so that kurtosis and crest are not trivial.
std::vector<float> make_matrix(int64_t n_rows, int64_t n_in, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::chi_squared_distribution<float> chi(3.0f);
    std::vector<float> w(static_cast<size_t>(n_rows * n_in));
    for (float & v : w) {
        v = normal(rng) / std::sqrt(chi(rng) / 3.0f);
    }
    return w;
}

std::vector<float> scaled(const std::vector<float> & values, float factor) {
    std::vector<float> out(values);
    for (float & v : out) {
        v *= factor;
    }
    return out;
}

TEST(FeatureFunctions, WeightFeaturesAreScaleFree) {
    constexpr int64_t kRows = 64;
    constexpr int64_t kIn = 256;
    const std::vector<float> w = make_matrix(kRows, kIn, 7);
    const std::vector<float> w_scaled = scaled(w, kScale);

    EXPECT_NEAR(ramp::weight_kurtosis_feature(w), ramp::weight_kurtosis_feature(w_scaled), kMomentTolerance);
    EXPECT_NEAR(ramp::weight_crest_feature(w), ramp::weight_crest_feature(w_scaled), kMomentTolerance);
    EXPECT_GT(ramp::weight_kurtosis_feature(w), 0.0);  // heavy tails give positive excess kurtosis

    std::vector<float> column_weights(kIn);
    for (int64_t j = 0; j < kIn; ++j) {
        column_weights[static_cast<size_t>(j)] = 1.0f + static_cast<float>(j % 7);
    }
    for (const ggml_type type : {GGML_TYPE_Q4_K, GGML_TYPE_Q3_K, GGML_TYPE_Q5_0, GGML_TYPE_Q4_0}) {
        const double plain = ramp::quant_error_feature(type, w, kIn, nullptr, nullptr);
        const double plain_scaled = ramp::quant_error_feature(type, w_scaled, kIn, nullptr, nullptr);
        EXPECT_NEAR(plain, plain_scaled, kQuantErrorTolerance) << ggml_type_name(type);
        const double weighted = ramp::quant_error_feature(type, w, kIn, column_weights.data(), nullptr);
        const double weighted_scaled =
            ramp::quant_error_feature(type, w_scaled, kIn, column_weights.data(), nullptr);
        EXPECT_NEAR(weighted, weighted_scaled, kQuantErrorTolerance) << ggml_type_name(type);
        EXPECT_LT(plain, -1.0) << ggml_type_name(type);  // 3 to 5 bits lose far less than 10% of the energy
    }
}

TEST(FeatureFunctions, ActivationFeaturesAreScaleFree) {
    constexpr int64_t kIn = 64;
    constexpr int kRows = 200;
    const std::vector<float> x = make_matrix(kRows, kIn, 11);
    ramp::ChannelStats plain(kIn);
    ramp::ChannelStats scaled_stats(kIn);
    const std::vector<float> x_scaled = scaled(x, kScale);
    for (int r = 0; r < kRows; ++r) {
        plain.add_row(x.data() + r * kIn);
        scaled_stats.add_row(x_scaled.data() + r * kIn);
    }
    EXPECT_NEAR(ramp::activation_outlier_feature(plain), ramp::activation_outlier_feature(scaled_stats),
                kMomentTolerance);
    EXPECT_NEAR(ramp::activation_kurtosis_feature(plain), ramp::activation_kurtosis_feature(scaled_stats),
                kMomentTolerance);
}

TEST(FeatureFunctions, QuantErrorGrowsWithFewerBits) {
    const std::vector<float> w = make_matrix(32, 256, 3);
    EXPECT_LT(ramp::quant_error_feature(GGML_TYPE_Q6_K, w, 256, nullptr, nullptr),
              ramp::quant_error_feature(GGML_TYPE_Q4_K, w, 256, nullptr, nullptr));
    EXPECT_LT(ramp::quant_error_feature(GGML_TYPE_Q4_K, w, 256, nullptr, nullptr),
              ramp::quant_error_feature(GGML_TYPE_Q2_K, w, 256, nullptr, nullptr));
}

TEST(FeatureFunctions, SampleRowsEvenlySpaced) {
    EXPECT_EQ(ramp::sample_row_indices(10, 100), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(ramp::sample_row_indices(10, 4), (std::vector<int64_t>{0, 2, 5, 7}));
}

class AnalyzeTest : public ::testing::Test {
  protected:
    void SetUp() override { rdt::Progress::set_enabled(false); }
};

TEST_F(AnalyzeTest, StoriesFeatureTable) {
    const auto dir = ramp_test::test_dir("ramp_features");
    ramp::AnalyzeParams params;
    params.model_path = ramp_test::stories_model().string();
    params.text_path = ramp_test::tinystories_text().string();
    params.n_ctx = 64;
    params.n_chunks = 2;
    params.output_path = (dir / "features.json").string();
    params.csv_path = (dir / "features.csv").string();
    const nlohmann::json result = ramp::run_analysis(params);

    ASSERT_EQ(result["matrices"].size(), 30u);
    const nlohmann::json & first = result["matrices"][0];
    EXPECT_EQ(first["name"], "blk.0.attn_q.weight");
    EXPECT_EQ(first["candidates"][0], "q4_0");
    EXPECT_EQ(first["feature_type_high"], "q5_0");
    EXPECT_EQ(first["feature_type_low"], "q4_0");
    EXPECT_DOUBLE_EQ(first["features"]["depth"].get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(result["matrices"][29]["features"]["depth"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(result["matrices"][29]["features"]["role_position"].get<double>(), 5.0 / 6.0);
    for (const auto & matrix : result["matrices"]) {
        ASSERT_EQ(matrix["features"].size(), static_cast<size_t>(ramp::kFeatureCount));
        for (const auto & [name, value] : matrix["features"].items()) {
            EXPECT_TRUE(std::isfinite(value.get<double>())) << matrix["name"] << " " << name;
        }
    }
    bool down_fixed = false;
    for (const auto & tensor : result["fixed"]) {
        down_fixed = down_fixed || tensor["name"] == "blk.0.ffn_down.weight";
    }
    EXPECT_TRUE(down_fixed);

    const std::vector<std::string> lines = rdt::read_lines(params.csv_path);
    EXPECT_EQ(lines.size(), 31u);  // header and 30 matrices
    EXPECT_EQ(nlohmann::json::parse(rdt::read_text_file(params.output_path)), result);
}

TEST_F(AnalyzeTest, DeterministicAndPlots) {
    const auto dir = ramp_test::test_dir("ramp_features");
    ramp::AnalyzeParams params;
    params.model_path = ramp_test::stories_model().string();
    params.text_path = ramp_test::tinystories_text().string();
    params.n_ctx = 64;
    params.n_chunks = 2;
    params.output_path = (dir / "a.json").string();
    params.plot_path = (dir / "heatmap.svg").string();
    params.imatrix_path = (dir / "imatrix.gguf").string();
    const nlohmann::json first = ramp::run_analysis(params);
    EXPECT_TRUE(std::filesystem::exists(params.plot_path));
    EXPECT_TRUE(std::filesystem::exists(params.imatrix_path));

    params.output_path = (dir / "b.json").string();
    params.plot_path.clear();
    params.imatrix_path.clear();
    const nlohmann::json second = ramp::run_analysis(params);
    EXPECT_EQ(first, second);
}

TEST_F(AnalyzeTest, ExistingOutputNeedsForce) {
    const auto dir = ramp_test::test_dir("ramp_features");
    const auto existing = dir / "exists.json";
    rdt::write_file_atomic(existing, "{}");
    ramp::AnalyzeParams params;
    params.model_path = ramp_test::stories_model().string();
    params.text_path = ramp_test::tinystories_text().string();
    params.output_path = existing.string();
    EXPECT_THROW(ramp::run_analysis(params), rdt::Error);
    EXPECT_EQ(rdt::read_text_file(existing), "{}");
}

}  // namespace
