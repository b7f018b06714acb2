#pragma once
// The real search environment: the decided matrices of a GGUF model with their
// features (from activation statistics on a calibration text) and candidate
// types, a budget, and plan quality measured by the in-memory plan evaluator
// (KL divergence to the float model, or the perplexity ratio, on calibration
// chunks; never on the evaluation text).

#include <memory>
#include <string>
#include <vector>

#include "ramp/analysis.hpp"
#include "ramp/features.hpp"
#include "ramp/model_layout.hpp"
#include "ramp/plan_eval.hpp"
#include "ramp/search_env.hpp"

namespace ramp {

// Quality loss q of a plan, the term the reward weighs by -100.
enum class QualityMetric {
    Kl,        // mean KL divergence to the float model, nats per token (default: paired, low noise)
    PplRatio,  // PPL(plan) / PPL(float) - 1, the objective of the RAMP paper
};

QualityMetric parse_quality_metric(const std::string & name);  // "kl" or "ppl"
std::string quality_metric_name(QualityMetric metric);

// Features of every decided matrix of a model, from a calibration text.
struct ModelFeatures {
    ModelLayout layout;
    std::vector<MatrixFeatures> features;  // parallel to layout.matrices
    CalibrationInfo calibration;
};

struct FeatureRequest {
    std::string model_path;
    std::string text_path;
    int n_ctx = 0;  // 0: min(256, training context)
    int n_chunks = kDefaultCalibrationChunks;
    int n_threads = 0;
};

// Collect activation statistics on the calibration text and compute the features.
ModelFeatures analyze_model_features(const FeatureRequest & request);

// Steps of an episode (features, candidates, sizes) for a model's matrices.
// with_imatrix adds the IQ types, which need an importance matrix.
std::vector<StepSpec> make_steps(const ModelFeatures & model, bool with_imatrix);

// Environment with features and a budget but no plan evaluator, used to apply a
// trained policy zero-shot (`ramp plan`). Its evaluate() throws.
class FeatureEnvironment : public Environment {
  public:
    FeatureEnvironment(const ModelFeatures & model, double budget_bpw, std::string model_id, bool with_imatrix);

    const std::vector<StepSpec> & steps() const override { return steps_; }
    double budget_bpw() const override { return budget_bpw_; }
    std::string fingerprint() const override;
    double evaluate(const std::vector<int> & choices) override;

    // The ggml types of a plan given as candidate indices.
    std::vector<ggml_type> types_of(const std::vector<int> & choices) const;
    // Candidate indices of a plan given as types (fails for a type outside a matrix's candidates).
    std::vector<int> choices_of(const std::vector<ggml_type> & types) const;

  protected:
    std::vector<StepSpec> steps_;
    std::vector<std::vector<ggml_type>> candidates_;
    double budget_bpw_;
    std::string model_id_;
};

// The search environment: FeatureEnvironment plus plan evaluation.
class PlanEnvironment : public FeatureEnvironment {
  public:
    PlanEnvironment(const ModelFeatures & model, PlanEvaluator & evaluator, double budget_bpw, QualityMetric metric);

    std::string fingerprint() const override;
    double evaluate(const std::vector<int> & choices) override;

    // Full result of the last evaluate() call for a plan, for reports.
    const PlanEvalResult & last_result() const { return last_result_; }
    QualityMetric metric() const { return metric_; }

  private:
    PlanEvaluator & evaluator_;
    QualityMetric metric_;
    PlanEvalResult last_result_;
};

}  // namespace ramp
