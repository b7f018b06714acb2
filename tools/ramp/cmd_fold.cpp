// `ramp fold`: Scale Folding of a float model into a new GGUF that computes the same function.
#include <CLI/CLI.hpp>

#include "common/output.hpp"
#include "ramp/fold_model.hpp"
#include "ramp/quant_types.hpp"
#include "tools/ramp/commands.hpp"

namespace ramp_cli {

namespace {

struct FoldCli {
    ramp::FoldParams params;
    std::string search_type;
    std::string report_path;
};

void register_fold(CLI::App & app, const SetAction & set_action) {
    auto cli = std::make_shared<FoldCli>();
    ramp::FoldParams & params = cli->params;
    CLI::App * cmd = app.add_subcommand(
        "fold",
        "Scale Folding: move per-channel scales s_j = max|X_j|^alpha / max|W_j|^(1-alpha) from the "
        "activations into the weights (float models; same logits, easier to quantize)");
    cmd->add_option("-m,--model", params.model_path, "Float model to fold (GGUF: F32, F16 or BF16)")
        ->required();
    cmd->add_option("-f,--file", params.text_path, "UTF-8 calibration text")->required();
    cmd->add_option("-o,--output", params.output_path, "Folded model to write (GGUF)")->required();
    cmd->add_option("--alpha", params.alpha, "Migration strength in [0, 1]")->capture_default_str();
    cmd->add_flag(
        "--alpha-search", params.alpha_search,
        "Pick alpha per group from {0, 0.1, ..., 1} (or no scaling) by the quantized output error on "
        "sampled calibration activations");
    cmd->add_option(
        "--search-type", cli->search_type,
        "Quant type of the alpha search (default: q4_K, q5_0 for rows that are not a multiple of 256)");
    cmd->add_option("--sample-rows", params.sample_rows,
                    "Activation rows sampled per group for the alpha search")
        ->capture_default_str();
    cmd->add_option("-c,--ctx-size", params.n_ctx,
                    "Tokens per calibration chunk; 0: 256, or the training context when shorter")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--chunks", params.n_chunks, "Calibration chunks, -1 for all")->capture_default_str();
    cmd->add_option("-t,--threads", params.n_threads, "CPU threads, 0 for all")->capture_default_str();
    cmd->add_flag("--allow-requantize", params.allow_requantize,
                  "Accept a quantized model: the tensors folding changes are dequantized to F32");
    cmd->add_flag("--force", params.force, "Overwrite an existing output file");
    cmd->add_option("--report", cli->report_path,
                    "Write a JSON summary (alpha and scale range per group) here");

    cmd->callback([cli, set_action] {
        set_action([cli] {
            if (!cli->search_type.empty()) {
                cli->params.search_type = ramp::parse_type_name(cli->search_type);
            }
            if (!cli->report_path.empty()) {
                rdt::check_output_path(cli->report_path, cli->params.force, "--report");
            }
            const nlohmann::json summary = ramp::run_fold(cli->params);
            if (!cli->report_path.empty()) {
                rdt::emit_json(summary, cli->report_path);
            }
        });
    });
}

const CommandRegistrar registrar(30, register_fold);

}  // namespace

}  // namespace ramp_cli
