#pragma once
// GGUF quant types that a decided matrix may take, and their storage cost.
// Storage bits per weight (bpw) include the block scales: Q2_K 2.625,
// Q3_K 3.4375, Q4_K 4.5, Q5_K 5.5, Q6_K 6.5625, Q8_0 8.5 (256-element super-blocks
// for the K types); 32-block family Q4_0 4.5, Q4_1 5.0, Q5_0 5.5, Q5_1 6.0,
// IQ4_NL 4.5, Q8_0 8.5.

#include <ggml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ramp {

// Storage bits per weight of type (ggml_type_size * 8 / ggml_blck_size).
double type_bpw(ggml_type type);

// Bytes of a matrix of n_in x n_out stored as type (ggml_row_size * n_out).
int64_t type_bytes(ggml_type type, int64_t n_in, int64_t n_out);

// Candidate types for a row length, ordered by strictly increasing bpw. Rows that
// are a multiple of 256 get the K family (plus IQ2_XS, IQ3_XXS and IQ4_XS when
// with_imatrix); multiples of 32 get the 32-block family Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0, where IQ4_NL (also 4.5 bpw) replaces Q4_0 when with_imatrix; other lengths
// get none (the matrix stays unquantized).
std::vector<ggml_type> candidate_types(int64_t row_length, bool with_imatrix);

// The type used for the reference quantization error features: Q4_K, or Q5_0
// for 32-block rows (feature 8); Q3_K, or Q4_0 (feature 11). GGML_TYPE_COUNT when
// the row length allows neither.
ggml_type feature_type_high(int64_t row_length);
ggml_type feature_type_low(int64_t row_length);

// Name as llama.cpp writes it ("q4_K", "q8_0"), and the reverse (case-insensitive,
// fails listing accepted names).
std::string type_name(ggml_type type);
ggml_type parse_type_name(std::string_view name);

// Bits of the weight codes alone, without block scales ("effective bits"): 2 for
// Q2_K and IQ2_XS, 3 for Q3_K and IQ3_XXS, 4 for Q4_K, Q4_0, Q4_1, IQ4_NL and
// IQ4_XS, 5, 6 and 8 for Q5_*, Q6_K and Q8_0, 16 and 32 for the float types.
double type_nominal_bits(ggml_type type);

}  // namespace ramp
