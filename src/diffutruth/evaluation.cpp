#include "diffutruth/evaluation.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <random>
#include <set>

#include "common/error.hpp"
#include "common/output.hpp"
#include "common/plot.hpp"
#include "common/progress.hpp"

namespace diffutruth {

namespace {

// ROC plot size in pixels (square axes).
constexpr int kRocPlotWidth = 800;
constexpr int kRocPlotHeight = 600;

std::vector<rdt::Claim> read_selected(const std::filesystem::path & path, rdt::ClaimFormat format, bool skip_invalid,
                                      std::size_t limit, bool balanced, std::set<std::string> * ids_out) {
    rdt::ClaimReadOptions options;
    options.format = format;
    options.skip_invalid = skip_invalid;
    const rdt::ClaimSet set = rdt::read_claims(path, options);
    for (const std::string & example : set.stats.invalid_examples) {
        spdlog::warn("skipped: {}", example);
    }
    spdlog::info("{}: {} records, {} kept, {} skipped as invalid, {} left out for their label", path.string(),
                 set.stats.read, set.stats.kept, set.stats.skipped_invalid, set.stats.skipped_label);
    if (ids_out != nullptr) {
        for (const rdt::Claim & claim : set.claims) {
            ids_out->insert(claim.id);
        }
    }
    return select_claims(set.claims, limit, balanced);
}

void add_metrics_json(nlohmann::json & out, const std::vector<Signal> & signals, const std::vector<int> & is_false,
                      const rdt::BootstrapParams & bootstrap) {
    for (const Signal & signal : signals) {
        out[signal.name] = signal_metrics(signal, is_false, bootstrap);
    }
}

// Signals restricted to the claims at `rows`.
std::vector<Signal> subset(const std::vector<Signal> & signals, const std::vector<size_t> & rows) {
    std::vector<Signal> result;
    for (const Signal & signal : signals) {
        Signal part{signal.name, {}, {}};
        for (const size_t row : rows) {
            part.scores.push_back(signal.scores[row]);
            part.probabilities.push_back(signal.probabilities[row]);
        }
        result.push_back(std::move(part));
    }
    return result;
}

}  // namespace

nlohmann::json signal_metrics(const Signal & signal, const std::vector<int> & is_false,
                              const rdt::BootstrapParams & bootstrap) {
    nlohmann::json json;
    json["auroc"] = rdt::bootstrap_ci(signal.scores, is_false, rdt::auroc, bootstrap);
    json["auprc"] = rdt::auprc(signal.scores, is_false);
    json["best_threshold"] = rdt::best_threshold_accuracy(signal.scores, is_false);
    json["ece"] = rdt::expected_calibration_error(signal.probabilities, is_false);
    return json;
}

std::vector<rdt::Claim> select_claims(const std::vector<rdt::Claim> & claims, std::size_t limit, bool balanced) {
    if (limit == 0) {
        return claims;
    }
    std::vector<rdt::Claim> kept;
    if (!balanced) {
        kept.assign(claims.begin(), claims.begin() + static_cast<long>(std::min(limit, claims.size())));
        return kept;
    }
    const std::size_t per_class = limit / 2;
    std::size_t n_true = 0;
    std::size_t n_false = 0;
    for (const rdt::Claim & claim : claims) {
        if (claim.label == 1 && n_true < per_class) {
            n_true += 1;
            kept.push_back(claim);
        } else if (claim.label == 0 && n_false < per_class) {
            n_false += 1;
            kept.push_back(claim);
        }
    }
    return kept;
}

std::vector<int> false_labels(const std::vector<rdt::Claim> & claims, const std::string & what) {
    std::vector<int> is_false;
    std::size_t unlabelled = 0;
    for (const rdt::Claim & claim : claims) {
        if (!claim.label) {
            unlabelled += 1;
            continue;
        }
        is_false.push_back(*claim.label == 0 ? 1 : 0);
    }
    if (unlabelled > 0) {
        rdt::fail("{}: {} of {} claims have no label; evaluation needs a true/false label on every claim", what,
                  unlabelled, claims.size());
    }
    const auto n_false = std::count(is_false.begin(), is_false.end(), 1);
    if (claims.empty() || n_false == 0 || n_false == static_cast<long>(is_false.size())) {
        rdt::fail("{}: the set has {} true and {} false claims; AUROC is undefined with one class only, so give a "
                  "set with both (raise --limit or use --balanced)",
                  what, static_cast<long>(is_false.size()) - n_false, n_false);
    }
    return is_false;
}

std::vector<Signal> build_signals(const std::vector<ClaimScore> & scores, uint64_t seed) {
    std::vector<double> energies;
    std::vector<double> confidences;
    for (const ClaimScore & score : scores) {
        energies.push_back(score.energy);
        if (score.confidence) {
            confidences.push_back(*score.confidence);
        }
    }

    std::vector<Signal> signals;
    Signal energy{"energy", energies, {}};
    for (const double z : robust_z(energies)) {
        energy.probabilities.push_back(logistic(z));
    }
    signals.push_back(std::move(energy));

    if (!confidences.empty()) {
        // A higher confidence means "more likely true", so its negation ranks false claims first.
        Signal confidence{"confidence", {}, {}};
        for (const double c : confidences) {
            confidence.scores.push_back(-c);
        }
        for (const double z : robust_z(confidences)) {
            confidence.probabilities.push_back(logistic(-z));
        }
        signals.push_back(std::move(confidence));

        Signal fused{"fusion", {}, {}};
        for (const ClaimScore & score : scores) {
            fused.scores.push_back(score.score);
            fused.probabilities.push_back(score.probability);
        }
        signals.push_back(std::move(fused));
    }

    if (!scores.empty() && scores.front().supervised_probability) {
        Signal supervised{"supervised", {}, {}};
        for (const ClaimScore & score : scores) {
            supervised.scores.push_back(*score.supervised_probability);
            supervised.probabilities.push_back(*score.supervised_probability);
        }
        signals.push_back(std::move(supervised));
    }

    Signal random{"random", {}, {}};
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (size_t i = 0; i < scores.size(); ++i) {
        random.scores.push_back(uniform(rng));
    }
    random.probabilities = random.scores;
    signals.push_back(std::move(random));
    return signals;
}

void write_roc_plot(const std::filesystem::path & path, const std::vector<Signal> & signals,
                    const std::vector<int> & is_false, const std::string & title) {
    rdt::check_plot_path(path);
    rdt::check_output_path(path, true, "--plot");

    // One datablock per signal: false positive rate, true positive rate.
    std::string commands;
    std::string plot = "plot ";
    for (size_t i = 0; i < signals.size(); ++i) {
        commands += fmt::format("$signal{} << EOD\n", i);
        for (const rdt::RocPoint & point : rdt::roc_curve(signals[i].scores, is_false)) {
            commands += fmt::format("{} {}\n", point.fpr, point.tpr);
        }
        commands += "EOD\n";
        const double area = rdt::auroc(signals[i].scores, is_false);
        plot += fmt::format("$signal{} with lines lw 2 title {}, ", i,
                            rdt::gnuplot_string(fmt::format("{} (AUROC {:.3f})", signals[i].name, area)));
    }
    commands += "set title " + rdt::gnuplot_string(title) + "\n";
    commands += "set xlabel 'false positive rate (true claims flagged)'\n";
    commands += "set ylabel 'true positive rate (false claims flagged)'\n";
    commands += "set xrange [0:1]\nset yrange [0:1]\nset size square\nset key bottom right\n";
    commands += plot + "x with lines dt 2 lc rgb 'gray' notitle\n";
    rdt::render_gnuplot(commands, path, kRocPlotWidth, kRocPlotHeight);
}

nlohmann::json run_eval(const EvalParams & params) {
    const std::string name = params.input.filename().string();
    std::set<std::string> evaluated_ids;
    const std::vector<rdt::Claim> claims = read_selected(params.input, params.format, params.score.skip_invalid,
                                                         params.limit, params.balanced, &evaluated_ids);
    false_labels(claims, params.input.string());

    Scorer scorer(params.score);

    // Supervised fusion: fit on calibration claims that are not in the evaluated file.
    std::optional<LogisticModel> supervised;
    nlohmann::json calibration_json = nullptr;
    if (!params.calibration.empty()) {
        std::vector<rdt::Claim> pool;
        std::size_t overlapping = 0;
        rdt::ClaimReadOptions options;
        options.format = params.calibration_format;
        options.skip_invalid = params.score.skip_invalid;
        for (const rdt::Claim & claim : rdt::read_claims(params.calibration, options).claims) {
            if (!claim.id.empty() && evaluated_ids.count(claim.id) > 0) {
                overlapping += 1;
            } else {
                pool.push_back(claim);
            }
        }
        const std::vector<rdt::Claim> calibration_claims =
            select_claims(pool, params.calibration_limit, params.calibration_limit > 0);
        const std::vector<int> calibration_false = false_labels(calibration_claims, params.calibration.string());
        spdlog::info("calibration: {} claims ({} left out because their id is in the evaluated file)",
                     calibration_claims.size(), overlapping);

        rdt::Progress progress("calibration claims", static_cast<int64_t>(calibration_claims.size()));
        const std::vector<ClaimScore> scored = scorer.score_all(
            calibration_claims, [&](std::size_t done) { progress.update(static_cast<int64_t>(done)); });
        progress.finish();
        std::vector<double> energies;
        std::vector<double> confidences;
        std::vector<int> labels;
        for (const ClaimScore & score : scored) {
            energies.push_back(score.energy);
            confidences.push_back(score.confidence.value_or(0.0));
            labels.push_back(*score.claim.label == 0 ? 1 : 0);
        }
        supervised = fit_logistic(energies, confidences, labels);
        calibration_json = {{"file", params.calibration.string()},
                            {"claims", scored.size()},
                            {"left_out_overlapping_ids", overlapping},
                            {"intercept", supervised->intercept},
                            {"weight_energy", supervised->weight_energy},
                            {"weight_confidence", supervised->weight_confidence},
                            {"energy_mean", supervised->mean_energy},
                            {"energy_scale", supervised->scale_energy},
                            {"confidence_mean", supervised->mean_confidence},
                            {"confidence_scale", supervised->scale_confidence},
                            {"newton_iterations", supervised->iterations}};
    }

    // Score the evaluated claims.
    const ScoreStats before = scorer.stats();
    rdt::Progress progress("claims", static_cast<int64_t>(claims.size()));
    std::vector<ClaimScore> scores =
        scorer.score_all(claims, [&](std::size_t done) { progress.update(static_cast<int64_t>(done)); });
    progress.finish();
    if (supervised) {
        for (ClaimScore & score : scores) {
            score.supervised_probability = supervised->probability(score.energy, score.confidence.value_or(0.0));
        }
    }

    std::vector<rdt::Claim> scored_claims;
    for (const ClaimScore & score : scores) {
        scored_claims.push_back(score.claim);
    }
    const std::vector<int> is_false = false_labels(scored_claims, params.input.string());
    const std::vector<Signal> signals = build_signals(scores, params.score.seed);

    rdt::BootstrapParams bootstrap;
    bootstrap.n_resamples = params.bootstrap_resamples;
    bootstrap.seed = params.score.seed;

    nlohmann::json summary;
    summary["input"] = params.input.string();
    summary["format"] = std::string(rdt::claim_format_name(params.format));
    summary["claims"] = scores.size();
    summary["false_claims"] = std::count(is_false.begin(), is_false.end(), 1);
    summary["positive_class"] = "false claim (REFUTES / NOT_SUPPORTED)";
    summary["params"] = params_to_json(params.score);
    summary["limit"] = params.limit;
    summary["balanced"] = params.balanced;
    const ScoreStats & stats = scorer.stats();
    const double seconds = stats.seconds - before.seconds;
    summary["seconds"] = seconds;
    summary["claims_per_second"] = seconds > 0 ? static_cast<double>(scores.size()) / seconds : 0.0;
    summary["seconds_by_stage"] = {{"reconstruction", stats.reconstruct_seconds - before.reconstruct_seconds},
                                   {"critic", stats.critic_seconds - before.critic_seconds},
                                   {"confidence", stats.confidence_seconds - before.confidence_seconds}};
    summary["threads"] = params.score.n_threads;
    summary["truncated_claims"] = stats.truncated - before.truncated;
    summary["skipped_claims"] = stats.skipped_invalid - before.skipped_invalid;
    summary["critic_cache_hits"] = stats.critic_cache_hits - before.critic_cache_hits;
    summary["supervised_calibration"] = calibration_json;
    add_metrics_json(summary["signals"], signals, is_false, bootstrap);

    // HOVER: the same metrics per number of hops.
    std::map<int, std::vector<size_t>> by_hops;
    for (size_t i = 0; i < scores.size(); ++i) {
        if (scores[i].claim.num_hops > 0) {
            by_hops[scores[i].claim.num_hops].push_back(i);
        }
    }
    for (const auto & [hops, rows] : by_hops) {
        std::vector<int> part_false;
        for (const size_t row : rows) {
            part_false.push_back(is_false[row]);
        }
        nlohmann::json & entry = summary["per_hops"][std::to_string(hops)];
        entry["claims"] = rows.size();
        const auto n_false = std::count(part_false.begin(), part_false.end(), 1);
        if (n_false == 0 || n_false == static_cast<long>(rows.size())) {
            entry["note"] = "one class only: AUROC undefined";
            continue;
        }
        add_metrics_json(entry["signals"], subset(signals, rows), part_false, bootstrap);
    }

    if (!params.scores_output.empty()) {
        std::string lines;
        for (const ClaimScore & score : scores) {
            lines += claim_score_to_line(score, true);
        }
        rdt::write_file_atomic(params.scores_output, lines);
    }
    if (!params.plot.empty()) {
        write_roc_plot(params.plot, signals, is_false, "DiffuTruth ROC: " + name);
        summary["plot"] = params.plot.string();
    }
    return summary;
}

}  // namespace diffutruth
