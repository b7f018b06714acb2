// `ramp eval`: perplexity (as llama-perplexity), KL divergence and multiple choice.
#include <CLI/CLI.hpp>

#include "common/evaluation.hpp"
#include "common/output.hpp"
#include "tools/ramp/commands.hpp"

namespace ramp_cli {

namespace {

void register_eval(CLI::App & app, const SetAction & set_action) {
    auto params = std::make_shared<rdt::EvalParams>();
    auto output = std::make_shared<std::string>();
    CLI::App * cmd = app.add_subcommand("eval", "Perplexity (llama-perplexity protocol), KL divergence to a base "
                                                "model and zero-shot multiple-choice accuracy");
    cmd->add_option("-m,--model", params->model_path, "Model to evaluate (GGUF)")->required();
    cmd->add_option("-f,--file", params->text_path, "UTF-8 text for perplexity")->required();
    cmd->add_option("-c,--ctx-size", params->n_ctx, "Tokens per chunk")->capture_default_str()->check(CLI::Range(1, 1 << 20));
    cmd->add_option("--chunks", params->n_chunks, "Chunks to score, -1 for all")->capture_default_str();
    cmd->add_option("-t,--threads", params->n_threads, "CPU threads, 0 for all")->capture_default_str();
    cmd->add_option("--kl-base", params->kl_base_path, "Base model (GGUF) for KL divergence and PPL ratio");
    cmd->add_option("--mc", params->mc_format, "Multiple-choice format: piqa, siqa or obqa (needs --mc-file)");
    cmd->add_option("--mc-file", params->mc_path, "Multiple-choice data file (PIQA/SIQA: labels file beside it)");
    cmd->add_option("--mc-limit", params->mc_limit, "Questions to score, -1 for all")->capture_default_str();
    cmd->add_option("-o,--output", *output, "Write the JSON result here instead of stdout");

    cmd->callback([params, output, set_action] {
        set_action([params, output] { rdt::emit_json(rdt::evaluate_model(*params), *output); });
    });
}

const CommandRegistrar registrar(10, register_eval);

}  // namespace

}  // namespace ramp_cli
