#pragma once
// A bit plan gives one quant type to each decided matrix of a model and to the
// other 2-D tensors (token embedding, output, matrices that no candidate fits).
// It also records the budget it was made for, the method and its predicted size.
// Plans are stored as JSON with the schema "ramp.plan/1" (docs/formats.md).

#include <ggml.h>
#include <gguf.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/model_layout.hpp"

namespace ramp {

// Schema tag written into every plan file; readers reject other tags.
constexpr std::string_view kPlanSchema = "ramp.plan/1";

// The model a plan was made for.
struct ModelIdentity {
    std::string file_name;     // base name, informational only
    std::string hash;          // model_file_hash(): "sha256:<hex>" or "sha256-sampled:<hex>"
    std::string architecture;  // general.architecture
    int64_t n_tensors = 0;     // tensors in the GGUF directory
};

struct MatrixType {
    std::string name;  // GGUF tensor name
    int64_t n_in = 0;  // row length (ne[0])
    int64_t n_out = 0; // rows (ne[1])
    ggml_type type = GGML_TYPE_COUNT;
};

struct FixedType {
    std::string name;  // token_embd.weight, output.weight, or a matrix outside the decision
    ggml_type type = GGML_TYPE_COUNT;
};

// Sizes a plan is predicted to have; see budget.hpp for how they are computed.
struct PlanPrediction {
    double bpw = 0.0;              // storage bpw over the decided matrices
    double nominal_bpw = 0.0;      // bits of the weight codes alone over the decided matrices
    int64_t decided_bytes = 0;     // bytes of the decided matrices
    int64_t file_bytes = 0;        // whole exported GGUF, metadata included
};

struct Plan {
    ModelIdentity model;
    std::optional<double> target_bpw;  // the budget; absent for plans made without one (recipes)
    std::string source;                // method: "uniform-q4_K", "recipe-Q4_K_M", "greedy", "sac", ...
    bool with_imatrix = false;         // candidates include the IQ types
    std::vector<MatrixType> matrices;  // decided matrices in model order (ModelLayout::matrices)
    std::vector<FixedType> fixed;      // 2-D tensors outside the decision; 1-D tensors keep their type
    PlanPrediction predicted;
    nlohmann::json provenance = nlohmann::json::object();  // seed, calibration text and its hash, ...

    // Types of the decided matrices in model order.
    std::vector<ggml_type> matrix_types() const;
    // Type of the named tensor: a decided or fixed entry; nullopt when the plan does not list it.
    std::optional<ggml_type> type_of(const std::string & name) const;
};

// Identity of a model file. Files up to kFullHashLimit bytes get the SHA-256 of
// all their bytes. Larger files get the SHA-256 of the file size, the first 32 MiB
// (metadata and tensor directory) and 256 evenly spaced 64 KiB samples, so that a
// 7B model is identified in well under a second instead of a minute.
std::string model_file_hash(const std::filesystem::path & path);
constexpr int64_t kFullHashLimit = int64_t{256} << 20;  // bytes

ModelIdentity model_identity(const std::filesystem::path & path, const gguf_context * gguf);

// Types llama.cpp's Q4_K_M recipe gives the 2-D tensors outside the decision:
// output (and a token embedding tied to it) Q6_K, or Q8_0 when the row length is
// not a multiple of 256. The token embedding and matrices that no candidate fits
// get Q4_K with llama.cpp's row-length fallback (Q5_0, then F16).
std::vector<FixedType> default_fixed_types(const gguf_context * gguf, const ModelLayout & layout);

// A plan with every decided matrix at the given types and fixed tensors at their
// defaults. types has one entry per layout matrix. Predictions are left at zero;
// budget.hpp fills them.
Plan make_plan(const ModelIdentity & model, const ModelLayout & layout, const std::vector<FixedType> & fixed,
               const std::vector<ggml_type> & types, const std::string & source, bool with_imatrix);

nlohmann::json plan_to_json(const Plan & plan);
// Parse a plan; fails on another schema or on a malformed field, naming it.
Plan plan_from_json(const nlohmann::json & json);

void write_plan(const Plan & plan, const std::filesystem::path & path);
Plan read_plan_file(const std::filesystem::path & path);

// Every way plan does not fit the model: architecture or tensor count differs, a
// matrix is missing, extra, reordered or of another shape, a type is not a
// candidate of its matrix, a fixed tensor is unknown or its type does not divide
// its rows. Empty when the plan fits. A different file hash is not a mismatch
// (the plan may target a folded copy of the same model); check_plan warns about it.
std::vector<std::string> plan_mismatches(const Plan & plan, const ModelIdentity & model, const ModelLayout & layout,
                                         const gguf_context * gguf);

// Fail listing every mismatch; warn when only the file hash differs.
void check_plan(const Plan & plan, const ModelIdentity & model, const ModelLayout & layout,
                const gguf_context * gguf);

// Stable hash of the type assignment (names and types, not predictions or
// provenance): 16 hex digits of the SHA-256 of "name=type\n" lines in plan order.
std::string plan_hash(const Plan & plan);

}  // namespace ramp
