"""scripts/analyze_logs.py on small logs in segtrain's JSON-lines format, and its failure modes."""
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT

ANALYZE = os.path.join(ROOT, "scripts", "analyze_logs.py")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args):
    return subprocess.run([sys.executable, ANALYZE, *map(str, args)], capture_output=True, text=True)


def write_log(path, max_iters=200, log_every=10, eval_every=100, scale=1.0):
    """A log as segtrain writes it: a meta line, train lines every log_every, val lines every eval_every."""
    lines = [{"exp_name": "t.yaml", "config": "model: {}\n", "seed": 0, "world_size": 1}]
    for it in range(log_every, max_iters + 1, log_every):
        loss = scale * 2.0 / (1 + it / 50)
        lines.append({"mode": "train", "epoch": 1, "iter": it, "lr": 0.01 * (1 - it / max_iters) ** 0.9,
                      "decode.loss_ce": 0.7 * loss, "aux.loss_ce": 0.3 * loss, "loss": loss,
                      "decode.acc_seg": 100 - 40 * loss, "time": 0.2, "data_time": 0.01, "memory": 700})
        if it % eval_every == 0:
            lines.append({"mode": "val", "epoch": 1, "iter": it, "aAcc": 0.8 + it / 2000,
                          "mIoU": 0.3 + it / 1000, "mAcc": 0.4 + it / 1000, "IoU.road": 0.9})
    path.write_text("".join(json.dumps(l) + "\n" for l in lines))
    return path


def png_size(path):
    """(width, height) from the IHDR chunk, after checking the signature."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def check_png(path, num_keys):
    width, height = png_size(path)
    # 8 x 3 inches per key at 100 dpi.
    assert width == 800 and height == 300 * num_keys, (width, height)
    with Image.open(path) as im:
        im.load()  # decodes every row: a truncated or corrupt file raises here
        pixels = np.asarray(im.convert("RGB"))
    # Curves, axes and text, not a blank canvas.
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20
    assert (pixels < 128).any()


def test_plots_train_and_val_keys(tmp_path):
    log = write_log(tmp_path / "20260101_000000.log.json")
    out = tmp_path / "curves.png"
    p = run(log, "--keys", "loss", "mIoU", "decode.loss_ce", "--title", "a run", "--out", out)
    assert p.returncode == 0, p.stderr
    assert f"save curve to: {out}" in p.stdout
    check_png(out, num_keys=3)


def test_default_key_and_out(tmp_path):
    log = write_log(tmp_path / "20260101_000000.log.json")
    p = run(log)  # MMSeg's default: --keys mIoU
    assert p.returncode == 0, p.stderr
    out = tmp_path / "20260101_000000_curves.png"
    assert "metric is mIoU" in p.stdout
    check_png(out, num_keys=1)


@pytest.mark.parametrize("legend", [["base", "long"], ["b_loss", "b_miou", "l_loss", "l_miou"]])
def test_two_logs_with_legend(tmp_path, legend):
    a = write_log(tmp_path / "a.log.json")
    b = write_log(tmp_path / "b.log.json", max_iters=400, scale=0.8)
    out = tmp_path / "both.png"
    p = run(a, b, "--keys", "loss", "mIoU", "--legend", *legend, "--out", out)
    assert p.returncode == 0, p.stderr
    check_png(out, num_keys=2)


def test_same_curves_same_file(tmp_path):
    """Nothing in the figure depends on time or chance: a re-run writes the same bytes."""
    log = write_log(tmp_path / "x.log.json")
    for name in ("1.png", "2.png"):
        assert run(log, "--keys", "loss", "--out", tmp_path / name).returncode == 0
    assert (tmp_path / "1.png").read_bytes() == (tmp_path / "2.png").read_bytes()


def one_line_error(p, *needles):
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_file(tmp_path):
    p = run(tmp_path / "none.log.json", "--out", tmp_path / "o.png")
    one_line_error(p, f"{tmp_path / 'none.log.json'}: no such log file")
    assert not (tmp_path / "o.png").exists()


def test_unknown_key_lists_the_keys(tmp_path):
    log = write_log(tmp_path / "x.log.json")
    p = run(log, "--keys", "loss", "los", "--out", tmp_path / "o.png")
    one_line_error(p, "key 'los' not in the log", "did you mean 'loss'?", "keys there:", "mIoU", "decode.loss_ce")
    listed = p.stderr.split("keys there: ")[1].strip().split(", ")
    assert "aux.loss_ce" in listed and not {"mode", "epoch", "iter"} & set(listed)  # a line's own fields
    assert not (tmp_path / "o.png").exists()


def test_log_with_only_the_meta_line(tmp_path):
    log = tmp_path / "new.log.json"
    log.write_text(json.dumps({"exp_name": "t.yaml", "seed": 1}) + "\n")
    one_line_error(run(log, "--out", tmp_path / "o.png"), "key 'mIoU' not in the log", "no train or val lines yet")


def test_malformed_line(tmp_path):
    log = write_log(tmp_path / "x.log.json")
    with open(log, "a") as f:
        f.write('{"mode": "train", "iter": \n')
    lines = len(log.read_text().splitlines())
    one_line_error(run(log, "--keys", "loss", "--out", tmp_path / "o.png"), f"{log}:{lines}: not a JSON line")


def test_bad_legend_count(tmp_path):
    log = write_log(tmp_path / "x.log.json")
    p = run(log, "--keys", "loss", "mIoU", "--legend", "a", "b", "c", "--out", tmp_path / "o.png")
    one_line_error(p, "--legend has 3 names", "one per log (1)", "one per log and key (2)")


def test_bad_out(tmp_path):
    log = write_log(tmp_path / "x.log.json")
    one_line_error(run(log, "--out", tmp_path / "o.svg"), "only PNG")
    one_line_error(run(log, "--out", tmp_path / "no" / "o.png"), "does not exist")


def test_runs_as_a_script_without_display(tmp_path):
    """The shebang runs it through scripts/py; with no DISPLAY it still writes the file (Agg)."""
    log = write_log(tmp_path / "x.log.json")
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    p = subprocess.run([ANALYZE, str(log), "--keys", "loss", "--out", str(tmp_path / "s.png")],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    check_png(tmp_path / "s.png", num_keys=1)
