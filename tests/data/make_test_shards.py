"""Prepares what tests/data/test_*.cpp read (usage: make_test_shards.py OUT):
  OUT/png/                  a small synthetic Cityscapes-layout tree (the source of truth)
  OUT/<compression>/train/  its shards, for compression in none, gzip, lz4, zstd
  OUT/expected/<name>.raw   each sample's RGB bytes then its label bytes, decoded by PIL
  OUT/bzip2/train/          a shard with a filter segtrain does not read (bzip2)
  OUT/truncated/train/      a shard cut in half
  OUT/missing/train/        shard 1 of 2 removed
  OUT/bad_label/train/      2 classes; sample 'ok' is fine, sample 'nine' has a label 9
  OUT/wrong_size/train/     a sample whose chunk is smaller than its index says
"""
import os
import shutil
import subprocess
import sys

import h5py
import hdf5plugin
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from segdata import shard_writer  # noqa: E402


def main(out):
    if os.path.exists(out):
        shutil.rmtree(out)
    scripts = os.path.join(ROOT, "scripts")
    subprocess.run([sys.executable, os.path.join(scripts, "make_synthetic_dataset.py"), os.path.join(out, "png"),
                    "--train", "9", "--val", "0", "--size", "48x40"], check=True, stdout=subprocess.DEVNULL)
    for compression in ("none", "gzip", "lz4", "zstd"):
        subprocess.run([sys.executable, os.path.join(scripts, "convert_dataset.py"), "cityscapes",
                        os.path.join(out, "png"), os.path.join(out, compression), "--splits", "train",
                        "--shard-size", "4", "--compression", compression, "--num-classes", "8", "--workers", "1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.makedirs(os.path.join(out, "expected"))
    for image in sorted(glob_png(os.path.join(out, "png", "leftImg8bit"))):
        stem = os.path.basename(image)[: -len("_leftImg8bit.png")]
        label = image.replace("leftImg8bit", "gtFine", 1).replace("_leftImg8bit.png", "_gtFine_labelTrainIds.png")
        rgb = np.asarray(Image.open(image).convert("RGB"))
        lab = np.asarray(Image.open(label))
        with open(os.path.join(out, "expected", stem + ".raw"), "wb") as f:
            f.write(rgb.tobytes() + lab.tobytes())

    # A filter segtrain does not decode: bzip2 (307).
    os.makedirs(os.path.join(out, "bzip2", "train"))
    w = shard_writer.ShardWriter(os.path.join(out, "bzip2", "train"), "train", 10, "none", {
        "classes": np.array(["a", "b"], dtype=object), "palette": np.zeros((2, 3), np.uint8),
        "reduce_zero_label": np.uint8(0), "source_layout": "custom"})
    w.filters = dict(hdf5plugin.BZip2())
    w.add("only", np.zeros((4, 5, 3), np.uint8), np.zeros((4, 5), np.uint8))
    w.finish()

    two_classes = {"classes": np.array(["a", "b"], dtype=object), "palette": np.zeros((2, 3), np.uint8),
                   "reduce_zero_label": np.uint8(0), "source_layout": "custom"}
    os.makedirs(os.path.join(out, "bad_label", "train"))
    w = shard_writer.ShardWriter(os.path.join(out, "bad_label", "train"), "train", 10, "none", two_classes)
    w.add("ok", np.zeros((4, 5, 3), np.uint8), np.array([[0, 1, 255, 1, 0]] * 4, np.uint8))
    nine = np.zeros((4, 5), np.uint8)
    nine[2, 3] = 9
    w.add("nine", np.zeros((4, 5, 3), np.uint8), nine)
    w.finish()

    os.makedirs(os.path.join(out, "wrong_size", "train"))
    w = shard_writer.ShardWriter(os.path.join(out, "wrong_size", "train"), "train", 10, "gzip", two_classes)
    w.add("small", np.zeros((4, 5, 3), np.uint8), np.zeros((4, 5), np.uint8))
    w.finish()
    (shard,) = glob_h5(os.path.join(out, "wrong_size", "train"))
    with h5py.File(shard, "r+") as f:  # the index says 8 x 5: the chunk decodes to 4 x 5 x 4 bytes
        f["index/shapes"][0] = (8, 5)

    shutil.copytree(os.path.join(out, "gzip"), os.path.join(out, "truncated"))
    victim = os.path.join(out, "truncated", "train", "train-00001-of-00003.h5")
    size = os.path.getsize(victim)
    with open(victim, "r+b") as f:
        f.truncate(size // 2)
    shutil.copytree(os.path.join(out, "gzip"), os.path.join(out, "missing"))
    os.remove(os.path.join(out, "missing", "train", "train-00001-of-00003.h5"))


def glob_h5(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".h5"))


def glob_png(folder):
    for d, _, files in os.walk(folder):
        for f in files:
            if f.endswith(".png"):
                yield os.path.join(d, f)


if __name__ == "__main__":
    main(sys.argv[1])
