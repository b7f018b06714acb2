#include "ramp/plan_size.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "ramp/budget.hpp"
#include "ramp/gguf_weights.hpp"
#include "ramp/quant_types.hpp"

namespace ramp {

namespace {

// llama_model_kv_override stores keys and strings in 128-byte arrays (NUL included).
constexpr size_t kMaxOverrideChars = 127;

llama_model_kv_override string_entry(const std::string & key, const std::string & value) {
    llama_model_kv_override entry{};
    entry.tag = LLAMA_KV_OVERRIDE_TYPE_STR;
    std::strncpy(entry.key, key.c_str(), kMaxOverrideChars);
    std::strncpy(entry.val_str, value.c_str(), kMaxOverrideChars);
    return entry;
}

// Written by the quantizer as F32.
llama_model_kv_override float_entry(const std::string & key, double value) {
    llama_model_kv_override entry{};
    entry.tag = LLAMA_KV_OVERRIDE_TYPE_FLOAT;
    std::strncpy(entry.key, key.c_str(), kMaxOverrideChars);
    entry.val_f64 = value;
    return entry;
}

// Written by the quantizer as U32 of the absolute value.
llama_model_kv_override int_entry(const std::string & key, int64_t value) {
    llama_model_kv_override entry{};
    entry.tag = LLAMA_KV_OVERRIDE_TYPE_INT;
    std::strncpy(entry.key, key.c_str(), kMaxOverrideChars);
    entry.val_i64 = value;
    return entry;
}

// Apply metadata to ctx the way llama_model_quantize does.
void apply_metadata(gguf_context * ctx, const std::vector<llama_model_kv_override> & metadata) {
    for (const llama_model_kv_override & entry : metadata) {
        if (entry.key[0] == 0) {
            break;
        }
        switch (entry.tag) {
            case LLAMA_KV_OVERRIDE_TYPE_FLOAT:
                gguf_set_val_f32(ctx, entry.key, static_cast<float>(entry.val_f64));
                break;
            case LLAMA_KV_OVERRIDE_TYPE_INT:
                gguf_set_val_u32(ctx, entry.key, static_cast<uint32_t>(std::abs(entry.val_i64)));
                break;
            case LLAMA_KV_OVERRIDE_TYPE_BOOL:
                gguf_set_val_bool(ctx, entry.key, entry.val_bool);
                break;
            case LLAMA_KV_OVERRIDE_TYPE_STR:
                gguf_set_val_str(ctx, entry.key, entry.val_str);
                break;
        }
    }
}

llama_ftype ftype_for(ggml_type type) {
    switch (type) {
        case GGML_TYPE_Q2_K: return LLAMA_FTYPE_MOSTLY_Q2_K;
        case GGML_TYPE_Q3_K: return LLAMA_FTYPE_MOSTLY_Q3_K_M;
        case GGML_TYPE_Q4_K: return LLAMA_FTYPE_MOSTLY_Q4_K_M;
        case GGML_TYPE_Q5_K: return LLAMA_FTYPE_MOSTLY_Q5_K_M;
        case GGML_TYPE_Q6_K: return LLAMA_FTYPE_MOSTLY_Q6_K;
        case GGML_TYPE_Q8_0: return LLAMA_FTYPE_MOSTLY_Q8_0;
        case GGML_TYPE_Q4_0: return LLAMA_FTYPE_MOSTLY_Q4_0;
        case GGML_TYPE_Q4_1: return LLAMA_FTYPE_MOSTLY_Q4_1;
        case GGML_TYPE_Q5_0: return LLAMA_FTYPE_MOSTLY_Q5_0;
        case GGML_TYPE_Q5_1: return LLAMA_FTYPE_MOSTLY_Q5_1;
        case GGML_TYPE_IQ4_NL: return LLAMA_FTYPE_MOSTLY_IQ4_NL;
        case GGML_TYPE_IQ4_XS: return LLAMA_FTYPE_MOSTLY_IQ4_XS;
        case GGML_TYPE_IQ3_XXS: return LLAMA_FTYPE_MOSTLY_IQ3_XXS;
        case GGML_TYPE_IQ2_XS: return LLAMA_FTYPE_MOSTLY_IQ2_XS;
        default: return LLAMA_FTYPE_MOSTLY_Q4_K_M;
    }
}

}  // namespace

std::vector<llama_model_kv_override> export_metadata(const Plan & plan, const std::string & imatrix_name) {
    std::vector<llama_model_kv_override> entries;
    entries.push_back(string_entry("ramp.plan.schema", std::string(kPlanSchema)));
    entries.push_back(string_entry("ramp.plan.hash", plan_hash(plan)));
    entries.push_back(string_entry("ramp.plan.source", plan.source));
    entries.push_back(float_entry("ramp.plan.bpw", plan.predicted.bpw));
    if (plan.target_bpw) {
        entries.push_back(float_entry("ramp.budget.bpw", *plan.target_bpw));
    }
    const auto & provenance = plan.provenance;
    if (provenance.contains("seed") && provenance.at("seed").is_number_integer()) {
        entries.push_back(int_entry("ramp.seed", provenance.at("seed").get<int64_t>()));
    }
    for (const char * key : {"calibration", "calibration_sha256", "policy_hash"}) {
        if (provenance.contains(key) && provenance.at(key).is_string()) {
            entries.push_back(string_entry(std::string("ramp.") + key, provenance.at(key).get<std::string>()));
        }
    }
    if (!imatrix_name.empty()) {
        entries.push_back(string_entry("ramp.imatrix", imatrix_name));
    }
    entries.push_back(llama_model_kv_override{});  // terminator: empty key
    return entries;
}

llama_ftype export_ftype(const Plan & plan) {
    std::map<ggml_type, int64_t> elements;
    for (const MatrixType & entry : plan.matrices) {
        elements[entry.type] += entry.n_in * entry.n_out;
    }
    const auto most = std::max_element(elements.begin(), elements.end(),
                                       [](const auto & a, const auto & b) { return a.second < b.second; });
    return most == elements.end() ? LLAMA_FTYPE_MOSTLY_Q4_K_M : ftype_for(most->first);
}

ggml_type exported_type(const Plan & plan, const std::string & name, ggml_type source_type) {
    return plan.type_of(name).value_or(source_type);
}

rdt::GgufPtr make_export_gguf(const gguf_context * source, const Plan & plan,
                              const std::vector<llama_model_kv_override> & metadata) {
    // Metadata exactly as the quantizer assembles it.
    rdt::GgufPtr out(gguf_init_empty());
    gguf_set_kv(out.get(), source);
    gguf_set_val_u32(out.get(), "general.quantization_version", GGML_QNT_VERSION);
    gguf_set_val_u32(out.get(), "general.file_type", static_cast<uint32_t>(export_ftype(plan)));
    apply_metadata(out.get(), metadata);

    // Tensor directory at the exported types. gguf_add_tensor copies the tensor
    // header, so the scratch context without data can go afterwards.
    const int64_t n_tensors = gguf_get_n_tensors(source);
    const ggml_init_params params = {
        /*.mem_size   =*/ggml_tensor_overhead() * static_cast<size_t>(n_tensors + 1),
        /*.mem_buffer =*/nullptr,
        /*.no_alloc   =*/true,
    };
    GgmlContextPtr scratch(ggml_init(params));
    for (int64_t id = 0; id < n_tensors; ++id) {
        const std::string name = gguf_get_tensor_name(source, id);
        const ggml_type type = exported_type(plan, name, gguf_get_tensor_type(source, id));
        const int64_t * ne = gguf_get_tensor_ne(source, id);
        if (ne[0] % ggml_blck_size(type) != 0) {
            rdt::fail("tensor '{}' (row length {}) cannot take type {}", name, ne[0], type_name(type));
        }
        ggml_tensor * tensor = ggml_new_tensor_4d(scratch.get(), type, ne[0], ne[1], ne[2], ne[3]);
        ggml_set_name(tensor, name.c_str());
        gguf_add_tensor(out.get(), tensor);
    }
    return out;
}

int64_t predict_file_bytes(const gguf_context * source, const Plan & plan,
                           const std::vector<llama_model_kv_override> & metadata) {
    const rdt::GgufPtr out = make_export_gguf(source, plan, metadata);
    // The quantizer pads every tensor's data to GGUF_DEFAULT_ALIGNMENT.
    int64_t data_bytes = 0;
    for (int64_t id = 0; id < gguf_get_n_tensors(out.get()); ++id) {
        data_bytes += static_cast<int64_t>(GGML_PAD(gguf_get_tensor_size(out.get(), id), GGUF_DEFAULT_ALIGNMENT));
    }
    return static_cast<int64_t>(gguf_get_meta_size(out.get())) + data_bytes;
}

void fill_prediction(Plan & plan, const ModelLayout & layout, const gguf_context * source,
                     const std::string & imatrix_name) {
    const DecidedSize size = decided_size(layout, plan.matrix_types());
    plan.predicted.bpw = size.bpw;
    plan.predicted.nominal_bpw = size.nominal_bpw;
    plan.predicted.decided_bytes = size.bytes;
    plan.predicted.file_bytes = predict_file_bytes(source, plan, export_metadata(plan, imatrix_name));
}

}  // namespace ramp
