#include "ramp/quant_types.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <cctype>

namespace ramp {

namespace {

// Super-block length of the K and IQ families: rows must be a multiple of it.
constexpr int64_t kSuperBlock = 256;
// Block length of the legacy family (Q4_0 ... Q8_0, IQ4_NL).
constexpr int64_t kSmallBlock = 32;

// True for a type id that ggml still implements (removed ids have block size 0).
bool is_live_type(int type) {
    const auto ggml = static_cast<ggml_type>(type);
    return ggml_type_name(ggml) != nullptr && ggml_blck_size(ggml) > 0 && ggml_type_size(ggml) > 0;
}

std::string to_lower(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
}

void sort_by_bpw(std::vector<ggml_type> & types) {
    std::stable_sort(types.begin(), types.end(),
                     [](ggml_type a, ggml_type b) { return type_bpw(a) < type_bpw(b); });
}

}  // namespace

double type_bpw(ggml_type type) {
    if (!is_live_type(type)) {
        rdt::fail("type id {} is not a ggml type", static_cast<int>(type));
    }
    return static_cast<double>(ggml_type_size(type)) * 8.0 / static_cast<double>(ggml_blck_size(type));
}

int64_t type_bytes(ggml_type type, int64_t n_in, int64_t n_out) {
    if (!is_live_type(type)) {
        rdt::fail("type id {} is not a ggml type", static_cast<int>(type));
    }
    if (n_in % ggml_blck_size(type) != 0) {
        rdt::fail("row length {} is not a multiple of the block size {} of {}; choose another type", n_in,
                  ggml_blck_size(type), type_name(type));
    }
    return static_cast<int64_t>(ggml_row_size(type, n_in)) * n_out;
}

std::vector<ggml_type> candidate_types(int64_t row_length, bool with_imatrix) {
    std::vector<ggml_type> types;
    if (row_length > 0 && row_length % kSuperBlock == 0) {
        types = {GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K,
                 GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_Q8_0};
        if (with_imatrix) {
            types.insert(types.end(), {GGML_TYPE_IQ2_XS, GGML_TYPE_IQ3_XXS, GGML_TYPE_IQ4_XS});
        }
    } else if (row_length > 0 && row_length % kSmallBlock == 0) {
        // IQ4_NL costs the same 4.5 bpw as Q4_0; keep one of the two so that bpw is
        // strictly increasing. IQ types join with an importance matrix, as for 256 rows.
        const ggml_type four_bit = with_imatrix ? GGML_TYPE_IQ4_NL : GGML_TYPE_Q4_0;
        types = {four_bit, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0};
    }
    sort_by_bpw(types);
    return types;
}

ggml_type feature_type_high(int64_t row_length) {
    if (row_length > 0 && row_length % kSuperBlock == 0) {
        return GGML_TYPE_Q4_K;
    }
    if (row_length > 0 && row_length % kSmallBlock == 0) {
        return GGML_TYPE_Q5_0;
    }
    return GGML_TYPE_COUNT;
}

ggml_type feature_type_low(int64_t row_length) {
    if (row_length > 0 && row_length % kSuperBlock == 0) {
        return GGML_TYPE_Q3_K;
    }
    if (row_length > 0 && row_length % kSmallBlock == 0) {
        return GGML_TYPE_Q4_0;
    }
    return GGML_TYPE_COUNT;
}

std::string type_name(ggml_type type) {
    if (!is_live_type(type)) {
        rdt::fail("type id {} is not a ggml type", static_cast<int>(type));
    }
    return ggml_type_name(type);
}

// True for a type that can store weights in a GGUF: floats and quant types.
// Integer and F64 types hold other data; Q8_1 and Q8_K are only the intermediate
// formats of ggml's dot products, and the quantizer cannot write them.
bool is_weight_storage_type(int type) {
    switch (static_cast<ggml_type>(type)) {
        case GGML_TYPE_I8:
        case GGML_TYPE_I16:
        case GGML_TYPE_I32:
        case GGML_TYPE_I64:
        case GGML_TYPE_F64:
        case GGML_TYPE_Q8_1:
        case GGML_TYPE_Q8_K:
            return false;
        default:
            return is_live_type(type);
    }
}

ggml_type parse_type_name(std::string_view name) {
    const std::string requested = to_lower(name);
    std::string accepted;
    for (int id = 0; id < GGML_TYPE_COUNT; ++id) {
        if (!is_weight_storage_type(id)) {
            continue;
        }
        const std::string candidate = ggml_type_name(static_cast<ggml_type>(id));
        if (to_lower(candidate) == requested) {
            return static_cast<ggml_type>(id);
        }
        accepted += accepted.empty() ? candidate : ", " + candidate;
    }
    rdt::fail("unknown quant type '{}'; accepted names: {}", name, accepted);
}

double type_nominal_bits(ggml_type type) {
    switch (type) {
        case GGML_TYPE_Q2_K:
        case GGML_TYPE_IQ2_XS:
        case GGML_TYPE_IQ2_XXS:
        case GGML_TYPE_IQ2_S:
            return 2.0;
        case GGML_TYPE_Q3_K:
        case GGML_TYPE_IQ3_XXS:
        case GGML_TYPE_IQ3_S:
            return 3.0;
        case GGML_TYPE_Q4_K:
        case GGML_TYPE_Q4_0:
        case GGML_TYPE_Q4_1:
        case GGML_TYPE_IQ4_NL:
        case GGML_TYPE_IQ4_XS:
            return 4.0;
        case GGML_TYPE_Q5_K:
        case GGML_TYPE_Q5_0:
        case GGML_TYPE_Q5_1:
            return 5.0;
        case GGML_TYPE_Q6_K:
            return 6.0;
        case GGML_TYPE_Q8_0:
            return 8.0;
        case GGML_TYPE_F16:
        case GGML_TYPE_BF16:
            return 16.0;
        case GGML_TYPE_F32:
            return 32.0;
        default:
            rdt::fail("no nominal bit width is known for type {}; use a candidate type", type_name(type));
    }
}

}  // namespace ramp
