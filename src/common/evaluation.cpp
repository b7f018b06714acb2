#include "common/evaluation.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/multiple_choice.hpp"
#include "common/text.hpp"

namespace rdt {

namespace {

nlohmann::json model_summary(const llama_model * model, const std::string & path) {
    std::array<char, 256> description{};
    llama_model_desc(model, description.data(), description.size());
    return {
        {"path", path},
        {"architecture", model_architecture(model)},
        {"description", description.data()},
        {"parameters", llama_model_n_params(model)},
        {"size_bytes", llama_model_size(model)},
        {"file_bytes", std::filesystem::file_size(path)},
    };
}

void check_mc_request(const EvalParams & params) {
    if (!params.mc_format.empty() && params.mc_path.empty()) {
        fail("--mc {} needs the data file: pass --mc-file FILE", params.mc_format);
    }
    if (params.mc_format.empty() && !params.mc_path.empty()) {
        fail("--mc-file {} needs the format: pass --mc piqa, --mc siqa or --mc obqa", params.mc_path);
    }
    if (!params.mc_format.empty()) {
        parse_mc_format(params.mc_format);  // fails early, before the slow steps
    }
}

}  // namespace

nlohmann::json evaluate_model(const EvalParams & params) {
    check_mc_request(params);
    ModelPtr model = load_model(params.model_path);
    const std::string text = read_text_file(params.text_path);
    const EvalChunks chunks = make_eval_chunks(model.get(), text, params.n_ctx, params.n_chunks);
    spdlog::info("perplexity of {} on {}: {} chunks of {} tokens ({} tokens in the text)", params.model_path,
                 params.text_path, chunks.n_chunks, chunks.n_ctx, chunks.tokens.size());

    ChunkRunOptions options;
    options.n_threads = params.n_threads;

    nlohmann::json result;
    result["model"] = model_summary(model.get(), params.model_path);
    result["text"] = {{"path", params.text_path}, {"tokens", chunks.tokens.size()}};
    result["n_ctx"] = chunks.n_ctx;
    result["chunks"] = chunks.n_chunks;
    result["scored_tokens"] = chunks.n_scored();

    // Multiple-choice questions are read now, so that a file of another format
    // fails before the perplexity run rather than after it.
    std::vector<McQuestion> questions;
    if (!params.mc_format.empty()) {
        questions = read_mc_questions(parse_mc_format(params.mc_format), params.mc_path);
    }

    ReferenceLogProbs reference;
    if (!params.kl_base_path.empty()) {
        ModelPtr base = load_model(params.kl_base_path);
        const int base_vocab = llama_vocab_n_tokens(llama_model_get_vocab(base.get()));
        const int model_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model.get()));
        if (base_vocab != model_vocab) {
            fail("--kl-base {} has {} vocabulary entries but {} has {}; pass the float model that {} was made from",
                 params.kl_base_path, base_vocab, params.model_path, model_vocab, params.model_path);
        }
        options.progress_label = "base chunks";
        reference = compute_reference(base.get(), chunks, options);
        options.progress_label = "chunks";
        result["kl_base"] = model_summary(base.get(), params.kl_base_path);
        result["kl_base"]["ppl"] = reference.ppl;
    }

    const PerplexityResult ppl =
        evaluate_perplexity(model.get(), chunks, options, params.kl_base_path.empty() ? nullptr : &reference);
    result["perplexity"] = ppl.ppl;
    result["running_ppl"] = ppl.running_ppl;
    result["seconds"] = ppl.seconds;
    result["tokens_per_second"] = ppl.tokens_per_second;
    if (ppl.kl) {
        result["kl_divergence"] = *ppl.kl;
        result["ppl_ratio"] = ppl.ppl.ppl / reference.ppl;
    }
    spdlog::info("PPL = {:.4f} +/- {:.5f}", ppl.ppl.ppl, ppl.ppl.ppl_uncertainty);

    if (!params.mc_format.empty()) {
        result["multiple_choice"] =
            evaluate_multiple_choice(model.get(), questions, McEvalOptions{params.n_threads, params.mc_limit});
        result["multiple_choice"]["format"] = params.mc_format;
        result["multiple_choice"]["path"] = params.mc_path;
    }
    return result;
}

}  // namespace rdt
