// Tests for ramp/model_layout: decided matrices and fixed tensors of the shared models.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/error.hpp"
#include "fold_test_support.hpp"
#include "ramp/model_layout.hpp"
#include "ramp/quant_types.hpp"

namespace {

using ramp::Role;

bool has_fixed(const ramp::ModelLayout & layout, const std::string & name) {
    return std::any_of(layout.fixed.begin(), layout.fixed.end(),
                       [&](const ramp::FixedTensor & tensor) { return tensor.name == name; });
}

TEST(ModelLayout, TinyLlamaHas42Matrices) {
    const ramp::ModelLayout layout = ramp::read_model_layout(ramp_test::tiny_llama_model());
    EXPECT_EQ(layout.architecture, "llama");
    EXPECT_EQ(layout.n_blocks, 6);
    EXPECT_EQ(layout.n_head, 4);
    EXPECT_EQ(layout.n_head_kv, 2);
    EXPECT_EQ(layout.n_embd, 256);
    ASSERT_EQ(layout.matrices.size(), 42u);
    EXPECT_EQ(layout.matrices.front().name, "blk.0.attn_q.weight");
    EXPECT_EQ(layout.matrices.back().name, "blk.5.ffn_down.weight");
    EXPECT_EQ(layout.matrices.back().n_in, 768);
    EXPECT_EQ(layout.matrices.back().n_out, 256);
    EXPECT_TRUE(has_fixed(layout, "token_embd.weight"));
    EXPECT_TRUE(has_fixed(layout, "blk.0.attn_norm.weight"));
}

TEST(ModelLayout, ModelOrderIsBlockThenRole) {
    const ramp::ModelLayout layout = ramp::read_model_layout(ramp_test::tiny_llama_model());
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        const ramp::DecidedMatrix & matrix = layout.matrices[i];
        EXPECT_EQ(matrix.block, static_cast<int>(i / ramp::kRoleCount)) << matrix.name;
        EXPECT_EQ(static_cast<int>(matrix.role), static_cast<int>(i % ramp::kRoleCount)) << matrix.name;
        const std::string expected = "blk." + std::to_string(matrix.block) + "." +
                                     std::string(ramp::role_name(matrix.role)) + ".weight";
        EXPECT_EQ(matrix.name, expected);
    }
}

TEST(ModelLayout, StoriesFfnDownIsFixed) {
    const ramp::ModelLayout layout = ramp::read_model_layout(ramp_test::stories_model());
    EXPECT_EQ(layout.n_blocks, 5);
    EXPECT_EQ(layout.n_head, 8);
    EXPECT_EQ(layout.n_head_kv, 4);
    ASSERT_EQ(layout.matrices.size(), 30u);  // 5 blocks x 6 roles; ffn_down rows of 172 allow no type
    for (const ramp::DecidedMatrix & matrix : layout.matrices) {
        EXPECT_NE(matrix.role, Role::FfnDown) << matrix.name;
        EXPECT_TRUE(has_fixed(layout, "blk." + std::to_string(matrix.block) + ".ffn_down.weight"));
    }
}

TEST(ModelLayout, StoriesGets32BlockCandidates) {
    const ramp::ModelLayout layout = ramp::read_model_layout(ramp_test::stories_model());
    for (const ramp::DecidedMatrix & matrix : layout.matrices) {
        const std::vector<ggml_type> candidates = ramp::candidate_types(matrix.n_in, false);
        ASSERT_FALSE(candidates.empty()) << matrix.name;
        for (const ggml_type type : candidates) {
            EXPECT_EQ(ggml_blck_size(type), 32) << matrix.name << " " << ggml_type_name(type);
        }
    }
}

TEST(ModelLayout, BertIsRejected) {
    try {
        ramp::read_model_layout(ramp_test::bert_model());
        FAIL() << "expected an error for the bert architecture";
    } catch (const rdt::Error & error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("'bert'"), std::string::npos) << message;
        EXPECT_NE(message.find("llama"), std::string::npos) << message;
    }
}

TEST(ModelLayout, SupportedArchitectures) {
    EXPECT_TRUE(ramp::is_supported_architecture("llama"));
    EXPECT_TRUE(ramp::is_supported_architecture("qwen2"));
    EXPECT_TRUE(ramp::is_supported_architecture("qwen3"));
    EXPECT_FALSE(ramp::is_supported_architecture("bert"));
    EXPECT_FALSE(ramp::is_supported_architecture("llada"));
}

}  // namespace
