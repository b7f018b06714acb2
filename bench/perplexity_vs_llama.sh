#!/usr/bin/env bash
# Throughput of `ramp eval` against llama.cpp's llama-perplexity on the same
# model, text, context, chunks and threads, in one run. Each tool runs REPEATS
# times; the best time of each is kept. "decode" is the time from the first
# chunk to the final estimate (each tool's own timing); "wall" is the whole
# process, model load and start-up included. Prints a Markdown table.
#
# Usage: bench/perplexity_vs_llama.sh [THREADS] [REPEATS]
# Needs: build/bin/ramp (scripts/build.sh) and llama-perplexity
# (scripts/build-llama-tools.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads="${1:-2}"
repeats="${2:-3}"
shared="${RDT_SHARED_DIR:-$root/../shared}"
ramp="$root/build/bin/ramp"
llama_ppl="$root/third_party/llama.cpp/build-tools/bin/llama-perplexity"

for tool in "$ramp" "$llama_ppl"; do
    [[ -x "$tool" ]] || { echo "missing $tool: build it first (see the header of this script)" >&2; exit 1; }
done

# Log timestamps of llama-perplexity look like "0.01.700.306" (minutes, seconds,
# milliseconds, microseconds); to_seconds converts one.
to_seconds() { awk -F. '{ printf "%.6f", $1 * 60 + $2 + $3 / 1e3 + $4 / 1e6 }' <<<"$1"; }

# llama_decode_seconds ARGS...: llama-perplexity's time from "calculating perplexity"
# to "Final estimate" (tokenization and model load excluded).
llama_decode_seconds() {
    local log start end
    log=$("$llama_ppl" "$@" 2>&1)
    start=$(grep -a "calculating perplexity over" <<<"$log" | awk '{print $1}')
    end=$(grep -a "Final estimate" <<<"$log" | awk '{print $1}')
    echo "$(to_seconds "$end") - $(to_seconds "$start")" | bc -l
}

# ramp_decode_seconds ARGS...: `ramp eval`'s own decode time ("seconds" in its JSON).
ramp_decode_seconds() {
    "$ramp" eval -q "$@" 2>/dev/null | grep -m1 '"seconds"' | tr -dc '0-9.\n'
}

# best_of N COMMAND...: the minimum of the number that COMMAND prints, over N runs.
best_of() {
    local runs="$1" best=""
    shift
    for _ in $(seq "$runs"); do
        local value
        value=$("$@")
        if [[ -z "$best" ]] || (( $(echo "$value < $best" | bc -l) )); then best=$value; fi
    done
    echo "$best"
}

# wall_seconds COMMAND...: wall time of one run, model load and start-up included.
wall_seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

echo "| model | text | n_ctx | chunks | tokens | llama decode s | ramp decode s | llama tok/s | ramp tok/s | ratio (decode) | llama wall s | ramp wall s | ratio (wall) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
run_case() {
    local model="$1" text="$2" ctx="$3" chunks="$4"
    local tokens=$((ctx * chunks))
    local args=(-m "$shared/models/$model" -f "$shared/data/text/$text" -c "$ctx" --chunks "$chunks" -t "$threads")
    local d_llama d_ramp w_llama w_ramp
    d_llama=$(best_of "$repeats" llama_decode_seconds "${args[@]}")
    d_ramp=$(best_of "$repeats" ramp_decode_seconds "${args[@]}")
    w_llama=$(best_of "$repeats" wall_seconds "$llama_ppl" "${args[@]}")
    w_ramp=$(best_of "$repeats" wall_seconds "$ramp" eval -q "${args[@]}")
    printf "| %s | %s | %s | %s | %s | %.3f | %.3f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |\n" "$model" "$text" \
        "$ctx" "$chunks" "$tokens" "$d_llama" "$d_ramp" "$(echo "$tokens / $d_llama" | bc -l)" \
        "$(echo "$tokens / $d_ramp" | bc -l)" "$(echo "$d_llama / $d_ramp" | bc -l)" "$w_llama" "$w_ramp" \
        "$(echo "$w_llama / $w_ramp" | bc -l)"
}
run_case tiny-llama-6L-256.gguf wikitext-2-raw-test.txt 256 40
run_case stories260K.gguf tinystories-valid-head.txt 256 60
