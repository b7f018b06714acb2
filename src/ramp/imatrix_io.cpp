#include "ramp/imatrix_io.hpp"

#include <ggml.h>
#include <gguf.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "common/engine.hpp"
#include "common/error.hpp"
#include "common/output.hpp"
#include "ramp/gguf_weights.hpp"

namespace ramp {

namespace {

constexpr std::string_view kSumSuffix = ".in_sum2";
constexpr std::string_view kCountSuffix = ".counts";

}  // namespace

std::vector<float> Imatrix::mean_sq(const std::string & name) const {
    const auto found = entries.find(name);
    if (found == entries.end() || found->second.count <= 0) {
        return {};
    }
    std::vector<float> mean(found->second.sum_sq.size());
    for (size_t j = 0; j < mean.size(); ++j) {
        mean[j] = static_cast<float>(found->second.sum_sq[j] / static_cast<double>(found->second.count));
    }
    return mean;
}

Imatrix imatrix_from_stats(const ModelLayout & layout, const ActivationStats & stats,
                           const std::string & dataset) {
    Imatrix imatrix;
    imatrix.datasets = {dataset};
    imatrix.chunk_count = stats.n_chunks;
    imatrix.chunk_size = stats.n_ctx;
    for (size_t i = 0; i < layout.matrices.size(); ++i) {
        const ChannelStats & channel = stats.matrices[i];
        ImatrixEntry entry;
        entry.sum_sq.assign(channel.sum_sq.begin(), channel.sum_sq.end());
        entry.count = channel.n_rows;
        imatrix.entries.emplace(layout.matrices[i].name, std::move(entry));
    }
    return imatrix;
}

void write_imatrix(const Imatrix & imatrix, const std::filesystem::path & path) {
    size_t data_size = 0;
    for (const auto & [name, entry] : imatrix.entries) {
        data_size +=
            2 * ggml_tensor_overhead() + sizeof(float) * (entry.sum_sq.size() + 1) + 2 * GGML_MEM_ALIGN;
    }
    ggml_init_params params{.mem_size = data_size + GGML_MEM_ALIGN, .mem_buffer = nullptr, .no_alloc = false};
    GgmlContextPtr ctx(ggml_init(params));
    rdt::GgufPtr gguf(gguf_init_empty());

    gguf_set_val_str(gguf.get(), "general.type", "imatrix");
    std::vector<const char *> datasets;
    for (const std::string & dataset : imatrix.datasets) {
        datasets.push_back(dataset.c_str());
    }
    gguf_set_arr_str(gguf.get(), "imatrix.datasets", datasets.data(), datasets.size());
    gguf_set_val_u32(gguf.get(), "imatrix.chunk_count", static_cast<uint32_t>(imatrix.chunk_count));
    gguf_set_val_u32(gguf.get(), "imatrix.chunk_size", static_cast<uint32_t>(imatrix.chunk_size));

    // std::map iterates in name order, as llama-imatrix writes its entries.
    for (const auto & [name, entry] : imatrix.entries) {
        ggml_tensor * sums =
            ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, static_cast<int64_t>(entry.sum_sq.size()), 1);
        ggml_tensor * counts = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, 1, 1);
        ggml_format_name(sums, "%s%s", name.c_str(), kSumSuffix.data());
        ggml_format_name(counts, "%s%s", name.c_str(), kCountSuffix.data());
        std::copy(entry.sum_sq.begin(), entry.sum_sq.end(), static_cast<float *>(sums->data));
        static_cast<float *>(counts->data)[0] = static_cast<float>(entry.count);
        gguf_add_tensor(gguf.get(), sums);
        gguf_add_tensor(gguf.get(), counts);
    }

    rdt::write_via_temporary(path, [&](const std::filesystem::path & temporary) {
        if (!gguf_write_to_file(gguf.get(), temporary.c_str(), false)) {
            rdt::fail("failed to write the importance matrix to '{}'; check the free disk space",
                      temporary.string());
        }
    });
}

Imatrix read_imatrix(const std::filesystem::path & path) {
    rdt::open_gguf_checked(path);
    ggml_context * raw_ctx = nullptr;
    gguf_init_params params{.no_alloc = false, .ctx = &raw_ctx};
    rdt::GgufPtr gguf(gguf_init_from_file(path.c_str(), params));
    GgmlContextPtr ctx(raw_ctx);
    if (!gguf) {
        rdt::fail("cannot read the importance matrix '{}'", path.string());
    }

    const int64_t type_id = gguf_find_key(gguf.get(), "general.type");
    if (type_id < 0 || gguf_get_kv_type(gguf.get(), type_id) != GGUF_TYPE_STRING ||
        std::string(gguf_get_val_str(gguf.get(), type_id)) != "imatrix") {
        rdt::fail(
            "'{}' is not an importance matrix GGUF (general.type is not \"imatrix\"); create one with "
            "`ramp analyze --imatrix-out` or llama-imatrix",
            path.string());
    }

    Imatrix imatrix;
    const int64_t datasets_id = gguf_find_key(gguf.get(), "imatrix.datasets");
    if (datasets_id >= 0 && gguf_get_kv_type(gguf.get(), datasets_id) == GGUF_TYPE_ARRAY &&
        gguf_get_arr_type(gguf.get(), datasets_id) == GGUF_TYPE_STRING) {
        for (size_t i = 0; i < gguf_get_arr_n(gguf.get(), datasets_id); ++i) {
            imatrix.datasets.emplace_back(gguf_get_arr_str(gguf.get(), datasets_id, i));
        }
    }
    const int64_t count_id = gguf_find_key(gguf.get(), "imatrix.chunk_count");
    const int64_t size_id = gguf_find_key(gguf.get(), "imatrix.chunk_size");
    imatrix.chunk_count = count_id >= 0 ? static_cast<int>(gguf_get_val_u32(gguf.get(), count_id)) : 0;
    imatrix.chunk_size = size_id >= 0 ? static_cast<int>(gguf_get_val_u32(gguf.get(), size_id)) : 0;

    for (int64_t id = 0; id < gguf_get_n_tensors(gguf.get()); ++id) {
        const std::string tensor_name = gguf_get_tensor_name(gguf.get(), id);
        if (!tensor_name.ends_with(kSumSuffix)) {
            continue;
        }
        const std::string name = tensor_name.substr(0, tensor_name.size() - kSumSuffix.size());
        const ggml_tensor * sums = ggml_get_tensor(ctx.get(), tensor_name.c_str());
        const ggml_tensor * counts = ggml_get_tensor(ctx.get(), (name + std::string(kCountSuffix)).c_str());
        if (counts == nullptr) {
            rdt::fail("importance matrix '{}' has sums but no counts for {}; recreate the file",
                      path.string(), name);
        }
        if (sums->type != GGML_TYPE_F32 || counts->type != GGML_TYPE_F32) {
            rdt::fail("importance matrix '{}' stores {} in a type other than F32", path.string(), name);
        }
        if (ggml_nelements(counts) != 1) {
            rdt::fail(
                "importance matrix '{}' has {} matrices for {} (an MoE expert tensor); only 2-D weights are "
                "supported",
                path.string(), ggml_nelements(counts), name);
        }
        ImatrixEntry entry;
        const auto * values = static_cast<const float *>(sums->data);
        entry.sum_sq.assign(values, values + ggml_nelements(sums));
        entry.count = std::llround(static_cast<const float *>(counts->data)[0]);
        imatrix.entries.emplace(name, std::move(entry));
    }
    if (imatrix.entries.empty()) {
        rdt::fail("importance matrix '{}' has no entries", path.string());
    }
    return imatrix;
}

}  // namespace ramp
