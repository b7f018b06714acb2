#!/usr/bin/env bash
# Zero-shot transfer: apply trained policies to a target model with `ramp plan`
# (no episodes), export each plan and measure it with `ramp eval` against the
# target's float model on an evaluation text. Prints one Markdown row per policy
# and budget: bpw, file bytes, mean KL and perplexity.
#
# Usage: bench/ramp_transfer.sh TARGET CALIB EVAL_TEXT EVAL_CHUNKS OUT_DIR "BUDGETS" POLICY [POLICY...]
#   TARGET: float GGUF; EVAL_CHUNKS: -1 for all; POLICY: files from --save-policy.
# Needs: build/bin/ramp (scripts/build.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ramp="${RAMP:-$root/build/bin/ramp}"  # RAMP: another binary, e.g. a copy kept apart from rebuilds
[[ $# -ge 7 ]] || { sed -n '2,10p' "$0" >&2; exit 2; }
target="$1" calib="$2" eval_text="$3" eval_chunks="$4" out="$5" budgets="$6"
shift 6
mkdir -p "$out"
export OMP_WAIT_POLICY=passive

echo "| target | budget | policy | bpw | file bytes | evaluation KL | evaluation PPL |"
echo "|---|---|---|---|---|---|---|"
for policy in "$@"; do
    for budget in $budgets; do
        stem="$out/$(basename "$target" .gguf)-$budget-$(basename "$policy" .policy)"
        "$ramp" plan -q -m "$target" -f "$calib" -c 256 --chunks 8 -t 1 --budget "$budget" --policy "$policy" \
            -o "$stem.plan.json" --force >/dev/null 2>"$stem.log"
        "$ramp" export -q -m "$target" --plan "$stem.plan.json" -o "$stem.gguf" --force >/dev/null 2>>"$stem.log"
        "$ramp" eval -q -m "$stem.gguf" -f "$eval_text" -c 256 --chunks "$eval_chunks" -t 1 --kl-base "$target" \
            -o "$stem.eval.json" 2>>"$stem.log"
        python3 - "$stem.plan.json" "$stem.eval.json" "$stem.gguf" "$target" "$budget" "$policy" <<'PY'
import json, os, sys
plan_path, eval_path, gguf, target, budget, policy = sys.argv[1:]
plan = json.load(open(plan_path))
result = json.load(open(eval_path))
kl = result["kl_divergence"]
ppl = result["perplexity"]
print(f"| {os.path.basename(target)} | {budget} | {os.path.basename(policy)} | {plan['predicted']['bpw']:.3f} | "
      f"{os.path.getsize(gguf):,} | {kl['mean']:.5f} ± {kl['mean_std_error']:.5f} | "
      f"{ppl['ppl']:.4f} ± {ppl['ppl_uncertainty']:.4f} |")
PY
        rm -f "$stem.gguf"
    done
done
