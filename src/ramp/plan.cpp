#include "ramp/plan.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "common/error.hpp"
#include "common/output.hpp"
#include "common/text.hpp"
#include "ramp/quant_types.hpp"
#include "ramp/sha256.hpp"

namespace ramp {

namespace {

using nlohmann::json;

// Large-file hash: bytes read from the start (GGUF metadata and tensor directory
// of any model fit in it) and the number and size of the samples over the rest.
constexpr int64_t kHashHeadBytes = int64_t{32} << 20;
constexpr int kHashSamples = 256;
constexpr int64_t kHashSampleBytes = int64_t{64} << 10;

// Super-block length: the output rule of the Q4_K_M recipe needs rows of it.
constexpr int64_t kSuperBlock = 256;

std::string read_range(std::ifstream & file, int64_t offset, int64_t size, const std::filesystem::path & path) {
    std::string bytes(static_cast<size_t>(size), '\0');
    file.seekg(offset);
    file.read(bytes.data(), size);
    if (file.gcount() != size) {
        rdt::fail("failed to read {} bytes at offset {} of '{}'", size, offset, path.string());
    }
    return bytes;
}

std::string sampled_hash(const std::filesystem::path & path, int64_t file_size) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        rdt::fail("cannot open '{}' to hash it; check the path and permissions", path.string());
    }
    std::string message = std::to_string(file_size) + "\n";
    message += read_range(file, 0, kHashHeadBytes, path);

    // Samples spread evenly over the bytes after the head.
    const int64_t span = file_size - kHashHeadBytes - kHashSampleBytes;
    for (int i = 0; i < kHashSamples; ++i) {
        const int64_t offset = kHashHeadBytes + span * i / (kHashSamples - 1);
        message += read_range(file, offset, kHashSampleBytes, path);
    }
    return "sha256-sampled:" + sha256_hex(message);
}

// Type that llama.cpp's fallback gives a row length that type's block does not
// divide (the part of its table that the Q4_K_M defaults can reach).
ggml_type with_row_fallback(ggml_type type, int64_t n_in) {
    if (n_in % ggml_blck_size(type) == 0) {
        return type;
    }
    const ggml_type fallback = type == GGML_TYPE_Q4_K ? GGML_TYPE_Q5_0 : GGML_TYPE_Q8_0;
    return n_in % ggml_blck_size(fallback) == 0 ? fallback : GGML_TYPE_F16;
}

ggml_type output_default_type(int64_t n_in) {
    return n_in % kSuperBlock == 0 ? GGML_TYPE_Q6_K : with_row_fallback(GGML_TYPE_Q8_0, n_in);
}

template <typename T>
T required(const json & object, const char * key, const char * where) {
    if (!object.is_object() || !object.contains(key)) {
        rdt::fail("plan: '{}' is missing the field '{}'", where, key);
    }
    try {
        return object.at(key).get<T>();
    } catch (const json::exception & error) {
        rdt::fail("plan: field '{}' of '{}' has the wrong type ({})", key, where, error.what());
    }
}

std::string candidate_list(const std::vector<ggml_type> & types) {
    std::string list;
    for (const ggml_type type : types) {
        list += list.empty() ? type_name(type) : ", " + type_name(type);
    }
    return list.empty() ? "none" : list;
}

void add_matrix_mismatches(const Plan & plan, const ModelLayout & layout, std::vector<std::string> & problems) {
    std::map<std::string, size_t> model_index;
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        model_index[layout.matrices[i].name] = i;
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < plan.matrices.size(); ++i) {
        const MatrixType & entry = plan.matrices[i];
        const auto found = model_index.find(entry.name);
        if (found == model_index.end()) {
            problems.push_back(fmt::format("matrix '{}' is not a decided matrix of the model", entry.name));
            continue;
        }
        seen.insert(entry.name);
        const DecidedMatrix & matrix = layout.matrices[found->second];
        if (found->second != i) {
            problems.push_back(fmt::format("matrix '{}' is at position {} of the plan but {} of the model",
                                           entry.name, i, found->second));
        }
        if (entry.n_in != matrix.n_in || entry.n_out != matrix.n_out) {
            problems.push_back(fmt::format("matrix '{}' has shape [{}, {}] in the plan but [{}, {}] in the model",
                                           entry.name, entry.n_in, entry.n_out, matrix.n_in, matrix.n_out));
        }
        const auto candidates = candidate_types(matrix.n_in, plan.with_imatrix);
        if (std::find(candidates.begin(), candidates.end(), entry.type) == candidates.end()) {
            problems.push_back(fmt::format("matrix '{}' (row length {}) cannot take type {}; candidates: {}",
                                           entry.name, matrix.n_in, type_name(entry.type),
                                           candidate_list(candidates)));
        }
    }
    for (const DecidedMatrix & matrix : layout.matrices) {
        if (!seen.contains(matrix.name)) {
            problems.push_back(fmt::format("matrix '{}' of the model has no type in the plan", matrix.name));
        }
    }
}

void add_fixed_mismatches(const Plan & plan, const gguf_context * gguf, std::vector<std::string> & problems) {
    for (const FixedType & entry : plan.fixed) {
        const int64_t id = gguf_find_tensor(gguf, entry.name.c_str());
        if (id < 0) {
            problems.push_back(fmt::format("fixed tensor '{}' is not in the model", entry.name));
            continue;
        }
        const int64_t n_in = gguf_get_tensor_ne(gguf, id)[0];
        if (n_in % ggml_blck_size(entry.type) != 0) {
            problems.push_back(fmt::format("fixed tensor '{}' (row length {}) cannot take type {} (block {})",
                                           entry.name, n_in, type_name(entry.type),
                                           ggml_blck_size(entry.type)));
        }
    }
}

}  // namespace

std::vector<ggml_type> Plan::matrix_types() const {
    std::vector<ggml_type> types;
    types.reserve(matrices.size());
    for (const MatrixType & entry : matrices) {
        types.push_back(entry.type);
    }
    return types;
}

std::optional<ggml_type> Plan::type_of(const std::string & name) const {
    for (const MatrixType & entry : matrices) {
        if (entry.name == name) {
            return entry.type;
        }
    }
    for (const FixedType & entry : fixed) {
        if (entry.name == name) {
            return entry.type;
        }
    }
    return std::nullopt;
}

std::string model_file_hash(const std::filesystem::path & path) {
    std::error_code error;
    const auto size = static_cast<int64_t>(std::filesystem::file_size(path, error));
    if (error) {
        rdt::fail("cannot read the size of '{}': {}", path.string(), error.message());
    }
    if (size <= kFullHashLimit) {
        return "sha256:" + sha256_file_hex(path);
    }
    return sampled_hash(path, size);
}

ModelIdentity model_identity(const std::filesystem::path & path, const gguf_context * gguf) {
    ModelIdentity identity;
    identity.file_name = path.filename().string();
    identity.hash = model_file_hash(path);
    const int64_t arch_id = gguf_find_key(gguf, "general.architecture");
    identity.architecture = arch_id >= 0 ? gguf_get_val_str(gguf, arch_id) : "";
    identity.n_tensors = gguf_get_n_tensors(gguf);
    return identity;
}

std::vector<FixedType> default_fixed_types(const gguf_context * gguf, const ModelLayout & layout) {
    const bool has_output = gguf_find_tensor(gguf, "output.weight") >= 0;
    std::vector<FixedType> fixed;
    for (const FixedTensor & tensor : layout.fixed) {
        // 1-D tensors (norms) are never quantized, so the plan does not list them.
        if (tensor.n_elements == tensor.n_in) {
            continue;
        }
        ggml_type type = with_row_fallback(GGML_TYPE_Q4_K, tensor.n_in);
        if (tensor.name == "output.weight" || (tensor.name == "token_embd.weight" && !has_output)) {
            type = output_default_type(tensor.n_in);
        }
        fixed.push_back({.name = tensor.name, .type = type});
    }
    return fixed;
}

Plan make_plan(const ModelIdentity & model, const ModelLayout & layout, const std::vector<FixedType> & fixed,
               const std::vector<ggml_type> & types, const std::string & source, bool with_imatrix) {
    if (types.size() != layout.matrices.size()) {
        rdt::fail("a plan needs one type per decided matrix: got {} types for {} matrices", types.size(),
                  layout.matrices.size());
    }
    Plan plan;
    plan.model = model;
    plan.source = source;
    plan.with_imatrix = with_imatrix;
    plan.fixed = fixed;
    for (size_t i = 0; i < types.size(); ++i) {
        const DecidedMatrix & matrix = layout.matrices[i];
        plan.matrices.push_back({.name = matrix.name, .n_in = matrix.n_in, .n_out = matrix.n_out, .type = types[i]});
    }
    return plan;
}

json plan_to_json(const Plan & plan) {
    json matrices = json::array();
    for (const MatrixType & entry : plan.matrices) {
        matrices.push_back({{"name", entry.name}, {"shape", {entry.n_in, entry.n_out}}, {"type", type_name(entry.type)}});
    }
    json fixed = json::array();
    for (const FixedType & entry : plan.fixed) {
        fixed.push_back({{"name", entry.name}, {"type", type_name(entry.type)}});
    }
    json budget = json::object();
    if (plan.target_bpw) {
        budget["target_bpw"] = *plan.target_bpw;
    }
    return {
        {"schema", kPlanSchema},
        {"model",
         {{"file", plan.model.file_name},
          {"hash", plan.model.hash},
          {"architecture", plan.model.architecture},
          {"n_tensors", plan.model.n_tensors}}},
        {"budget", budget},
        {"source", plan.source},
        {"with_imatrix", plan.with_imatrix},
        {"matrices", matrices},
        {"fixed", fixed},
        {"predicted",
         {{"bpw", plan.predicted.bpw},
          {"nominal_bpw", plan.predicted.nominal_bpw},
          {"decided_bytes", plan.predicted.decided_bytes},
          {"file_bytes", plan.predicted.file_bytes}}},
        {"provenance", plan.provenance},
    };
}

Plan plan_from_json(const json & value) {
    const auto schema = required<std::string>(value, "schema", "plan");
    if (schema != kPlanSchema) {
        rdt::fail("plan schema '{}' is not supported; this build reads '{}'", schema, kPlanSchema);
    }
    Plan plan;
    const json & model = value.at("model");
    plan.model.file_name = required<std::string>(model, "file", "model");
    plan.model.hash = required<std::string>(model, "hash", "model");
    plan.model.architecture = required<std::string>(model, "architecture", "model");
    plan.model.n_tensors = required<int64_t>(model, "n_tensors", "model");

    const json budget = value.contains("budget") ? value.at("budget") : json::object();
    if (budget.contains("target_bpw")) {
        plan.target_bpw = required<double>(budget, "target_bpw", "budget");
    }
    plan.source = required<std::string>(value, "source", "plan");
    plan.with_imatrix = value.value("with_imatrix", false);

    for (const json & entry : required<json>(value, "matrices", "plan")) {
        const auto shape = required<std::vector<int64_t>>(entry, "shape", "matrices[]");
        if (shape.size() != 2) {
            rdt::fail("plan: matrix shape must have 2 numbers, got {}", shape.size());
        }
        plan.matrices.push_back({.name = required<std::string>(entry, "name", "matrices[]"),
                                 .n_in = shape[0],
                                 .n_out = shape[1],
                                 .type = parse_type_name(required<std::string>(entry, "type", "matrices[]"))});
    }
    for (const json & entry : value.value("fixed", json::array())) {
        plan.fixed.push_back({.name = required<std::string>(entry, "name", "fixed[]"),
                              .type = parse_type_name(required<std::string>(entry, "type", "fixed[]"))});
    }
    if (value.contains("predicted")) {
        const json & predicted = value.at("predicted");
        plan.predicted.bpw = predicted.value("bpw", 0.0);
        plan.predicted.nominal_bpw = predicted.value("nominal_bpw", 0.0);
        plan.predicted.decided_bytes = predicted.value("decided_bytes", int64_t{0});
        plan.predicted.file_bytes = predicted.value("file_bytes", int64_t{0});
    }
    plan.provenance = value.value("provenance", json::object());
    return plan;
}

void write_plan(const Plan & plan, const std::filesystem::path & path) {
    rdt::write_file_atomic(path, plan_to_json(plan).dump(2) + "\n");
}

Plan read_plan_file(const std::filesystem::path & path) {
    const std::string text = rdt::read_text_file(path);
    json value;
    try {
        value = json::parse(text);
    } catch (const json::parse_error & error) {
        rdt::fail("plan file '{}' is not valid JSON: {}", path.string(), error.what());
    }
    try {
        return plan_from_json(value);
    } catch (const json::exception & error) {
        rdt::fail("plan file '{}' is malformed: {}", path.string(), error.what());
    } catch (const rdt::Error & error) {
        rdt::fail("plan file '{}': {}", path.string(), error.what());
    }
}

std::vector<std::string> plan_mismatches(const Plan & plan, const ModelIdentity & model, const ModelLayout & layout,
                                         const gguf_context * gguf) {
    std::vector<std::string> problems;
    if (plan.model.architecture != model.architecture) {
        problems.push_back(fmt::format("the plan is for architecture '{}' but the model is '{}'",
                                       plan.model.architecture, model.architecture));
    }
    if (plan.model.n_tensors != model.n_tensors) {
        problems.push_back(fmt::format("the plan is for a model of {} tensors but the model has {}",
                                       plan.model.n_tensors, model.n_tensors));
    }
    add_matrix_mismatches(plan, layout, problems);
    add_fixed_mismatches(plan, gguf, problems);
    return problems;
}

void check_plan(const Plan & plan, const ModelIdentity & model, const ModelLayout & layout,
                const gguf_context * gguf) {
    const auto problems = plan_mismatches(plan, model, layout, gguf);
    if (!problems.empty()) {
        std::string list;
        for (const std::string & problem : problems) {
            list += "\n  - " + problem;
        }
        rdt::fail("the plan (for '{}') does not fit the model '{}': {} problem(s):{}", plan.model.file_name,
                  model.file_name, problems.size(), list);
    }
    if (!plan.model.hash.empty() && plan.model.hash != model.hash) {
        spdlog::warn("the plan was made for a file with hash {} but '{}' has {}; names and shapes match, so "
                     "the plan is applied (expected for a folded copy of the same model)",
                     plan.model.hash, model.file_name, model.hash);
    }
}

std::string plan_hash(const Plan & plan) {
    std::string text;
    for (const MatrixType & entry : plan.matrices) {
        text += entry.name + "=" + type_name(entry.type) + "\n";
    }
    for (const FixedType & entry : plan.fixed) {
        text += entry.name + "=" + type_name(entry.type) + "\n";
    }
    constexpr size_t kHexDigits = 16;  // 64 bits: collisions are irrelevant at plan counts
    return sha256_hex(text).substr(0, kHexDigits);
}

}  // namespace ramp
