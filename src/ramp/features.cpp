#include "ramp/features.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "common/progress.hpp"
#include "ramp/quant_types.hpp"

namespace ramp {

const std::array<std::string_view, kFeatureCount> kFeatureNames = {
    "depth",        "is_attention",     "role_position", "log_size",     "log2_fan_ratio", "weight_kurtosis",
    "weight_crest", "quant_error_high", "act_outlier",   "act_kurtosis", "quant_error_low"};

namespace {

// Role positions spread evenly over [0, 1] in block order q, k, v, o, gate, up, down.
double role_position(Role role) {
    return static_cast<double>(static_cast<int>(role)) / (kRoleCount - 1);
}

// Rows of matrix (row-major [n_out][n_in]) at the given indices.
std::vector<float> gather_rows(const std::vector<float> & matrix, int64_t n_in,
                               const std::vector<int64_t> & rows) {
    std::vector<float> out(rows.size() * static_cast<size_t>(n_in));
    for (size_t r = 0; r < rows.size(); ++r) {
        std::copy_n(matrix.begin() + rows[r] * n_in, n_in,
                    out.begin() + static_cast<std::ptrdiff_t>(r * n_in));
    }
    return out;
}

}  // namespace

std::vector<float> quantize_roundtrip(ggml_type type, const float * rows, int64_t n_rows, int64_t n_in,
                                      const float * importance) {
    if (n_in % ggml_blck_size(type) != 0) {
        rdt::fail("row length {} is not a multiple of the block size {} of {}", n_in, ggml_blck_size(type),
                  ggml_type_name(type));
    }
    if (importance == nullptr && ggml_quantize_requires_imatrix(type)) {
        rdt::fail("type {} needs an importance matrix; pass --imatrix", ggml_type_name(type));
    }
    std::vector<uint8_t> packed(ggml_row_size(type, n_in) * static_cast<size_t>(n_rows));
    ggml_quantize_chunk(type, rows, packed.data(), 0, n_rows, n_in, importance);
    std::vector<float> restored(static_cast<size_t>(n_rows * n_in));
    ggml_get_type_traits(type)->to_float(packed.data(), restored.data(), n_rows * n_in);
    return restored;
}

std::vector<int64_t> sample_row_indices(int64_t n_rows, int64_t max_rows) {
    const int64_t n = std::min(n_rows, std::max<int64_t>(1, max_rows));
    std::vector<int64_t> rows(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        rows[static_cast<size_t>(i)] = i * n_rows / n;
    }
    return rows;
}

double weight_kurtosis_feature(const std::vector<float> & w) {
    // Two passes in double: the mean first, then central moments.
    const double n = static_cast<double>(w.size());
    double mean = 0.0;
    for (const float v : w) {
        mean += v;
    }
    mean /= n;
    double m2 = 0.0;
    double m4 = 0.0;
    for (const float v : w) {
        const double d2 = (v - mean) * (v - mean);
        m2 += d2;
        m4 += d2 * d2;
    }
    m2 /= n;
    m4 /= n;
    const double excess = m2 > 0.0 ? m4 / (m2 * m2) - 3.0 : 0.0;
    return std::log1p(std::max(0.0, excess));
}

double weight_crest_feature(const std::vector<float> & w) {
    double sum = 0.0;
    double sum_sq = 0.0;
    double max_abs = 0.0;
    for (const float v : w) {
        sum += v;
        sum_sq += static_cast<double>(v) * v;
        max_abs = std::max(max_abs, static_cast<double>(std::fabs(v)));
    }
    const double n = static_cast<double>(w.size());
    const double std_dev = std::sqrt(std::max(0.0, sum_sq / n - (sum / n) * (sum / n)));
    // A constant matrix has no spread: crest 1 (log 0) by convention.
    return std_dev > 0.0 ? std::log(max_abs / std_dev) : 0.0;
}

double quant_error_feature(ggml_type type, const std::vector<float> & w, int64_t n_in,
                           const float * column_weights, const float * importance) {
    const int64_t n_rows = static_cast<int64_t>(w.size()) / n_in;
    const std::vector<float> restored = quantize_roundtrip(type, w.data(), n_rows, n_in, importance);
    double error = 0.0;
    double norm = 0.0;
    for (int64_t r = 0; r < n_rows; ++r) {
        for (int64_t j = 0; j < n_in; ++j) {
            const size_t k = static_cast<size_t>(r * n_in + j);
            const double weight = column_weights != nullptr ? column_weights[j] : 1.0;
            const double diff = static_cast<double>(w[k]) - restored[k];
            error += weight * diff * diff;
            norm += weight * static_cast<double>(w[k]) * w[k];
        }
    }
    const double relative = norm > 0.0 ? error / norm : 0.0;
    return std::log10(std::max(relative, kMinRelativeError));
}

double activation_outlier_feature(const ChannelStats & stats) {
    std::vector<double> mean_abs(static_cast<size_t>(stats.n_in));
    for (int64_t j = 0; j < stats.n_in; ++j) {
        mean_abs[static_cast<size_t>(j)] = stats.mean_abs(j);
    }
    const double max_value = *std::max_element(mean_abs.begin(), mean_abs.end());
    const auto middle = mean_abs.begin() + static_cast<std::ptrdiff_t>(mean_abs.size() / 2);
    std::nth_element(mean_abs.begin(), middle, mean_abs.end());
    const double median = *middle;
    // Inputs that are all zero (or a zero median channel) carry no outlier signal.
    if (!(median > 0.0) || !(max_value > 0.0)) {
        return 0.0;
    }
    return std::log(max_value / median);
}

double activation_kurtosis_feature(const ChannelStats & stats) {
    return std::log1p(std::max(0.0, stats.excess_kurtosis()));
}

std::vector<MatrixFeatures> compute_features(const ModelLayout & layout, const ActivationStats & stats,
                                             const GgufWeights & weights, const FeatureOptions & options) {
    if (stats.matrices.size() != layout.matrices.size()) {
        rdt::fail("activation statistics cover {} matrices but the layout has {}", stats.matrices.size(),
                  layout.matrices.size());
    }
    double mean_elements = 0.0;
    for (const DecidedMatrix & matrix : layout.matrices) {
        mean_elements += static_cast<double>(matrix.n_elements());
    }
    mean_elements /= static_cast<double>(layout.matrices.size());

    std::vector<MatrixFeatures> features(layout.matrices.size());
    rdt::Progress progress("matrix features", static_cast<int64_t>(layout.matrices.size()));
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        const DecidedMatrix & matrix = layout.matrices[i];
        const ChannelStats & channel = stats.matrices[i];
        MatrixFeatures & out = features[i];
        out.candidates = candidate_types(matrix.n_in, false);
        out.type_high = feature_type_high(matrix.n_in);
        out.type_low = feature_type_low(matrix.n_in);

        const std::vector<float> w = tensor_to_f32(weights.tensor(matrix.name));
        const std::vector<float> sampled =
            gather_rows(w, matrix.n_in, sample_row_indices(matrix.n_out, options.max_rows));
        std::vector<float> importance(static_cast<size_t>(matrix.n_in));
        for (int64_t j = 0; j < matrix.n_in; ++j) {
            importance[static_cast<size_t>(j)] = static_cast<float>(channel.mean_sq(j));
        }
        const float * quantizer_weights = options.quantize_with_imatrix ? importance.data() : nullptr;

        FeatureVector & v = out.values;
        v[0] = layout.n_blocks > 1 ? static_cast<double>(matrix.block) / (layout.n_blocks - 1) : 0.0;
        v[1] = role_is_attention(matrix.role) ? 1.0 : 0.0;
        v[2] = role_position(matrix.role);
        v[3] = std::log(static_cast<double>(matrix.n_elements()) / mean_elements);
        v[4] = std::log2(static_cast<double>(matrix.n_in) / static_cast<double>(matrix.n_out));
        v[5] = weight_kurtosis_feature(w);
        v[6] = weight_crest_feature(w);
        v[7] = quant_error_feature(out.type_high, sampled, matrix.n_in, nullptr, quantizer_weights);
        v[8] = activation_outlier_feature(channel);
        v[9] = activation_kurtosis_feature(channel);
        v[10] = quant_error_feature(out.type_low, sampled, matrix.n_in, importance.data(), quantizer_weights);
        progress.update(static_cast<int64_t>(i + 1));
    }
    progress.finish();
    return features;
}

}  // namespace ramp
