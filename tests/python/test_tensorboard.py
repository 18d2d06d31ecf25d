"""log_config.hooks' TensorboardLoggerHook: the event files segtrain writes, read back with
TensorBoard's own reader (which checks every record's CRC), hold the JSON log's losses, learning
rate and evaluation metrics (per class too) under MMCV's tags, at the same iterations.
"""
import glob
import json
import os

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow

from conftest import NARROW_DEMO, synthetic_shards
from test_configs import segtrain



@pytest.fixture(scope="module")
def tiny_shards(tmp_path_factory):
    """As tests/e2e/e2e_lib.sh's tiny_shards: 8 + 4 samples of 48x40 in 8 classes."""
    return synthetic_shards(tmp_path_factory.mktemp("tiny"), 8, 4, "48x40")


def config(tmp_path, shards, hooks):
    """The demo, narrowed to seconds on a CPU, with the given log_config.hooks (YAML text)."""
    path = tmp_path / "tb.yaml"
    path.write_text(NARROW_DEMO + f"""data:
  samples_per_gpu: 2
  workers_per_gpu: 0
  train: {{data_root: {shards}}}
  val: {{data_root: {shards}}}
  test: {{data_root: {shards}}}
runner: {{max_iters: 6}}
checkpoint_config: {{interval: 6, save_optimizer: false}}
evaluation: {{interval: 3, save_best: null}}
log_config:
  interval: 2
  hooks: {hooks}
""")
    return path


def read_scalars(event_file):
    acc = EventAccumulator(str(event_file), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_scalars_match_the_json_log_under_mmcvs_tags(tiny_shards, tmp_path):
    cfg = config(tmp_path, tiny_shards, "[{type: TextLoggerHook, by_epoch: false}, {type: TensorboardLoggerHook}]")
    work_dir = tmp_path / "wd"
    p = segtrain(cfg, "--work-dir", work_dir, "--seed", "0")
    assert p.returncode == 0, p.stderr[-2000:]
    files = glob.glob(str(work_dir / "tf_logs" / "events.out.tfevents.*"))
    assert len(files) == 1, files

    # Every record's framing and CRCs, with TensorBoard's record reader (it raises on a bad CRC).
    reader = pywrap_tensorflow.PyRecordReader_New(files[0].encode())
    records = 0
    while True:
        try:
            reader.GetNext()
        except Exception as e:  # OutOfRangeError at the end; DataLossError on a bad CRC
            assert type(e).__name__ == "OutOfRangeError", e
            break
        records += 1

    scalars = read_scalars(files[0])
    with open(glob.glob(str(work_dir / "*.log.json"))[0]) as f:
        lines = [json.loads(line) for line in f]
    train = [r for r in lines if r.get("mode") == "train"]
    val = [r for r in lines if r.get("mode") == "val"]
    assert [r["iter"] for r in train] == [2, 4, 6] and [r["iter"] for r in val] == [3, 6]

    expected = {}
    for r in train:
        expected.setdefault("learning_rate", []).append((r["iter"], r["lr"]))
        for k, v in r.items():
            if k not in ("mode", "epoch", "iter", "lr", "time", "data_time", "memory", "interval_memory"):
                expected.setdefault(f"train/{k}", []).append((r["iter"], v))
    for r in val:
        for k, v in r.items():
            if k not in ("mode", "epoch", "iter") and v is not None:
                expected.setdefault(f"val/{k}", []).append((r["iter"], v))
    assert {"train/loss", "train/decode.loss_ce", "train/aux.acc_seg", "val/mIoU", "val/aAcc"} <= set(expected)
    assert any(tag.startswith("val/IoU.") for tag in expected)  # per class
    assert set(scalars) == set(expected)
    for tag, points in expected.items():
        assert [s for s, _ in scalars[tag]] == [s for s, _ in points], tag
        for (_, got), (_, want) in zip(scalars[tag], points):
            assert got == pytest.approx(want, rel=1e-6, abs=1e-12), tag  # stored as float32
    assert records == 1 + sum(len(points) for points in expected.values())  # the version event first


def test_log_dir_names_another_folder(tiny_shards, tmp_path):
    log_dir = tmp_path / "elsewhere"
    cfg = config(tmp_path, tiny_shards, f"[{{type: TensorboardLoggerHook, log_dir: {log_dir}}}]")
    p = segtrain(cfg, "--work-dir", tmp_path / "wd", "--seed", "0", "--no-validate")
    assert p.returncode == 0, p.stderr[-2000:]
    files = glob.glob(str(log_dir / "events.out.tfevents.*"))
    assert len(files) == 1 and not (tmp_path / "wd" / "tf_logs").exists()
    assert [s for s, _ in read_scalars(files[0])["train/loss"]] == [2, 4, 6]


@pytest.mark.parametrize("hooks,message", [
    ("[{type: WandbLoggerHook}]", "unknown logger hook 'WandbLoggerHook'; valid types are 'TextLoggerHook', "
                                  "'TensorboardLoggerHook'"),
    ("[{type: TensorboardLoggerHook, interval: 5}]", "a logger hook of its own interval is not supported"),
    ("[{type: TensorboardLoggerHook, by_epoch: true}]", "iteration-based"),
])
def test_a_bad_hook_is_one_line_naming_the_key_and_touches_nothing(tiny_shards, tmp_path, hooks, message):
    cfg = config(tmp_path, tiny_shards, hooks)
    p = segtrain(cfg, "--work-dir", tmp_path / "wd")
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "log_config.hooks" in lines[0], p.stderr
    assert not (tmp_path / "wd").exists()
