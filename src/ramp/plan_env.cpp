#include "ramp/plan_env.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/text.hpp"
#include "ramp/activation_stats.hpp"
#include "ramp/gguf_weights.hpp"
#include "ramp/quant_types.hpp"
#include "ramp/sha256.hpp"

namespace ramp {

QualityMetric parse_quality_metric(const std::string & name) {
    if (name == "kl") {
        return QualityMetric::Kl;
    }
    if (name == "ppl") {
        return QualityMetric::PplRatio;
    }
    rdt::fail("unknown quality metric '{}'; accepted: kl (mean KL divergence to the float model), ppl (perplexity "
              "ratio - 1)",
              name);
}

std::string quality_metric_name(QualityMetric metric) { return metric == QualityMetric::Kl ? "kl" : "ppl"; }

ModelFeatures analyze_model_features(const FeatureRequest & request) {
    ModelFeatures result;
    result.layout = read_model_layout(request.model_path);
    rdt::ModelPtr model = rdt::load_model(request.model_path);
    const std::string text = rdt::read_text_file(request.text_path);
    const int n_ctx = resolve_calibration_ctx(model.get(), request.n_ctx);
    const rdt::EvalChunks chunks = rdt::make_eval_chunks(model.get(), text, n_ctx, request.n_chunks);

    ActivationOptions options;
    options.n_threads = request.n_threads;
    const ActivationStats stats = collect_activation_stats(model.get(), result.layout, chunks, options);
    model.reset();

    const GgufWeights weights(request.model_path);
    result.features = compute_features(result.layout, stats, weights, FeatureOptions{});
    result.calibration = CalibrationInfo{.file = std::filesystem::path(request.text_path).filename().string(),
                                         .sha256 = sha256_file_hex(request.text_path),
                                         .n_ctx = n_ctx,
                                         .n_chunks = chunks.n_chunks};
    return result;
}

std::vector<StepSpec> make_steps(const ModelFeatures & model, bool with_imatrix) {
    std::vector<StepSpec> steps;
    for (size_t i = 0; i < model.layout.matrices.size(); ++i) {
        const DecidedMatrix & matrix = model.layout.matrices[i];
        const MatrixFeatures & features = model.features[i];
        StepSpec step;
        step.name = matrix.name;
        std::copy(features.values.begin(), features.values.end(), step.features.begin());
        for (ggml_type type : candidate_types(matrix.n_in, with_imatrix)) {
            step.candidate_bpw.push_back(type_bpw(type));
            step.candidate_names.push_back(type_name(type));
        }
        step.n_elements = matrix.n_elements();
        steps.push_back(std::move(step));
    }
    return steps;
}

FeatureEnvironment::FeatureEnvironment(const ModelFeatures & model, double budget_bpw, std::string model_id,
                                       bool with_imatrix)
    : steps_(make_steps(model, with_imatrix)), budget_bpw_(budget_bpw), model_id_(std::move(model_id)) {
    for (const DecidedMatrix & matrix : model.layout.matrices) {
        candidates_.push_back(candidate_types(matrix.n_in, with_imatrix));
    }
    validate_environment(*this);
}

std::string FeatureEnvironment::fingerprint() const {
    return fmt::format("model={};matrices={};budget={:.6f}", model_id_, steps_.size(), budget_bpw_);
}

double FeatureEnvironment::evaluate(const std::vector<int> & /*choices*/) {
    rdt::fail("internal: this environment has no plan evaluator; it only applies a trained policy");
}

std::vector<ggml_type> FeatureEnvironment::types_of(const std::vector<int> & choices) const {
    if (choices.size() != candidates_.size()) {
        rdt::fail("internal: plan has {} choices for {} matrices", choices.size(), candidates_.size());
    }
    std::vector<ggml_type> types;
    for (size_t i = 0; i < choices.size(); ++i) {
        types.push_back(candidates_[i].at(static_cast<size_t>(choices[i])));
    }
    return types;
}

std::vector<int> FeatureEnvironment::choices_of(const std::vector<ggml_type> & types) const {
    std::vector<int> choices;
    for (size_t i = 0; i < types.size(); ++i) {
        const auto & candidates = candidates_.at(i);
        const auto found = std::find(candidates.begin(), candidates.end(), types[i]);
        if (found == candidates.end()) {
            rdt::fail("type {} is not a candidate of {}", type_name(types[i]), steps_[i].name);
        }
        choices.push_back(static_cast<int>(found - candidates.begin()));
    }
    return choices;
}

PlanEnvironment::PlanEnvironment(const ModelFeatures & model, PlanEvaluator & evaluator, double budget_bpw,
                                 QualityMetric metric)
    : FeatureEnvironment(model, budget_bpw, evaluator.identity().hash, evaluator.with_imatrix()),
      evaluator_(evaluator),
      metric_(metric) {}

std::string PlanEnvironment::fingerprint() const {
    return FeatureEnvironment::fingerprint() + ";quality=" + quality_metric_name(metric_);
}

double PlanEnvironment::evaluate(const std::vector<int> & choices) {
    last_result_ = evaluator_.evaluate(types_of(choices));
    if (metric_ == QualityMetric::Kl) {
        return std::max(0.0, last_result_.kl_mean);
    }
    return std::max(0.0, last_result_.ppl / evaluator_.reference_ppl() - 1.0);
}

}  // namespace ramp
