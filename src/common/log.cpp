#include "common/log.hpp"

#include <llama.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <string>

namespace rdt {

namespace {

// llama.cpp sends a message in pieces (GGML_LOG_LEVEL_CONT continues the last
// line), so pieces are buffered and each complete line is logged once.
struct LlamaLineBuffer {
    std::mutex mutex;
    std::string pending;
};

LlamaLineBuffer & line_buffer() {
    static LlamaLineBuffer buffer;
    return buffer;
}

void forward_llama_log(ggml_log_level /*level*/, const char * text, void * /*user*/) {
    if (text == nullptr) {
        return;
    }
    LlamaLineBuffer & buffer = line_buffer();
    std::lock_guard<std::mutex> lock(buffer.mutex);
    buffer.pending += text;

    size_t newline = buffer.pending.find('\n');
    while (newline != std::string::npos) {
        spdlog::debug("llama.cpp: {}", buffer.pending.substr(0, newline));
        buffer.pending.erase(0, newline + 1);
        newline = buffer.pending.find('\n');
    }
}

}  // namespace

void route_llama_logs() {
    llama_log_set(forward_llama_log, nullptr);
}

void init_logging(bool verbose) {
    auto logger = spdlog::stderr_color_mt("rdt");
    logger->set_pattern("[%^%l%$] %v");
    logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
    spdlog::set_default_logger(logger);
    route_llama_logs();
}

}  // namespace rdt
