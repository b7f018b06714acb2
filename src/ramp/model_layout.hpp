#pragma once
// The decided matrices of a model: every quantizable 2-D weight inside the
// transformer blocks (attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up,
// ffn_down for Llama-family models), in model order. Embedding, output and norm
// tensors are not decided; they keep user-set types and are reported separately.

#include <ggml.h>
#include <gguf.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ramp {

// Role of a matrix inside its block, in the order they are visited.
enum class Role { AttnQ, AttnK, AttnV, AttnOutput, FfnGate, FfnUp, FfnDown };
constexpr int kRoleCount = 7;

// "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down".
std::string_view role_name(Role role);
bool role_is_attention(Role role);

struct DecidedMatrix {
    std::string name;  // GGUF tensor name, e.g. "blk.3.attn_q.weight"
    Role role = Role::AttnQ;
    int block = 0;
    int64_t n_in = 0;   // row length (ne[0]): input features
    int64_t n_out = 0;  // rows (ne[1]): output features
    ggml_type source_type = GGML_TYPE_F32;

    int64_t n_elements() const { return n_in * n_out; }
};

// A tensor that is not decided (embeddings, output, norms, or a matrix whose row
// length no candidate type divides), with its size in the source file.
struct FixedTensor {
    std::string name;
    int64_t n_elements = 0;
    int64_t n_in = 0;  // ne[0]
    ggml_type source_type = GGML_TYPE_F32;
};

struct ModelLayout {
    std::string architecture;  // general.architecture
    int n_blocks = 0;
    int n_head = 0;
    int n_head_kv = 0;
    int64_t n_embd = 0;
    std::vector<DecidedMatrix> matrices;  // block-major, then Role order
    std::vector<FixedTensor> fixed;       // everything else, in file order
};

// Architectures with RMSNorm, separate q/k/v/o and a gated MLP whose tensor names
// follow llama.cpp's LLM_ARCH_LLAMA naming.
bool is_supported_architecture(std::string_view architecture);

// Read the layout from GGUF metadata and tensor directory. Fails for an
// unsupported architecture, listing the supported ones.
ModelLayout read_model_layout(const gguf_context * gguf);
ModelLayout read_model_layout(const std::filesystem::path & path);

}  // namespace ramp
