// Tests for ramp/scale_folding and ramp/fold_model: the folded F32 model computes
// the same logits, the scales follow the formula and the GQA tie, and bad input
// fails without leaving an output file.

#include <gtest/gtest.h>
#include <llama.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/metrics.hpp"
#include "common/output.hpp"
#include "common/perplexity.hpp"
#include "common/progress.hpp"
#include "common/text.hpp"
#include "fold_test_support.hpp"
#include "ramp/fold_model.hpp"
#include "ramp/gguf_weights.hpp"
#include "ramp/scale_folding.hpp"
#include "ramp/sha256.hpp"

namespace {

namespace fs = std::filesystem;

// Relative logit error of a row: max_i |a_i - b_i| / max_i |a_i|. Folding only
// reorders float rounding (products of 1e-7 relative errors through a few layers),
// so 1e-4 is the design's bound with a wide margin.
constexpr double kMaxRelativeLogitError = 1e-4;
// Perplexities of the folded and original model agree to 1e-4 relative.
constexpr double kPplRelativeTolerance = 1e-4;
// Evaluation: 4 WikiText-2 chunks of 64 tokens keep each model's run well under a second.
constexpr int kEvalCtx = 64;
constexpr int kEvalChunks = 4;
// Calibration for the fold itself: 2 chunks of 64 tokens.
constexpr int kCalibCtx = 64;
constexpr int kCalibChunks = 2;
// Rows of the alpha search's activation sample: a quarter of the default keeps the
// search test short.
constexpr int kSearchRows = 64;

struct Logits {
    std::vector<float> values;  // [scored rows][n_vocab]
    int n_vocab = 0;
    double ppl = 0.0;
};

// Logits of the scored positions of WikiText-2 chunks (llama-perplexity's protocol)
// with an F32 KV cache and no flash attention. llama.cpp's default F16 cache rounds
// K and V to 11 bits. That turns the 1e-7 rounding differences of folding into
// logit differences of about 1e-3 (1.5e-3 measured on stories260K).
Logits evaluate(const fs::path & model_path) {
    rdt::ModelPtr model = rdt::load_model(model_path);
    const rdt::EvalChunks chunks = rdt::make_eval_chunks(
        model.get(), rdt::read_text_file(ramp_test::wikitext_text()), kEvalCtx, kEvalChunks);
    llama_context_params params = llama_context_default_params();
    params.n_ctx = kEvalCtx;
    params.n_batch = kEvalCtx;
    params.n_ubatch = kEvalCtx;
    params.type_k = GGML_TYPE_F32;
    params.type_v = GGML_TYPE_F32;
    params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    params.no_perf = true;
    rdt::ContextPtr ctx(llama_init_from_model(model.get(), params));
    const llama_vocab * vocab = llama_model_get_vocab(model.get());

    Logits out;
    out.n_vocab = llama_vocab_n_tokens(vocab);
    rdt::NllAccumulator nll;
    rdt::Batch batch(kEvalCtx);
    for (int chunk = 0; chunk < chunks.n_chunks; ++chunk) {
        llama_memory_clear(llama_get_memory(ctx.get()), true);
        batch.clear();
        const size_t start = static_cast<size_t>(chunk) * kEvalCtx;
        for (int k = 0; k < kEvalCtx; ++k) {
            const llama_token token = k == 0 ? llama_vocab_bos(vocab) : chunks.tokens[start + k];
            batch.add(token, k, 0, k >= chunks.first);
        }
        if (llama_decode(ctx.get(), batch.get()) != 0) {
            ADD_FAILURE() << "llama_decode failed on chunk " << chunk;
            return out;
        }
        for (int k = chunks.first; k < kEvalCtx - 1; ++k) {
            const float * row = llama_get_logits_ith(ctx.get(), k);
            out.values.insert(out.values.end(), row, row + out.n_vocab);
            nll.add(-rdt::token_log_prob(row, out.n_vocab, chunks.tokens[start + k + 1]));
        }
    }
    out.ppl = nll.ppl();
    return out;
}

double max_relative_logit_error(const Logits & a, const Logits & b) {
    double worst = 0.0;
    const size_t n_rows = a.values.size() / static_cast<size_t>(a.n_vocab);
    for (size_t r = 0; r < n_rows; ++r) {
        double diff = 0.0;
        double scale = 0.0;
        for (int i = 0; i < a.n_vocab; ++i) {
            const size_t k = r * static_cast<size_t>(a.n_vocab) + static_cast<size_t>(i);
            diff = std::max(diff, static_cast<double>(std::fabs(a.values[k] - b.values[k])));
            scale = std::max(scale, static_cast<double>(std::fabs(a.values[k])));
        }
        worst = std::max(worst, diff / scale);
    }
    return worst;
}

ramp::FoldParams fold_params(const fs::path & model, const fs::path & text, const fs::path & output) {
    ramp::FoldParams params;
    params.model_path = model.string();
    params.text_path = text.string();
    params.output_path = output.string();
    params.n_ctx = kCalibCtx;
    params.n_chunks = kCalibChunks;
    return params;
}

std::string meta_string(const gguf_context * gguf, const char * key) {
    const int64_t id = gguf_find_key(gguf, key);
    return id < 0 ? "" : gguf_get_val_str(gguf, id);
}

// Fails the test unless the fold of model is exact and changed the weights.
void expect_exact_fold(const fs::path & model, const fs::path & calibration,
                       const ramp::FoldParams & params) {
    const Logits original = evaluate(model);
    const Logits folded = evaluate(params.output_path);
    ASSERT_EQ(original.values.size(), folded.values.size());
    EXPECT_LT(max_relative_logit_error(original, folded), kMaxRelativeLogitError);
    EXPECT_NEAR(folded.ppl / original.ppl, 1.0, kPplRelativeTolerance);

    const ramp::GgufWeights before(model);
    const ramp::GgufWeights after(params.output_path);
    ASSERT_EQ(gguf_get_n_tensors(before.gguf()), gguf_get_n_tensors(after.gguf()));
    for (int64_t id = 0; id < gguf_get_n_tensors(before.gguf()); ++id) {
        EXPECT_EQ(gguf_get_tensor_type(before.gguf(), id), gguf_get_tensor_type(after.gguf(), id))
            << gguf_get_tensor_name(before.gguf(), id);
    }
    // The fold must have moved scales: a no-op would pass the logit check trivially.
    const std::vector<float> norm_before = ramp::tensor_to_f32(before.tensor("blk.0.attn_norm.weight"));
    const std::vector<float> norm_after = ramp::tensor_to_f32(after.tensor("blk.0.attn_norm.weight"));
    EXPECT_NE(norm_before, norm_after);
    EXPECT_EQ(meta_string(after.gguf(), "general.architecture"), "llama");
    EXPECT_EQ(meta_string(after.gguf(), "ramp.fold.calibration_sha256"), ramp::sha256_file_hex(calibration));
    EXPECT_EQ(meta_string(after.gguf(), "ramp.fold.calibration_file"), calibration.filename().string());
}

class FoldTest : public ::testing::Test {
  protected:
    void SetUp() override { rdt::Progress::set_enabled(false); }
};

TEST_F(FoldTest, StoriesFoldIsExact) {
    const auto dir = ramp_test::test_dir("ramp_fold");
    const auto params =
        fold_params(ramp_test::stories_model(), ramp_test::tinystories_text(), dir / "folded.gguf");
    const nlohmann::json summary = ramp::run_fold(params);
    EXPECT_EQ(summary["groups"].size(),
              15u);  // 5 blocks x (attn_in, attn_out, ffn_in); ffn_down is not decided
    expect_exact_fold(ramp_test::stories_model(), ramp_test::tinystories_text(), params);

    const ramp::GgufWeights after(params.output_path);
    EXPECT_EQ(meta_string(after.gguf(), "ramp.fold.alpha_mode"), "fixed");
    EXPECT_FLOAT_EQ(gguf_get_val_f32(after.gguf(), gguf_find_key(after.gguf(), "ramp.fold.alpha")), 0.5f);
}

TEST_F(FoldTest, TinyLlamaFoldIsExact) {
    const auto dir = ramp_test::test_dir("ramp_fold");
    const auto params =
        fold_params(ramp_test::tiny_llama_model(), ramp_test::calibration_text(), dir / "folded.gguf");
    const nlohmann::json summary = ramp::run_fold(params);
    EXPECT_EQ(summary["groups"].size(), 24u);  // 6 blocks x 4 groups
    expect_exact_fold(ramp_test::tiny_llama_model(), ramp_test::calibration_text(), params);
}

TEST_F(FoldTest, AlphaSearchIsExactAndNeverWorse) {
    const auto dir = ramp_test::test_dir("ramp_fold");
    auto params =
        fold_params(ramp_test::tiny_llama_model(), ramp_test::calibration_text(), dir / "searched.gguf");
    params.alpha_search = true;
    params.search_type = GGML_TYPE_Q3_K;
    params.sample_rows = kSearchRows;
    const nlohmann::json summary = ramp::run_fold(params);
    for (const auto & group : summary["groups"]) {
        EXPECT_LE(group["output_error_chosen"].get<double>(), group["output_error_unfolded"].get<double>())
            << group["name"];
    }
    const ramp::GgufWeights after(params.output_path);
    EXPECT_EQ(meta_string(after.gguf(), "ramp.fold.alpha_mode"), "searched");
    const int64_t alphas = gguf_find_key(after.gguf(), "ramp.fold.group_alphas");
    ASSERT_GE(alphas, 0);
    EXPECT_EQ(gguf_get_arr_n(after.gguf(), alphas), 24u);

    const Logits original = evaluate(ramp_test::tiny_llama_model());
    const Logits folded = evaluate(params.output_path);
    EXPECT_LT(max_relative_logit_error(original, folded), kMaxRelativeLogitError);
}

TEST_F(FoldTest, F16ModelKeepsTypes) {
    // F16 weights are rounded again after scaling (11-bit mantissa), so the fold is
    // close but not exact: the perplexity moves by well under 1%.
    constexpr double kF16PplTolerance = 1e-2;
    const auto dir = ramp_test::test_dir("ramp_fold");
    const fs::path f16 = dir / "f16.gguf";
    rdt::ensure_backend();
    llama_model_quantize_params quantize = llama_model_quantize_default_params();
    quantize.ftype = LLAMA_FTYPE_MOSTLY_F16;
    ASSERT_EQ(llama_model_quantize(ramp_test::stories_model().c_str(), f16.c_str(), &quantize), 0u);

    const auto params = fold_params(f16, ramp_test::tinystories_text(), dir / "folded.gguf");
    ramp::run_fold(params);
    const ramp::GgufWeights before(f16);
    const ramp::GgufWeights after(params.output_path);
    EXPECT_EQ(after.tensor("blk.0.attn_q.weight")->type, GGML_TYPE_F16);
    for (int64_t id = 0; id < gguf_get_n_tensors(before.gguf()); ++id) {
        EXPECT_EQ(gguf_get_tensor_type(before.gguf(), id), gguf_get_tensor_type(after.gguf(), id))
            << gguf_get_tensor_name(before.gguf(), id);
    }
    EXPECT_NEAR(evaluate(params.output_path).ppl / evaluate(f16).ppl, 1.0, kF16PplTolerance);
}

TEST(FoldScales, FormulaNormalisationAndGuards) {
    const std::vector<double> act = {4.0, 1.0, 0.0, 9.0};
    const std::vector<double> weight = {1.0, 4.0, 2.0, 1.0};
    const std::vector<double> s = ramp::fold_scales(act, weight, 0.5);
    // Raw scales 2, 0.5, (dead), 3 -> geometric mean of the active ones is 3^(1/3).
    const double mean = std::cbrt(3.0);
    EXPECT_NEAR(s[0], 2.0 / mean, 1e-12);
    EXPECT_NEAR(s[1], 0.5 / mean, 1e-12);
    EXPECT_EQ(s[2], 1.0);
    EXPECT_NEAR(s[3], 3.0 / mean, 1e-12);

    const std::vector<double> extreme = ramp::fold_scales({1e12, 1e-12}, {1.0, 1.0}, 1.0);
    EXPECT_EQ(extreme[0], ramp::kMaxFoldScale);
    EXPECT_EQ(extreme[1], 1.0 / ramp::kMaxFoldScale);
}

TEST(FoldScales, GqaTiesHeadsSharingKvHead) {
    // tiny-llama: 4 heads, 2 KV heads, head_dim 64: heads 0,1 read KV head 0, heads 2,3 KV head 1.
    const ramp::ModelLayout layout = ramp::read_model_layout(ramp_test::tiny_llama_model());
    const ramp::GgufWeights weights(ramp_test::tiny_llama_model());
    const std::vector<ramp::FoldGroup> groups = ramp::fold_groups(layout, weights);
    const auto attn_out = std::find_if(groups.begin(), groups.end(), [](const ramp::FoldGroup & g) {
        return g.kind == ramp::FoldKind::AttnOut;
    });
    ASSERT_NE(attn_out, groups.end());
    EXPECT_EQ(attn_out->producer, "blk.0.attn_v.weight");
    EXPECT_EQ(attn_out->n_scales, 128);
    ASSERT_EQ(attn_out->tie.size(), 256u);
    EXPECT_EQ(attn_out->tie[5], 5);         // head 0 -> KV head 0
    EXPECT_EQ(attn_out->tie[64 + 5], 5);    // head 1 -> KV head 0
    EXPECT_EQ(attn_out->tie[128 + 5], 69);  // head 2 -> KV head 1
    EXPECT_EQ(attn_out->tie[192 + 5], 69);  // head 3 -> KV head 1

    std::vector<double> values(256, 1.0);
    values[64 + 5] = 7.0;
    const std::vector<double> tied = ramp::tied_max(values, attn_out->tie, attn_out->n_scales);
    EXPECT_EQ(tied[5], 7.0);
    EXPECT_EQ(tied[69], 1.0);
}

TEST(FoldBadInput, NonFiniteTensorNamed) {
    std::vector<float> values = {1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN()};
    try {
        ramp::check_finite("blk.7.attn_q.weight", values.data(), values.size());
        FAIL() << "expected an error for NaN";
    } catch (const rdt::Error & error) {
        EXPECT_NE(std::string(error.what()).find("blk.7.attn_q.weight"), std::string::npos) << error.what();
    }
    values[2] = std::numeric_limits<float>::infinity();
    EXPECT_THROW(ramp::check_finite("t", values.data(), values.size()), rdt::Error);
    values[2] = 3.0f;
    EXPECT_NO_THROW(ramp::check_finite("t", values.data(), values.size()));
}

TEST(FoldBadInput, NonFiniteWeightStopsApply) {
    const ramp::ModelLayout layout = ramp::read_model_layout(ramp_test::stories_model());
    ramp::GgufWeights weights(ramp_test::stories_model());
    static_cast<float *>(weights.tensor("blk.0.attn_k.weight")->data)[3] =
        std::numeric_limits<float>::infinity();
    const std::vector<ramp::FoldGroup> groups = ramp::fold_groups(layout, weights);
    const std::vector<double> ones(static_cast<size_t>(groups[0].n_scales), 1.0);
    try {
        ramp::apply_fold(groups[0], ones, weights);
        FAIL() << "expected an error for Inf";
    } catch (const rdt::Error & error) {
        EXPECT_NE(std::string(error.what()).find("blk.0.attn_k.weight"), std::string::npos) << error.what();
    }
}

TEST(FoldBadInput, AlphaOutsideRange) {
    const auto dir = ramp_test::test_dir("ramp_fold");
    for (const double alpha : {-0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
        auto params =
            fold_params(ramp_test::stories_model(), ramp_test::tinystories_text(), dir / "out.gguf");
        params.alpha = alpha;
        EXPECT_THROW(ramp::run_fold(params), rdt::Error) << alpha;
        EXPECT_FALSE(fs::exists(params.output_path)) << alpha;
    }
}

TEST(FoldBadInput, OutputEqualsInput) {
    const auto dir = ramp_test::test_dir("ramp_fold");
    const fs::path copy = dir / "model.gguf";
    fs::copy_file(ramp_test::stories_model(), copy);
    const auto size = fs::file_size(copy);
    auto params = fold_params(copy, ramp_test::tinystories_text(), dir / "." / "model.gguf");
    params.force = true;
    EXPECT_THROW(ramp::run_fold(params), rdt::Error);
    EXPECT_EQ(fs::file_size(copy), size);
}

TEST(FoldBadInput, UnsupportedArchitecture) {
    const auto dir = ramp_test::test_dir("ramp_fold");
    const auto params = fold_params(ramp_test::bert_model(), ramp_test::tinystories_text(), dir / "out.gguf");
    EXPECT_THROW(ramp::run_fold(params), rdt::Error);
    EXPECT_FALSE(fs::exists(params.output_path));
}

TEST(FoldBadInput, CalibrationTooShort) {
    rdt::Progress::set_enabled(false);
    const auto dir = ramp_test::test_dir("ramp_fold");
    const fs::path text = dir / "short.txt";
    rdt::write_file_atomic(text, "Once upon a time there was a cat.\n");
    const auto params = fold_params(ramp_test::stories_model(), text, dir / "out.gguf");
    EXPECT_THROW(ramp::run_fold(params), rdt::Error);
    EXPECT_FALSE(fs::exists(params.output_path));
}

TEST(FoldBadInput, QuantizedInputNeedsAllowRequantize) {
    rdt::Progress::set_enabled(false);
    const auto dir = ramp_test::test_dir("ramp_fold");
    const fs::path quantized = dir / "q8_0.gguf";
    rdt::ensure_backend();
    llama_model_quantize_params quantize = llama_model_quantize_default_params();
    quantize.ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
    ASSERT_EQ(llama_model_quantize(ramp_test::stories_model().c_str(), quantized.c_str(), &quantize), 0u);

    auto params = fold_params(quantized, ramp_test::tinystories_text(), dir / "out.gguf");
    try {
        ramp::run_fold(params);
        FAIL() << "expected an error for a quantized model";
    } catch (const rdt::Error & error) {
        EXPECT_NE(std::string(error.what()).find("--allow-requantize"), std::string::npos) << error.what();
    }
    EXPECT_FALSE(fs::exists(params.output_path));

    params.allow_requantize = true;
    ramp::run_fold(params);
    const ramp::GgufWeights folded(params.output_path);
    EXPECT_EQ(folded.tensor("blk.0.attn_q.weight")->type, GGML_TYPE_F32);  // dequantized and folded
    const ramp::GgufWeights source(quantized);
    EXPECT_EQ(folded.tensor("token_embd.weight")->type,
              source.tensor("token_embd.weight")->type);  // untouched
}

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(ramp::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(ramp::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(ramp::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(ramp::sha256_hex(std::string(1000, 'a')).size(), 64u);
}

}  // namespace
