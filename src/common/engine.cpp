#include "common/engine.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/error.hpp"
#include "common/log.hpp"

namespace rdt {

namespace {

constexpr std::array<char, 4> kGgufMagic = {'G', 'G', 'U', 'F'};

void check_gguf_magic(const std::filesystem::path & path) {
    std::error_code error;
    if (!std::filesystem::exists(path, error)) {
        fail("model file '{}' not found; check the path", path.string());
    }
    if (std::filesystem::is_directory(path, error)) {
        fail("model path '{}' is a directory; pass a .gguf file", path.string());
    }

    std::ifstream file(path, std::ios::binary);
    std::array<char, 4> magic{};
    if (!file.read(magic.data(), magic.size())) {
        fail("model file '{}' is shorter than a GGUF header; it is empty or truncated, download or convert it again",
             path.string());
    }
    if (magic != kGgufMagic) {
        fail("'{}' is not a GGUF file (first bytes are not 'GGUF'); convert the model with llama.cpp's "
             "convert_hf_to_gguf.py",
             path.string());
    }
}

// The end of the last tensor's data must lie inside the file; otherwise the file
// was cut short (an interrupted download or copy).
void check_not_truncated(const gguf_context * gguf, const std::filesystem::path & path) {
    const uint64_t file_size = std::filesystem::file_size(path);
    uint64_t data_end = gguf_get_data_offset(gguf);
    for (int64_t i = 0; i < gguf_get_n_tensors(gguf); ++i) {
        const uint64_t end = gguf_get_data_offset(gguf) + gguf_get_tensor_offset(gguf, i) + gguf_get_tensor_size(gguf, i);
        data_end = std::max(data_end, end);
    }
    if (data_end > file_size) {
        fail("model file '{}' is truncated: its tensors need {} bytes but the file has {}; download or convert it "
             "again",
             path.string(), data_end, file_size);
    }
}

}  // namespace

void ensure_backend() {
    static std::once_flag once;
    std::call_once(once, [] {
        route_llama_logs();
        llama_backend_init();
    });
}

GgufPtr open_gguf_checked(const std::filesystem::path & path) {
    ensure_backend();
    check_gguf_magic(path);

    gguf_init_params params{};
    params.no_alloc = true;
    params.ctx = nullptr;
    GgufPtr gguf(gguf_init_from_file(path.c_str(), params));
    if (!gguf) {
        fail("cannot read the GGUF header of '{}': the file is damaged or truncated; download or convert it again",
             path.string());
    }
    check_not_truncated(gguf.get(), path);
    return gguf;
}

ModelPtr load_model(const std::filesystem::path & path) {
    open_gguf_checked(path);

    llama_model_params params = llama_model_default_params();
    params.n_gpu_layers = 0;
    ModelPtr model(llama_model_load_from_file(path.c_str(), params));
    if (!model) {
        fail("llama.cpp failed to load '{}'; its architecture may be unsupported by this llama.cpp build "
             "(run with --verbose for llama.cpp's messages)",
             path.string());
    }
    return model;
}

int default_threads() {
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware == 0 ? 1 : static_cast<int>(hardware);
}

ContextPtr make_context(llama_model * model, const ContextOptions & options) {
    llama_context_params params = llama_context_default_params();
    if (options.n_ctx > 0) {
        params.n_ctx = options.n_ctx;
    }
    if (options.n_batch > 0) {
        params.n_batch = options.n_batch;
    }
    if (options.n_ubatch > 0) {
        params.n_ubatch = options.n_ubatch;
    }
    params.n_seq_max = std::max(1, options.n_seq_max);
    const int threads = options.n_threads > 0 ? options.n_threads : default_threads();
    params.n_threads = threads;
    params.n_threads_batch = threads;
    params.embeddings = options.embeddings;
    params.pooling_type = options.pooling;
    params.cb_eval = options.eval_callback;
    params.cb_eval_user_data = options.eval_callback_data;
    params.no_perf = true;

    ContextPtr ctx(llama_init_from_model(model, params));
    if (!ctx) {
        fail("llama.cpp failed to create a context (n_ctx {}, n_batch {}, sequences {}); lower -c or the batch size",
             options.n_ctx, options.n_batch, options.n_seq_max);
    }
    return ctx;
}

Batch::Batch(int capacity, int n_seq_max) : batch_(llama_batch_init(capacity, 0, n_seq_max)), capacity_(capacity) {}

Batch::~Batch() { llama_batch_free(batch_); }

void Batch::add(llama_token token, llama_pos pos, llama_seq_id seq, bool want_logits) {
    if (batch_.n_tokens >= capacity_) {
        fail("internal: batch of capacity {} is full", capacity_);
    }
    const int i = batch_.n_tokens;
    batch_.token[i] = token;
    batch_.pos[i] = pos;
    batch_.n_seq_id[i] = 1;
    batch_.seq_id[i][0] = seq;
    batch_.logits[i] = want_logits ? 1 : 0;
    batch_.n_tokens += 1;
}

std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool add_special,
                                  bool parse_special) {
    // A first call with an upper bound; llama_tokenize returns -needed when short.
    std::vector<llama_token> tokens(text.size() + 2 + (add_special ? 2 : 0));
    int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                               static_cast<int32_t>(tokens.size()), add_special, parse_special);
    if (n < 0) {
        tokens.resize(static_cast<size_t>(-n));
        n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                           static_cast<int32_t>(tokens.size()), add_special, parse_special);
    }
    if (n < 0) {
        fail("tokenization of a text of {} bytes failed", text.size());
    }
    tokens.resize(static_cast<size_t>(n));
    return tokens;
}

std::string detokenize(const llama_vocab * vocab, const std::vector<llama_token> & tokens) {
    std::string text(tokens.size() * 8 + 16, '\0');
    int32_t n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), text.data(),
                                 static_cast<int32_t>(text.size()), false, false);
    if (n < 0) {
        text.resize(static_cast<size_t>(-n));
        n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), text.data(),
                             static_cast<int32_t>(text.size()), false, false);
    }
    text.resize(static_cast<size_t>(std::max(n, 0)));
    return text;
}

std::string model_meta(const llama_model * model, const std::string & key, const std::string & fallback) {
    std::array<char, 512> buffer{};
    const int32_t n = llama_model_meta_val_str(model, key.c_str(), buffer.data(), buffer.size());
    if (n < 0) {
        return fallback;
    }
    if (static_cast<size_t>(n) >= buffer.size()) {
        std::string value(static_cast<size_t>(n) + 1, '\0');
        llama_model_meta_val_str(model, key.c_str(), value.data(), value.size());
        value.resize(static_cast<size_t>(n));
        return value;
    }
    return std::string(buffer.data(), static_cast<size_t>(n));
}

std::string model_architecture(const llama_model * model) { return model_meta(model, "general.architecture"); }

}  // namespace rdt
