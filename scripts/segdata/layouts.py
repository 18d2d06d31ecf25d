"""Where images and labels live in each source layout, and how labels become class ids.

Each layout yields Samples in a stable (sorted) order, so the same input gives the same shards.
"""
import dataclasses
import glob
import os

import numpy as np

from . import meta


class LayoutError(Exception):
    """A problem with the source tree as a whole (missing folder, no samples)."""


@dataclasses.dataclass(frozen=True)
class Sample:
    name: str
    image: str
    label: str


@dataclasses.dataclass
class Layout:
    name: str
    classes: list
    palette: list
    reduce_zero_label: bool = False

    def samples(self, root, split):
        raise NotImplementedError

    def set_classes(self, classes):
        """Replaces the class list; the palette is kept where it is long enough."""
        if len(classes) > len(self.palette):
            self.palette = fixed_palette(len(classes))
        self.palette = self.palette[: len(classes)]
        self.classes = list(classes)

    def to_class_ids(self, label, path):
        """Label image (as read) -> uint8 class ids, 255 = ignore."""
        label = np.asarray(label)
        if label.ndim != 2:
            raise ValueError(f"{path}: label must be a single-channel image, got shape {label.shape}")
        if self.reduce_zero_label:  # MMSeg's reduce_zero_label: 0 (other) -> 255, k -> k-1
            label = label.astype(np.int32)
            label = np.where(label == 0, 255, label - 1)
            label[label == 254] = 255
        return label.astype(np.uint8)


def _require_dir(path):
    if not os.path.isdir(path):
        raise LayoutError(f"{path}: folder not found")
    return path


class Cityscapes(Layout):
    def __init__(self):
        super().__init__("cityscapes", meta.CITYSCAPES_CLASSES, meta.CITYSCAPES_PALETTE)
        self._lut = np.full(256, 255, dtype=np.uint8)
        for label_id, train_id in meta.CITYSCAPES_ID_TO_TRAINID.items():
            self._lut[label_id] = train_id

    def samples(self, root, split):
        img_dir = _require_dir(os.path.join(root, "leftImg8bit", split))
        ann_dir = os.path.join(root, "gtFine", split)
        for image in sorted(glob.glob(os.path.join(img_dir, "*", "*_leftImg8bit.png"))):
            city = os.path.basename(os.path.dirname(image))
            stem = os.path.basename(image)[: -len("_leftImg8bit.png")]
            train_ids = os.path.join(ann_dir, city, stem + "_gtFine_labelTrainIds.png")
            label_ids = os.path.join(ann_dir, city, stem + "_gtFine_labelIds.png")
            label = train_ids if os.path.exists(train_ids) or not os.path.exists(label_ids) else label_ids
            yield Sample(stem, image, label)

    def to_class_ids(self, label, path):
        label = super().to_class_ids(label, path)
        # Only labelIds files need the cityscapesScripts mapping; labelTrainIds are class ids.
        return self._lut[label] if path.endswith("_gtFine_labelIds.png") else label


class ADE20K(Layout):
    SPLITS = {"train": "training", "val": "validation"}

    def __init__(self):
        super().__init__("ade20k", meta.ADE20K_CLASSES, meta.ADE20K_PALETTE, reduce_zero_label=True)

    def samples(self, root, split):
        base = os.path.join(root, "ADEChallengeData2016")
        base = base if os.path.isdir(base) else root
        sub = self.SPLITS.get(split, split)
        img_dir = _require_dir(os.path.join(base, "images", sub))
        ann_dir = os.path.join(base, "annotations", sub)
        for image in sorted(glob.glob(os.path.join(img_dir, "*.jpg"))):
            stem = os.path.splitext(os.path.basename(image))[0]
            yield Sample(stem, image, os.path.join(ann_dir, stem + ".png"))


class VOC(Layout):
    """VOC2012's split lists. `trainaug` is MMSeg's pascal_voc12_aug training set: train.txt with
    SegmentationClass, then aug.txt with SegmentationClassAug, the two things MMSeg's
    tools/convert_datasets/voc_aug.py makes from SBD (10582 images in all)."""

    def __init__(self):
        super().__init__("voc", meta.VOC_CLASSES, meta.VOC_PALETTE)

    def samples(self, root, split):
        base = os.path.join(root, "VOCdevkit", "VOC2012")
        base = base if os.path.isdir(base) else root
        parts = [("train", "SegmentationClass"), ("aug", "SegmentationClassAug")] if split == "trainaug" \
            else [(split, "SegmentationClass")]
        for list_name, ann_dir in parts:
            list_file = os.path.join(base, "ImageSets", "Segmentation", list_name + ".txt")
            if not os.path.isfile(list_file):
                hint = " (run MMSeg's tools/convert_datasets/voc_aug.py with SBD first)" if list_name == "aug" else ""
                raise LayoutError(f"{list_file}: split list not found{hint}")
            with open(list_file) as f:
                names = [line.strip() for line in f if line.strip()]
            for stem in names:
                yield Sample(stem, os.path.join(base, "JPEGImages", stem + ".jpg"),
                             os.path.join(base, ann_dir, stem + ".png"))


def fixed_palette(n):
    """A palette for classes that come without one: the same colours on every run."""
    return np.random.RandomState(0).randint(0, 256, size=(n, 3)).tolist()


class Custom(Layout):
    def __init__(self, img_dir, ann_dir, img_suffix, seg_suffix, classes, reduce_zero_label=False):
        super().__init__("custom", classes, fixed_palette(len(classes)), reduce_zero_label)
        self.img_dir, self.ann_dir = img_dir, ann_dir
        self.img_suffix, self.seg_suffix = img_suffix, seg_suffix

    def samples(self, root, split):
        img_dir = _require_dir(os.path.join(root, self.img_dir, split))
        ann_dir = os.path.join(root, self.ann_dir, split)
        for image in sorted(glob.glob(os.path.join(img_dir, "**", "*" + self.img_suffix), recursive=True)):
            rel = os.path.relpath(image, img_dir)[: -len(self.img_suffix)]
            yield Sample(rel.replace(os.sep, "/"), image, os.path.join(ann_dir, rel + self.seg_suffix))
