#!/usr/bin/env python3
"""Markdown table of `ramp quantize` reports (one JSON per budget).

Rows per budget: the chosen plan (named by its source), the best plan that the
SAC policy itself found (calibration KL only), the baselines the search was
seeded with, and llama.cpp's recipes up to one bit above the budget. Reads
wall times from <model>-wall.txt beside the reports when present.

Usage: bench/quantize_table.py REPORT.json [REPORT.json ...]
"""
import json
import os
import sys


def number(value, digits):
    return "-" if value is None else f"{value:.{digits}f}"


def quality(row):
    evaluation = row.get("evaluation", {})
    kl = evaluation.get("kl")
    kl_text = "-" if kl is None else f"{kl:.5f} ± {evaluation['kl_std_error']:.5f}"
    ppl = evaluation.get("ppl")
    ppl_text = "-" if ppl is None else f"{ppl:.4f} ± {evaluation['ppl_uncertainty']:.4f}"
    calibration = row.get("calibration", {}).get("kl")
    return number(calibration, 5), kl_text, ppl_text


def line(budget, name, row):
    calibration, kl, ppl = quality(row)
    return (f"| {budget} | {name} | {row['bpw']:.3f} | {row['file_bytes']:,} | {calibration} | {kl} | {ppl} |")


def wall_times(paths):
    times = {}
    for path in paths:
        folder = os.path.dirname(path) or "."
        for name in os.listdir(folder):
            if name.endswith("-wall.txt"):
                with open(os.path.join(folder, name)) as handle:
                    for entry in handle:
                        budget, seconds = entry.split()
                        times[(name[: -len("-wall.txt")], float(budget))] = float(seconds)
    return times


def main(paths):
    reports = []
    for path in paths:
        with open(path) as handle:
            report = json.load(handle)
        if isinstance(report, dict) and "chosen" in report:  # skip sensitivity caches and policy sidecars
            reports.append((os.path.basename(path).rsplit("-", 1)[0], report))
    reports.sort(key=lambda item: (item[0], item[1]["budget"]))
    times = wall_times(paths)

    print("| budget | plan | bpw | file bytes | calibration KL | evaluation KL | evaluation PPL |")
    print("|---|---|---|---|---|---|---|")
    for model, report in reports:
        budget = report["budget"]
        search = report["search"]
        print(line(budget, f"**ramp** (best: {report['source']})", report["chosen"]))
        sac = search.get("best_by_source", {}).get("sac")
        if sac:
            print(f"| {budget} | best SAC episode ({sac['episode']}) | {sac['bpw']:.3f} | | "
                  f"{sac['quality_loss']:.5f} | | |")
        for row in report["baselines"]:
            print(line(budget, row["name"], row))
        for row in report.get("recipes", []):
            print(line(budget, row["name"], row))
        wall = times.get((model, budget))
        wall_text = "" if wall is None else f", {wall:.0f} s wall"
        print(f"| {budget} | search: {search['episodes']} episodes, {search['evaluations']} plan evaluations, "
              f"best at episode {search['best_episode']}{wall_text} | | | | | |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
