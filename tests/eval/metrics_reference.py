"""Writes random predictions and labels and their mIoU / mAcc / aAcc computed with numpy the way
MMSegmentation's mean_iou does (histograms of intersect, union, pred, label; nanmean), for
tests/eval/test_seg_metrics.cpp. Usage: metrics_reference.py OUT_DIR (writes OUT_DIR/metrics.pth)"""
import os
import sys

import numpy as np
import torch

NUM_CLASSES = 6


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "metrics.pth")
    rng = np.random.RandomState(0)
    data = {}
    inter = np.zeros(NUM_CLASSES)
    union = np.zeros(NUM_CLASSES)
    area_pred = np.zeros(NUM_CLASSES)
    area_label = np.zeros(NUM_CLASSES)
    for i in range(4):
        h, w = rng.randint(5, 20, size=2)
        label = rng.randint(0, NUM_CLASSES - 1, size=(h, w))  # class 5 never in the labels
        label[rng.rand(h, w) < 0.1] = 255
        pred = np.where(rng.rand(h, w) < 0.6, label, rng.randint(0, NUM_CLASSES, size=(h, w)))
        pred[label == 255] = rng.randint(0, NUM_CLASSES)
        data[f"pred{i}"] = torch.from_numpy(pred.astype(np.int64))
        data[f"label{i}"] = torch.from_numpy(label.astype(np.int64))
        mask = label != 255
        p, l = pred[mask], label[mask]
        i_hist = np.histogram(p[p == l], bins=NUM_CLASSES, range=(0, NUM_CLASSES))[0]
        p_hist = np.histogram(p, bins=NUM_CLASSES, range=(0, NUM_CLASSES))[0]
        l_hist = np.histogram(l, bins=NUM_CLASSES, range=(0, NUM_CLASSES))[0]
        inter += i_hist
        area_pred += p_hist
        area_label += l_hist
        union += p_hist + l_hist - i_hist
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
        acc = inter / area_label
    data["iou"] = torch.from_numpy(iou)
    data["acc"] = torch.from_numpy(acc)
    data["summary"] = torch.tensor([inter.sum() / area_label.sum(), np.nanmean(iou), np.nanmean(acc)])
    torch.save(data, out)


if __name__ == "__main__":
    main(sys.argv[1])
