#include "ramp/fold_model.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <limits>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/output.hpp"
#include "common/progress.hpp"
#include "common/text.hpp"
#include "ramp/activation_stats.hpp"
#include "ramp/baselines.hpp"
#include "ramp/gguf_weights.hpp"
#include "ramp/quant_types.hpp"
#include "ramp/scale_folding.hpp"
#include "ramp/sha256.hpp"

namespace ramp {

namespace {

namespace fs = std::filesystem;

struct GroupResult {
    double alpha = 0.0;
    std::vector<double> scales;    // empty: left unscaled
    double error_unfolded = -1.0;  // search only
    double error_chosen = -1.0;
};

// Tensors folding changes: every group's consumers, producer and producer bias.
std::vector<std::string> touched_tensors(const std::vector<FoldGroup> & groups) {
    std::vector<std::string> names;
    for (const FoldGroup & group : groups) {
        names.insert(names.end(), group.consumers.begin(), group.consumers.end());
        names.push_back(group.producer);
        if (!group.producer_bias.empty()) {
            names.push_back(group.producer_bias);
        }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

// Convert the quantized touched tensors of weights to F32 in place, their values kept
// in the returned buffers, or fail when requantizing was not allowed.
std::vector<std::vector<float>> dequantize_touched(const std::vector<std::string> & names,
                                                   GgufWeights & weights, bool allow_requantize) {
    std::vector<ggml_tensor *> quantized;
    for (const std::string & name : names) {
        ggml_tensor * tensor = weights.tensor(name);
        if (!is_float_type(tensor->type)) {
            quantized.push_back(tensor);
        }
    }
    if (quantized.empty()) {
        return {};
    }
    if (!allow_requantize) {
        rdt::fail(
            "'{}' is already quantized ({} is {}); fold a float model (F32, F16 or BF16), or pass "
            "--allow-requantize to dequantize the {} affected tensors to F32",
            weights.path().string(), quantized.front()->name, ggml_type_name(quantized.front()->type),
            quantized.size());
    }
    spdlog::warn(
        "fold: dequantizing {} quantized tensors to F32; quantizing the result again compounds the "
        "rounding error",
        quantized.size());
    std::vector<std::vector<float>> buffers;
    for (ggml_tensor * tensor : quantized) {
        buffers.push_back(tensor_to_f32(tensor));
        tensor->type = GGML_TYPE_F32;
        tensor->data = buffers.back().data();
        tensor->nb[0] = sizeof(float);
        for (int d = 1; d < GGML_MAX_DIMS; ++d) {
            tensor->nb[d] = tensor->nb[d - 1] * static_cast<size_t>(tensor->ne[d - 1]);
        }
    }
    return buffers;
}

GroupResult search_group(const FoldGroup & group, const GgufWeights & weights, const ActivationStats & stats,
                         ggml_type type) {
    const RowSample & sample = stats.samples[group.stats_index];
    const std::vector<double> act_max = group_activation_max(group, stats);
    const std::vector<double> weight_max = group_weight_max(group, weights);

    GroupResult best;
    best.alpha = kAlphaUnfolded;
    best.error_unfolded = group_output_error(group, weights, sample, nullptr, type);
    best.error_chosen = best.error_unfolded;
    for (int step = 0; step <= kAlphaGridSteps; ++step) {
        const double alpha = static_cast<double>(step) / kAlphaGridSteps;
        std::vector<double> scales = fold_scales(act_max, weight_max, alpha);
        const double error = group_output_error(group, weights, sample, &scales, type);
        if (error < best.error_chosen) {
            best.alpha = alpha;
            best.error_chosen = error;
            best.scales = std::move(scales);
        }
    }
    return best;
}

// Type of the search's quantization for a group: the requested one when its block
// divides the rows, else llama.cpp's fallback for it (a warning names both), and
// Q4_K with its 32-block fallback when none was requested.
ggml_type group_search_type(const FoldGroup & group, ggml_type requested) {
    const int64_t n_in = static_cast<int64_t>(group.tie.size());
    if (requested == GGML_TYPE_COUNT) {
        return feature_type_high(n_in);
    }
    if (n_in % ggml_blck_size(requested) == 0) {
        return requested;
    }
    const ggml_type fallback = fallback_candidate(requested, n_in, /*with_imatrix=*/false);
    spdlog::warn("fold: rows of {} ({}) do not fit {} blocks of {}; the alpha search uses {} instead", n_in,
                 group.name(), type_name(requested), ggml_blck_size(requested), type_name(fallback));
    return fallback;
}

void write_folded(const FoldParams & params, const GgufWeights & weights,
                  const std::vector<FoldGroup> & groups, const std::vector<GroupResult> & results,
                  const CalibrationInfo & calibration) {
    rdt::GgufPtr out(gguf_init_empty());
    gguf_set_kv(out.get(), weights.gguf());

    gguf_set_val_str(out.get(), "ramp.fold.alpha_mode", params.alpha_search ? "searched" : "fixed");
    std::vector<std::string> group_names;
    std::vector<float> group_alphas;
    for (size_t g = 0; g < groups.size(); ++g) {
        group_names.push_back(groups[g].name());
        group_alphas.push_back(static_cast<float>(results[g].alpha));
    }
    std::vector<const char *> name_pointers;
    for (const std::string & name : group_names) {
        name_pointers.push_back(name.c_str());
    }
    gguf_set_arr_str(out.get(), "ramp.fold.groups", name_pointers.data(), name_pointers.size());
    if (params.alpha_search) {
        gguf_set_arr_data(out.get(), "ramp.fold.group_alphas", GGUF_TYPE_FLOAT32, group_alphas.data(),
                          group_alphas.size());
        gguf_set_val_str(
            out.get(), "ramp.fold.search_type",
            params.search_type == GGML_TYPE_COUNT ? "auto" : type_name(params.search_type).c_str());
    } else {
        gguf_set_val_f32(out.get(), "ramp.fold.alpha", static_cast<float>(params.alpha));
    }
    gguf_set_val_str(out.get(), "ramp.fold.calibration_file", calibration.file.c_str());
    gguf_set_val_str(out.get(), "ramp.fold.calibration_sha256", calibration.sha256.c_str());
    gguf_set_val_u32(out.get(), "ramp.fold.chunks", static_cast<uint32_t>(calibration.n_chunks));
    gguf_set_val_u32(out.get(), "ramp.fold.ctx", static_cast<uint32_t>(calibration.n_ctx));

    for (int64_t id = 0; id < gguf_get_n_tensors(weights.gguf()); ++id) {
        const std::string name = gguf_get_tensor_name(weights.gguf(), id);
        const ggml_tensor * tensor = weights.tensor(name);
        gguf_add_tensor(out.get(), tensor);
        gguf_set_tensor_data(out.get(), name.c_str(), tensor->data);
    }

    rdt::write_via_temporary(params.output_path, [&](const fs::path & temporary) {
        if (!gguf_write_to_file(out.get(), temporary.c_str(), false)) {
            rdt::fail("failed to write the folded model to '{}'; check the free disk space",
                      temporary.string());
        }
    });
}

}  // namespace

void validate_fold_params(const FoldParams & params) {
    if (!params.alpha_search && !(params.alpha >= 0.0 && params.alpha <= 1.0)) {
        rdt::fail(
            "--alpha {} is outside [0, 1]; pass a value from 0 (weights only) to 1 (activations only), or "
            "--alpha-search",
            params.alpha);
    }
    if (params.alpha_search && params.sample_rows <= 0) {
        rdt::fail("the alpha search needs a positive number of sampled rows, got {}", params.sample_rows);
    }
    if (params.output_path.empty()) {
        rdt::fail("no output file; pass -o FOLDED.gguf");
    }
    std::error_code error;
    if (fs::weakly_canonical(params.output_path, error) == fs::weakly_canonical(params.model_path, error)) {
        rdt::fail("output file '{}' is the input model; choose another -o so the input stays intact",
                  params.output_path);
    }
}

nlohmann::json run_fold(const FoldParams & params) {
    validate_fold_params(params);
    rdt::check_output_path(params.output_path, params.force, "-o");

    const ModelLayout layout = read_model_layout(params.model_path);
    GgufWeights weights(params.model_path);
    const std::vector<FoldGroup> groups = fold_groups(layout, weights);
    if (groups.empty()) {
        rdt::fail("'{}' has no foldable group of decided matrices", params.model_path);
    }
    // Before any decoding, so that a refused requantization fails fast.
    const std::vector<std::vector<float>> dequantized =
        dequantize_touched(touched_tensors(groups), weights, params.allow_requantize);

    // Statistics come from the original model file (a quantized one included).
    rdt::ModelPtr model = rdt::load_model(params.model_path);
    const std::string text = rdt::read_text_file(params.text_path);
    const int n_ctx = resolve_calibration_ctx(model.get(), params.n_ctx);
    const rdt::EvalChunks chunks = rdt::make_eval_chunks(model.get(), text, n_ctx, params.n_chunks);
    ActivationOptions activation_options;
    activation_options.n_threads = params.n_threads;
    activation_options.sample_rows = params.alpha_search ? params.sample_rows : 0;
    const ActivationStats stats = collect_activation_stats(model.get(), layout, chunks, activation_options);
    model.reset();

    // Every scale is computed from the original weights before any group is applied,
    // because ffn_up is both a consumer (ffn_in) and a producer (ffn_down).
    std::vector<GroupResult> results(groups.size());
    rdt::Progress progress(params.alpha_search ? "alpha search groups" : "fold groups",
                           static_cast<int64_t>(groups.size()));
    for (size_t g = 0; g < groups.size(); ++g) {
        if (params.alpha_search) {
            results[g] =
                search_group(groups[g], weights, stats, group_search_type(groups[g], params.search_type));
        } else {
            results[g].alpha = params.alpha;
            results[g].scales = fold_scales(group_activation_max(groups[g], stats),
                                            group_weight_max(groups[g], weights), params.alpha);
        }
        progress.update(static_cast<int64_t>(g + 1));
    }
    progress.finish();
    for (size_t g = 0; g < groups.size(); ++g) {
        if (!results[g].scales.empty()) {
            apply_fold(groups[g], results[g].scales, weights);
        }
    }

    const CalibrationInfo calibration{.file = fs::path(params.text_path).filename().string(),
                                      .sha256 = sha256_file_hex(params.text_path),
                                      .n_ctx = n_ctx,
                                      .n_chunks = chunks.n_chunks};
    write_folded(params, weights, groups, results, calibration);

    nlohmann::json summary = {{"model", params.model_path},
                              {"output", params.output_path},
                              {"alpha_mode", params.alpha_search ? "searched" : "fixed"},
                              {"calibration", calibration_to_json(calibration)},
                              {"groups", nlohmann::json::array()}};
    for (size_t g = 0; g < groups.size(); ++g) {
        const std::vector<double> & scales = results[g].scales;
        nlohmann::json entry = {{"name", groups[g].name()}, {"alpha", results[g].alpha}};
        if (!scales.empty()) {
            entry["scale_min"] = *std::min_element(scales.begin(), scales.end());
            entry["scale_max"] = *std::max_element(scales.begin(), scales.end());
        }
        if (params.alpha_search) {
            entry["output_error_unfolded"] = results[g].error_unfolded;
            entry["output_error_chosen"] = results[g].error_chosen;
        }
        summary["groups"].push_back(entry);
    }
    spdlog::info("fold: wrote {} ({} groups)", params.output_path, groups.size());
    return summary;
}

}  // namespace ramp
