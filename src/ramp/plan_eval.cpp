#include "ramp/plan_eval.hpp"

#include <llama.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/error.hpp"
#include "ramp/export.hpp"
#include "ramp/plan_size.hpp"
#include "ramp/quant_types.hpp"

namespace ramp {

namespace {

// State handed to llama_model_init_from_user's tensor callback. The callback is a C
// function pointer, so errors are recorded here and raised after the load returns.
struct FillContext {
    QuantCache * cache = nullptr;
    const gguf_context * source = nullptr;
    std::string error;
};

bool ends_with(std::string_view text, std::string_view suffix) { return text.ends_with(suffix); }

// Values for an optional tensor that the source file lacks. A model built from
// metadata creates every optional tensor of its architecture, but a model loaded
// from the file leaves them out. So each gets the value that changes nothing: zero
// biases, unit rope frequency factors and unit scales (factors of a matrix product
// or of its input). The tied output matrix shares the token embedding's data.
std::vector<uint8_t> neutral_data(FillContext & fill, const ggml_tensor * tensor) {
    const std::string name = ggml_get_name(tensor);
    if (name == "output.weight") {
        return fill.cache->get("token_embd.weight", tensor->type);
    }
    if (tensor->type != GGML_TYPE_F32) {
        rdt::fail("optional tensor '{}' is not in the source and is not F32", name);
    }
    const auto count = static_cast<size_t>(ggml_nelements(tensor));
    std::vector<float> values;
    if (ends_with(name, ".bias")) {
        values.assign(count, 0.0f);
    } else if (name.find("rope_freqs") != std::string::npos || name.find("rope_factors") != std::string::npos ||
               ends_with(name, "scale")) {
        values.assign(count, 1.0f);
    } else {
        rdt::fail("optional tensor '{}' is not in the source and has no known neutral value; evaluate this "
                  "model through `ramp export` and `ramp eval` instead",
                  name);
    }
    std::vector<uint8_t> bytes(count * sizeof(float));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
}

void fill_tensor(ggml_tensor * tensor, void * userdata) {
    auto * fill = static_cast<FillContext *>(userdata);
    if (!fill->error.empty()) {
        return;
    }
    try {
        const char * name = ggml_get_name(tensor);
        std::vector<uint8_t> neutral;
        const std::vector<uint8_t> * data = nullptr;
        if (gguf_find_tensor(fill->source, name) >= 0) {
            data = &fill->cache->get(name, tensor->type);
        } else {
            neutral = neutral_data(*fill, tensor);
            data = &neutral;
        }
        if (data->size() != ggml_nbytes(tensor)) {
            rdt::fail("tensor '{}' needs {} bytes but {} were prepared", name, ggml_nbytes(tensor), data->size());
        }
        ggml_backend_tensor_set(tensor, data->data(), 0, data->size());
    } catch (const std::exception & error) {
        fill->error = error.what();
    }
}

// Add the tied output matrix to metadata at the token embedding's type, as a model
// loaded from the file computes the output with the token embedding itself.
void add_tied_output(gguf_context * metadata) {
    const int64_t embd_id = gguf_find_tensor(metadata, "token_embd.weight");
    if (embd_id < 0 || gguf_find_tensor(metadata, "output.weight") >= 0) {
        return;
    }
    const ggml_init_params params = {
        /*.mem_size   =*/ggml_tensor_overhead() * 2,
        /*.mem_buffer =*/nullptr,
        /*.no_alloc   =*/true,
    };
    GgmlContextPtr scratch(ggml_init(params));
    const int64_t * ne = gguf_get_tensor_ne(metadata, embd_id);
    ggml_tensor * output =
        ggml_new_tensor_2d(scratch.get(), gguf_get_tensor_type(metadata, embd_id), ne[0], ne[1]);
    ggml_set_name(output, "output.weight");
    gguf_add_tensor(metadata, output);
}

}  // namespace

QuantCache::QuantCache(const GgufWeights & weights, std::map<std::string, std::vector<float>> importance,
                       int n_threads)
    : weights_(weights), importance_(std::move(importance)), n_threads_(n_threads > 0 ? n_threads : 1) {}

const std::vector<uint8_t> & QuantCache::get(const std::string & name, ggml_type type) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto key = std::make_pair(name, type);
    const auto found = entries_.find(key);
    if (found != entries_.end()) {
        ++hits_;
        return found->second;
    }
    ++misses_;
    const ggml_tensor * tensor = weights_.tensor(name);
    std::vector<uint8_t> data;
    if (tensor->type == type) {
        const auto * begin = static_cast<const uint8_t *>(tensor->data);
        data.assign(begin, begin + ggml_nbytes(tensor));
    } else {
        data = quantize(tensor, type);
    }
    bytes_ += static_cast<int64_t>(data.size());
    return entries_.emplace(key, std::move(data)).first->second;
}

std::vector<uint8_t> QuantCache::quantize(const ggml_tensor * tensor, ggml_type type) const {
    const std::string name = ggml_get_name(tensor);
    if (!is_float_type(tensor->type)) {
        rdt::fail("tensor '{}' is stored as {}; plans are evaluated from F32, F16 or BF16 weights", name,
                  type_name(tensor->type));
    }
    const int64_t n_per_row = tensor->ne[0];
    const int64_t n_rows = ggml_nrows(tensor);
    const float * importance = nullptr;
    const auto entry = importance_.find(name);
    if (entry != importance_.end() && static_cast<int64_t>(entry->second.size()) == n_per_row) {
        importance = entry->second.data();
    }
    if (importance == nullptr && ggml_quantize_requires_imatrix(type)) {
        rdt::fail("type {} of tensor '{}' needs an importance matrix; pass one or choose another type",
                  type_name(type), name);
    }

    // Same row-wise ggml_quantize_chunk calls as llama.cpp's quantizer; rows are
    // independent, so splitting them over threads gives identical bytes.
    const std::vector<float> values = tensor_to_f32(tensor);
    const size_t row_bytes = ggml_row_size(type, n_per_row);
    std::vector<uint8_t> data(row_bytes * static_cast<size_t>(n_rows));
    ggml_quantize_init(type);
    const int64_t n_workers = std::min<int64_t>(n_threads_, n_rows);
    const int64_t rows_per_worker = (n_rows + n_workers - 1) / n_workers;
    std::vector<std::thread> workers;
    for (int64_t w = 0; w < n_workers; ++w) {
        const int64_t first = w * rows_per_worker;
        const int64_t count = std::min(rows_per_worker, n_rows - first);
        if (count <= 0) {
            break;
        }
        workers.emplace_back([&, first, count] {
            ggml_quantize_chunk(type, values.data(), data.data(), first * n_per_row, count, n_per_row, importance);
        });
    }
    for (std::thread & worker : workers) {
        worker.join();
    }
    return data;
}

PlanEvaluator::PlanEvaluator(const std::filesystem::path & model_path, const std::string & text,
                             const PlanEvalOptions & options)
    : options_(options),
      weights_(model_path),
      layout_(read_model_layout(weights_.gguf())),
      identity_(model_identity(model_path, weights_.gguf())),
      default_fixed_(default_fixed_types(weights_.gguf(), layout_)),
      cache_(weights_, options.imatrix_path.empty() ? std::map<std::string, std::vector<float>>{}
                                                    : load_importance(options.imatrix_path),
             options.n_threads > 0 ? options.n_threads : rdt::default_threads()) {
    // Reference log-probs of the float model; the model is freed afterwards.
    const rdt::ModelPtr reference_model = rdt::load_model(model_path);
    chunks_ = rdt::make_eval_chunks(reference_model.get(), text, options.n_ctx, options.n_chunks);
    rdt::ChunkRunOptions run;
    run.n_threads = options.n_threads;
    run.progress = options.progress;
    run.progress_label = "reference chunks";
    run.batch_tokens = batch_tokens();
    reference_ = rdt::compute_reference(reference_model.get(), chunks_, run);
    spdlog::info("plan evaluator: {} decided matrices, {} chunks of {} tokens, float PPL {:.4f}",
                 layout_.matrices.size(), chunks_.n_chunks, chunks_.n_ctx, reference_.ppl);
}

PlanEvaluator::~PlanEvaluator() = default;

int PlanEvaluator::batch_tokens() const {
    // llama-perplexity's batch, but no more sequences than there are chunks: a
    // context sized for unused sequences makes every evaluation slower.
    const int all_chunks = options_.n_chunks > 0 ? options_.n_chunks * options_.n_ctx : rdt::kPerplexityBatchTokens;
    return std::max(options_.n_ctx, std::min(rdt::kPerplexityBatchTokens, all_chunks));
}

std::string PlanEvaluator::imatrix_name() const {
    return options_.imatrix_path.empty() ? "" : options_.imatrix_path.filename().string();
}

Plan PlanEvaluator::make_plan(const std::vector<ggml_type> & types, const std::string & source) const {
    Plan plan = ramp::make_plan(identity_, layout_, default_fixed_, types, source, with_imatrix());
    fill_prediction(plan, layout_, weights_.gguf(), imatrix_name());
    return plan;
}

rdt::ModelPtr PlanEvaluator::build_model(const Plan & plan) {
    check_plan(plan, identity_, layout_, weights_.gguf());
    return build_unchecked(plan);
}

rdt::ModelPtr PlanEvaluator::build_unchecked(const Plan & plan) {
    const rdt::GgufPtr metadata = make_export_gguf(weights_.gguf(), plan, export_metadata(plan, imatrix_name()));
    add_tied_output(metadata.get());

    FillContext fill{.cache = &cache_, .source = weights_.gguf(), .error = {}};
    llama_model_params params = llama_model_default_params();
    params.n_gpu_layers = 0;
    rdt::ModelPtr model(llama_model_init_from_user(metadata.get(), fill_tensor, &fill, params));
    if (!fill.error.empty()) {
        rdt::fail("building the plan's model in memory failed: {}", fill.error);
    }
    if (!model) {
        rdt::fail("llama.cpp could not build the plan's model in memory (run with --verbose for its log)");
    }
    return model;
}

PlanEvalResult PlanEvaluator::measure(const Plan & plan) {
    const auto start = std::chrono::steady_clock::now();
    const rdt::ModelPtr model = build_unchecked(plan);

    rdt::ChunkRunOptions run;
    run.n_threads = options_.n_threads;
    run.progress = options_.progress;
    run.progress_label = "plan chunks";
    run.batch_tokens = batch_tokens();
    const rdt::PerplexityResult measured = rdt::evaluate_perplexity(model.get(), chunks_, run, &reference_);
    ++evaluations_;

    PlanEvalResult result;
    result.ppl = measured.ppl.ppl;
    result.ppl_uncertainty = measured.ppl.ppl_uncertainty;
    if (measured.kl) {
        result.kl_mean = measured.kl->mean;
        result.kl_std_error = measured.kl->mean_std_error;
        result.same_top = measured.kl->same_top_fraction;
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

PlanEvalResult PlanEvaluator::evaluate(const Plan & plan) {
    check_plan(plan, identity_, layout_, weights_.gguf());
    Plan sized = plan;
    fill_prediction(sized, layout_, weights_.gguf(), imatrix_name());
    PlanEvalResult result = measure(sized);
    result.bpw = sized.predicted.bpw;
    result.file_bytes = sized.predicted.file_bytes;
    return result;
}

PlanEvalResult PlanEvaluator::evaluate_isolated(size_t matrix, ggml_type type) {
    if (matrix >= layout_.matrices.size()) {
        rdt::fail("matrix index {} is out of range; the model has {} decided matrices", matrix,
                  layout_.matrices.size());
    }
    // Every tensor at its source type except the one under test.
    std::vector<ggml_type> types;
    for (const DecidedMatrix & decided : layout_.matrices) {
        types.push_back(decided.source_type);
    }
    types[matrix] = type;
    const Plan plan = ramp::make_plan(identity_, layout_, {}, types, "isolated", with_imatrix());
    return measure(plan);
}

PlanEvalResult PlanEvaluator::evaluate(const std::vector<ggml_type> & types) {
    return evaluate(make_plan(types, "evaluation"));
}

}  // namespace ramp
