// Tests for ramp/quant_types: storage cost, candidate lists and type names.

#include <gtest/gtest.h>

#include <vector>

#include "common/error.hpp"
#include "ramp/quant_types.hpp"

namespace {

// bpw values are ratios of small integers, so they are exact in double.
constexpr double kExactBpw = 0.0;

TEST(QuantTypes, BpwMatchesDesignTable) {
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_Q2_K), 2.625, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_Q3_K), 3.4375, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_Q4_K), 4.5, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_Q5_K), 5.5, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_Q6_K), 6.5625, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_Q8_0), 8.5, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_IQ2_XS), 2.3125, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_IQ3_XXS), 3.0625, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_IQ4_XS), 4.25, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_Q4_0), 4.5, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_Q4_1), 5.0, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_Q5_0), 5.5, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_Q5_1), 6.0, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_IQ4_NL), 4.5, kExactBpw);
    EXPECT_NEAR(ramp::type_bpw(GGML_TYPE_F16), 16.0, kExactBpw);
}

TEST(QuantTypes, BytesOfMatrix) {
    // Q4_K: 144 bytes per 256 weights; 512 x 3 -> 2 blocks per row, 3 rows.
    EXPECT_EQ(ramp::type_bytes(GGML_TYPE_Q4_K, 512, 3), 2 * 144 * 3);
    EXPECT_EQ(ramp::type_bytes(GGML_TYPE_Q8_0, 64, 10), 2 * 34 * 10);
    EXPECT_EQ(ramp::type_bytes(GGML_TYPE_F32, 7, 5), 7 * 4 * 5);
}

TEST(QuantTypes, BytesRejectsBadRowLength) {
    EXPECT_THROW(ramp::type_bytes(GGML_TYPE_Q4_K, 288, 2), rdt::Error);
}

TEST(QuantTypes, CandidatesForKFamily) {
    const std::vector<ggml_type> expected = {GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K,
                                             GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_Q8_0};
    EXPECT_EQ(ramp::candidate_types(256, false), expected);
    EXPECT_EQ(ramp::candidate_types(768, false), expected);
}

TEST(QuantTypes, CandidatesWithImatrix) {
    const std::vector<ggml_type> expected = {GGML_TYPE_IQ2_XS, GGML_TYPE_Q2_K, GGML_TYPE_IQ3_XXS,
                                             GGML_TYPE_Q3_K,   GGML_TYPE_IQ4_XS, GGML_TYPE_Q4_K,
                                             GGML_TYPE_Q5_K,   GGML_TYPE_Q6_K,  GGML_TYPE_Q8_0};
    EXPECT_EQ(ramp::candidate_types(512, true), expected);
}

TEST(QuantTypes, CandidatesFor32Blocks) {
    const std::vector<ggml_type> plain = {GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1,
                                          GGML_TYPE_Q8_0};
    const std::vector<ggml_type> with_imatrix = {GGML_TYPE_IQ4_NL, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,
                                                 GGML_TYPE_Q5_1, GGML_TYPE_Q8_0};
    EXPECT_EQ(ramp::candidate_types(64, false), plain);
    EXPECT_EQ(ramp::candidate_types(288, true), with_imatrix);
}

TEST(QuantTypes, CandidatesSortedByBpw) {
    for (const int64_t row : {64, 256, 288}) {
        const auto types = ramp::candidate_types(row, true);
        for (size_t i = 1; i < types.size(); ++i) {
            EXPECT_LT(ramp::type_bpw(types[i - 1]), ramp::type_bpw(types[i])) << "row " << row;
        }
    }
}

TEST(QuantTypes, NominalBits) {
    EXPECT_EQ(ramp::type_nominal_bits(GGML_TYPE_Q2_K), 2.0);
    EXPECT_EQ(ramp::type_nominal_bits(GGML_TYPE_Q4_K), 4.0);
    EXPECT_EQ(ramp::type_nominal_bits(GGML_TYPE_Q8_0), 8.0);
    EXPECT_EQ(ramp::type_nominal_bits(GGML_TYPE_F32), 32.0);
    for (const auto type : ramp::candidate_types(256, true)) {
        EXPECT_LT(ramp::type_nominal_bits(type), ramp::type_bpw(type)) << ramp::type_name(type);
    }
}

TEST(QuantTypes, NoCandidatesForOddRows) {
    EXPECT_TRUE(ramp::candidate_types(100, false).empty());
    EXPECT_TRUE(ramp::candidate_types(0, true).empty());
}

TEST(QuantTypes, FeatureTypes) {
    EXPECT_EQ(ramp::feature_type_high(256), GGML_TYPE_Q4_K);
    EXPECT_EQ(ramp::feature_type_low(256), GGML_TYPE_Q3_K);
    EXPECT_EQ(ramp::feature_type_high(64), GGML_TYPE_Q5_0);
    EXPECT_EQ(ramp::feature_type_low(64), GGML_TYPE_Q4_0);
    EXPECT_EQ(ramp::feature_type_high(100), GGML_TYPE_COUNT);
    EXPECT_EQ(ramp::feature_type_low(100), GGML_TYPE_COUNT);
}

TEST(QuantTypes, NameRoundTrip) {
    EXPECT_EQ(ramp::type_name(GGML_TYPE_Q4_K), "q4_K");
    EXPECT_EQ(ramp::type_name(GGML_TYPE_Q8_0), "q8_0");
    EXPECT_EQ(ramp::parse_type_name("Q4_K"), GGML_TYPE_Q4_K);
    EXPECT_EQ(ramp::parse_type_name("iq4_nl"), GGML_TYPE_IQ4_NL);
    EXPECT_EQ(ramp::parse_type_name("F16"), GGML_TYPE_F16);
    for (const auto type : ramp::candidate_types(256, true)) {
        EXPECT_EQ(ramp::parse_type_name(ramp::type_name(type)), type);
    }
}

TEST(QuantTypes, UnknownNameListsAccepted) {
    try {
        ramp::parse_type_name("q4_kk");
        FAIL() << "expected rdt::Error";
    } catch (const rdt::Error & error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("q4_kk"), std::string::npos) << message;
        EXPECT_NE(message.find("q4_K"), std::string::npos) << message;
    }
}

TEST(QuantTypes, NonStorageTypesRejected) {
    // i32 once reached the quantizer through `ramp fold --search-type` and aborted in ggml.
    for (const char * name : {"i8", "i16", "i32", "i64", "f64", "q8_1", "q8_K"}) {
        EXPECT_THROW(ramp::parse_type_name(name), rdt::Error) << name;
    }
}

}  // namespace
