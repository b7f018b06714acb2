#pragma once
// A GGUF model file loaded whole into memory (metadata and tensor data), for the
// steps that read or rewrite weights: features and Scale Folding.

#include <ggml.h>
#include <gguf.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/engine.hpp"

namespace ramp {

struct GgmlContextDeleter {
    void operator()(ggml_context * ctx) const { ggml_free(ctx); }
};
using GgmlContextPtr = std::unique_ptr<ggml_context, GgmlContextDeleter>;

class GgufWeights {
  public:
    // Load path after rdt::open_gguf_checked's checks. Memory: the whole file.
    explicit GgufWeights(const std::filesystem::path & path);

    const gguf_context * gguf() const { return gguf_.get(); }
    ggml_context * tensors() const { return ctx_.get(); }
    const std::filesystem::path & path() const { return path_; }

    // The tensor called name; fails naming it when the file has none.
    ggml_tensor * tensor(const std::string & name) const;
    ggml_tensor * find(const std::string & name) const;  // nullptr when absent

  private:
    std::filesystem::path path_;
    rdt::GgufPtr gguf_;
    GgmlContextPtr ctx_;
};

// The values of tensor as F32 (a copy; dequantized when the type is not F32).
std::vector<float> tensor_to_f32(const ggml_tensor * tensor);

// Overwrite tensor's data with values, converted to the tensor's type (F32, F16 or
// BF16). Fails for quantized types.
void store_f32(ggml_tensor * tensor, const std::vector<float> & values);

bool is_float_type(ggml_type type);

}  // namespace ramp
