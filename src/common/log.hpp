#pragma once
// Logging: spdlog on stderr for the toolkit, with llama.cpp's and ggml's own log
// messages routed into it at debug level, so they stay silent unless verbose.

namespace rdt {

// Configure the default spdlog logger (stderr, "[level] message") and install the
// llama.cpp log callback. verbose = true shows debug messages, llama.cpp's included.
void init_logging(bool verbose);

// Route llama.cpp messages into spdlog without changing the logger (used by tests).
void route_llama_logs();

}  // namespace rdt
