"""Python side of bench/data: MMSegmentation's train pipeline done the way MMSeg does it (cv2 and
numpy, mmcv's formulas), reading the PNG tree, on one core. Prints one JSON line.

Usage: mmseg_pipeline.py PNG_ROOT REPEATS
"""
import glob
import json
import os
import sys
import time

import cv2
import numpy as np

cv2.setNumThreads(1)
MEAN = np.array([123.675, 116.28, 103.53], np.float32)
STD = np.array([58.395, 57.12, 57.375], np.float32)


def imrescale(img, scale, interpolation):  # mmcv.imrescale
    h, w = img.shape[:2]
    factor = min(max(scale) / max(h, w), min(scale) / min(h, w))
    size = (int(w * factor + 0.5), int(h * factor + 0.5))
    return cv2.resize(img, size, interpolation=interpolation)


def convert(img, alpha=1, beta=0):  # PhotoMetricDistortion.convert
    img = img.astype(np.float32) * alpha + beta
    return np.clip(img, 0, 255).astype(np.uint8)


def photometric(img, rng):
    if rng.randint(2):
        img = convert(img, beta=rng.uniform(-32, 32))
    mode = rng.randint(2)
    if mode == 1 and rng.randint(2):
        img = convert(img, alpha=rng.uniform(0.5, 1.5))
    if rng.randint(2):
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
        hsv[:, :, 1] = convert(hsv[:, :, 1], alpha=rng.uniform(0.5, 1.5))
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    if rng.randint(2):
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
        hsv[:, :, 0] = (hsv[:, :, 0].astype(int) + rng.randint(-18, 18)) % 180
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    if mode == 0 and rng.randint(2):
        img = convert(img, alpha=rng.uniform(0.5, 1.5))
    return img


def random_crop(img, seg, rng, crop=(512, 1024), cat_max_ratio=0.75):
    def bbox():
        mh, mw = max(img.shape[0] - crop[0], 0), max(img.shape[1] - crop[1], 0)
        y, x = rng.randint(0, mh + 1), rng.randint(0, mw + 1)
        return y, y + crop[0], x, x + crop[1]
    box = bbox()
    for _ in range(10):
        s = seg[box[0]:box[1], box[2]:box[3]]
        labels, cnt = np.unique(s, return_counts=True)
        cnt = cnt[labels != 255]
        if len(cnt) > 1 and np.max(cnt) / np.sum(cnt) < cat_max_ratio:
            break
        box = bbox()
    return img[box[0]:box[1], box[2]:box[3]], seg[box[0]:box[1], box[2]:box[3]]


def pipeline(image_path, label_path, rng):
    img = cv2.imread(image_path, cv2.IMREAD_COLOR)  # LoadImageFromFile (BGR)
    seg = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)  # LoadAnnotations
    ratio = rng.uniform(0.5, 2.0)  # Resize, ratio_range
    scale = (int(2048 * ratio), int(1024 * ratio))
    img = imrescale(img, scale, cv2.INTER_LINEAR)
    seg = imrescale(seg, scale, cv2.INTER_NEAREST)
    img, seg = random_crop(img, seg, rng)
    if rng.rand() < 0.5:  # RandomFlip
        img, seg = np.flip(img, axis=1), np.flip(seg, axis=1)
    img = photometric(np.ascontiguousarray(img), rng)
    img = img.astype(np.float32)  # Normalize (mmcv.imnormalize, to_rgb)
    cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
    cv2.subtract(img, MEAN.reshape(1, -1), img)
    cv2.multiply(img, 1 / STD.reshape(1, -1), img)
    if img.shape[0] < 512 or img.shape[1] < 1024:  # Pad
        padded = np.zeros((512, 1024, 3), np.float32)
        padded[:img.shape[0], :img.shape[1]] = img
        seg_p = np.full((512, 1024), 255, np.uint8)
        seg_p[:seg.shape[0], :seg.shape[1]] = seg
        img, seg = padded, seg_p
    chw = np.ascontiguousarray(img.transpose(2, 0, 1))  # DefaultFormatBundle
    return chw, seg.astype(np.int64)


def main(root, repeats):
    images = sorted(glob.glob(os.path.join(root, "leftImg8bit", "train", "*", "*_leftImg8bit.png")))
    pairs = [(i, i.replace("leftImg8bit", "gtFine", 1).replace("_leftImg8bit.png", "_gtFine_labelTrainIds.png"))
             for i in images]
    rng = np.random.RandomState(0)
    for p in pairs:
        pipeline(*p, rng)  # warm-up
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for p in pairs:
            chw, seg = pipeline(*p, rng)
            assert chw.shape == (3, 512, 1024) and seg.shape == (512, 1024)
        rates.append(len(pairs) / (time.perf_counter() - t0))
    print(json.dumps({"images_per_s": sorted(rates)[len(rates) // 2], "images": len(pairs)}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
