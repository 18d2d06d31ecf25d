"""Seed inputs for the fuzz targets, made from the test data (usage: make_seed_corpus.py OUT):
  OUT/config/      each shipped config with its first two _base_ files inlined (as b1.yaml and
                   b2.yaml, see fuzz_config.cpp) and a few --options lines
  OUT/override/    --options assignments of the forms MMCV's DictAction takes
  OUT/chunk/       the raw chunks of the test shards (tests/data/make_test_shards.py), each under
                   its shard's filter pipeline, in fuzz_chunk.cpp's input form
  OUT/checkpoint/  .pth files in segtrain's, MMSeg's and torchvision's layouts, made by torch.save
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEPARATOR = "\n%%\n"
OVERRIDES = ["optimizer.lr=0.02", "model.backbone.with_cp=True", "data.samples_per_gpu=4",
             "data.train.pipeline.1.prob=0.3", "model.decode_head.num_classes=[(1,2),(3,4)]",
             "log_config.hooks=None", "work_dir='x y'"]


def save(folder, content):
    os.makedirs(folder, exist_ok=True)
    data = content if isinstance(content, bytes) else content.encode()
    with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def base_list(text):
    """The paths of a config's `_base_` (a scalar or a block list) and the text without it."""
    lines, out, bases, in_base = text.splitlines(), [], [], False
    for line in lines:
        m = re.match(r"_base_:\s*(.*)$", line)
        if m:
            in_base = True
            value = m.group(1).strip()
            if value.startswith("["):
                bases += [b.strip().strip("'\"") for b in value.strip("[]").split(",") if b.strip()]
            elif value:
                bases.append(value.strip("'\""))
            continue
        if in_base and re.match(r"\s*-\s*", line):
            bases.append(re.sub(r"^\s*-\s*", "", line).strip().strip("'\""))
            continue
        in_base = False
        out.append(line)
    return bases, "\n".join(out) + "\n"


def config_seeds(out):
    for folder, _, files in os.walk(os.path.join(ROOT, "configs")):
        for name in sorted(files):
            path = os.path.join(folder, name)
            bases, body = base_list(open(path).read())
            inlined = [base_list(open(os.path.join(folder, b)).read())[1] for b in bases[:2]]
            header = "_base_: [%s]\n" % ", ".join(["b1.yaml", "b2.yaml"][: len(inlined)]) if inlined else ""
            save(os.path.join(out, "config"), SEPARATOR.join([header + body] + inlined))
            if len(inlined) == 2:
                save(os.path.join(out, "config"),
                     SEPARATOR.join([header + body] + inlined + ["\n".join(OVERRIDES)]))
    # A chain (b1 -> b2), `_delete_`, merge keys and anchors.
    save(os.path.join(out, "config"), SEPARATOR.join([
        "_base_: b1.yaml\nmodel:\n  backbone: {_delete_: true, type: ResNet, depth: 18}\n",
        "_base_: b2.yaml\ndefaults: &d {lr: 0.01, momentum: 0.9}\noptimizer:\n  <<: *d\n  type: SGD\n",
        "model:\n  backbone: {type: ResNetV1c, depth: 50}\n  decode_head: {num_classes: 19}\n",
        "optimizer.lr=0.1\nmodel.backbone.depth=101"]))


def override_seeds(out):
    for text in OVERRIDES + ["a.b=1e-3", "x=[1,2]", "x=(1,2)", "x=1,2", "x=\"q\"", "x=False", "x=null",
                             "model.backbone.out_indices.0=3", "optimizer.lr=abc", "=1", "a..b=2"]:
        save(os.path.join(out, "override"), text)


def chunk_seeds(out):
    ids = {1: 0, 2: 1, 32001: 2, 32004: 3, 307: 4}  # fuzz_chunk.cpp's kIds
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "data", "make_test_shards.py"), tmp],
                       check=True, stdout=subprocess.DEVNULL)
        for folder, _, files in os.walk(tmp):
            for name in sorted(f for f in files if f.endswith(".h5")):
                try:
                    f = h5py.File(os.path.join(folder, name), "r")
                except OSError:
                    continue  # the damaged shards of the test data
                with f:
                    for key in list(f.get("samples", {}))[:3]:
                        ds = f["samples"][key]
                        plist = ds.id.get_create_plist()
                        filters = [plist.get_filter(k)[0] for k in range(plist.get_nfilters())]
                        if len(filters) > 3 or any(i not in ids for i in filters):
                            continue
                        mask, raw = ds.id.read_direct_chunk((0, 0, 0))
                        h, w = ds.shape[:2]
                        head = bytes([len(filters) | ((mask & 7) << 2)] + [ids[i] for i in filters] +
                                     [(h - 1) % 64, (w - 1) % 64])
                        save(os.path.join(out, "chunk"), head + bytes(raw))


def checkpoint_seeds(out):
    torch.manual_seed(0)
    weights = {"backbone.conv1.weight": torch.randn(4, 3, 3, 3), "backbone.bn1.weight": torch.ones(4),
               "backbone.bn1.num_batches_tracked": torch.tensor(3), "decode_head.conv_seg.bias": torch.zeros(2)}
    meta = {"iter": 4, "seed": 0, "config": "model: {type: EncoderDecoder}\n", "CLASSES": ["a", "b"],
            "PALETTE": [[0, 0, 0], [255, 0, 0]], "time": "Thu Dec  3 00:00:00 2026",
            "hook_msgs": {"best_score": 0.5, "best_ckpt": "best_mIoU_iter_4.pth"}}
    segtrain = {"meta": meta, "state_dict": weights,
                "optimizer": {"type": "SGD", "state": {k: {"momentum_buffer": torch.zeros_like(v)}
                                                       for k, v in weights.items() if v.is_floating_point()}},
                "sampler": {"epoch": 0, "offset": 8, "world_size": 2}, "rng": torch.get_rng_state()}
    # As MMCV's save_checkpoint writes it: module.state_dict() (an OrderedDict with _metadata,
    # which segtrain rewrites before torch's unpickler: io/checkpoint/ordered_dicts.h) and torch's
    # own optimizer layout (state keyed by parameter position).
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    sgd = torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.9)
    module(torch.randn(2, 3, 8, 8)).sum().backward()
    sgd.step()
    mmcv = {"meta": dict(meta, epoch=1), "state_dict": module.state_dict(), "optimizer": sgd.state_dict()}
    layouts = [segtrain, dict(segtrain, optimizer=None), {"meta": {"iter": 1}, "state_dict": weights}, mmcv,
               module.state_dict(),
               {"state_dict": {"module." + k: v for k, v in weights.items()}}, weights,
               {"fc.weight": torch.randn(3, 4), "conv1.weight": torch.randn(2, 3, 7, 7).half()}, [1, 2], {}]
    for layout in layouts:
        with tempfile.TemporaryFile() as f:
            torch.save(layout, f)
            f.seek(0)
            save(os.path.join(out, "checkpoint"), f.read())


def main(out):
    config_seeds(out)
    override_seeds(out)
    chunk_seeds(out)
    checkpoint_seeds(out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
