// Tests for ramp/activation_stats and ramp/imatrix_io: streaming statistics equal
// a direct computation on the raw activations, and importance matrices round-trip.

#include <ggml.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/perplexity.hpp"
#include "common/progress.hpp"
#include "common/text.hpp"
#include "fold_test_support.hpp"
#include "ramp/activation_stats.hpp"
#include "ramp/imatrix_io.hpp"

namespace {

// Sums over a few thousand floats accumulated in double in another order differ by
// rounding of about 1e-15 relative; 1e-9 leaves ample room.
constexpr double kSumTolerance = 1e-9;
// The streaming kurtosis uses raw moments, the reference central moments; with
// activation means near 0 the two agree to about 1e-10 relative.
constexpr double kKurtosisTolerance = 1e-6;
// Chunk length and count: small so the test stays under a second on stories260K.
constexpr int kCtx = 64;
constexpr int kChunks = 4;

// Copies every src1 row of one weight's MUL_MAT, the reference input.
struct RawCapture {
    std::string weight;
    int64_t n_in = 0;
    std::vector<double> values;  // [rows][n_in]
};

bool capture_callback(ggml_tensor * node, bool ask, void * user_data) {
    auto * capture = static_cast<RawCapture *>(user_data);
    const bool is_target = node->op == GGML_OP_MUL_MAT && capture->weight == node->src[0]->name;
    if (ask) {
        return is_target;
    }
    if (!is_target) {
        return true;
    }
    const ggml_tensor * input = node->src[1];
    capture->n_in = input->ne[0];
    for (int64_t i2 = 0; i2 < input->ne[2]; ++i2) {
        for (int64_t i1 = 0; i1 < input->ne[1]; ++i1) {
            const auto * row = reinterpret_cast<const float *>(static_cast<const char *>(input->data) +
                                                               i1 * input->nb[1] + i2 * input->nb[2]);
            capture->values.insert(capture->values.end(), row, row + input->ne[0]);
        }
    }
    return true;
}

struct Reference {
    int64_t n_rows = 0;
    std::vector<double> sum_abs, max_abs, sum_sq;
    double kurtosis = 0.0;
};

Reference reference_stats(const RawCapture & capture) {
    Reference ref;
    const int64_t n_in = capture.n_in;
    ref.n_rows = static_cast<int64_t>(capture.values.size()) / n_in;
    ref.sum_abs.assign(n_in, 0.0);
    ref.max_abs.assign(n_in, 0.0);
    ref.sum_sq.assign(n_in, 0.0);
    double mean = 0.0;
    for (size_t k = 0; k < capture.values.size(); ++k) {
        const double x = capture.values[k];
        const size_t j = k % static_cast<size_t>(n_in);
        ref.sum_abs[j] += std::fabs(x);
        ref.max_abs[j] = std::max(ref.max_abs[j], std::fabs(x));
        ref.sum_sq[j] += x * x;
        mean += x;
    }
    mean /= static_cast<double>(capture.values.size());
    double m2 = 0.0;
    double m4 = 0.0;
    for (const double x : capture.values) {
        m2 += (x - mean) * (x - mean);
        m4 += (x - mean) * (x - mean) * (x - mean) * (x - mean);
    }
    m2 /= static_cast<double>(capture.values.size());
    m4 /= static_cast<double>(capture.values.size());
    ref.kurtosis = m4 / (m2 * m2) - 3.0;
    return ref;
}

class ActivationStatsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        rdt::Progress::set_enabled(false);
        model_ = rdt::load_model(ramp_test::stories_model());
        layout_ = ramp::read_model_layout(ramp_test::stories_model());
        chunks_ = rdt::make_eval_chunks(model_.get(), rdt::read_text_file(ramp_test::tinystories_text()),
                                        kCtx, kChunks);
    }

    RawCapture capture(const std::string & weight) {
        RawCapture raw;
        raw.weight = weight;
        rdt::ChunkRunOptions options;
        options.progress = false;
        options.eval_callback = capture_callback;
        options.eval_callback_data = &raw;
        rdt::run_chunks(model_.get(), chunks_, options,
                        [](int, const float *, const llama_token *, int, int) {});
        return raw;
    }

    size_t index_of(const std::string & name) const {
        for (size_t i = 0; i < layout_.matrices.size(); ++i) {
            if (layout_.matrices[i].name == name) {
                return i;
            }
        }
        ADD_FAILURE() << name << " is not a decided matrix";
        return 0;
    }

    rdt::ModelPtr model_;
    ramp::ModelLayout layout_;
    rdt::EvalChunks chunks_;
};

void expect_near_relative(double actual, double expected, double tolerance, const std::string & what) {
    EXPECT_LE(std::fabs(actual - expected), tolerance * std::max(1.0, std::fabs(expected))) << what;
}

TEST_F(ActivationStatsTest, MatchesDirectReference) {
    ramp::ActivationOptions options;
    options.progress = false;
    const ramp::ActivationStats stats =
        ramp::collect_activation_stats(model_.get(), layout_, chunks_, options);
    ASSERT_EQ(stats.matrices.size(), layout_.matrices.size());

    for (const std::string name :
         {"blk.1.attn_q.weight", "blk.2.attn_output.weight", "blk.4.ffn_up.weight"}) {
        const Reference ref = reference_stats(capture(name));
        const ramp::ChannelStats & got = stats.matrices[index_of(name)];
        ASSERT_EQ(got.n_rows, ref.n_rows) << name;
        ASSERT_EQ(got.n_in, static_cast<int64_t>(ref.sum_sq.size())) << name;
        for (size_t j = 0; j < ref.sum_sq.size(); ++j) {
            expect_near_relative(got.sum_abs[j], ref.sum_abs[j], kSumTolerance, name + " sum_abs");
            expect_near_relative(got.sum_sq[j], ref.sum_sq[j], kSumTolerance, name + " sum_sq");
            EXPECT_EQ(got.max_abs[j], ref.max_abs[j]) << name << " channel " << j;
        }
        expect_near_relative(got.excess_kurtosis(), ref.kurtosis, kKurtosisTolerance, name + " kurtosis");
    }
}

TEST_F(ActivationStatsTest, SharedInputsRecordedPerWeight) {
    ramp::ActivationOptions options;
    options.progress = false;
    const ramp::ActivationStats stats =
        ramp::collect_activation_stats(model_.get(), layout_, chunks_, options);
    // q, k and v read the same attn_norm output, so their statistics are identical.
    const ramp::ChannelStats & q = stats.matrices[index_of("blk.0.attn_q.weight")];
    const ramp::ChannelStats & v = stats.matrices[index_of("blk.0.attn_v.weight")];
    EXPECT_EQ(q.n_rows, v.n_rows);
    EXPECT_EQ(q.sum_sq, v.sum_sq);
    EXPECT_EQ(q.n_rows, static_cast<int64_t>(kCtx) * kChunks);
}

TEST_F(ActivationStatsTest, RowSampleIsBoundedAndReproducible) {
    constexpr int kSampleRows = 32;  // far fewer than the 256 rows seen
    ramp::ActivationOptions options;
    options.progress = false;
    options.sample_rows = kSampleRows;
    const ramp::ActivationStats first =
        ramp::collect_activation_stats(model_.get(), layout_, chunks_, options);
    const ramp::ActivationStats second =
        ramp::collect_activation_stats(model_.get(), layout_, chunks_, options);
    const size_t q = index_of("blk.0.attn_q.weight");
    const size_t k = index_of("blk.0.attn_k.weight");
    EXPECT_EQ(first.samples[q].n_rows(), kSampleRows);
    EXPECT_EQ(first.samples[k].n_rows(), 0);  // k shares q's input, so it is not sampled again
    EXPECT_EQ(first.samples[q].rows, second.samples[q].rows);
}

TEST_F(ActivationStatsTest, ImatrixRoundTrip) {
    ramp::ActivationOptions options;
    options.progress = false;
    const ramp::ActivationStats stats =
        ramp::collect_activation_stats(model_.get(), layout_, chunks_, options);
    const ramp::Imatrix written = ramp::imatrix_from_stats(layout_, stats, "tinystories-valid-head.txt");
    const auto path = ramp_test::test_dir("ramp_stats") / "imatrix.gguf";
    ramp::write_imatrix(written, path);

    const ramp::Imatrix read = ramp::read_imatrix(path);
    EXPECT_EQ(read.chunk_count, kChunks);
    EXPECT_EQ(read.chunk_size, kCtx);
    ASSERT_EQ(read.datasets.size(), 1u);
    EXPECT_EQ(read.datasets[0], "tinystories-valid-head.txt");
    ASSERT_EQ(read.entries.size(), layout_.matrices.size());
    for (const auto & [name, entry] : written.entries) {
        ASSERT_TRUE(read.entries.count(name)) << name;
        EXPECT_EQ(read.entries.at(name).sum_sq, entry.sum_sq) << name;
        EXPECT_EQ(read.entries.at(name).count, entry.count) << name;
    }
    const std::vector<float> mean = read.mean_sq("blk.0.attn_q.weight");
    const ramp::ChannelStats & q = stats.matrices[index_of("blk.0.attn_q.weight")];
    ASSERT_EQ(mean.size(), static_cast<size_t>(q.n_in));
    EXPECT_FLOAT_EQ(mean[3], static_cast<float>(q.mean_sq(3)));
}

TEST(ImatrixIo, ModelFileIsNotAnImatrix) {
    EXPECT_THROW(ramp::read_imatrix(ramp_test::stories_model()), rdt::Error);
}

}  // namespace
