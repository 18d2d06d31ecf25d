#!/usr/bin/env -S sh -c 'exec "$(dirname "$0")/py" "$0" "$@"'
"""Writes the bundled synthetic dataset as a Cityscapes-layout PNG tree.

    ./scripts/make_synthetic_dataset.py OUT_ROOT [--train N] [--val N] [--size WxH]
        [--num-classes K] [--seed S]

Each image has a smooth, noisy background (class 0) with clutter, and shapes (ellipses,
rectangles, triangles) of classes 1..K-1. A class is told by its texture (stripe angle and
period), not by its colour: every shape gets a random colour, so a per-pixel colour lookup
cannot separate the classes, while a small CNN learns them quickly. A thin band around each
shape's edge is labelled 255 (ignore), as Cityscapes' boundaries are.
"""
import argparse
import os

import numpy as np
from PIL import Image

CITIES = ["synthA", "synthB"]


def class_textures(num_classes):
    """(angle, period) of the stripes of each shape class: a grid of angles x two periods.
    Angles lie in [0, 90] degrees because the training flip mirrors an angle a into 180 - a;
    the periods differ by a factor 2.5, more than the synthetic config's resize range
    (0.75-1.5) can blur, and stay above 4 px, which the backbone's stride-2 stem would alias."""
    count = num_classes - 1
    num_angles = (count + 1) // 2
    step = np.pi / 2 / max(num_angles - 1, 1)
    textures = [(step * (i % num_angles), 6.0 if i < num_angles else 15.0) for i in range(count)]
    return [None] + textures


def draw_sample(rng, width, height, num_classes, textures):
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    # Background: a colour gradient with low-frequency noise, plus untextured clutter blobs.
    base = rng.uniform(40, 215, size=3)
    grad = rng.uniform(-60, 60, size=3)
    image = base + grad * (xx / width)[..., None]
    image += rng.normal(0, 6, size=(height, width, 3))
    label = np.zeros((height, width), dtype=np.uint8)
    for _ in range(rng.randint(2, 5)):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(2, 6)
        blob = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        image[blob] = rng.uniform(0, 255, size=3)
    ignore = np.zeros((height, width), dtype=bool)
    for _ in range(rng.randint(2, 6)):
        cls = rng.randint(1, num_classes)
        angle, period = textures[cls]
        cx, cy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
        rx, ry = rng.uniform(0.12, 0.3) * width, rng.uniform(0.12, 0.3) * height
        kind = rng.randint(3)
        if kind == 0:  # ellipse
            d = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
            mask, edge = d < 1, np.abs(d - 1) < 0.15
        elif kind == 1:  # rectangle
            d = np.maximum(np.abs(xx - cx) / rx, np.abs(yy - cy) / ry)
            mask, edge = d < 1, np.abs(d - 1) < 0.08
        else:  # triangle pointing up
            t = (yy - (cy - ry)) / (2 * ry)
            d = np.where((t >= 0) & (t <= 1), np.abs(xx - cx) / (rx * np.maximum(t, 1e-3)), 2.0)
            mask, edge = (d < 1) & (t <= 1), (np.abs(d - 1) < 0.1) & (t <= 1) & (t >= 0)
        stripes = 0.5 + 0.5 * np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period)
        colour = rng.uniform(30, 225, size=3)
        shaded = colour * (0.55 + 0.45 * stripes)[..., None] + rng.normal(0, 8, size=(height, width, 3))
        image[mask] = shaded[mask]
        label[mask] = cls
        ignore[mask] = False
        ignore |= edge
    label[ignore] = 255
    return np.clip(image, 0, 255).astype(np.uint8), label


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_root")
    p.add_argument("--train", type=int, default=400)
    p.add_argument("--val", type=int, default=100)
    p.add_argument("--size", default="128x96", help="WxH")
    p.add_argument("--num-classes", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    if args.num_classes < 2:
        p.error("--num-classes must be at least 2")
    textures = class_textures(args.num_classes)
    for split, count, offset in (("train", args.train, 0), ("val", args.val, 1_000_000)):
        for i in range(count):
            rng = np.random.RandomState(args.seed * 7919 + offset + i)  # each sample on its own
            image, label = draw_sample(rng, width, height, args.num_classes, textures)
            city = CITIES[i % len(CITIES)]
            stem = f"{city}_{i:06d}_000019"
            img_dir = os.path.join(args.out_root, "leftImg8bit", split, city)
            ann_dir = os.path.join(args.out_root, "gtFine", split, city)
            os.makedirs(img_dir, exist_ok=True)
            os.makedirs(ann_dir, exist_ok=True)
            Image.fromarray(image).save(os.path.join(img_dir, stem + "_leftImg8bit.png"))
            Image.fromarray(label).save(os.path.join(ann_dir, stem + "_gtFine_labelTrainIds.png"))
        print(f"{split}: {count} samples of {width}x{height}, {args.num_classes} classes -> {args.out_root}")


if __name__ == "__main__":
    main()
