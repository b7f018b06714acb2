#pragma once
// Export of a bit plan as a GGUF that stock llama.cpp loads: llama_model_quantize
// with one anchored tensor-type override per listed tensor, an optional importance
// matrix, and the plan's provenance as ramp.* metadata (plan_size.hpp lists the keys).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ramp/plan.hpp"

namespace ramp {

struct ExportOptions {
    std::filesystem::path model_path;    // source GGUF (F32, F16 or BF16 weights)
    std::filesystem::path output_path;   // may be empty for a dry run
    std::filesystem::path imatrix_path;  // llama-imatrix GGUF, empty for none
    bool force = false;                  // overwrite an existing output
    bool dry_run = false;                // report types and sizes, write nothing
    int n_threads = 0;                   // quantizer threads, 0: all hardware threads
};

struct ExportReport {
    Plan plan;                   // the checked plan with its prediction for this export
    int64_t file_bytes = 0;      // size of the written file (0 for a dry run)
    double seconds = 0.0;        // wall time of the quantizer

    nlohmann::json to_json() const;
};

// Called with the temporary file after the quantizer wrote it and before it is
// checked and renamed; tests throw from it to simulate a failure mid-write.
using ExportHook = std::function<void(const std::filesystem::path & temporary)>;

// Check plan against the model, then quantize it to options.output_path through a
// temporary file (no partial output on failure). Fails naming every plan mismatch,
// an output that exists without force, or a written tensor whose type differs
// from the plan.
ExportReport export_plan(const ExportOptions & options, const Plan & plan, const ExportHook & hook = {});

// Anchored regular expression matching exactly the tensor name, e.g.
// "^blk\.3\.attn_q\.weight$".
std::string exact_name_pattern(const std::string & name);

// E[x^2] per input column of every entry of an importance matrix file, as
// llama-quantize computes it from "<name>.in_sum2" / "<name>.counts".
std::map<std::string, std::vector<float>> load_importance(const std::filesystem::path & path);

}  // namespace ramp
