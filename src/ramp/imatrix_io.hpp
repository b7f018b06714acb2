#pragma once
// Importance matrices in llama-imatrix's GGUF format, which llama-quantize
// --imatrix reads: per weight W a tensor "W.in_sum2" (F32, [n_in, 1]: sum over
// tokens of x_j^2) and "W.counts" (F32, [1, 1]: tokens summed), with the metadata
// general.type = "imatrix", imatrix.datasets (array of strings),
// imatrix.chunk_count and imatrix.chunk_size (u32).

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ramp/activation_stats.hpp"
#include "ramp/model_layout.hpp"

namespace ramp {

struct ImatrixEntry {
    std::vector<float> sum_sq;  // [n_in] sum over tokens of x_j^2
    int64_t count = 0;          // tokens summed
};

struct Imatrix {
    std::map<std::string, ImatrixEntry> entries;  // by weight name
    std::vector<std::string> datasets;
    int chunk_count = 0;
    int chunk_size = 0;  // tokens per chunk

    // E[x_j^2] of weight name (the quantizer's importance weights); empty when absent.
    std::vector<float> mean_sq(const std::string & name) const;
};

// The importance matrix of every decided matrix from activation statistics.
Imatrix imatrix_from_stats(const ModelLayout & layout, const ActivationStats & stats,
                           const std::string & dataset);

// Write imatrix to path (no partial file on failure).
void write_imatrix(const Imatrix & imatrix, const std::filesystem::path & path);

// Read an importance matrix GGUF. Fails naming the path when it is not one, or when
// an entry lacks its sums or counts. Entries with several matrices (MoE experts) are
// rejected because decided matrices are 2-D.
Imatrix read_imatrix(const std::filesystem::path & path);

}  // namespace ramp
