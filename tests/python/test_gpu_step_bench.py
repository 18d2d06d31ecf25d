"""bench/gpu_step on the CPU at a tiny crop (a smoke run: its figures mean nothing here): both
sides train the same PSPNet (equal parameter counts), segtrain's precision and layout options
reach it, and the last line is the JSON the GPU run's table is made from. In fp32: this CPU has
no bf16 kernels, so a bf16 step of PSPNet takes ten seconds here (autocast itself is
models/test_precision.cpp's, with_cp under autocast models/test_models.cpp's)."""
import json
import os
import subprocess
import sys

from conftest import ROOT

BENCH = os.path.join(ROOT, "bench", "gpu_step", "gpu_step.py")


def run(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return subprocess.run([sys.executable, BENCH, *args], capture_output=True, text=True, env=env, cwd=ROOT)


def test_cpu_smoke_run_compares_the_same_model():
    p = run("--device", "cpu", "--models", "pspnet_r50", "--precisions", "fp32", "--layouts", "nhwc",
            "--with-cp-for", "none", "--crop", "32x64", "--iters", "1", "--warmup", "1")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    result = json.loads(p.stdout.strip().splitlines()[-1])
    rows = result["rows"]
    assert [(r["side"], r["with_cp"]) for r in rows] == [("torch", False), ("segtrain", False)]
    assert all(r["precision"] == "fp32" and r["layout"] == "nhwc" for r in rows)
    assert len({r["parameters"] for r in rows}) == 1 and rows[0]["parameters"] > 40e6
    assert result["parameters_differ"] == []
    assert all(r["seconds_per_iter"] > 0 and r["peak_memory_mb"] > 0 for r in rows)
    summary = result["summary"]["pspnet_r50"]
    assert summary["fp32_speed_vs_torch"] > 0 and "goals_met" not in summary


def test_unknown_model_is_refused_before_any_run():
    p = run("--device", "cpu", "--models", "pspnet_r5")
    assert p.returncode == 2
    assert "--models: unknown pspnet_r5" in p.stderr
