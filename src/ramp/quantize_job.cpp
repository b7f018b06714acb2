#include "ramp/quantize_job.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>

#include "common/error.hpp"
#include "common/output.hpp"
#include "common/plot.hpp"
#include "common/text.hpp"
#include "ramp/baselines.hpp"
#include "ramp/export.hpp"
#include "ramp/fold_model.hpp"
#include "ramp/quant_types.hpp"
#include "ramp/search_env.hpp"

namespace ramp {

namespace {

// Recipes compared in the report: those whose decided matrices take at least the
// budget (less this rounding slack, in bpw) and at most kRecipeWindowBpw more.
// Smaller recipes lose to the budget's own plans by construction, and recipes far
// above the budget are not alternatives at that size.
constexpr double kRecipeSlackBpw = 0.01;
constexpr double kRecipeWindowBpw = 1.0;

// Removes a file on scope exit (the folded intermediate model).
struct RemoveOnExit {
    std::filesystem::path path;
    ~RemoveOnExit() {
        std::error_code ignored;
        if (!path.empty()) {
            std::filesystem::remove(path, ignored);
        }
    }
};

void check_outputs(const QuantizeParams & params) {
    rdt::check_output_path(params.output_path, params.force, "-o");
    if (!params.plan_path.empty()) {
        rdt::check_output_path(params.plan_path, params.force, "--plan-out");
    }
    if (!params.plot_path.empty()) {
        rdt::check_plot_path(params.plot_path);
        rdt::check_output_path(params.plot_path, params.force, "--plot");
    }
    if (!params.eval_text_path.empty()) {
        rdt::read_text_file(params.eval_text_path);  // missing or not UTF-8: fail before the long search
    }
    if (std::filesystem::exists(params.output_path) &&
        std::filesystem::equivalent(params.output_path, params.search.model_path)) {
        rdt::fail("output '{}' is the input model; choose another -o", params.output_path);
    }
}

std::string fold_into_temporary(const QuantizeParams & params) {
    FoldParams fold;
    fold.model_path = params.search.model_path;
    fold.text_path = params.search.calibration_path;
    fold.output_path = params.output_path + ".folded.gguf";
    fold.alpha = params.fold_alpha;
    fold.alpha_search = params.fold_alpha_search;
    fold.n_ctx = params.search.n_ctx;
    fold.n_chunks = params.search.n_chunks;
    fold.n_threads = params.search.n_threads;
    fold.force = true;
    validate_fold_params(fold);
    spdlog::info("quantize: Scale Folding into {}", fold.output_path);
    run_fold(fold);
    return fold.output_path;
}

// Quality on the evaluation text as a report object.
nlohmann::json evaluation_json(const PlanEvalResult & result) {
    return {{"ppl", result.ppl},
            {"ppl_uncertainty", result.ppl_uncertainty},
            {"kl", result.kl_mean},
            {"kl_std_error", result.kl_std_error},
            {"same_top", result.same_top}};
}

nlohmann::json plan_quality(const std::string & name, const PlanEvalResult & calibration,
                            const PlanEvalResult * evaluation) {
    nlohmann::json row = {{"name", name},
                          {"bpw", calibration.bpw},
                          {"file_bytes", calibration.file_bytes},
                          {"calibration", {{"ppl", calibration.ppl}, {"kl", calibration.kl_mean}}}};
    if (evaluation != nullptr) {
        row["evaluation"] = evaluation_json(*evaluation);
    }
    return row;
}

// Evaluate on the evaluation text the llama.cpp recipes whose size lies in the
// report's window above the budget. A recipe that gives a matrix a type outside
// its candidates is skipped with a warning.
nlohmann::json recipe_rows(PlanEvaluator & evaluation, const std::string & model_path, double budget,
                           const std::filesystem::path & work_dir, int n_threads) {
    nlohmann::json rows = nlohmann::json::array();
    for (const Recipe & recipe : k_quant_recipes()) {
        Plan plan;
        try {
            plan = recipe_plan(evaluation, model_path, recipe, work_dir, n_threads);
        } catch (const rdt::Error & error) {
            spdlog::warn("recipe {} left out of the report: {}", recipe.name, error.what());
            continue;
        }
        const double bpw = plan.predicted.bpw;
        if (bpw < budget - kRecipeSlackBpw || bpw > budget + kRecipeWindowBpw) {
            continue;  // decided before the evaluation, which costs a pass over the text
        }
        const PlanEvalResult result = evaluation.evaluate(plan);  // with the recipe's own fixed types
        rows.push_back({{"name", plan.source},
                        {"bpw", result.bpw},
                        {"file_bytes", result.file_bytes},
                        {"evaluation", evaluation_json(result)}});
    }
    return rows;
}

// One summary line of a report row: bpw, bytes, calibration and evaluation KL and
// PPL, and a note ("written" for the chosen plan, "over budget" for larger rows).
std::string summary_line(const nlohmann::json & row, double budget, const std::string & note) {
    auto number = [](const nlohmann::json & object, const char * group, const char * key) {
        if (!object.contains(group)) {
            return std::string("-");
        }
        return fmt::format("{:.5g}", object.at(group).at(key).get<double>());
    };
    const double bpw = row.at("bpw").get<double>();
    const std::string mark = !note.empty() ? note : (within_budget(bpw, budget) ? "" : "over budget");
    return fmt::format("{:<28} {:>7.4f} {:>12} {:>11} {:>11} {:>11} {:>11}  {}\n", row.at("name").get<std::string>(),
                       bpw, row.at("file_bytes").get<int64_t>(), number(row, "calibration", "kl"),
                       number(row, "calibration", "ppl"), number(row, "evaluation", "kl"),
                       number(row, "evaluation", "ppl"), mark);
}

}  // namespace

std::string report_summary(const nlohmann::json & report) {
    const double budget = report.at("budget").get<double>();
    std::string text = fmt::format("{:<28} {:>7} {:>12} {:>11} {:>11} {:>11} {:>11}  {}\n", "plan", "bpw",
                                   "file bytes", "calib KL", "calib PPL", "eval KL", "eval PPL", "note");
    text += summary_line(report.at("chosen"), budget, "written");
    for (const char * group : {"baselines", "recipes"}) {
        if (report.contains(group)) {
            for (const auto & row : report.at(group)) {
                text += summary_line(row, budget, "");
            }
        }
    }
    return text;
}

std::string plan_table(const Plan & plan, const ModelLayout & layout) {
    std::string table = "block";
    for (int role = 0; role < kRoleCount; ++role) {
        table += fmt::format(" {:>11}", role_name(static_cast<Role>(role)));
    }
    table += "\n";
    std::map<int, std::vector<std::string>> rows;
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        auto & row = rows[layout.matrices[i].block];
        row.resize(kRoleCount, "-");
        row[static_cast<size_t>(layout.matrices[i].role)] = type_name(plan.matrices[i].type);
    }
    for (const auto & [block, types] : rows) {
        table += fmt::format("{:>5}", block);
        for (const std::string & type : types) {
            table += fmt::format(" {:>11}", type);
        }
        table += "\n";
    }
    return table;
}

void plot_plan_bits(const Plan & plan, const ModelLayout & layout, const std::string & path) {
    // One inline data block per role: matrix index, bpw.
    std::string commands =
        "set title 'bits per weight of each matrix'\nset xlabel 'matrix (model order)'\n"
        "set ylabel 'storage bits per weight'\nset key outside right\nset grid\nset offsets 0.5, 0.5, 0.3, 0.3\n";
    std::string data;
    std::string plot = "plot ";
    for (int role = 0; role < kRoleCount; ++role) {
        std::string block = fmt::format("$role{} << EOD\n", role);
        bool any = false;
        for (size_t i = 0; i < layout.matrices.size(); ++i) {
            if (static_cast<int>(layout.matrices[i].role) == role) {
                block += fmt::format("{} {}\n", i, type_bpw(plan.matrices[i].type));
                any = true;
            }
        }
        if (!any) {
            continue;
        }
        data += block + "EOD\n";
        plot += fmt::format("{}$role{} with points pt 7 ps 1.2 title '{}'", plot == "plot " ? "" : ", ", role,
                            role_name(static_cast<Role>(role)));
    }
    if (plan.target_bpw) {
        plot += fmt::format(", {} with lines dt 2 lc 'black' title 'budget'", *plan.target_bpw);
    }
    rdt::render_gnuplot(commands + data + plot + "\n", path);
}

namespace {

// Return the report's quality rows, evaluated in memory: the chosen plan and the
// baselines on the calibration chunks and, with an evaluation text, also on it
// together with the recipes. These equal the exported file's numbers within the
// evaluator's tolerance.
nlohmann::json evaluate_rows(const QuantizeParams & params, const SearchJobParams & search,
                             const SearchJobResult & searched) {
    nlohmann::json report;
    std::unique_ptr<PlanEvaluator> evaluation;
    if (!params.eval_text_path.empty()) {
        PlanEvalOptions options;
        options.n_ctx = searched.plan.provenance["calibration"]["n_ctx"].get<int>();
        options.n_chunks = params.eval_chunks;
        options.n_threads = search.n_threads;
        options.imatrix_path = search.imatrix_path;
        evaluation = std::make_unique<PlanEvaluator>(search.model_path, rdt::read_text_file(params.eval_text_path),
                                                     options);
        report["evaluation_text"] = params.eval_text_path;
        report["float_ppl"] = evaluation->reference_ppl();
    }
    auto evaluate_on_text = [&](const Plan & plan) -> std::optional<PlanEvalResult> {
        if (!evaluation) {
            return std::nullopt;
        }
        return evaluation->evaluate(plan.matrix_types());
    };

    const std::optional<PlanEvalResult> chosen_eval = evaluate_on_text(searched.plan);
    report["chosen"] = plan_quality(searched.plan.source, searched.quality, chosen_eval ? &*chosen_eval : nullptr);
    report["baselines"] = nlohmann::json::array();
    for (const auto & [plan, calibration] : searched.baseline_plans) {
        const std::optional<PlanEvalResult> baseline_eval = evaluate_on_text(plan);
        report["baselines"].push_back(
            plan_quality(plan.source, calibration, baseline_eval ? &*baseline_eval : nullptr));
    }
    if (evaluation) {
        const std::filesystem::path work_dir =
            std::filesystem::absolute(params.output_path).parent_path();
        report["recipes"] =
            recipe_rows(*evaluation, search.model_path, search.budget_bpw, work_dir, search.n_threads);
    }

    return report;
}

}  // namespace

nlohmann::json run_quantize(const QuantizeParams & params, const SearchProgressFn & on_episode) {
    check_outputs(params);
    RemoveOnExit folded;
    SearchJobParams search = params.search;
    if (params.fold) {
        folded.path = fold_into_temporary(params);
        search.model_path = folded.path.string();
    }

    const SearchJobResult searched = run_search_job(search, on_episode);
    const ModelLayout layout = read_model_layout(search.model_path);

    // Evaluated before the export, so that an interrupted evaluation leaves no model
    // behind without its report.
    nlohmann::json report = evaluate_rows(params, search, searched);

    ExportOptions export_options;
    export_options.model_path = search.model_path;
    export_options.output_path = params.output_path;
    export_options.imatrix_path = search.imatrix_path;
    export_options.force = params.force;
    export_options.n_threads = search.n_threads;
    const ExportReport exported = export_plan(export_options, searched.plan);
    spdlog::info("quantize: wrote {} ({} bytes, {:.4f} bpw over the decided matrices)", params.output_path,
                 exported.file_bytes, exported.plan.predicted.bpw);

    report["output"] = params.output_path;
    report["file_bytes"] = exported.file_bytes;
    report["file_gb"] = static_cast<double>(exported.file_bytes) / 1e9;
    report["bpw"] = exported.plan.predicted.bpw;
    report["nominal_bpw"] = exported.plan.predicted.nominal_bpw;
    report["budget"] = search.budget_bpw;
    report["source"] = searched.plan.source;
    report["folded"] = params.fold;
    report["search"] = searched.report;
    const nlohmann::json plan_json = plan_to_json(exported.plan);
    report["types"] = plan_json["matrices"];
    report["fixed_types"] = plan_json["fixed"];  // embeddings, output and undecided matrices

    report["chosen"]["file_bytes"] = exported.file_bytes;  // the written file, with its ramp.* metadata
    if (!params.plan_path.empty()) {
        write_plan(exported.plan, params.plan_path);
    }
    if (!params.plot_path.empty()) {
        plot_plan_bits(exported.plan, layout, params.plot_path);
    }
    std::fputs(plan_table(exported.plan, layout).c_str(), stderr);
    std::fputs(report_summary(report).c_str(), stderr);
    return report;
}

}  // namespace ramp
