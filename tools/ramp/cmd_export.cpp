// `ramp export`: write a bit plan as a GGUF that stock llama.cpp loads (HALO).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "common/output.hpp"
#include "ramp/export.hpp"
#include "ramp/plan.hpp"
#include "ramp/quant_types.hpp"
#include "tools/ramp/commands.hpp"

namespace ramp_cli {

namespace {

struct ExportCli {
    ramp::ExportOptions options;
    std::string plan_path;
    std::string report_path;
};

// Per-tensor types, bpw and sizes of the export, as a table on stdout.
void print_dry_run(const ramp::Plan & plan) {
    std::string table = fmt::format("{:<36} {:>14} {:>8} {:>8} {:>12}\n", "tensor", "shape", "type", "bpw", "bytes");
    for (const ramp::MatrixType & entry : plan.matrices) {
        table += fmt::format("{:<36} {:>14} {:>8} {:>8.4f} {:>12}\n", entry.name,
                             fmt::format("{}x{}", entry.n_in, entry.n_out), ramp::type_name(entry.type),
                             ramp::type_bpw(entry.type), ramp::type_bytes(entry.type, entry.n_in, entry.n_out));
    }
    for (const ramp::FixedType & entry : plan.fixed) {
        table += fmt::format("{:<36} {:>14} {:>8} {:>8.4f} {:>12}\n", entry.name, "(fixed)",
                             ramp::type_name(entry.type), ramp::type_bpw(entry.type), "");
    }
    table += fmt::format("decided matrices: {:.4f} bpw storage, {:.4f} nominal, {} bytes\n", plan.predicted.bpw,
                         plan.predicted.nominal_bpw, plan.predicted.decided_bytes);
    table += fmt::format("file: {} bytes ({:.4f} GB)\n", plan.predicted.file_bytes,
                         static_cast<double>(plan.predicted.file_bytes) / 1e9);
    std::fputs(table.c_str(), stdout);
}

void register_export(CLI::App & app, const SetAction & set_action) {
    auto cli = std::make_shared<ExportCli>();
    ramp::ExportOptions & options = cli->options;
    CLI::App * cmd = app.add_subcommand(
        "export", "Quantize a model to a GGUF following a bit plan (one type per tensor, ramp.* metadata)");
    cmd->add_option("-m,--model", options.model_path, "Float model the plan was made for (GGUF)")->required();
    cmd->add_option("--plan", cli->plan_path, "Bit plan (JSON, schema ramp.plan/1)")->required();
    cmd->add_option("--imatrix", options.imatrix_path, "Importance matrix (llama-imatrix GGUF) for the quantizer");
    cmd->add_option("-o,--output", options.output_path, "GGUF to write (not needed with --dry-run)");
    cmd->add_flag("--force", options.force, "Overwrite an existing output file");
    cmd->add_flag("--dry-run", options.dry_run, "Print per-tensor types, bpw and the file size; write nothing");
    cmd->add_option("-t,--threads", options.n_threads, "Quantizer threads, 0 for all")->capture_default_str();
    cmd->add_option("--report", cli->report_path, "Write a JSON report (plan, prediction, file size) here");

    cmd->callback([cli, set_action] {
        set_action([cli] {
            if (!cli->report_path.empty()) {
                rdt::check_output_path(cli->report_path, cli->options.force, "--report");
            }
            const ramp::Plan plan = ramp::read_plan_file(cli->plan_path);
            const ramp::ExportReport report = ramp::export_plan(cli->options, plan);
            if (cli->options.dry_run) {
                print_dry_run(report.plan);
            } else {
                spdlog::info("wrote '{}': {} bytes ({:.4f} GB), decided matrices {:.4f} bpw, {:.1f} s",
                             cli->options.output_path.string(), report.file_bytes,
                             static_cast<double>(report.file_bytes) / 1e9, report.plan.predicted.bpw,
                             report.seconds);
            }
            if (!cli->report_path.empty()) {
                rdt::emit_json(report.to_json(), cli->report_path);
            }
        });
    });
}

const CommandRegistrar registrar(40, register_export);

}  // namespace

}  // namespace ramp_cli
