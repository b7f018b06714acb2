#include "ramp/policy_plan.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "ramp/budget.hpp"
#include "ramp/plan_env.hpp"
#include "ramp/plan_size.hpp"
#include "ramp/sac.hpp"
#include "ramp/sac_search.hpp"

namespace ramp {

Plan plan_from_policy(const PolicyPlanParams & params) {
    if (!std::filesystem::exists(params.policy_path)) {
        rdt::fail("policy file '{}' not found; train one with ramp search --save-policy", params.policy_path);
    }
    const Policy policy = Policy::load(params.policy_path, kObservationSchemaVersion, kObservationSize);

    const rdt::GgufPtr gguf = rdt::open_gguf_checked(params.model_path);
    const ModelLayout layout = read_model_layout(gguf.get());
    check_budget_feasible(layout, params.budget_bpw, /*with_imatrix=*/false);

    const ModelFeatures features = analyze_model_features(
        {params.model_path, params.calibration_path, params.n_ctx, params.n_chunks, params.n_threads});
    const ModelIdentity identity = model_identity(params.model_path, gguf.get());
    FeatureEnvironment env(features, params.budget_bpw, identity.hash, /*with_imatrix=*/false);

    const std::vector<int> choices = plan_with_policy(policy, env);
    const std::string source = "policy:" + std::filesystem::path(params.policy_path).filename().string();
    Plan plan = make_plan(identity, layout, default_fixed_types(gguf.get(), layout), env.types_of(choices), source,
                          /*with_imatrix=*/false);
    plan.target_bpw = params.budget_bpw;
    plan.provenance = {{"policy", policy.metadata()}, {"calibration", calibration_to_json(features.calibration)}};
    fill_prediction(plan, layout, gguf.get());
    spdlog::info("plan: {} matrices at {:.4f} bpw (budget {:.4f})", layout.matrices.size(), plan.predicted.bpw,
                 params.budget_bpw);
    return plan;
}

}  // namespace ramp
