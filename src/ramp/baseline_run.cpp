#include "ramp/baseline_run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "common/error.hpp"
#include "common/output.hpp"
#include "common/plot.hpp"
#include "common/text.hpp"
#include "ramp/baselines.hpp"
#include "ramp/budget.hpp"
#include "ramp/plan_eval.hpp"
#include "ramp/plan_size.hpp"
#include "ramp/quant_types.hpp"
#include "ramp/sha256.hpp"

namespace ramp {

namespace {

using nlohmann::json;

// Family of a row for the plot: the source up to its first '-'.
std::string family_of(const std::string & source) { return source.substr(0, source.find('-')); }

BaselineRow evaluate_row(PlanEvaluator & evaluator, const Plan & plan, const std::string & name) {
    const PlanEvalResult result = evaluator.evaluate(plan);
    BaselineRow row;
    row.name = name;
    row.source = plan.source;
    row.target_bpw = plan.target_bpw.value_or(0.0);
    row.bpw = result.bpw;
    row.nominal_bpw = plan.predicted.nominal_bpw;
    row.file_bytes = result.file_bytes;
    row.ppl = result.ppl;
    row.ppl_uncertainty = result.ppl_uncertainty;
    row.kl_mean = result.kl_mean;
    row.kl_std_error = result.kl_std_error;
    row.same_top = result.same_top;
    row.seconds = result.seconds;
    spdlog::info("{:<16} {:>7.4f} bpw {:>10} bytes  PPL {:>9.4f} +/- {:.4f}  KL {:.6f}", name, row.bpw,
                 row.file_bytes, row.ppl, row.ppl_uncertainty, row.kl_mean);
    return row;
}

json row_to_json(const BaselineRow & row) {
    return {{"name", row.name},
            {"source", row.source},
            {"target_bpw", row.target_bpw},
            {"bpw", row.bpw},
            {"nominal_bpw", row.nominal_bpw},
            {"file_bytes", row.file_bytes},
            {"file_gb", static_cast<double>(row.file_bytes) / 1e9},
            {"ppl", row.ppl},
            {"ppl_uncertainty", row.ppl_uncertainty},
            {"kl_mean", row.kl_mean},
            {"kl_std_error", row.kl_std_error},
            {"same_top", row.same_top},
            {"seconds", row.seconds}};
}

// Fail on an infeasible budget from the model's tensor directory alone, before
// the evaluator computes the float model's reference.
void check_budgets(const BaselineParams & params) {
    const ModelLayout layout = read_model_layout(params.model_path);
    for (const double budget : params.budgets) {
        check_budget_feasible(layout, budget, !params.imatrix_path.empty());
    }
}

// The requested recipes (all K-quant recipes when none), parsed before any
// evaluation so that a misspelt name fails at once.
std::vector<Recipe> requested_recipes(const BaselineParams & params) {
    if (params.recipes.empty()) {
        return k_quant_recipes();
    }
    std::vector<Recipe> recipes;
    for (const std::string & name : params.recipes) {
        recipes.push_back(parse_recipe(name));
    }
    return recipes;
}

// Candidate types of the model's decided matrices, in bpw order, without repeats.
std::vector<ggml_type> model_candidates(const PlanEvaluator & evaluator) {
    std::vector<ggml_type> types;
    for (const DecidedMatrix & matrix : evaluator.layout().matrices) {
        for (const ggml_type type : candidate_types(matrix.n_in, evaluator.with_imatrix())) {
            if (std::find(types.begin(), types.end(), type) == types.end()) {
                types.push_back(type);
            }
        }
    }
    std::stable_sort(types.begin(), types.end(), [](ggml_type a, ggml_type b) { return type_bpw(a) < type_bpw(b); });
    return types;
}

// Size of the two-panel baseline plot in pixels.
constexpr int kBaselinePlotWidth = 1200;
constexpr int kBaselinePlotHeight = 500;

}  // namespace

json BaselineResult::to_json() const {
    json rows_json = json::array();
    for (const BaselineRow & row : rows) {
        rows_json.push_back(row_to_json(row));
    }
    return {{"float_ppl", float_ppl},
            {"sensitivity_seconds", sensitivity_seconds},
            {"sensitivity_evaluations", sensitivity_evaluations},
            {"rows", rows_json}};
}

std::string baselines_csv(const BaselineResult & result) {
    std::string csv = "name,source,target_bpw,bpw,nominal_bpw,file_bytes,file_gb,ppl,ppl_uncertainty,kl_mean,"
                      "kl_std_error,same_top,seconds\n";
    for (const BaselineRow & row : result.rows) {
        csv += fmt::format("{},{},{},{:.6f},{:.6f},{},{:.6f},{:.6f},{:.6f},{:.8f},{:.8f},{:.6f},{:.3f}\n", row.name,
                           row.source, row.target_bpw, row.bpw, row.nominal_bpw, row.file_bytes,
                           static_cast<double>(row.file_bytes) / 1e9, row.ppl, row.ppl_uncertainty, row.kl_mean,
                           row.kl_std_error, row.same_top, row.seconds);
    }
    return csv;
}

void plot_baselines(const BaselineResult & result, const std::filesystem::path & output_dir,
                    const std::string & title) {
    std::map<std::string, std::vector<const BaselineRow *>> families;
    for (const BaselineRow & row : result.rows) {
        families[family_of(row.source)].push_back(&row);
    }
    // One datablock per family with bpw, file MB, PPL and KL, sorted by bpw for the lines.
    std::string data;
    std::string kl_plot;
    std::string ppl_plot;
    int block = 0;
    for (auto & [family, rows] : families) {
        std::sort(rows.begin(), rows.end(), [](const auto * a, const auto * b) { return a->bpw < b->bpw; });
        data += fmt::format("$family{} << EOD\n", block);
        for (const BaselineRow * row : rows) {
            data += fmt::format("{:.6f} {:.6f} {:.6f} {:.8f}\n", row->bpw, static_cast<double>(row->file_bytes) / 1e6,
                                row->ppl, std::max(row->kl_mean, 1e-9));
        }
        data += "EOD\n";
        const std::string style = family == "greedy" ? "linespoints" : "points";
        kl_plot += fmt::format("{}$family{} using 1:4 with {} title '{}'", kl_plot.empty() ? "" : ", ", block, style,
                               family);
        ppl_plot += fmt::format("{}$family{} using 2:3 with {} title '{}'", ppl_plot.empty() ? "" : ", ", block,
                                style, family);
        ++block;
    }
    const std::string commands = fmt::format(
        "{}set multiplot layout 1,2 title {}\nset grid\nset key top right\n"
        "set logscale y\nset xlabel 'storage bpw of the decided matrices'\n"
        "set ylabel 'mean KL divergence to the float model (nats)'\nplot {}\nunset logscale y\n"
        "set xlabel 'file size (MB)'\nset ylabel 'perplexity'\nplot {}\nunset multiplot\n",
        data, rdt::gnuplot_string(title), kl_plot, ppl_plot);

    for (const char * extension : {"png", "svg"}) {
        const auto image = output_dir / (std::string("baselines.") + extension);
        try {
            rdt::render_gnuplot(commands, image, kBaselinePlotWidth, kBaselinePlotHeight);
        } catch (const rdt::Error & error) {
            spdlog::warn("no plot written: {}", error.what());
            return;
        }
    }
}

BaselineResult run_baselines(const BaselineParams & params) {
    if (params.output_dir.empty()) {
        rdt::fail("no output folder given; pass -o DIR");
    }
    const auto plans_dir = params.output_dir / "plans";
    if (std::filesystem::exists(params.output_dir / "baselines.json") && !params.force) {
        rdt::fail("'{}' already holds baseline results; pass --force to replace them", params.output_dir.string());
    }
    check_budgets(params);
    const std::vector<Recipe> recipes = requested_recipes(params);
    std::filesystem::create_directories(plans_dir);

    PlanEvalOptions eval_options;
    eval_options.n_ctx = params.n_ctx;
    eval_options.n_chunks = params.n_eval_chunks;
    eval_options.n_threads = params.n_threads;
    eval_options.imatrix_path = params.imatrix_path;
    PlanEvaluator evaluator(params.model_path, rdt::read_text_file(params.eval_path), eval_options);

    BaselineResult result;
    result.float_ppl = evaluator.reference_ppl();
    const auto add = [&](const Plan & plan, const std::string & name) {
        write_plan(plan, plans_dir / (name + ".json"));
        result.rows.push_back(evaluate_row(evaluator, plan, name));
    };

    if (params.uniform) {
        for (const ggml_type type : model_candidates(evaluator)) {
            add(uniform_plan(evaluator, type), "uniform-" + type_name(type));
        }
    }

    for (const Recipe & recipe : recipes) {
        try {
            add(recipe_plan(evaluator, params.model_path, recipe, params.output_dir, params.n_threads),
                "recipe-" + recipe.name);
        } catch (const rdt::Error & error) {
            spdlog::warn("recipe {} skipped: {}", recipe.name, error.what());
        }
    }

    if (params.greedy && !params.budgets.empty()) {
        // Sensitivity on the calibration text, so the evaluation text stays held out.
        PlanEvalOptions calibration_options = eval_options;
        calibration_options.n_chunks = params.n_chunks;
        PlanEvaluator calibration(params.model_path, rdt::read_text_file(params.calibration_path),
                                  calibration_options);
        const auto start = std::chrono::steady_clock::now();
        const Sensitivity sensitivity = measure_sensitivity(calibration, true);
        result.sensitivity_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        result.sensitivity_evaluations = calibration.evaluations();
        rdt::write_file_atomic(params.output_dir / "sensitivity.json",
                               sensitivity.to_json(calibration.layout()).dump(2) + "\n");
        for (const double budget : params.budgets) {
            Plan plan = greedy_plan(calibration, sensitivity, budget);
            plan.provenance["calibration"] = params.calibration_path.filename().string();
            plan.provenance["calibration_sha256"] = sha256_file_hex(params.calibration_path);
            plan.provenance["calibration_chunks"] = params.n_chunks;
            plan.provenance["n_ctx"] = params.n_ctx;
            // The calibration keys become ramp.* metadata, so the file size changes.
            fill_prediction(plan, calibration.layout(), calibration.gguf(), calibration.imatrix_name());
            add(plan, fmt::format("greedy-{:.2f}", budget));
        }
    }

    rdt::write_file_atomic(params.output_dir / "baselines.json", result.to_json().dump(2) + "\n");
    rdt::write_file_atomic(params.output_dir / "baselines.csv", baselines_csv(result));
    if (params.plot) {
        plot_baselines(result, params.output_dir,
                       fmt::format("{} on {} (ctx {}, {} chunks)", params.model_path.filename().string(),
                                   params.eval_path.filename().string(), params.n_ctx,
                                   evaluator.chunks().n_chunks));
    }
    return result;
}

}  // namespace ramp
