#!/usr/bin/env bash
# Throughput of `ramp eval` against llama.cpp's llama-perplexity on the same
# model, text, context, chunks and threads, in one run. Each tool runs REPEATS
# times in alternation; the best wall time of each is kept (model load included
# in both). Prints a Markdown table row per model.
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

# best_seconds COMMAND...: minimum wall time over $repeats runs.
best_seconds() {
    local best=""
    for _ in $(seq "$repeats"); do
        local start end elapsed
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s.%N)
        elapsed=$(echo "$end - $start" | bc -l)
        if [[ -z "$best" ]] || (( $(echo "$elapsed < $best" | bc -l) )); then best=$elapsed; fi
    done
    echo "$best"
}

echo "| model | text | n_ctx | chunks | tokens | llama-perplexity s | ramp eval s | ramp tok/s | llama tok/s | ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|"
run_case() {
    local model="$1" text="$2" ctx="$3" chunks="$4"
    local tokens=$((ctx * chunks))
    local t_llama t_ramp
    t_llama=$(best_seconds "$llama_ppl" -m "$shared/models/$model" -f "$shared/data/text/$text" -c "$ctx" \
        --chunks "$chunks" -t "$threads")
    t_ramp=$(best_seconds "$ramp" eval -q -m "$shared/models/$model" -f "$shared/data/text/$text" -c "$ctx" \
        --chunks "$chunks" -t "$threads")
    printf "| %s | %s | %s | %s | %s | %.2f | %.2f | %.0f | %.0f | %.2f |\n" "$model" "$text" "$ctx" "$chunks" \
        "$tokens" "$t_llama" "$t_ramp" "$(echo "$tokens / $t_ramp" | bc -l)" "$(echo "$tokens / $t_llama" | bc -l)" \
        "$(echo "$t_llama / $t_ramp" | bc -l)"
}
run_case tiny-llama-6L-256.gguf wikitext-2-raw-test.txt 256 40
run_case stories260K.gguf tinystories-valid-head.txt 256 60
