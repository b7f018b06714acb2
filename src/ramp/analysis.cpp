#include "ramp/analysis.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/output.hpp"
#include "common/plot.hpp"
#include "common/text.hpp"
#include "ramp/gguf_weights.hpp"
#include "ramp/imatrix_io.hpp"
#include "ramp/quant_types.hpp"
#include "ramp/sha256.hpp"

namespace ramp {

namespace {

// Heat-map size in pixels: wide, because it has one column per matrix.
constexpr int kHeatmapWidth = 1200;
constexpr int kHeatmapHeight = 500;

nlohmann::json type_list(const std::vector<ggml_type> & types) {
    nlohmann::json list = nlohmann::json::array();
    for (const ggml_type type : types) {
        list.push_back(type_name(type));
    }
    return list;
}

// Feature values standardised per feature over the matrices: (v - mean) / std, 0 when constant.
std::vector<std::vector<double>> standardised(const std::vector<MatrixFeatures> & features) {
    std::vector<std::vector<double>> table(kFeatureCount, std::vector<double>(features.size()));
    for (int f = 0; f < kFeatureCount; ++f) {
        double mean = 0.0;
        for (const MatrixFeatures & m : features) {
            mean += m.values[f];
        }
        mean /= static_cast<double>(features.size());
        double var = 0.0;
        for (const MatrixFeatures & m : features) {
            var += (m.values[f] - mean) * (m.values[f] - mean);
        }
        const double std_dev = std::sqrt(var / static_cast<double>(features.size()));
        for (size_t i = 0; i < features.size(); ++i) {
            table[f][i] = std_dev > 0.0 ? (features[i].values[f] - mean) / std_dev : 0.0;
        }
    }
    return table;
}

}  // namespace

nlohmann::json calibration_to_json(const CalibrationInfo & info) {
    return {{"file", info.file}, {"sha256", info.sha256}, {"n_ctx", info.n_ctx}, {"n_chunks", info.n_chunks}};
}

nlohmann::json features_to_json(const ModelLayout & layout, const std::vector<MatrixFeatures> & features,
                                const CalibrationInfo & calibration, const FeatureOptions & options) {
    nlohmann::json matrices = nlohmann::json::array();
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        const DecidedMatrix & matrix = layout.matrices[i];
        nlohmann::json values = nlohmann::json::object();
        for (int f = 0; f < kFeatureCount; ++f) {
            values[std::string(kFeatureNames[f])] = features[i].values[f];
        }
        matrices.push_back({{"index", i},
                            {"name", matrix.name},
                            {"role", role_name(matrix.role)},
                            {"block", matrix.block},
                            {"n_in", matrix.n_in},
                            {"n_out", matrix.n_out},
                            {"source_type", ggml_type_name(matrix.source_type)},
                            {"candidates", type_list(features[i].candidates)},
                            {"feature_type_high", type_name(features[i].type_high)},
                            {"feature_type_low", type_name(features[i].type_low)},
                            {"features", values}});
    }
    nlohmann::json fixed = nlohmann::json::array();
    for (const FixedTensor & tensor : layout.fixed) {
        fixed.push_back({{"name", tensor.name},
                         {"n_elements", tensor.n_elements},
                         {"n_in", tensor.n_in},
                         {"source_type", ggml_type_name(tensor.source_type)}});
    }
    nlohmann::json names = nlohmann::json::array();
    for (const std::string_view name : kFeatureNames) {
        names.push_back(name);
    }
    return {{"architecture", layout.architecture},
            {"n_blocks", layout.n_blocks},
            {"n_head", layout.n_head},
            {"n_head_kv", layout.n_head_kv},
            {"n_embd", layout.n_embd},
            {"calibration", calibration_to_json(calibration)},
            {"feature_options",
             {{"max_rows", options.max_rows}, {"quantize_with_imatrix", options.quantize_with_imatrix}}},
            {"feature_names", names},
            {"matrices", matrices},
            {"fixed", fixed}};
}

std::string features_to_csv(const ModelLayout & layout, const std::vector<MatrixFeatures> & features) {
    std::string csv = "index,name,role,block,n_in,n_out,candidates";
    for (const std::string_view name : kFeatureNames) {
        csv += fmt::format(",{}", name);
    }
    csv += "\n";
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        const DecidedMatrix & matrix = layout.matrices[i];
        std::string candidates;
        for (const ggml_type type : features[i].candidates) {
            if (!candidates.empty()) {
                candidates += ';';
            }
            candidates += type_name(type);
        }
        csv += fmt::format("{},{},{},{},{},{},{}", i, matrix.name, role_name(matrix.role), matrix.block,
                           matrix.n_in, matrix.n_out, candidates);
        for (const double value : features[i].values) {
            csv += fmt::format(",{:.9g}", value);
        }
        csv += "\n";
    }
    return csv;
}

void plot_features(const ModelLayout & layout, const std::vector<MatrixFeatures> & features,
                   const std::string & path) {
    rdt::check_plot_path(path);

    // gnuplot's `matrix` data: one line per feature, one column per matrix.
    const std::vector<std::vector<double>> table = standardised(features);
    std::string data = "$features << EOD\n";
    for (const std::vector<double> & row : table) {
        for (size_t i = 0; i < row.size(); ++i) {
            data += fmt::format("{}{:.6f}", i == 0 ? "" : " ", row[i]);
        }
        data += "\n";
    }
    data += "EOD\n";
    std::string ytics;
    for (int f = 0; f < kFeatureCount; ++f) {
        ytics += fmt::format("{}\"{}\" {}", f == 0 ? "" : ", ", kFeatureNames[f], f);
    }

    const std::string commands = fmt::format(
        "{}set title 'Standardised features of {} decided matrices ({} blocks)'\n"
        "set xlabel 'matrix index (model order)'\nset ytics ({})\nset yrange [-0.5:{}]\n"
        "set xrange [-0.5:{}]\nset cbrange [-3:3]\nset palette defined (-3 'blue', 0 'white', 3 'red')\n"
        "plot $features matrix with image notitle\n",
        data, layout.matrices.size(), layout.n_blocks, ytics, kFeatureCount - 0.5,
        static_cast<double>(features.size()) - 0.5);
    rdt::render_gnuplot(commands, path, kHeatmapWidth, kHeatmapHeight);
}

int resolve_calibration_ctx(const llama_model * model, int n_ctx) {
    if (n_ctx > 0) {
        return n_ctx;
    }
    return std::min(kDefaultCalibrationCtx, static_cast<int>(llama_model_n_ctx_train(model)));
}

nlohmann::json run_analysis(const AnalyzeParams & params) {
    const std::vector<std::pair<std::string, std::string>> outputs = {{params.output_path, "-o"},
                                                                      {params.csv_path, "--csv"},
                                                                      {params.plot_path, "--plot"},
                                                                      {params.imatrix_path, "--imatrix-out"}};
    for (const auto & [path, option] : outputs) {
        if (!path.empty() && path != "-") {
            rdt::check_output_path(path, params.force, option);
        }
    }

    const ModelLayout layout = read_model_layout(params.model_path);
    rdt::ModelPtr model = rdt::load_model(params.model_path);
    const std::string text = rdt::read_text_file(params.text_path);
    const int n_ctx = resolve_calibration_ctx(model.get(), params.n_ctx);
    const rdt::EvalChunks chunks = rdt::make_eval_chunks(model.get(), text, n_ctx, params.n_chunks);
    spdlog::info("analyze: {} decided matrices, {} chunks of {} tokens", layout.matrices.size(),
                 chunks.n_chunks, n_ctx);

    ActivationOptions activation_options;
    activation_options.n_threads = params.n_threads;
    const ActivationStats stats = collect_activation_stats(model.get(), layout, chunks, activation_options);
    model.reset();

    const GgufWeights weights(params.model_path);
    const std::vector<MatrixFeatures> features = compute_features(layout, stats, weights, params.features);

    const CalibrationInfo calibration{.file = std::filesystem::path(params.text_path).filename().string(),
                                      .sha256 = sha256_file_hex(params.text_path),
                                      .n_ctx = n_ctx,
                                      .n_chunks = chunks.n_chunks};
    nlohmann::json result = features_to_json(layout, features, calibration, params.features);

    if (!params.csv_path.empty()) {
        rdt::write_file_atomic(params.csv_path, features_to_csv(layout, features));
    }
    if (!params.plot_path.empty()) {
        plot_features(layout, features, params.plot_path);
    }
    if (!params.imatrix_path.empty()) {
        write_imatrix(imatrix_from_stats(layout, stats, calibration.file), params.imatrix_path);
    }
    rdt::emit_json(result, params.output_path);
    return result;
}

}  // namespace ramp
