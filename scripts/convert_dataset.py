#!/usr/bin/env -S sh -c 'exec "$(dirname "$0")/py" "$0" "$@"'
"""Converts a Cityscapes / ADE20K / VOC / custom tree into segtrain's HDF5 shards.

    ./scripts/convert_dataset.py {cityscapes,ade20k,voc,custom} SRC_ROOT OUT_DIR
        [--splits train,val] [--shard-size N] [--compression none|gzip|lz4|zstd] [--workers N]
        [--overwrite] [--skip-bad] [custom: --img-dir D --ann-dir D --img-suffix S --seg-suffix S
        --classes a,b,c | --num-classes N]

Each split lands in OUT_DIR/<split>/. For voc, the split `trainaug` is MMSeg's pascal_voc12_aug
training set (train.txt with SegmentationClass, then aug.txt with SegmentationClassAug).
Every sample is checked (label present, same size as the image, values < number of classes or
255); a bad one stops the run with an error naming the file, or with --skip-bad is skipped and
listed in OUT_DIR/<split>/conversion_report.json.
An existing split is replaced only with --overwrite, and only once the new one is complete.
"""
import argparse
import json
import multiprocessing
import os
import shutil
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from segdata import layouts  # noqa: E402
from segdata.shard_writer import ShardWriter  # noqa: E402


class BadSample(Exception):
    pass


class UserError(Exception):
    """Printed as one line, exit code 2."""


def make_layout(args):
    classes = None
    if args.classes:
        classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    elif args.num_classes:
        classes = [f"class_{i}" for i in range(args.num_classes)]
    if args.layout == "custom":
        if classes is None:
            raise UserError("custom layout needs --classes or --num-classes")
        return layouts.Custom(args.img_dir, args.ann_dir, args.img_suffix, args.seg_suffix, classes,
                              args.reduce_zero_label)
    layout = {"cityscapes": layouts.Cityscapes, "ade20k": layouts.ADE20K, "voc": layouts.VOC}[args.layout]()
    if classes is not None:  # e.g. the synthetic set: Cityscapes' layout, its own classes
        layout.set_classes(classes)
    return layout


def load(job):
    """Worker: reads, checks and converts one sample. Returns (name, image, label) or raises BadSample."""
    layout, sample = job
    if not os.path.isfile(sample.image):
        raise BadSample(f"{sample.image}: image not found")
    if not os.path.isfile(sample.label):
        raise BadSample(f"{sample.label}: label not found (for image {sample.image})")
    try:
        with Image.open(sample.image) as im:
            image = np.asarray(im.convert("RGB"))
        with Image.open(sample.label) as lb:
            raw = np.asarray(lb)  # palette images give their indices, as VOC needs
    except Exception as e:  # PIL raises many types for broken files
        raise BadSample(f"{sample.image}: cannot decode ({e})")
    label = layout.to_class_ids(raw, sample.label)
    if label.shape != image.shape[:2]:
        raise BadSample(f"{sample.label}: label size {label.shape[1]}x{label.shape[0]} differs from the "
                        f"image's {image.shape[1]}x{image.shape[0]}")
    values = np.unique(label)
    bad = values[(values >= len(layout.classes)) & (values != 255)]
    if bad.size:
        raise BadSample(f"{sample.label}: label values {bad.tolist()[:5]} out of range "
                        f"(num_classes {len(layout.classes)}, ignore 255)")
    return sample.name, image, label


def safe_load(job):
    try:
        return load(job), None
    except BadSample as e:
        return None, str(e)
    except ValueError as e:
        return None, str(e)


class Progress:
    """One line on stderr: count, rate, ETA."""

    def __init__(self, total, label):
        self.total, self.label, self.start, self.last = total, label, time.time(), 0.0
        self.line_open = False  # a bar written and its line not ended

    def update(self, done, force=False):
        now = time.time()
        if not force and now - self.last < 0.2:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else 0
        width = 30
        filled = int(width * done / max(self.total, 1))
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} "
                         f"{rate:.1f} img/s ETA {int(eta) // 60}:{int(eta) % 60:02d}")
        self.line_open = not force
        if force:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def end_line(self):
        """Ends the bar's line, so that an error after it gets a line of its own."""
        if self.line_open:
            sys.stderr.write("\n")
            self.line_open = False


def convert_split(args, layout, split):
    final_dir = os.path.join(args.out_dir, split)
    if os.path.exists(final_dir) and os.listdir(final_dir) and not args.overwrite:
        raise UserError(f"{final_dir} exists and is not empty; pass --overwrite to replace it")
    samples = list(layout.samples(args.src_root, split))
    if not samples:
        raise UserError(f"no samples for split '{split}' under {args.src_root}")
    work_dir = os.path.join(args.out_dir, f".{split}.partial-{os.getpid()}")
    os.makedirs(work_dir)
    writer = ShardWriter(work_dir, split, args.shard_size, args.compression, {
        "classes": np.array(layout.classes, dtype=object),
        "palette": np.array(layout.palette, dtype=np.uint8),
        "reduce_zero_label": np.uint8(layout.reduce_zero_label),
        "source_layout": layout.name,
    })
    skipped = []
    progress = Progress(len(samples), f"{split}:")
    try:
        jobs = [(layout, s) for s in samples]
        with multiprocessing.Pool(args.workers) as pool:
            # imap keeps input order: the shards do not depend on the worker count.
            for done, (result, error) in enumerate(pool.imap(safe_load, jobs, chunksize=4), 1):
                if error:
                    if not args.skip_bad:
                        raise UserError(f"{error}")
                    skipped.append(error)
                else:
                    writer.add(*result)
                progress.update(done)
        progress.update(len(samples), force=True)
        if writer.total == 0:
            raise UserError(f"every sample of split '{split}' was bad")
        writer.finish()
        with open(os.path.join(work_dir, "conversion_report.json"), "w") as f:
            json.dump({"split": split, "source_layout": layout.name, "samples": writer.total,
                       "skipped": skipped, "compression": args.compression}, f, indent=1)
        # Swap in the complete split; the old one (if any) goes only after that.
        old = None
        if os.path.exists(final_dir):
            old = os.path.join(args.out_dir, f".{split}.old-{os.getpid()}")
            os.replace(final_dir, old)
        os.replace(work_dir, final_dir)
        if old:
            shutil.rmtree(old)
    except BaseException:
        progress.end_line()
        writer.abandon()
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    msg = f"{split}: {writer.total} samples -> {final_dir}"
    if skipped:
        msg += f" ({len(skipped)} skipped, see conversion_report.json)"
    print(msg)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("layout", choices=["cityscapes", "ade20k", "voc", "custom"])
    p.add_argument("src_root")
    p.add_argument("out_dir")
    p.add_argument("--splits", default="train,val")
    p.add_argument("--shard-size", type=int, default=500, help="samples per shard")
    p.add_argument("--compression", choices=["none", "gzip", "lz4", "zstd"], default="lz4")
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--skip-bad", action="store_true")
    p.add_argument("--img-dir", default="img_dir")
    p.add_argument("--ann-dir", default="ann_dir")
    p.add_argument("--img-suffix", default=".jpg")
    p.add_argument("--seg-suffix", default=".png")
    p.add_argument("--classes", help="comma-separated class names (custom; overrides a layout's own)")
    p.add_argument("--num-classes", type=int, help="number of classes, named class_0 ... (as --classes)")
    p.add_argument("--reduce-zero-label", action="store_true", help="custom: label 0 is 'other' (-> 255)")
    args = p.parse_args(argv)
    if args.shard_size < 1 or args.workers < 1:
        p.error("--shard-size and --workers must be positive")
    try:
        if not os.path.isdir(args.src_root):
            raise UserError(f"{args.src_root}: source folder not found")
        layout = make_layout(args)
        os.makedirs(args.out_dir, exist_ok=True)
        for split in [s.strip() for s in args.splits.split(",") if s.strip()]:
            convert_split(args, layout, split)
    except (UserError, layouts.LayoutError, RuntimeError) as e:
        sys.stderr.write(f"convert_dataset: error: {e}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
