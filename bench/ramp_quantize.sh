#!/usr/bin/env bash
# `ramp quantize` at several budgets on one model, one report per budget, then
# a Markdown table of the chosen plan against its baselines and llama.cpp's
# recipes (bench/quantize_table.py). The greedy baseline's per-matrix
# sensitivity is measured once and shared by all budgets (--sensitivity).
#
# Usage: bench/ramp_quantize.sh MODEL CALIB EVAL_TEXT OUT_DIR "BUDGETS" [EXTRA ARGS...]
#   MODEL, CALIB, EVAL_TEXT: paths; BUDGETS: space-separated bpw values.
#   EXTRA ARGS go to every `ramp quantize` (e.g. --episodes 300 --eval-chunks 40).
# Needs: build/bin/ramp (scripts/build.sh) and python3 for the table.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ramp="${RAMP:-$root/build/bin/ramp}"  # RAMP: another binary, e.g. a copy kept apart from rebuilds
[[ $# -ge 5 ]] || { sed -n '2,11p' "$0" >&2; exit 2; }
model="$1" calib="$2" eval_text="$3" out="$4" budgets="$5"
shift 5
[[ -x "$ramp" ]] || { echo "missing $ramp: run scripts/build.sh first" >&2; exit 1; }
mkdir -p "$out"
name="$(basename "$model" .gguf)"

# ggml's worker threads spin while idle; passive waiting keeps parallel jobs fair.
export OMP_WAIT_POLICY=passive

for budget in $budgets; do
    stem="$out/$name-$budget"
    start=$(date +%s.%N)
    "$ramp" quantize -m "$model" -f "$calib" --budget "$budget" --eval-text "$eval_text" \
        --sensitivity "$out/$name-sensitivity.json" --force \
        --save-policy "$stem.policy" -o "$stem.gguf" --report "$stem.json" --plot "$stem.png" "$@" 2>"$stem.log"
    end=$(date +%s.%N)
    echo "$budget $(echo "$end - $start" | bc)" >>"$out/$name-wall.txt"
    rm -f "$stem.gguf"  # the size is in the report; the files are not needed
done
python3 "$root/bench/quantize_table.py" "$out"/"$name"-*.json
