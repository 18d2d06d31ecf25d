#!/usr/bin/env -S sh -c 'exec "$(dirname "$0")/py" "$0" "$@"'
"""Plots keys of segtrain's JSON logs against the iteration, as MMSeg's tools/analyze_logs.py does.

    ./scripts/analyze_logs.py LOG.log.json [LOG2.log.json ...] [--keys mIoU loss ...]
        [--legend NAME ...] [--title TITLE] [--out FILE.png]

One subplot per key, one curve per log. Train keys (loss, decode.loss_ce, lr, ...) come from the
"mode": "train" lines, metrics (mIoU, aAcc, mAcc, IoU.<class>, ...) from the "mode": "val" lines;
the first line of a log (config, seed, versions) has no mode and is skipped. --legend takes one
name per log, or one per log and key as MMSeg does (log-major order). The figure is written with
matplotlib's Agg backend, so no display is needed; --out defaults to <first log>_curves.png.
"""
import argparse
import difflib
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # headless: render to a file, never open a window
import matplotlib.pyplot as plt  # noqa: E402

# Keys that index a line rather than measure something.
NON_METRIC_KEYS = {"mode", "iter", "epoch"}


class UserError(Exception):
    """Printed as one line, exit code 2."""


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="analyze_logs.py", description="Plot keys of segtrain JSON logs.")
    parser.add_argument("json_logs", nargs="+", help="JSON logs (<work_dir>/<timestamp>.log.json)")
    parser.add_argument("--keys", nargs="+", default=["mIoU"], help="keys to plot (default: mIoU)")
    parser.add_argument("--legend", nargs="+", help="one name per log, or one per log and key")
    parser.add_argument("--title", help="title of the figure")
    parser.add_argument("--out", help="PNG to write (default: <first log>_curves.png)")
    return parser.parse_args(argv)


def load_log(path):
    """{key: [(iter, value), ...]} from the train and val lines of one JSON log, in file order."""
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such log file")
    series = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{path}:{number}: not a JSON line ({e.msg})")
            if not isinstance(record, dict) or record.get("mode") not in ("train", "val"):
                continue  # the meta line, or anything that is not a train/val record
            if not isinstance(record.get("iter"), int):
                raise UserError(f"{path}:{number}: {record['mode']} line without an integer 'iter'")
            for key, value in record.items():
                # bool is an int in Python; a flag is not a curve.
                if key in NON_METRIC_KEYS or isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                series.setdefault(key, []).append((record["iter"], float(value)))
    return series


def check_keys(path, series, keys):
    for key in keys:
        if key not in series:
            close = difflib.get_close_matches(key, series, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            known = ", ".join(sorted(series)) if series else "none (no train or val lines yet)"
            raise UserError(f"{path}: key '{key}' not in the log{hint}; keys there: {known}")


def legend_labels(args):
    """labels[i][j]: the curve of log i in the subplot of key j."""
    logs, keys, legend = args.json_logs, args.keys, args.legend
    if legend is None:  # <work_dir>/<file>: runs are told apart by their work_dir
        names = [os.path.join(os.path.basename(os.path.dirname(os.path.abspath(log))), os.path.basename(log))
                 for log in logs]
        return [[name for _ in keys] for name in names]
    if len(legend) == len(logs):
        return [[name for _ in keys] for name in legend]
    if len(legend) == len(logs) * len(keys):
        return [legend[i * len(keys):(i + 1) * len(keys)] for i in range(len(logs))]
    raise UserError(f"--legend has {len(legend)} names; give one per log ({len(logs)}) "
                    f"or one per log and key ({len(logs) * len(keys)})")


def default_out(first_log):
    base = os.path.basename(first_log)
    for suffix in (".log.json", ".json"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return os.path.join(os.path.dirname(first_log), base + "_curves.png")


def plot(all_series, args, labels, out):
    keys = args.keys
    fig, axes = plt.subplots(len(keys), 1, figsize=(8, 3 * len(keys)), sharex=True, squeeze=False)
    for j, key in enumerate(keys):
        ax = axes[j][0]
        for i, series in enumerate(all_series):
            points = series[key]
            iters = [p[0] for p in points]
            values = [p[1] for p in points]
            # Evaluations are few and far apart: markers show where each one was.
            sparse = len(points) <= 50
            ax.plot(iters, values, label=labels[i][j], marker="o" if sparse else None,
                    linewidth=1.0 if sparse else 0.7)
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    axes[-1][0].set_xlabel("iter")
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    try:
        all_series = []
        for log in args.json_logs:
            series = load_log(log)
            check_keys(log, series, args.keys)
            bad = [k for k in args.keys if not all(math.isfinite(v) for _, v in series[k])]
            for key in bad:  # a diverged run logs NaN/inf; plot what is finite, but say so
                sys.stderr.write(f"analyze_logs.py: warning: {log}: key '{key}' has non-finite values\n")
            all_series.append(series)
        labels = legend_labels(args)
        out = args.out or default_out(args.json_logs[0])
        if not out.lower().endswith(".png"):
            raise UserError(f"--out {out}: only PNG is written; name the file *.png")
        out_dir = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(out_dir):
            raise UserError(f"--out {out}: folder {out_dir} does not exist")
        for log in args.json_logs:
            for key in args.keys:
                print(f"plot curve of {log}, metric is {key}")
        plot(all_series, args, labels, out)
        print(f"save curve to: {out}")
    except UserError as e:
        sys.stderr.write(f"analyze_logs.py: error: {e}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
