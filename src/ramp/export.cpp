#include "ramp/export.hpp"

#include <llama.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/output.hpp"
#include "ramp/imatrix_io.hpp"
#include "ramp/model_layout.hpp"
#include "ramp/plan_size.hpp"
#include "ramp/quant_types.hpp"

namespace ramp {

namespace {

// Overrides for every tensor the plan lists; the strings outlive the quantizer call.
struct TypeOverrides {
    std::vector<std::string> patterns;
    std::vector<llama_model_tensor_override> entries;  // ends with {nullptr, GGML_TYPE_COUNT}
};

TypeOverrides make_type_overrides(const Plan & plan) {
    TypeOverrides overrides;
    for (const MatrixType & entry : plan.matrices) {
        overrides.patterns.push_back(exact_name_pattern(entry.name));
    }
    for (const FixedType & entry : plan.fixed) {
        overrides.patterns.push_back(exact_name_pattern(entry.name));
    }
    size_t index = 0;
    for (const MatrixType & entry : plan.matrices) {
        overrides.entries.push_back({overrides.patterns[index++].c_str(), entry.type});
    }
    for (const FixedType & entry : plan.fixed) {
        overrides.entries.push_back({overrides.patterns[index++].c_str(), entry.type});
    }
    overrides.entries.push_back({nullptr, GGML_TYPE_COUNT});
    return overrides;
}

struct ImportanceArrays {
    std::map<std::string, std::vector<float>> values;
    std::vector<llama_model_imatrix_data> entries;  // ends with a null name
};

ImportanceArrays make_importance(const std::filesystem::path & path) {
    ImportanceArrays arrays;
    arrays.values = load_importance(path);
    for (const auto & [name, values] : arrays.values) {
        arrays.entries.push_back({name.c_str(), values.data(), values.size()});
    }
    arrays.entries.push_back({nullptr, nullptr, 0});
    return arrays;
}

// Fail naming each tensor of the written file whose type differs from the plan.
void check_written_types(const std::filesystem::path & written, const gguf_context * source, const Plan & plan) {
    const rdt::GgufPtr out = rdt::open_gguf_checked(written);
    std::string problems;
    for (int64_t id = 0; id < gguf_get_n_tensors(source); ++id) {
        const std::string name = gguf_get_tensor_name(source, id);
        const ggml_type expected = exported_type(plan, name, gguf_get_tensor_type(source, id));
        const int64_t out_id = gguf_find_tensor(out.get(), name.c_str());
        if (out_id < 0) {
            problems += fmt::format("\n  - '{}' is missing", name);
            continue;
        }
        const ggml_type written_type = gguf_get_tensor_type(out.get(), out_id);
        if (written_type != expected) {
            problems += fmt::format("\n  - '{}' is {} but the plan says {}", name, type_name(written_type),
                                    type_name(expected));
        }
    }
    if (!problems.empty()) {
        rdt::fail("the quantizer did not follow the plan:{}", problems);
    }
}

void run_quantizer(const ExportOptions & options, const Plan & plan, const std::filesystem::path & output,
                   const std::vector<llama_model_kv_override> & metadata) {
    const TypeOverrides overrides = make_type_overrides(plan);
    ImportanceArrays importance;
    llama_model_quantize_params params = llama_model_quantize_default_params();
    params.nthread = options.n_threads > 0 ? options.n_threads : rdt::default_threads();
    params.ftype = export_ftype(plan);
    params.tt_overrides = overrides.entries.data();
    params.kv_overrides = metadata.data();
    if (!options.imatrix_path.empty()) {
        importance = make_importance(options.imatrix_path);
        params.imatrix = importance.entries.data();
    }
    const uint32_t status =
        llama_model_quantize(options.model_path.c_str(), output.c_str(), &params);
    if (status != 0) {
        rdt::fail("llama.cpp failed to quantize '{}' to '{}' (run with --verbose for its log)",
                  options.model_path.string(), output.string());
    }
}

}  // namespace

nlohmann::json ExportReport::to_json() const {
    nlohmann::json value = plan_to_json(plan);
    value["file_bytes"] = file_bytes;
    value["seconds"] = seconds;
    return value;
}

std::string exact_name_pattern(const std::string & name) {
    std::string pattern = "^";
    for (const char c : name) {
        if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) {
            pattern += '\\';
        }
        pattern += c;
    }
    return pattern + "$";
}

std::map<std::string, std::vector<float>> load_importance(const std::filesystem::path & path) {
    const Imatrix imatrix = read_imatrix(path);
    std::map<std::string, std::vector<float>> values;
    for (const auto & [name, entry] : imatrix.entries) {
        // Same arithmetic as llama-quantize: float sums over a float count; 1 without data.
        std::vector<float> mean(entry.sum_sq.size(), 1.0f);
        if (entry.count > 0) {
            const auto count = static_cast<float>(entry.count);
            for (size_t j = 0; j < mean.size(); ++j) {
                mean[j] = entry.sum_sq[j] / count;
            }
        }
        values[name] = std::move(mean);
    }
    return values;
}

ExportReport export_plan(const ExportOptions & options, const Plan & plan, const ExportHook & hook) {
    rdt::ensure_backend();
    if (!options.dry_run) {
        if (options.output_path.empty()) {
            rdt::fail("no output path given; pass -o OUT.gguf or --dry-run");
        }
        rdt::check_output_path(options.output_path, options.force, "-o");
    }
    if (!options.imatrix_path.empty() && !std::filesystem::exists(options.imatrix_path)) {
        rdt::fail("importance matrix '{}' not found; check the --imatrix path", options.imatrix_path.string());
    }

    // Check the plan against the model and predict this export's size.
    const rdt::GgufPtr source = rdt::open_gguf_checked(options.model_path);
    const ModelLayout layout = read_model_layout(source.get());
    const ModelIdentity identity = model_identity(options.model_path, source.get());
    check_plan(plan, identity, layout, source.get());
    ExportReport report;
    report.plan = plan;
    const std::string imatrix_name =
        options.imatrix_path.empty() ? "" : options.imatrix_path.filename().string();
    fill_prediction(report.plan, layout, source.get(), imatrix_name);
    if (options.dry_run) {
        return report;
    }

    const auto metadata = export_metadata(report.plan, imatrix_name);
    const auto start = std::chrono::steady_clock::now();
    rdt::write_via_temporary(options.output_path, [&](const std::filesystem::path & temporary) {
        run_quantizer(options, report.plan, temporary, metadata);
        if (hook) {
            hook(temporary);
        }
        check_written_types(temporary, source.get(), report.plan);
        report.file_bytes = static_cast<int64_t>(std::filesystem::file_size(temporary));
    });
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (report.file_bytes != report.plan.predicted.file_bytes) {
        spdlog::warn("'{}' has {} bytes but {} were predicted; the plan's file size is off by {}",
                     options.output_path.string(), report.file_bytes, report.plan.predicted.file_bytes,
                     report.file_bytes - report.plan.predicted.file_bytes);
    }
    return report;
}

}  // namespace ramp
