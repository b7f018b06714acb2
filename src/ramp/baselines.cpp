#include "ramp/baselines.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/output.hpp"
#include "common/progress.hpp"
#include "common/text.hpp"
#include "ramp/budget.hpp"
#include "ramp/plan_size.hpp"
#include "ramp/quant_types.hpp"

namespace ramp {

namespace {

ggml_type llama_fallback(ggml_type type) {
    switch (type) {
        case GGML_TYPE_Q2_K:
        case GGML_TYPE_Q3_K: return GGML_TYPE_Q4_0;
        case GGML_TYPE_Q4_K: return GGML_TYPE_Q5_0;
        case GGML_TYPE_Q5_K: return GGML_TYPE_Q5_1;
        case GGML_TYPE_Q6_K: return GGML_TYPE_Q8_0;
        case GGML_TYPE_IQ2_XS:
        case GGML_TYPE_IQ3_XXS:
        case GGML_TYPE_IQ4_XS: return GGML_TYPE_IQ4_NL;
        default: return type;
    }
}

bool contains(const std::vector<ggml_type> & types, ggml_type type) {
    return std::find(types.begin(), types.end(), type) != types.end();
}

// Loss of a plan under the additive sensitivity model.
double additive_loss(const Sensitivity & sensitivity, size_t matrix, ggml_type type) {
    const auto & candidates = sensitivity.candidates[matrix];
    const auto found = std::find(candidates.begin(), candidates.end(), type);
    if (found == candidates.end()) {
        rdt::fail("type {} was not measured for matrix {}", type_name(type), matrix);
    }
    return sensitivity.kl[matrix][static_cast<size_t>(found - candidates.begin())];
}

}  // namespace

ggml_type fallback_candidate(ggml_type type, int64_t row_length, bool with_imatrix) {
    const auto candidates = candidate_types(row_length, with_imatrix);
    if (candidates.empty()) {
        rdt::fail("row length {} has no candidate types", row_length);
    }
    if (contains(candidates, type)) {
        return type;
    }
    if (contains(candidates, llama_fallback(type))) {
        return llama_fallback(type);
    }
    const double requested_bpw = type_bpw(type);
    return *std::min_element(candidates.begin(), candidates.end(), [&](ggml_type a, ggml_type b) {
        return std::abs(type_bpw(a) - requested_bpw) < std::abs(type_bpw(b) - requested_bpw);
    });
}

Plan uniform_plan(const PlanEvaluator & evaluator, ggml_type type) {
    std::vector<ggml_type> types;
    for (const DecidedMatrix & matrix : evaluator.layout().matrices) {
        types.push_back(fallback_candidate(type, matrix.n_in, evaluator.with_imatrix()));
    }
    return evaluator.make_plan(types, "uniform-" + type_name(type));
}

std::vector<Recipe> k_quant_recipes() {
    return {
        {"Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K},     {"Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S},
        {"Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M}, {"Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L},
        {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S}, {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M},
        {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S}, {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M},
        {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K},
    };
}

Recipe parse_recipe(const std::string & name) {
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::string accepted;
    for (const Recipe & recipe : k_quant_recipes()) {
        if (recipe.name == upper) {
            return recipe;
        }
        accepted += accepted.empty() ? recipe.name : ", " + recipe.name;
    }
    rdt::fail("unknown llama.cpp recipe '{}'; accepted: {}", name, accepted);
}

Plan recipe_plan(const PlanEvaluator & evaluator, const std::filesystem::path & model_path, const Recipe & recipe,
                 const std::filesystem::path & work_dir, int n_threads) {
    // NOTE: the recipe is read back from a full quantization, which costs one
    // quantizer run (seconds for small models, minutes for 7B ones).
    // The process id keeps runs that share work_dir (a sweep over budgets) apart.
    const std::filesystem::path temporary =
        work_dir / fmt::format("recipe-{}.{}.gguf.tmp", recipe.name, static_cast<long>(::getpid()));
    llama_model_quantize_params params = llama_model_quantize_default_params();
    params.nthread = n_threads > 0 ? n_threads : rdt::default_threads();
    params.ftype = recipe.ftype;
    const uint32_t status = llama_model_quantize(model_path.c_str(), temporary.c_str(), &params);
    std::vector<ggml_type> types;
    std::vector<FixedType> fixed;
    try {
        if (status != 0) {
            rdt::fail("llama.cpp failed to quantize '{}' with recipe {}", model_path.string(), recipe.name);
        }
        const rdt::GgufPtr gguf = rdt::open_gguf_checked(temporary);
        const auto type_in_file = [&](const std::string & name) {
            const int64_t id = gguf_find_tensor(gguf.get(), name.c_str());
            if (id < 0) {
                rdt::fail("recipe {} output lacks tensor '{}'", recipe.name, name);
            }
            return gguf_get_tensor_type(gguf.get(), id);
        };
        for (const DecidedMatrix & matrix : evaluator.layout().matrices) {
            types.push_back(type_in_file(matrix.name));
        }
        for (const FixedType & entry : evaluator.default_fixed()) {
            fixed.push_back({.name = entry.name, .type = type_in_file(entry.name)});
        }
    } catch (...) {
        std::filesystem::remove(temporary);
        throw;
    }
    std::filesystem::remove(temporary);

    Plan plan = ramp::make_plan(evaluator.identity(), evaluator.layout(), fixed, types, "recipe-" + recipe.name,
                                evaluator.with_imatrix());
    const auto problems = plan_mismatches(plan, evaluator.identity(), evaluator.layout(), evaluator.gguf());
    if (!problems.empty()) {
        rdt::fail("recipe {} chose types outside the candidates: {}", recipe.name, problems.front());
    }
    fill_prediction(plan, evaluator.layout(), evaluator.gguf(), evaluator.imatrix_name());
    return plan;
}

nlohmann::json Sensitivity::to_json(const ModelLayout & layout) const {
    nlohmann::json matrices = nlohmann::json::array();
    for (size_t i = 0; i < kl.size(); ++i) {
        nlohmann::json by_type = nlohmann::json::object();
        for (size_t c = 0; c < candidates[i].size(); ++c) {
            by_type[type_name(candidates[i][c])] = kl[i][c];
        }
        matrices.push_back({{"name", layout.matrices[i].name}, {"kl", by_type}});
    }
    return {{"measure", "mean KL divergence to the float model with only this matrix quantized"},
            {"matrices", matrices}};
}

Sensitivity measure_sensitivity(PlanEvaluator & evaluator, bool progress) {
    Sensitivity sensitivity;
    int64_t total = 0;
    for (const DecidedMatrix & matrix : evaluator.layout().matrices) {
        sensitivity.candidates.push_back(candidate_types(matrix.n_in, evaluator.with_imatrix()));
        total += static_cast<int64_t>(sensitivity.candidates.back().size());
    }
    rdt::Progress bar("sensitivity evaluations", total, progress);
    int64_t done = 0;
    for (size_t i = 0; i < sensitivity.candidates.size(); ++i) {
        std::vector<double> row;
        for (const ggml_type type : sensitivity.candidates[i]) {
            row.push_back(evaluator.evaluate_isolated(i, type).kl_mean);
            bar.update(++done, evaluator.layout().matrices[i].name);
        }
        sensitivity.kl.push_back(std::move(row));
    }
    bar.finish();
    return sensitivity;
}

namespace {

// Version of the sensitivity cache file layout.
constexpr int kSensitivityFileVersion = 1;

// The fields of two identities that differ, one level into objects, e.g.
// "calibration.n_chunks: 4 in the file, 3 now".
std::string identity_differences(const nlohmann::json & stored, const nlohmann::json & current,
                                 const std::string & prefix = "") {
    std::vector<std::string> keys;
    for (const auto & [key, value] : stored.items()) {
        keys.push_back(key);
    }
    for (const auto & [key, value] : current.items()) {
        if (!stored.contains(key)) {
            keys.push_back(key);
        }
    }
    std::string text;
    for (const std::string & key : keys) {
        const nlohmann::json old_value = stored.value(key, nlohmann::json());
        const nlohmann::json new_value = current.value(key, nlohmann::json());
        if (old_value == new_value) {
            continue;
        }
        std::string part;
        if (prefix.empty() && old_value.is_object() && new_value.is_object()) {
            part = identity_differences(old_value, new_value, key + ".");
        } else {
            part = fmt::format("{}{}: {} in the file, {} now", prefix, key, old_value.dump(), new_value.dump());
        }
        text += (text.empty() || part.empty() ? "" : "; ") + part;
    }
    return text;
}

Sensitivity sensitivity_from_json(const nlohmann::json & json, const ModelLayout & layout, bool with_imatrix,
                                  const std::filesystem::path & path) {
    const auto & matrices = json.at("sensitivity").at("matrices");
    if (matrices.size() != layout.matrices.size()) {
        rdt::fail("sensitivity file '{}' has {} matrices where the model has {}; delete it to measure again",
                  path.string(), matrices.size(), layout.matrices.size());
    }
    Sensitivity sensitivity;
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        const DecidedMatrix & matrix = layout.matrices[i];
        if (matrices[i].at("name").get<std::string>() != matrix.name) {
            rdt::fail("sensitivity file '{}' lists {} where the model has {}; delete it to measure again",
                      path.string(), matrices[i].at("name").get<std::string>(), matrix.name);
        }
        sensitivity.candidates.push_back(candidate_types(matrix.n_in, with_imatrix));
        std::vector<double> row;
        for (const ggml_type type : sensitivity.candidates.back()) {
            const auto & by_type = matrices[i].at("kl");
            if (!by_type.contains(type_name(type))) {
                rdt::fail("sensitivity file '{}' lacks type {} of {}; delete it to measure again", path.string(),
                          type_name(type), matrix.name);
            }
            row.push_back(by_type.at(type_name(type)).get<double>());
        }
        sensitivity.kl.push_back(std::move(row));
    }
    return sensitivity;
}

}  // namespace

Sensitivity cached_sensitivity(PlanEvaluator & evaluator, const nlohmann::json & identity,
                               const std::filesystem::path & cache_path, bool progress) {
    if (cache_path.empty()) {
        return measure_sensitivity(evaluator, progress);
    }
    if (std::filesystem::exists(cache_path)) {
        nlohmann::json json;
        try {
            json = nlohmann::json::parse(rdt::read_text_file(cache_path));
        } catch (const nlohmann::json::exception & error) {
            rdt::fail("sensitivity file '{}' is not valid JSON ({}); delete it to measure again", cache_path.string(),
                      error.what());
        }
        try {
            if (json.value("version", 0) != kSensitivityFileVersion) {
                rdt::fail("sensitivity file '{}' has version {}, this program writes {}; delete it to measure again",
                          cache_path.string(), json.value("version", 0), kSensitivityFileVersion);
            }
            const nlohmann::json stored = json.value("identity", nlohmann::json::object());
            if (stored != identity) {
                rdt::fail("sensitivity file '{}' was measured on other inputs ({}); delete it or pass another path",
                          cache_path.string(), identity_differences(stored, identity));
            }
            Sensitivity sensitivity =
                sensitivity_from_json(json, evaluator.layout(), evaluator.with_imatrix(), cache_path);
            spdlog::info("sensitivity read from {}", cache_path.string());
            return sensitivity;
        } catch (const nlohmann::json::exception & error) {
            rdt::fail("sensitivity file '{}' is incomplete or was not written by ramp ({}); delete it to measure "
                      "again",
                      cache_path.string(), error.what());
        }
    }
    spdlog::info("measuring the sensitivity ({} matrices, cached in {})", evaluator.layout().matrices.size(),
                 cache_path.string());
    Sensitivity sensitivity = measure_sensitivity(evaluator, progress);
    const nlohmann::json json = {{"version", kSensitivityFileVersion},
                                 {"identity", identity},
                                 {"sensitivity", sensitivity.to_json(evaluator.layout())}};
    rdt::write_file_atomic(cache_path, json.dump(1) + "\n");
    spdlog::info("sensitivity written to {}", cache_path.string());
    return sensitivity;
}

Plan greedy_plan(const PlanEvaluator & evaluator, const Sensitivity & sensitivity, double target_bpw) {
    const ModelLayout & layout = evaluator.layout();
    check_budget_feasible(layout, target_bpw, evaluator.with_imatrix());

    // Start at the lowest candidates; bytes are tracked exactly.
    std::vector<size_t> position(layout.matrices.size(), 0);
    std::vector<ggml_type> types;
    for (const auto & candidates : sensitivity.candidates) {
        types.push_back(candidates.front());
    }
    DecidedSize size = decided_size(layout, types);
    const double budget_bytes = target_bpw * static_cast<double>(size.elements) / 8.0;

    while (true) {
        size_t best_matrix = layout.matrices.size();
        size_t best_position = 0;
        double best_ratio = 0.0;
        int64_t best_added = 0;
        for (size_t i = 0; i < layout.matrices.size(); ++i) {
            const DecidedMatrix & matrix = layout.matrices[i];
            const auto & candidates = sensitivity.candidates[i];
            const int64_t current_bytes = type_bytes(candidates[position[i]], matrix.n_in, matrix.n_out);
            for (size_t c = position[i] + 1; c < candidates.size(); ++c) {
                const int64_t added = type_bytes(candidates[c], matrix.n_in, matrix.n_out) - current_bytes;
                if (static_cast<double>(size.bytes + added) > budget_bytes) {
                    break;  // higher candidates cost even more
                }
                const double saved = sensitivity.kl[i][position[i]] - sensitivity.kl[i][c];
                const double ratio = saved / (8.0 * static_cast<double>(added));
                if (ratio > best_ratio) {
                    best_ratio = ratio;
                    best_matrix = i;
                    best_position = c;
                    best_added = added;
                }
            }
        }
        if (best_matrix == layout.matrices.size()) {
            break;  // no upgrade fits or none lowers the predicted loss
        }
        position[best_matrix] = best_position;
        types[best_matrix] = sensitivity.candidates[best_matrix][best_position];
        size.bytes += best_added;
    }

    const MatrixLossFn loss = [&](size_t matrix, ggml_type type) {
        return additive_loss(sensitivity, matrix, type);
    };
    types = repair_to_budget(layout, types, target_bpw, evaluator.with_imatrix(), loss);
    Plan plan = evaluator.make_plan(types, "greedy");
    plan.target_bpw = target_bpw;
    double predicted_kl = 0.0;
    for (size_t i = 0; i < types.size(); ++i) {
        predicted_kl += additive_loss(sensitivity, i, types[i]);
    }
    plan.provenance["predicted_kl_sum"] = predicted_kl;
    return plan;
}

}  // namespace ramp
