#!/usr/bin/env bash
# Fetch the pinned llama.cpp source into third_party/llama.cpp (git-ignored).
#
# The source comes from the npm package node-llama-cpp, whose file
# llama/gitRelease.bundle is a git bundle of llama.cpp. The bundle is cloned and
# checked out at the pinned commit; a checkout already at that commit is kept.
set -euo pipefail

NODE_LLAMA_CPP_VERSION="3.22.1"
LLAMA_CPP_COMMIT="de3ff815ea7d559ee917f063901b8986f038abc6"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/third_party/llama.cpp"
cache="$root/third_party/.npm"

if [[ -d "$dest/.git" ]] && [[ "$(git -C "$dest" rev-parse HEAD 2>/dev/null)" == "$LLAMA_CPP_COMMIT" ]]; then
    echo "fetch-llama.sh: llama.cpp already at $LLAMA_CPP_COMMIT" >&2
    exit 0
fi

mkdir -p "$cache"
if [[ ! -f "$cache/package/llama/gitRelease.bundle" ]]; then
    echo "fetch-llama.sh: downloading node-llama-cpp@$NODE_LLAMA_CPP_VERSION with npm" >&2
    tarball="$(cd "$cache" && npm pack --silent "node-llama-cpp@$NODE_LLAMA_CPP_VERSION")"
    tar -xzf "$cache/$tarball" -C "$cache" package/llama/gitRelease.bundle
    rm -f "$cache/$tarball"
fi

bundle="$cache/package/llama/gitRelease.bundle"
rm -rf "$dest.tmp"
git -c advice.detachedHead=false clone --quiet "$bundle" "$dest.tmp"
git -C "$dest.tmp" -c advice.detachedHead=false checkout --quiet "$LLAMA_CPP_COMMIT"

actual="$(git -C "$dest.tmp" rev-parse HEAD)"
if [[ "$actual" != "$LLAMA_CPP_COMMIT" ]]; then
    echo "fetch-llama.sh: bundle gives commit $actual, expected $LLAMA_CPP_COMMIT;" \
         "check the node-llama-cpp version ($NODE_LLAMA_CPP_VERSION)" >&2
    exit 1
fi

rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch-llama.sh: llama.cpp checked out at $LLAMA_CPP_COMMIT in $dest" >&2
