#pragma once
// Exact size of the GGUF that `ramp export` writes for a plan, computed without
// quantizing: the metadata llama.cpp's quantizer writes (the source's key-value
// pairs, general.quantization_version, general.file_type and the ramp.* keys)
// with the tensor directory at the plan's types, plus each tensor's data padded to
// the GGUF alignment.

#include <gguf.h>
#include <llama.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "ramp/model_layout.hpp"
#include "ramp/plan.hpp"

namespace ramp {

// ramp.* metadata recorded in the exported file: plan schema, hash, source and
// predicted bpw, the budget when the plan has one, and from the provenance the seed,
// calibration file and its SHA-256, and policy hash when present. imatrix_name is
// the importance matrix's file name or empty. The list ends with an empty key as
// llama_model_quantize expects.
std::vector<llama_model_kv_override> export_metadata(const Plan & plan, const std::string & imatrix_name);

// The llama.cpp file type recorded as general.file_type: the one whose default type
// is the plan's most common decided type (by elements). Only informational, since
// every tensor's type is set by an override.
llama_ftype export_ftype(const Plan & plan);

// Type of every tensor of source in the exported file: the plan's type for listed
// tensors, the source type otherwise.
ggml_type exported_type(const Plan & plan, const std::string & name, ggml_type source_type);

// The GGUF metadata and tensor directory (no data) of the exported file: source's
// key-value pairs, the quantizer's keys and metadata, every tensor at its exported
// type. llama_model_init_from_user builds the same model in memory from it.
rdt::GgufPtr make_export_gguf(const gguf_context * source, const Plan & plan,
                              const std::vector<llama_model_kv_override> & metadata);

// Bytes of the exported file for plan over source with metadata.
int64_t predict_file_bytes(const gguf_context * source, const Plan & plan,
                           const std::vector<llama_model_kv_override> & metadata);

// Fill plan.predicted: decided bpw, nominal bpw and bytes, and the file size of an
// export with imatrix_name (empty when none).
void fill_prediction(Plan & plan, const ModelLayout & layout, const gguf_context * source,
                     const std::string & imatrix_name = "");

}  // namespace ramp
