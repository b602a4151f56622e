#!/usr/bin/env python3
"""Draws the figures of a `kafnus-bench --sweep` run (bench/README.md, "How cost grows").

    python3 bench/plot_sweep.py bench/results/sweep-<stamp>.json OUTDIR

One PNG per dimension in OUTDIR (<dimension>.png, 800x500): throughput on the
left, CPU per notification of the daemon and of PostgreSQL on the right (per
attribute for the attribute sweep). Needs python3-matplotlib.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Dimensions whose values span decades are drawn on a log x axis.
LOG_X = {"attributes", "entities", "tables", "partitions"}


def plot(dim, out_dir, meta):
    name = dim["dimension"]
    points = dim["points"]
    x = [p["value"] for p in points]
    per_attribute = name == "attributes"
    scale = [p["attributes"] if per_attribute else 1 for p in points]
    unit = "attribute" if per_attribute else "notification"
    throughput = [p["notifications_per_s"] * s for p, s in zip(points, scale)]
    daemon = [p["daemon_cpu_us_per_notification"] / s for p, s in zip(points, scale)]
    postgres = [p["postgres_cpu_us_per_notification"] / s for p, s in zip(points, scale)]
    total = [d + q for d, q in zip(daemon, postgres)]
    if name == "table-size":
        x = [v / 1e6 for v in x]
    xlabel = dim["label"] + (" (millions)" if name == "table-size" else "")

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 5), dpi=100)
    left.plot(x, throughput, "o-", color="tab:blue")
    left.set_title(f"{unit}s/s ({dim['flow']} catch-up)", fontsize=10)
    right.plot(x, daemon, "o-", label="daemon", color="tab:orange")
    right.plot(x, postgres, "s-", label="PostgreSQL", color="tab:green")
    right.plot(x, total, "^--", label="both", color="tab:gray")
    right.set_title(f"CPU µs per {unit}", fontsize=10)
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.set_xlabel(xlabel)
        if name in LOG_X:
            ax.set_xscale("log")
        ax.set_xticks(x)
        ax.set_xticklabels([f"{v:g}" for v in x])
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
    fig.suptitle(
        f"kafnus --sweep {name}: {meta['cores']} cores, "
        f"N = {meta['notifications_per_point']:,} notifications per point",
        fontsize=11,
    )
    fig.tight_layout()
    path = os.path.join(out_dir, f"{name}.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_sweep.py SWEEP_JSON OUTDIR")
    with open(sys.argv[1], encoding="utf-8") as f:
        meta = json.load(f)
    os.makedirs(sys.argv[2], exist_ok=True)
    for dim in meta["dimensions"]:
        print(plot(dim, sys.argv[2], meta))


if __name__ == "__main__":
    main()
