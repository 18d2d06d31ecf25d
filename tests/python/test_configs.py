"""Every runnable config under configs/ loads, validates, and says what its MMSeg-style name says.

A name like pspnet_r50-d8_512x1024_40k_cityscapes promises a 512x1024 crop, 40000 iterations and
Cityscapes' 19 classes; these tests hold each config to its name. The segtrain binary comes from
$SEGTRAIN_BIN, else build/segtrain.
"""
import functools
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, synthetic_shards
from segdata import meta

SEGTRAIN = os.environ.get("SEGTRAIN_BIN") or os.path.join(ROOT, "build", "segtrain")
CONFIGS = sorted(p for p in glob.glob(os.path.join(ROOT, "configs", "**", "*.yaml"), recursive=True)
                 if f"{os.sep}_base_{os.sep}" not in p)
# (Swin's names end in the ImageNet weights they start from: _pretrain_224x224_1K.)
NAME = re.compile(r"^(?P<model>.+)_(?P<h>\d+)x(?P<w>\d+)_(?P<kiters>\d+)k_(?P<dataset>[a-z0-9]+)"
                  r"(_pretrain_\d+x\d+_\d+K)?$")
# Classes per dataset name as MMSeg's file names spell it: the converter's class lists, which
# segtrain compares with num_classes when it opens the shards.
DATASETS = {
    "cityscapes": ("CityscapesDataset", len(meta.CITYSCAPES_CLASSES)),
    "ade20k": ("ADE20KDataset", len(meta.ADE20K_CLASSES)),
    "voc12": ("PascalVOCDataset", len(meta.VOC_CLASSES)),
    "voc12aug": ("PascalVOCDataset", len(meta.VOC_CLASSES)),
    "synthetic": ("SyntheticDataset", 8),  # scripts/make_synthetic_dataset.py's default --num-classes
}


def rel(path):
    return os.path.relpath(path, ROOT)


def segtrain(*args, env_extra=None):
    if not os.access(SEGTRAIN, os.X_OK):
        pytest.fail(f"{SEGTRAIN}: segtrain binary not found; build it (scripts/build.sh) or set SEGTRAIN_BIN")
    env = dict(os.environ, OMP_NUM_THREADS="1", **(env_extra or {}))
    return subprocess.run([SEGTRAIN, *map(str, args)], capture_output=True, text=True, cwd=ROOT, env=env)


# --- A reader for the YAML that segtrain --print-config writes (yaml-cpp's block style, flow lists
# of scalars); the environment has no YAML library, and this subset is all the emitter produces.

def _scalar(text):
    text = text.strip()
    if text == "{}":
        return {}
    if text.startswith("["):
        return _flow_list(text)
    if text.startswith('"'):
        return json.loads(text)
    if text in ("null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _flow_list(text):
    inner, items, depth, start = text[1:-1], [], 0, 0
    for i, c in enumerate(inner + ","):
        depth += c == "["
        depth -= c == "]"
        if c == "," and depth == 0:
            if inner[start:i].strip():
                items.append(_scalar(inner[start:i]))
            start = i + 1
    return items


def _block(lines, i, indent):
    """The value whose lines start at lines[i] (indented by `indent`); returns (value, next i)."""
    content = lines[i][1]
    if content == "-" or content.startswith("- "):
        items = []
        while i < len(lines) and lines[i][0] == indent and (lines[i][1] == "-" or lines[i][1].startswith("- ")):
            lines[i] = (indent + 2, lines[i][1][2:])  # the item's first line, at its own indent
            item, i = _block(lines, i, indent + 2)
            items.append(item)
        return items, i
    if not re.match(r"^[^\s\[{\"][^:]*:( |$)", content):
        return _scalar(content), i + 1
    mapping = {}
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
        key, _, rest = lines[i][1].partition(":")
        if rest.strip():
            mapping[key] = _scalar(rest)
            i += 1
        elif i + 1 < len(lines) and lines[i + 1][0] > indent:
            mapping[key], i = _block(lines, i + 1, lines[i + 1][0])
        else:
            mapping[key], i = None, i + 1
    return mapping, i


def parse_printed(text):
    lines = [(len(l) - len(l.lstrip(" ")), l.strip()) for l in text.splitlines() if l.strip()]
    value, end = _block(lines, 0, 0)
    assert end == len(lines), f"unparsed printed config from line {end}: {lines[end]}"
    return value


def test_printed_yaml_reader():
    text = ('a: 1\nb:\n  c: [1, 2.5, x]\n  d:\n    - type: X\n      k: [[t, 1]]\n    - [y, 2]\n  e:\n    {}\n'
            'f: null\ng: "007"\nh: 1.0e-4\ni: true\n')
    assert parse_printed(text) == {"a": 1, "b": {"c": [1, 2.5, "x"], "d": [{"type": "X", "k": [["t", 1]]}, ["y", 2]],
                                                 "e": {}}, "f": None, "g": "007", "h": 1e-4, "i": True}


@functools.lru_cache(maxsize=None)  # each config is printed once per session
def printed_config(config):
    p = segtrain(config, "--print-config")
    assert p.returncode == 0, f"{rel(config)}: --print-config exit {p.returncode}: {p.stderr}"
    return parse_printed(p.stdout)


def step(pipeline, step_type):
    found = [s for s in pipeline if s.get("type") == step_type]
    assert len(found) == 1, f"expected one {step_type} step, found {len(found)}"
    return found[0]


def test_configs_found():
    names = [rel(c) for c in CONFIGS]
    for method in ("fcn", "pspnet", "deeplabv3", "deeplabv3plus", "upernet", "segformer"):
        assert sum(n.startswith(f"configs/{method}/") for n in names) >= 4, names
    assert sum(n.startswith("configs/swin/upernet_swin_") for n in names) >= 3, names


# With the converter's comparison (test_mmseg_config.py): one worker prints each config once.
@pytest.mark.xdist_group("printed_configs")
@pytest.mark.parametrize("config", CONFIGS, ids=rel)
def test_config_matches_its_name(config):
    name = os.path.splitext(os.path.basename(config))[0]
    m = NAME.match(name)
    assert m, f"{rel(config)}: name is not <model>_<H>x<W>_<N>k_<dataset> as MMSeg names configs"
    assert m["dataset"] in DATASETS, f"{rel(config)}: unknown dataset '{m['dataset']}' in the name"
    dataset_type, num_classes = DATASETS[m["dataset"]]
    crop = [int(m["h"]), int(m["w"])]
    max_iters = int(m["kiters"]) * 1000
    cfg = printed_config(config)

    assert cfg["runner"]["max_iters"] == max_iters
    assert cfg["model"]["decode_head"]["num_classes"] == num_classes
    if cfg["model"].get("auxiliary_head"):
        assert cfg["model"]["auxiliary_head"]["num_classes"] == num_classes
    train = cfg["data"]["train"]
    assert train["type"] == dataset_type
    assert step(train["pipeline"], "RandomCrop")["crop_size"] == crop
    assert step(train["pipeline"], "Pad")["size"] == crop
    for split in ("val", "test"):
        assert cfg["data"][split]["type"] == dataset_type
    if m["dataset"] != "synthetic":  # MMSeg's schedules: a checkpoint and an evaluation every tenth
        assert cfg["checkpoint_config"]["interval"] == max_iters // 10
        assert cfg["evaluation"]["interval"] == max_iters // 10


@pytest.mark.parametrize("config", CONFIGS, ids=rel)
def test_config_validates_up_to_the_data(config, tmp_path):
    """A full run with the data pointed at an absent folder: the config itself (sections, keys,
    pipelines) passes every check, and the run stops only at the missing shards, touching nothing."""
    absent = tmp_path / "absent"
    p = segtrain(config, "--work-dir", tmp_path / "wd", "--options", *(f"data.{s}.data_root={absent}"
                                                                        for s in ("train", "val", "test")))
    assert p.returncode == 2, p.stderr
    assert re.fullmatch(rf"segtrain: error: {re.escape(str(absent))}/(train|trainaug): dataset split folder not "
                        r"found \(convert it with scripts/convert_dataset.py\)", p.stderr.strip()), p.stderr
    assert not (tmp_path / "wd").exists()


@pytest.fixture(scope="module")
def ade_like_shards(tmp_path_factory):
    """A tiny Cityscapes-layout set with ADE20K's class count, in shards."""
    return synthetic_shards(tmp_path_factory.mktemp("ade_like"), 2, 1, "64x48", DATASETS["ade20k"][1])


# One config per model base: each builds its full-size model (ResNet-50, MiT-B0 or Swin-T, 150
# classes) and trains one iteration, on 64x64 crops so that it takes seconds on a CPU.
ONE_PER_MODEL = [c for c in CONFIGS if c.endswith("_512x512_80k_ade20k.yaml") or
                 c.endswith("segformer_mit-b0_512x512_160k_ade20k.yaml") or
                 c.endswith("upernet_swin_tiny_patch4_window7_512x512_160k_ade20k_pretrain_224x224_1K.yaml")]


@pytest.mark.parametrize("config", ONE_PER_MODEL, ids=rel)
def test_config_trains_one_iteration(config, ade_like_shards, tmp_path):
    pipeline = printed_config(config)["data"]["train"]["pipeline"]
    index = {s["type"]: i for i, s in enumerate(pipeline)}
    work_dir = tmp_path / "wd"
    try:
        p = segtrain(config, "--work-dir", work_dir, "--no-validate", "--seed", "0", "--options",
                     f"data.train.data_root={ade_like_shards}", f"data.val.data_root={ade_like_shards}",
                     f"data.train.pipeline.{index['Resize']}.img_scale=[64,48]",
                     f"data.train.pipeline.{index['RandomCrop']}.crop_size=[64,64]",
                     f"data.train.pipeline.{index['Pad']}.size=[64,64]",
                     "data.workers_per_gpu=0", "runner.max_iters=1", "checkpoint_config.save_optimizer=False",
                     # no ImageNet weights in this machine's torch hub cache
                     "model.pretrained=None", "model.backbone.init_cfg=None")
        assert p.returncode == 0, p.stderr[-2000:]
        logs = glob.glob(str(work_dir / "*.log.json"))
        assert len(logs) == 1
        with open(logs[0]) as f:
            train = [r for r in map(json.loads, f) if r.get("mode") == "train"]
        assert [r["iter"] for r in train] == [1]
        assert 0 < train[0]["loss"] < 100
    finally:  # the end-of-run checkpoint of a ResNet-50 is ~200 MB; keep none of it
        shutil.rmtree(work_dir, ignore_errors=True)
