#include "ramp/activation_stats.hpp"

#include <ggml-backend.h>
#include <ggml.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>

#include "common/error.hpp"

namespace ramp {

ChannelStats::ChannelStats(int64_t channels)
    : n_in(channels),
      sum_abs(static_cast<size_t>(channels), 0.0),
      max_abs(static_cast<size_t>(channels), 0.0),
      sum_sq(static_cast<size_t>(channels), 0.0) {}

void ChannelStats::add_row(const float * row) {
    double s1 = 0.0;
    double s2 = 0.0;
    double s3 = 0.0;
    double s4 = 0.0;
    for (int64_t j = 0; j < n_in; ++j) {
        const double x = row[j];
        const double x2 = x * x;
        const double a = std::fabs(x);
        sum_abs[j] += a;
        max_abs[j] = std::max(max_abs[j], a);
        sum_sq[j] += x2;
        s1 += x;
        s2 += x2;
        s3 += x2 * x;
        s4 += x2 * x2;
    }
    sum1 += s1;
    sum2 += s2;
    sum3 += s3;
    sum4 += s4;
    ++n_rows;
}

double ChannelStats::excess_kurtosis() const {
    const double n = static_cast<double>(n_rows) * static_cast<double>(n_in);
    if (n <= 0) {
        return 0.0;
    }
    // Central moments from raw moments: m2 = E[x^2] - m^2,
    // m4 = E[x^4] - 4 m E[x^3] + 6 m^2 E[x^2] - 3 m^4.
    const double m = sum1 / n;
    const double e2 = sum2 / n;
    const double e3 = sum3 / n;
    const double e4 = sum4 / n;
    const double var = e2 - m * m;
    if (!(var > 0.0)) {
        return 0.0;
    }
    const double m4 = e4 - 4.0 * m * e3 + 6.0 * m * m * e2 - 3.0 * m * m * m * m;
    return m4 / (var * var) - 3.0;
}

void RowSample::add_row(const float * row) {
    if (capacity <= 0) {
        return;
    }
    ++n_seen;
    if (n_rows() < capacity) {
        rows.insert(rows.end(), row, row + n_in);
        return;
    }
    // Algorithm R: keep the new row with probability capacity / n_seen, in a random slot.
    // splitmix64 keeps the sample identical across standard libraries.
    rng_state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = rng_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const uint64_t slot = z % static_cast<uint64_t>(n_seen);
    if (slot < static_cast<uint64_t>(capacity)) {
        std::copy(row, row + n_in, rows.begin() + static_cast<std::ptrdiff_t>(slot * n_in));
    }
}

bool role_input_is_sampled(Role role) {
    return role == Role::AttnQ || role == Role::AttnOutput || role == Role::FfnGate || role == Role::FfnDown;
}

std::string graph_weight_name(const char * name) {
    const char * first = std::strchr(name, '#');
    if (first == nullptr) {
        return name;
    }
    const char * second = std::strchr(first + 1, '#');
    return second == nullptr ? std::string(first + 1) : std::string(first + 1, second);
}

namespace {

struct Collector {
    std::unordered_map<std::string, size_t> index;  // weight name -> matrix index
    ActivationStats * stats = nullptr;
    std::vector<char> staging;  // host copy of activations held on a device
    std::vector<float> row;     // one contiguous row
};

bool collect_callback(ggml_tensor * node, bool ask, void * user_data) {
    auto * collector = static_cast<Collector *>(user_data);
    if (node->op != GGML_OP_MUL_MAT) {
        return ask ? false : true;
    }
    const ggml_tensor * weight = node->src[0];
    const ggml_tensor * input = node->src[1];
    const auto found = collector->index.find(graph_weight_name(weight->name));
    if (ask) {
        return found != collector->index.end() && input->type == GGML_TYPE_F32;
    }
    if (found == collector->index.end() || input->type != GGML_TYPE_F32) {
        return true;
    }

    const char * data = static_cast<const char *>(input->data);
    if (input->buffer != nullptr && !ggml_backend_buffer_is_host(input->buffer)) {
        collector->staging.resize(ggml_nbytes(input));
        ggml_backend_tensor_get(input, collector->staging.data(), 0, ggml_nbytes(input));
        data = collector->staging.data();
    }

    ChannelStats & channel = collector->stats->matrices[found->second];
    RowSample & sample = collector->stats->samples[found->second];
    const int64_t n_in = input->ne[0];
    if (n_in != channel.n_in) {
        rdt::fail("activation rows of {} have {} values but the weight has {} columns", weight->name, n_in,
                  channel.n_in);
    }
    collector->row.resize(static_cast<size_t>(n_in));
    // Rows may be strided (views); values inside a row are F32 with stride nb[0].
    for (int64_t i3 = 0; i3 < input->ne[3]; ++i3) {
        for (int64_t i2 = 0; i2 < input->ne[2]; ++i2) {
            for (int64_t i1 = 0; i1 < input->ne[1]; ++i1) {
                const char * base = data + i1 * input->nb[1] + i2 * input->nb[2] + i3 * input->nb[3];
                for (int64_t j = 0; j < n_in; ++j) {
                    std::memcpy(&collector->row[static_cast<size_t>(j)], base + j * input->nb[0],
                                sizeof(float));
                }
                channel.add_row(collector->row.data());
                sample.add_row(collector->row.data());
            }
        }
    }
    return true;
}

}  // namespace

ActivationStats collect_activation_stats(llama_model * model, const ModelLayout & layout,
                                         const rdt::EvalChunks & chunks, const ActivationOptions & options) {
    ActivationStats stats;
    stats.n_ctx = chunks.n_ctx;
    stats.n_chunks = chunks.n_chunks;
    Collector collector;
    collector.stats = &stats;
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        const DecidedMatrix & matrix = layout.matrices[i];
        collector.index.emplace(matrix.name, i);
        stats.matrices.emplace_back(matrix.n_in);
        RowSample sample;
        sample.n_in = matrix.n_in;
        sample.capacity = role_input_is_sampled(matrix.role) ? options.sample_rows : 0;
        sample.rng_state = kRowSampleSeed + i;
        stats.samples.push_back(std::move(sample));
    }

    rdt::ChunkRunOptions run_options;
    run_options.n_threads = options.n_threads;
    run_options.progress = options.progress;
    run_options.progress_label = "calibration chunks";
    run_options.eval_callback = collect_callback;
    run_options.eval_callback_data = &collector;
    rdt::run_chunks(model, chunks, run_options, [](int, const float *, const llama_token *, int, int) {});

    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        if (stats.matrices[i].n_rows == 0) {
            rdt::fail(
                "no activations reached {} during calibration; the model graph does not use it as a "
                "matrix multiplication weight",
                layout.matrices[i].name);
        }
    }
    return stats;
}

}  // namespace ramp
