"""Weights both ways between segtrain and MMSegmentation 0.30 itself (its PyPI code, run by
mmseg_reference/mmseg_side.py in the reference environment that scripts/setup.sh makes):

- a checkpoint segtrain trained loads in MMSeg (init_segmentor; every key and shape equal), and
  MMSeg's own evaluation of it gives segtest's metrics on the same images;
- a checkpoint MMSeg trained (meta, state_dict, optimizer as MMCV's save_checkpoint writes them)
  gives MMSeg's own metrics in segtest, and starts segtrain's --load-from (weights) and
  --resume-from (weights, optimizer and iteration).

The model is the demo's FCN (ResNetV1c-18, D8), narrowed; the data the synthetic set as PNGs
(MMSeg's CustomDataset) and as the shards convert_dataset.py makes of the same files. MMSeg
rounds its metrics to 1e-4, hence the tolerance.
"""
import glob
import json
import os
import subprocess

import pytest

from conftest import NARROW_DEMO, ROOT, mmseg_reference as mmseg, synthetic_shards
from test_configs import parse_printed, segtrain

SEGTEST = os.path.join(os.path.dirname(os.environ.get("SEGTRAIN_BIN") or os.path.join(ROOT, "build", "segtrain")),
                       "segtest")
CLASSES = [f"class_{i}" for i in range(8)]  # convert_dataset.py --num-classes 8
MMSEG_ROUNDING = 1e-4


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The synthetic set: root/png (MMSeg reads these) and root/shards (segtrain reads these)."""
    root = tmp_path_factory.mktemp("mmseg_data")
    synthetic_shards(root, 8, 4, "48x40")
    return root


@pytest.fixture(scope="module")
def configs(data, tmp_path_factory):
    """The same model and pipelines for both: segtrain's YAML, and MMSeg's .py made from the
    config segtrain prints (BN for SyncBN, which MMSeg cannot train without a process group; the
    weights are the same tensors), reading the PNGs the shards were made of."""
    root = tmp_path_factory.mktemp("mmseg_configs")
    yaml = root / "fcn_tiny.yaml"
    yaml.write_text(NARROW_DEMO + f"""test_pipeline: &test_pipeline  # the images' own size: both sides resize by 1
  - {{type: LoadImageFromFile}}
  - type: MultiScaleFlipAug
    img_scale: [48, 40]
    flip: false
    transforms:
      - {{type: Resize, keep_ratio: true}}
      - {{type: RandomFlip}}
      - {{type: Normalize, mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], to_rgb: true}}
      - {{type: ImageToTensor, keys: [img]}}
      - {{type: Collect, keys: [img]}}
data:
  samples_per_gpu: 2
  workers_per_gpu: 0
  train: {{data_root: {data / 'shards'}}}
  val: {{data_root: {data / 'shards'}, pipeline: *test_pipeline}}
  test: {{data_root: {data / 'shards'}, pipeline: *test_pipeline}}
checkpoint_config: {{interval: 6}}
evaluation: {{interval: 1000, save_best: null}}
log_config: {{interval: 1}}
""")
    p = segtrain(yaml, "--print-config")
    assert p.returncode == 0, p.stderr
    cfg = parse_printed(p.stdout)

    def bn(node):  # and lists of numbers as the tuples MMSeg's configs write (img_scale must be one)
        if isinstance(node, dict):
            return {k: ({"type": "BN", "requires_grad": True} if k == "norm_cfg" else bn(v)) for k, v in node.items()}
        if isinstance(node, list) and node and all(isinstance(v, (int, float)) for v in node):
            return tuple(node)
        return [bn(v) for v in node] if isinstance(node, list) else node

    def split(name, pipeline):
        return dict(type="CustomDataset", data_root=str(data / "png"), img_dir=f"leftImg8bit/{name}",
                    ann_dir=f"gtFine/{name}", img_suffix="_leftImg8bit.png",
                    seg_map_suffix="_gtFine_labelTrainIds.png", classes=CLASSES,
                    palette=[[i * 30, 255 - i * 30, i * 15] for i in range(8)], pipeline=pipeline)

    test_pipeline = bn(cfg["test_pipeline"])
    py = root / "fcn_tiny.py"
    py.write_text("\n".join([
        f"model = {bn(cfg['model'])!r}",
        f"data = {dict(samples_per_gpu=2, workers_per_gpu=0, train=split('train', bn(cfg['data']['train']['pipeline'])), val=split('val', test_pipeline), test=split('val', test_pipeline))!r}",
        f"optimizer = {dict(cfg['optimizer'], lr=0.05)!r}",  # as segtrain's run below: enough to find classes
    ]) + "\n")
    return yaml, py


def segtest_metrics(yaml, checkpoint, work_dir):
    p = subprocess.run([SEGTEST, yaml, checkpoint, "--eval", "mIoU", "--work-dir", work_dir],
                       capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"), cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    (result,) = glob.glob(str(work_dir / "eval_*.json"))
    with open(result) as f:
        return json.load(f)


def assert_same_metrics(ours, theirs):
    """Equal to MMSeg's rounding, on predictions that tell models apart (more than one class found)."""
    ours = ours["metric"]
    accs = [ours[f"Acc.{c}"] for c in CLASSES if ours[f"Acc.{c}"] is not None]  # None: absent
    # One predicted class k would give Acc.k = 1 and 0 elsewhere.
    assert sum(a > 0 for a in accs) >= 2 or any(0 < a < 1 for a in accs), ours
    for key in ["aAcc", "mIoU", "mAcc"] + [f"{m}.{c}" for m in ("IoU", "Acc") for c in CLASSES]:
        if key in theirs and theirs[key] == theirs[key]:  # MMSeg's NaN: a class absent from the images
            assert ours[key] == pytest.approx(theirs[key], abs=MMSEG_ROUNDING), key


def train_log(work_dir):
    (log,) = glob.glob(str(work_dir / "*.log.json"))
    with open(log) as f:
        return [r for r in map(json.loads, f) if r.get("mode") == "train"]


def test_a_segtrain_checkpoint_loads_in_mmseg_with_the_same_metrics(configs, data, tmp_path):
    yaml, py = configs
    work_dir = tmp_path / "wd"
    p = segtrain(yaml, "--work-dir", work_dir, "--seed", "0", "--no-validate", "--options", "runner.max_iters=40",
                 "checkpoint_config.interval=40", "optimizer.lr=0.05")
    assert p.returncode == 0, p.stderr[-3000:]
    checkpoint = work_dir / "iter_40.pth"
    theirs = mmseg("eval", py, checkpoint)
    assert theirs["mismatched_keys"] == []
    ours = segtest_metrics(yaml, checkpoint, tmp_path / "test")
    assert_same_metrics(ours, theirs["metrics"])


def test_an_mmseg_checkpoint_works_in_segtest_load_from_and_resume_from(configs, data, tmp_path):
    yaml, py = configs
    checkpoint = tmp_path / "mmseg_iter_40.pth"
    assert mmseg("train", py, checkpoint, 40)["iter"] == 40
    theirs = mmseg("eval", py, checkpoint)
    assert theirs["mismatched_keys"] == []
    assert_same_metrics(segtest_metrics(yaml, checkpoint, tmp_path / "test"), theirs["metrics"])

    loaded = tmp_path / "load"
    p = segtrain(yaml, "--work-dir", loaded, "--seed", "0", "--no-validate", "--load-from", checkpoint,
                 "--options", "runner.max_iters=2")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "missing keys" not in p.stdout + p.stderr and "size mismatch" not in p.stdout + p.stderr
    assert [r["iter"] for r in train_log(loaded)] == [1, 2]

    resumed = tmp_path / "resume"
    p = segtrain(yaml, "--work-dir", resumed, "--seed", "0", "--no-validate", "--resume-from", checkpoint,
                 "--options", "runner.max_iters=42")
    assert p.returncode == 0, p.stderr[-3000:]
    # MMCV's iter_40.pth says iter 39, and MMCV's own resume trains the 40th again: so does segtrain.
    assert f"resumed from {checkpoint} at iteration 39" in p.stdout + p.stderr
    assert [r["iter"] for r in train_log(resumed)] == [40, 41, 42]
