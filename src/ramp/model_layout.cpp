#include "ramp/model_layout.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "ramp/quant_types.hpp"

namespace ramp {

namespace {

// Llama-family architectures: RMSNorm before attention and MLP, separate q/k/v/o
// projections and a SiLU-gated MLP, all named as LLM_ARCH_LLAMA names them. Mistral
// models convert to "llama". Qwen2 adds q/k/v biases and Qwen3 a per-head q/k norm;
// neither changes the decided matrices or the places where Scale Folding applies.
constexpr std::array<std::string_view, 3> kSupportedArchitectures = {"llama", "qwen2", "qwen3"};

constexpr std::array<Role, kRoleCount> kRoles = {Role::AttnQ,   Role::AttnK, Role::AttnV,  Role::AttnOutput,
                                                 Role::FfnGate, Role::FfnUp, Role::FfnDown};

std::string supported_list() {
    std::string list;
    for (const std::string_view name : kSupportedArchitectures) {
        list += list.empty() ? "" : ", ";
        list += name;
    }
    return list;
}

std::optional<Role> parse_role(std::string_view name) {
    for (const Role role : kRoles) {
        if (role_name(role) == name) {
            return role;
        }
    }
    return std::nullopt;
}

// Split "blk.N.ROLE.weight" into block and role; nullopt for any other name.
std::optional<std::pair<int, Role>> parse_block_tensor(std::string_view name) {
    constexpr std::string_view kPrefix = "blk.";
    constexpr std::string_view kSuffix = ".weight";
    if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) {
        return std::nullopt;
    }
    name.remove_prefix(kPrefix.size());
    name.remove_suffix(kSuffix.size());

    const size_t dot = name.find('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    int block = -1;
    const auto [end, error] = std::from_chars(name.data(), name.data() + dot, block);
    if (error != std::errc() || end != name.data() + dot || block < 0) {
        return std::nullopt;
    }
    const std::optional<Role> role = parse_role(name.substr(dot + 1));
    if (!role) {
        return std::nullopt;
    }
    return std::make_pair(block, *role);
}

// An integer metadata value, scalar or per-layer array (which must be constant).
int64_t read_int_key(const gguf_context * gguf, const std::string & key) {
    const int64_t id = gguf_find_key(gguf, key.c_str());
    if (id < 0) {
        rdt::fail("the GGUF metadata has no key '{}'; the file is not a complete llama.cpp model", key);
    }
    switch (gguf_get_kv_type(gguf, id)) {
        case GGUF_TYPE_UINT32:
            return gguf_get_val_u32(gguf, id);
        case GGUF_TYPE_INT32:
            return gguf_get_val_i32(gguf, id);
        case GGUF_TYPE_UINT64:
            return static_cast<int64_t>(gguf_get_val_u64(gguf, id));
        case GGUF_TYPE_INT64:
            return gguf_get_val_i64(gguf, id);
        case GGUF_TYPE_UINT16:
            return gguf_get_val_u16(gguf, id);
        case GGUF_TYPE_ARRAY: {
            const size_t n = gguf_get_arr_n(gguf, id);
            const enum gguf_type type = gguf_get_arr_type(gguf, id);
            if (n == 0 || (type != GGUF_TYPE_INT32 && type != GGUF_TYPE_UINT32)) {
                break;
            }
            const auto * values = static_cast<const int32_t *>(gguf_get_arr_data(gguf, id));
            if (!std::all_of(values, values + n, [&](int32_t v) { return v == values[0]; })) {
                rdt::fail("metadata '{}' differs between layers; per-layer head counts are not supported",
                          key);
            }
            return values[0];
        }
        default:
            break;
    }
    rdt::fail("metadata '{}' has type {} but an integer was expected", key,
              gguf_type_name(gguf_get_kv_type(gguf, id)));
}

}  // namespace

std::string_view role_name(Role role) {
    switch (role) {
        case Role::AttnQ:
            return "attn_q";
        case Role::AttnK:
            return "attn_k";
        case Role::AttnV:
            return "attn_v";
        case Role::AttnOutput:
            return "attn_output";
        case Role::FfnGate:
            return "ffn_gate";
        case Role::FfnUp:
            return "ffn_up";
        case Role::FfnDown:
            return "ffn_down";
    }
    return "unknown";
}

bool role_is_attention(Role role) {
    return role == Role::AttnQ || role == Role::AttnK || role == Role::AttnV || role == Role::AttnOutput;
}

bool is_supported_architecture(std::string_view architecture) {
    return std::find(kSupportedArchitectures.begin(), kSupportedArchitectures.end(), architecture) !=
           kSupportedArchitectures.end();
}

ModelLayout read_model_layout(const gguf_context * gguf) {
    ModelLayout layout;
    const int64_t arch_id = gguf_find_key(gguf, "general.architecture");
    if (arch_id < 0 || gguf_get_kv_type(gguf, arch_id) != GGUF_TYPE_STRING) {
        rdt::fail(
            "the GGUF metadata has no string 'general.architecture'; the file is not a llama.cpp model");
    }
    layout.architecture = gguf_get_val_str(gguf, arch_id);
    if (!is_supported_architecture(layout.architecture)) {
        rdt::fail("architecture '{}' is not supported; supported architectures: {}", layout.architecture,
                  supported_list());
    }

    const std::string & arch = layout.architecture;
    layout.n_blocks = static_cast<int>(read_int_key(gguf, arch + ".block_count"));
    layout.n_head = static_cast<int>(read_int_key(gguf, arch + ".attention.head_count"));
    layout.n_head_kv = gguf_find_key(gguf, (arch + ".attention.head_count_kv").c_str()) >= 0
                           ? static_cast<int>(read_int_key(gguf, arch + ".attention.head_count_kv"))
                           : layout.n_head;
    layout.n_embd = read_int_key(gguf, arch + ".embedding_length");

    const int64_t n_tensors = gguf_get_n_tensors(gguf);
    for (int64_t id = 0; id < n_tensors; ++id) {
        const std::string name = gguf_get_tensor_name(gguf, id);
        const int64_t * ne = gguf_get_tensor_ne(gguf, id);
        const ggml_type type = gguf_get_tensor_type(gguf, id);
        const bool is_matrix = ne[2] == 1 && ne[3] == 1 && ne[1] > 1;

        const auto block_role = parse_block_tensor(name);
        if (block_role && is_matrix && !candidate_types(ne[0], false).empty()) {
            layout.matrices.push_back({.name = name,
                                       .role = block_role->second,
                                       .block = block_role->first,
                                       .n_in = ne[0],
                                       .n_out = ne[1],
                                       .source_type = type});
            continue;
        }
        layout.fixed.push_back(
            {.name = name, .n_elements = ne[0] * ne[1] * ne[2] * ne[3], .n_in = ne[0], .source_type = type});
    }

    std::stable_sort(layout.matrices.begin(), layout.matrices.end(),
                     [](const DecidedMatrix & a, const DecidedMatrix & b) {
                         return a.block != b.block ? a.block < b.block : a.role < b.role;
                     });
    if (layout.matrices.empty()) {
        rdt::fail(
            "the model has no block weight matrix whose row length a quant type divides; nothing to decide");
    }
    return layout;
}

ModelLayout read_model_layout(const std::filesystem::path & path) {
    const rdt::GgufPtr gguf = rdt::open_gguf_checked(path);
    return read_model_layout(gguf.get());
}

}  // namespace ramp
