#include "ramp/gguf_weights.hpp"

#include "common/error.hpp"

namespace ramp {

GgufWeights::GgufWeights(const std::filesystem::path & path) : path_(path) {
    rdt::open_gguf_checked(path);
    ggml_context * raw_ctx = nullptr;
    gguf_init_params params{.no_alloc = false, .ctx = &raw_ctx};
    gguf_.reset(gguf_init_from_file(path.c_str(), params));
    ctx_.reset(raw_ctx);
    if (!gguf_ || !ctx_) {
        rdt::fail("cannot load the tensors of '{}'; the file is damaged or memory ran out", path.string());
    }
}

ggml_tensor * GgufWeights::find(const std::string & name) const {
    return ggml_get_tensor(ctx_.get(), name.c_str());
}

ggml_tensor * GgufWeights::tensor(const std::string & name) const {
    ggml_tensor * found = find(name);
    if (found == nullptr) {
        rdt::fail("tensor {} is missing from '{}'; the model file is incomplete", name, path_.string());
    }
    return found;
}

bool is_float_type(ggml_type type) {
    return type == GGML_TYPE_F32 || type == GGML_TYPE_F16 || type == GGML_TYPE_BF16;
}

std::vector<float> tensor_to_f32(const ggml_tensor * tensor) {
    const int64_t n = ggml_nelements(tensor);
    std::vector<float> values(static_cast<size_t>(n));
    if (tensor->type == GGML_TYPE_F32) {
        const auto * data = static_cast<const float *>(tensor->data);
        std::copy(data, data + n, values.begin());
        return values;
    }
    const ggml_type_traits * traits = ggml_get_type_traits(tensor->type);
    if (traits->to_float == nullptr) {
        rdt::fail("tensor {} has type {}, which ggml cannot convert to F32", tensor->name,
                  ggml_type_name(tensor->type));
    }
    // Rows are contiguous in a GGUF tensor, so the whole tensor converts in one call.
    traits->to_float(tensor->data, values.data(), n);
    return values;
}

void store_f32(ggml_tensor * tensor, const std::vector<float> & values) {
    if (static_cast<int64_t>(values.size()) != ggml_nelements(tensor)) {
        rdt::fail("cannot store {} values into tensor {} of {} elements", values.size(), tensor->name,
                  ggml_nelements(tensor));
    }
    switch (tensor->type) {
        case GGML_TYPE_F32:
            std::copy(values.begin(), values.end(), static_cast<float *>(tensor->data));
            return;
        case GGML_TYPE_F16:
            ggml_fp32_to_fp16_row(values.data(), static_cast<ggml_fp16_t *>(tensor->data),
                                  ggml_nelements(tensor));
            return;
        case GGML_TYPE_BF16:
            ggml_fp32_to_bf16_row(values.data(), static_cast<ggml_bf16_t *>(tensor->data),
                                  ggml_nelements(tensor));
            return;
        default:
            break;
    }
    rdt::fail("tensor {} has the quantized type {}; only F32, F16 and BF16 tensors can be rewritten",
              tensor->name, ggml_type_name(tensor->type));
}

}  // namespace ramp
