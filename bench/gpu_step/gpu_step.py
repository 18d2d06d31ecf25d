#!/usr/bin/env python3
"""segtrain's training step against an eager PyTorch loop of the same model, side by side in one run.

For each model, precision and memory format, three runs on the same device: the PyTorch side
(bench/train_step/reference_train.py: the model written independently in torch.nn, DDP on one
rank, a fixed batch, autocast + GradScaler(512) for fp16, autocast for bf16, torch's own
channels_last), then segtrain (`segtrain CONFIG` on synthetic Cityscapes-like shards: the real
trainer with its loader, loss scaler and hooks), without and with `model.backbone.with_cp`.
Figures: the median seconds per iteration after the warm-up (segtrain: its JSON log's `time`,
logged every iteration; data_time is in it), images/s, and the peak memory after the warm-up
(max_memory_allocated: torch's after a reset, segtrain's `interval_memory`; on the CPU the max
RSS, which includes the warm-up). The two sides must have the same number of parameters: a
model that differs makes the run fail.

Goals (issue 14), from the rows of each model: segtrain fp32 >= 1.0x PyTorch fp32 (speed, same
layout); segtrain's best mixed-precision setting >= 1.8x PyTorch fp32 (NCHW) and >= 1.05x PyTorch
in that same setting; segtrain's peak with that setting <= 0.65x its fp32 (NCHW) peak; PSPNet
R50-D8 fp32 <= 6.1 GiB (MMSeg's published training memory). On a CPU (--device cpu, a smoke run
at a small crop) the ratios are computed but mean little, and fp16 is skipped.

Usage: gpu_step.py [--device cuda|cpu] [--models M,...] [--precisions fp32,fp16,bf16]
                   [--layouts nchw,nhwc] [--only PRECISION_LAYOUT,...] [--with-cp-for PRECISION,...|none]
                   [--iters N] [--warmup N]
                   [--batch N] [--crop HxW] [--segtrain PATH] [--data SHARDS] [--keep DIR]
                   [--budget-s S] [--timeout-s S]
"""
import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = {
    "pspnet_r50": "configs/pspnet/pspnet_r50-d8_512x1024_40k_cityscapes.yaml",
    "deeplabv3plus_r50": "configs/deeplabv3plus/deeplabv3plus_r50-d8_512x1024_40k_cityscapes.yaml",
    "upernet_r50": "configs/upernet/upernet_r50_512x1024_40k_cityscapes.yaml",
    "fcn_r50": "configs/fcn/fcn_r50-d8_512x1024_40k_cityscapes.yaml",
}
PRECISION_OPTIONS = {
    "fp32": [],
    "fp16": ["optimizer_config.type=Fp16OptimizerHook", "optimizer_config.loss_scale=512."],
    "bf16": ["fp16.dtype=bfloat16"],
}
PSPNET_FP32_GIB = 6.1


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    p.add_argument("--models", default="pspnet_r50,deeplabv3plus_r50,upernet_r50")
    p.add_argument("--precisions", default="fp32,fp16,bf16")
    p.add_argument("--layouts", default="nchw,nhwc")
    p.add_argument("--only", help="of precisions x layouts, only these (e.g. fp32_nchw,bf16_nhwc)")
    p.add_argument("--with-cp-for", default="fp32,fp16,bf16",
                   help="precisions whose segtrain runs repeat with with_cp (none: never)")
    p.add_argument("--iters", type=int, default=20, help="timed iterations")
    p.add_argument("--warmup", type=int, default=5, help="untimed iterations first (cuDNN autotuning)")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--crop", default="512x1024", help="HxW")
    p.add_argument("--segtrain", default=os.environ.get("SEGTRAIN_BIN", os.path.join(ROOT, "build", "segtrain")))
    p.add_argument("--data", help="Cityscapes-layout shards (default: synthetic ones made in a scratch folder)")
    p.add_argument("--keep", help="copy every run's logs here")
    p.add_argument("--budget-s", type=float, default=0,
                   help="skip the runs left once this many seconds passed (0: no budget)")
    p.add_argument("--timeout-s", type=float, default=300, help="one run's limit")
    a = p.parse_args()
    a.models = a.models.split(",")
    a.precisions = a.precisions.split(",")
    a.layouts = a.layouts.split(",")
    a.with_cp_for = [] if a.with_cp_for == "none" else a.with_cp_for.split(",")
    a.only = a.only.split(",") if a.only else None
    combos = [f"{p_}_{l}" for p_ in PRECISION_OPTIONS for l in ("nchw", "nhwc")]
    if a.only and [c for c in a.only if c not in combos]:
        p.error(f"--only: unknown {', '.join(c for c in a.only if c not in combos)}; valid: {', '.join(combos)}")
    for name, values, valid in (("--models", a.models, CONFIGS), ("--precisions", a.precisions, PRECISION_OPTIONS),
                                ("--layouts", a.layouts, ("nchw", "nhwc")),
                                ("--with-cp-for", a.with_cp_for, PRECISION_OPTIONS)):
        bad = [v for v in values if v not in valid]
        if bad:
            p.error(f"{name}: unknown {', '.join(bad)}; valid: {', '.join(valid)}")
    m = re.fullmatch(r"(\d+)x(\d+)", a.crop)
    if not m or min(int(m[1]), int(m[2])) < 1:
        p.error(f"--crop: expected HxW, got '{a.crop}'")
    a.crop = (int(m[1]), int(m[2]))
    if a.iters < 1 or a.warmup < 1 or a.batch < 1:
        p.error("--iters, --warmup and --batch must be >= 1")
    if not os.access(a.segtrain, os.X_OK):
        p.error(f"--segtrain: {a.segtrain} is not an executable (build it, or set SEGTRAIN_BIN)")
    if a.device == "cpu" and "fp16" in a.precisions:
        a.precisions.remove("fp16")  # float16 training needs CUDA, on both sides
    return a


class RunTimedOut(Exception):
    pass


def run(cmd, log, timeout, env=None):
    """Runs cmd under timeout(1) (SIGTERM, so mpirun takes its ranks down with it); a run past
    its time raises RunTimedOut, another failure ends the benchmark with the log's tail."""
    with open(log, "w") as f:
        proc = subprocess.run(["timeout", "--signal=TERM", "--kill-after=20", str(int(timeout))] + cmd, stdout=f,
                              stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    if proc.returncode in (124, 137):
        raise RunTimedOut(f"past {int(timeout)} s")
    if proc.returncode != 0:
        tail = open(log).read().splitlines()[-15:]
        sys.exit(f"gpu_step: {' '.join(cmd[:4])} ... failed (exit {proc.returncode}); {log}:\n" + "\n".join(tail))


def make_shards(folder, crop):
    """Synthetic Cityscapes-layout shards, images of a quarter of the crop's area (Resize scales them up)."""
    h, w = crop
    png, shards = os.path.join(folder, "png"), os.path.join(folder, "shards")
    subprocess.run([sys.executable, "scripts/make_synthetic_dataset.py", png, "--train", "8", "--val", "1",
                    "--size", f"{max(w // 2, 16)}x{max(h // 2, 16)}", "--num-classes", "19"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "scripts/convert_dataset.py", "cityscapes", png, shards, "--splits", "train",
                    "--compression", "none"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return shards


def reference(a, model, precision, layout, work):
    log = os.path.join(work, f"torch_{model}_{precision}_{layout}.out")
    cmd = [sys.executable, "bench/train_step/reference_train.py", "--device", a.device, "--arch", model,
           "--batch", str(a.batch), "--crop", f"{a.crop[0]}x{a.crop[1]}", "--iters", str(a.iters),
           "--warmup", str(a.warmup), "--precision", precision] + (["--channels-last"] if layout == "nhwc" else [])
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
    run(cmd, log, a.timeout_s, env)
    r = json.loads([l for l in open(log) if l.startswith("{")][-1])
    return {"seconds_per_iter": r["seconds_per_iter"], "peak_memory_mb": r["peak_memory_mb"],
            "parameters": r["parameters"], "data_share": 0.0}


def segtrain(a, model, precision, layout, with_cp, shards, work):
    name = f"segtrain_{model}_{precision}_{layout}{'_cp' if with_cp else ''}"
    wd = os.path.join(work, name)
    h, w = a.crop
    opts = [f"runner.max_iters={a.warmup + a.iters}", "log_config.interval=1", "checkpoint_config.interval=1000000",
            "model.pretrained=None", f"data.samples_per_gpu={a.batch}", f"data.train.data_root={shards}",
            f"data.val.data_root={shards}", f"data.test.data_root={shards}",
            # the Cityscapes train pipeline: Resize to 4x the crop's area, RandomCrop, Pad
            f"data.train.pipeline.2.img_scale=[{2 * w},{2 * h}]", f"data.train.pipeline.3.crop_size=[{h},{w}]",
            f"data.train.pipeline.7.size=[{h},{w}]"] + PRECISION_OPTIONS[precision]
    if layout == "nhwc":
        opts.append("channels_last=True")
    if with_cp:
        opts.append("model.backbone.with_cp=True")
    cmd = ["mpirun", "-np", "1", "--bind-to", "none", a.segtrain, CONFIGS[model], "--work-dir", wd, "--no-validate",
           "--seed", "0", "--options"] + opts
    run(cmd, wd + ".out", a.timeout_s)
    rows = [json.loads(l) for l in open(sorted(glob.glob(os.path.join(wd, "*.log.json")))[-1]) if l.strip()]
    timed = [r for r in rows if r.get("mode") == "train" and r["iter"] > a.warmup]
    text = open(sorted(glob.glob(os.path.join(wd, "*.log")))[-1]).read()
    params = int(re.search(r"model: .*?, (\d+) parameters", text)[1])
    t = statistics.median(r["time"] for r in timed)
    return {"seconds_per_iter": t, "peak_memory_mb": max(r["interval_memory"] for r in timed),
            "parameters": params, "data_share": statistics.median(r["data_time"] for r in timed) / t}


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ratios(rows, model, a):
    """The goals' figures for one model, from the rows measured (None where a row is missing)."""
    def get(side, precision, layout, with_cp=False):
        for r in rows:
            if (r["model"], r["side"], r["precision"], r["layout"], r["with_cp"]) == (model, side, precision, layout, with_cp):
                return r
        return None

    out = {}
    torch32 = get("torch", "fp32", "nchw")
    seg32 = get("segtrain", "fp32", "nchw")
    fp32_pairs = [(get("torch", "fp32", l), get("segtrain", "fp32", l)) for l in a.layouts]
    fp32_pairs = [(t, s) for t, s in fp32_pairs if t and s]
    if fp32_pairs:
        out["fp32_speed_vs_torch"] = min(t["seconds_per_iter"] / s["seconds_per_iter"] for t, s in fp32_pairs)
    amp = [r for r in rows if r["model"] == model and r["side"] == "segtrain" and r["precision"] != "fp32"
           and not r["with_cp"]]
    if amp:
        best = min(amp, key=lambda r: r["seconds_per_iter"])
        out["best_amp"] = f"{best['precision']}_{best['layout']}"
        same = get("torch", best["precision"], best["layout"])
        if torch32:
            out["best_amp_speed_vs_torch_fp32"] = torch32["seconds_per_iter"] / best["seconds_per_iter"]
        if same:
            out["best_amp_speed_vs_torch_same"] = same["seconds_per_iter"] / best["seconds_per_iter"]
        if seg32:
            out["best_amp_memory_vs_fp32"] = best["peak_memory_mb"] / seg32["peak_memory_mb"]
    if seg32:
        out["fp32_peak_gib"] = seg32["peak_memory_mb"] / 1024
    goals = {"fp32_speed_vs_torch": lambda v: v >= 1.0, "best_amp_speed_vs_torch_fp32": lambda v: v >= 1.8,
             "best_amp_speed_vs_torch_same": lambda v: v >= 1.05, "best_amp_memory_vs_fp32": lambda v: v <= 0.65}
    if model == "pspnet_r50":
        goals["fp32_peak_gib"] = lambda v: v <= PSPNET_FP32_GIB
    if a.device == "cuda":  # the CPU's figures (a smoke run) are no measure of the goals
        out["goals_met"] = {k: f(out[k]) for k, f in goals.items() if k in out}
    return out


def main():
    a = parse_args()
    t0 = time.time()
    scratch = tempfile.mkdtemp(prefix="gpu_step_")
    try:
        shards = a.data or make_shards(scratch, a.crop)
        rows, skipped = [], []
        for model in a.models:
            for precision in a.precisions:
                for layout in a.layouts:
                    if a.only and f"{precision}_{layout}" not in a.only:
                        continue
                    sides = [("torch", False), ("segtrain", False)] + ([("segtrain", True)] if precision in a.with_cp_for else [])
                    for side, with_cp in sides:
                        what = f"{side} {model} {precision} {layout}{' with_cp' if with_cp else ''}"
                        if a.budget_s and time.time() - t0 > a.budget_s:
                            skipped.append(what)
                            continue
                        try:
                            r = (reference(a, model, precision, layout, scratch) if side == "torch" else
                                 segtrain(a, model, precision, layout, with_cp, shards, scratch))
                        except RunTimedOut as e:
                            skipped.append(f"{what} ({e})")
                            print(f"{what}: skipped, {e}", flush=True)
                            continue
                        r.update(model=model, side=side, precision=precision, layout=layout, with_cp=with_cp,
                                 images_per_s=a.batch / r["seconds_per_iter"])
                        rows.append(r)
                        print(f"{what}: {r['seconds_per_iter']:.4f} s/iter, {r['images_per_s']:.2f} images/s, "
                              f"peak {r['peak_memory_mb']:.0f} MB, data {100 * r['data_share']:.1f}%", flush=True)
    finally:
        if a.keep:  # the logs, also of a failed run; not the data or the checkpoints
            shutil.copytree(scratch, a.keep, dirs_exist_ok=True, ignore=shutil.ignore_patterns("png", "shards", "*.pth"))
        shutil.rmtree(scratch, ignore_errors=True)

    params = {}
    for r in rows:
        params.setdefault(r["model"], set()).add(r["parameters"])
    differ = sorted(m for m, ns in params.items() if len(ns) > 1)
    print(f"\n{'model':<18} {'side':<9} {'precision':<9} {'layout':<6} {'with_cp':<7} {'s/iter':>8} "
          f"{'images/s':>9} {'peak MB':>9} {'data %':>7}")
    for r in rows:
        print(f"{r['model']:<18} {r['side']:<9} {r['precision']:<9} {r['layout']:<6} {str(r['with_cp']):<7} "
              f"{r['seconds_per_iter']:>8.4f} {r['images_per_s']:>9.2f} {r['peak_memory_mb']:>9.0f} "
              f"{100 * r['data_share']:>7.1f}")
    summary = {m: ratios(rows, m, a) for m in a.models}
    for m, s in summary.items():
        print(m + ": " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in s.items()))
    if skipped:
        print("skipped (past the budget or their time): " + "; ".join(skipped))
    segtrain_rows = [r for r in rows if r["side"] == "segtrain"]
    print(json.dumps({
        "benchmark": "gpu_step", "device": a.device, "batch": a.batch, "crop": list(a.crop), "iters": a.iters,
        "warmup": a.warmup, "rows": rows, "summary": summary, "skipped": skipped,
        "max_data_share": max((r["data_share"] for r in segtrain_rows), default=None),
        "parameters_differ": differ,
        "seconds": round(time.time() - t0, 1)}))
    if differ:
        sys.exit("gpu_step: segtrain and the PyTorch model differ in parameter count for " +
                 ", ".join(f"{m} {sorted(params[m])}" for m in differ))


if __name__ == "__main__":
    main()
