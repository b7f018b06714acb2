#!/usr/bin/env bash
# Build llama.cpp's own tools (llama-perplexity, llama-quantize, llama-imatrix) from
# the pinned source into third_party/llama.cpp/build-tools, for the benchmarks that
# compare against them and for regenerating test reference numbers.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/third_party/llama.cpp"
[[ -f "$src/CMakeLists.txt" ]] || "$root/scripts/fetch-llama.sh"
cmake -S "$src" -B "$src/build-tools" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_APP=OFF >/dev/null
ninja -C "$src/build-tools" llama-perplexity llama-quantize llama-imatrix
echo "llama.cpp tools in $src/build-tools/bin" >&2
