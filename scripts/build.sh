#!/usr/bin/env bash
# Configure and build the project into build/ (Release, Ninja).
# Extra arguments go to CMake's configure step, e.g. -DRDT_NATIVE=OFF or
# -DRDT_SHARED_DIR=/data/models-and-texts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$root/build"
