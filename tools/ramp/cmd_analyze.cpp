// `ramp analyze`: activation statistics and the 11 features of every decided matrix.
#include <CLI/CLI.hpp>

#include "ramp/analysis.hpp"
#include "tools/ramp/commands.hpp"

namespace ramp_cli {

namespace {

void register_analyze(CLI::App & app, const SetAction & set_action) {
    auto params = std::make_shared<ramp::AnalyzeParams>();
    CLI::App * cmd = app.add_subcommand("analyze",
                                        "Per-matrix features from weights and calibration activations; "
                                        "optionally an importance matrix for llama-quantize");
    cmd->add_option("-m,--model", params->model_path, "Model to analyse (GGUF)")->required();
    cmd->add_option("-f,--file", params->text_path, "UTF-8 calibration text")->required();
    cmd->add_option("-c,--ctx-size", params->n_ctx,
                    "Tokens per calibration chunk; 0: 256, or the training context when shorter")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--chunks", params->n_chunks, "Calibration chunks, -1 for all")->capture_default_str();
    cmd->add_option("-t,--threads", params->n_threads, "CPU threads, 0 for all")->capture_default_str();
    cmd->add_option("-o,--output", params->output_path, "Write the JSON features here instead of stdout");
    cmd->add_option("--csv", params->csv_path, "Also write the features as CSV");
    cmd->add_option("--plot", params->plot_path,
                    "Also draw a heat-map of the features (.png or .svg, gnuplot)");
    cmd->add_option(
        "--imatrix-out", params->imatrix_path,
        "Also write the importance matrix (E[x^2] per input channel) in llama-imatrix's GGUF format");
    cmd->add_option("--feature-rows", params->features.max_rows,
                    "Rows per matrix sampled for the quantization error features")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--feature-imatrix", params->features.quantize_with_imatrix,
                  "Quantize with E[x^2] as importance weights when measuring the error features");
    cmd->add_flag("--force", params->force, "Overwrite existing output files");

    cmd->callback([params, set_action] { set_action([params] { ramp::run_analysis(*params); }); });
}

const CommandRegistrar registrar(20, register_analyze);

}  // namespace

}  // namespace ramp_cli
