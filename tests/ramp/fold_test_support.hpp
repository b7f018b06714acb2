#pragma once
// Helpers shared by the layout, activation, feature and folding tests: a
// per-test temporary folder and the shared models and texts they run on.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/paths.hpp"

namespace ramp_test {

namespace fs = std::filesystem;

// An empty folder for the running test (created on the first call in a test).
inline fs::path test_dir(const std::string & suite) {
#ifdef RDT_TEST_TMP_DIR
    const fs::path base = RDT_TEST_TMP_DIR;
#else
    const fs::path base = fs::temp_directory_path();
#endif
    const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir = base / suite / (std::string(info->test_suite_name()) + "." + info->name());
    static std::string prepared_for;
    if (prepared_for != dir.string()) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        prepared_for = dir.string();
    }
    return dir;
}

inline fs::path stories_model() {
    return rdt::shared_path("models/stories260K.gguf");
}
inline fs::path tiny_llama_model() {
    return rdt::shared_path("models/tiny-llama-6L-256.gguf");
}
inline fs::path bert_model() {
    return rdt::shared_path("models/tiny-bert-nli.gguf");
}
inline fs::path tinystories_text() {
    return rdt::shared_path("data/text/tinystories-valid-head.txt");
}
inline fs::path wikitext_text() {
    return rdt::shared_path("data/text/wikitext-2-raw-test.txt");
}
inline fs::path calibration_text() {
    return rdt::shared_path("data/text/calibration.txt");
}

}  // namespace ramp_test
