"""scripts/convert_dataset.py on small generated trees of every layout, and its failure modes."""
import hashlib
import json
import os
import subprocess
import sys

import h5py
import hdf5plugin  # noqa: F401  (registers the lz4 / blosc filters with h5py)
import numpy as np
import pytest
from PIL import Image

from conftest import ROOT

CONVERT = os.path.join(ROOT, "scripts", "convert_dataset.py")


def run(*args, ok=True):
    p = subprocess.run([sys.executable, CONVERT, *map(str, args)], capture_output=True, text=True)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def save(path, array, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array, mode=mode).save(path)


def random_pair(rng, h=12, w=16, classes=5):
    image = rng.randint(0, 256, size=(h, w, 3), dtype=np.uint8)
    label = rng.randint(0, classes, size=(h, w)).astype(np.uint8)
    label[0, 0] = 255
    return image, label


def read_split(folder):
    """All samples of a converted split: {name: (image, label)}, plus the first shard's attributes."""
    out, attrs = {}, None
    for f in sorted(os.listdir(folder)):
        if not f.endswith(".h5"):
            continue
        with h5py.File(os.path.join(folder, f)) as h5:
            attrs = attrs or dict(h5.attrs)
            names = [n.decode() if isinstance(n, bytes) else n for n in h5["index/names"][:]]
            for i, name in enumerate(names):
                data = h5[f"samples/{i:06d}"][:]
                out[name] = (data[..., :3], data[..., 3])
    return out, attrs


def make_cityscapes(root, n=5, label_ids=False, seed=0):
    rng = np.random.RandomState(seed)
    truth = {}
    for i in range(n):
        image, label = random_pair(rng, classes=19)
        stem = f"city_{i:06d}_000019"
        save(f"{root}/leftImg8bit/train/city/{stem}_leftImg8bit.png", image)
        if label_ids:  # store label ids; train id k is label id ids[k]
            ids = np.array([7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33], np.uint8)
            raw = np.where(label == 255, 0, ids[np.minimum(label, 18)]).astype(np.uint8)
            save(f"{root}/gtFine/train/city/{stem}_gtFine_labelIds.png", raw)
        else:
            save(f"{root}/gtFine/train/city/{stem}_gtFine_labelTrainIds.png", label)
        truth[stem] = (image, label)
    return truth


@pytest.mark.parametrize("compression", ["none", "gzip", "lz4", "zstd"])
def test_cityscapes_round_trip(tmp_path, compression):
    truth = make_cityscapes(tmp_path / "src")
    run("cityscapes", tmp_path / "src", tmp_path / "out", "--splits", "train", "--shard-size", 2,
        "--compression", compression, "--workers", 2)
    files = sorted(os.listdir(tmp_path / "out" / "train"))
    assert files == ["conversion_report.json", "train-00000-of-00003.h5", "train-00001-of-00003.h5",
                     "train-00002-of-00003.h5"]
    got, attrs = read_split(tmp_path / "out" / "train")
    assert set(got) == set(truth)
    for name, (image, label) in truth.items():
        np.testing.assert_array_equal(got[name][0], image)
        np.testing.assert_array_equal(got[name][1], label)
    assert attrs["format_version"] == 1 and attrs["total_samples"] == 5 and attrs["num_shards"] == 3
    assert attrs["source_layout"] == "cityscapes" and attrs["compression"] == compression
    assert len(attrs["classes"]) == 19 and attrs["palette"].shape == (19, 3)


def test_cityscapes_label_ids_are_mapped_to_train_ids(tmp_path):
    truth = make_cityscapes(tmp_path / "src", label_ids=True)
    run("cityscapes", tmp_path / "src", tmp_path / "out", "--splits", "train")
    got, _ = read_split(tmp_path / "out" / "train")
    for name, (_, label) in truth.items():
        np.testing.assert_array_equal(got[name][1], label)


def test_ade20k_reduces_zero_label(tmp_path):
    rng = np.random.RandomState(1)
    base = tmp_path / "src" / "ADEChallengeData2016"
    image, _ = random_pair(rng)
    raw = rng.randint(0, 151, size=image.shape[:2]).astype(np.uint8)
    save(f"{base}/images/validation/ADE_val_00000001.jpg", image)
    save(f"{base}/annotations/validation/ADE_val_00000001.png", raw)
    run("ade20k", tmp_path / "src", tmp_path / "out", "--splits", "val")
    got, attrs = read_split(tmp_path / "out" / "val")
    label = got["ADE_val_00000001"][1]
    np.testing.assert_array_equal(label, np.where(raw == 0, 255, raw.astype(int) - 1).astype(np.uint8))
    assert attrs["reduce_zero_label"] == 1 and len(attrs["classes"]) == 150


def test_voc_palette_labels(tmp_path):
    rng = np.random.RandomState(2)
    base = tmp_path / "src" / "VOCdevkit" / "VOC2012"
    image, label = random_pair(rng, classes=21)
    save(f"{base}/JPEGImages/2007_000032.jpg", image)
    lab = Image.fromarray(label, mode="P")
    lab.putpalette(sum(([i, i, i] for i in range(256)), []))
    os.makedirs(f"{base}/SegmentationClass")
    lab.save(f"{base}/SegmentationClass/2007_000032.png")
    os.makedirs(f"{base}/ImageSets/Segmentation")
    (base / "ImageSets/Segmentation/train.txt").write_text("2007_000032\n")
    run("voc", tmp_path / "src", tmp_path / "out", "--splits", "train")
    got, attrs = read_split(tmp_path / "out" / "train")
    np.testing.assert_array_equal(got["2007_000032"][1], label)
    assert list(attrs["palette"][1]) == [128, 0, 0]


def test_voc_trainaug_joins_the_sbd_annotations(tmp_path):
    """MMSeg's pascal_voc12_aug training set: train.txt with SegmentationClass (palette PNGs), then
    aug.txt with SegmentationClassAug (the grey PNGs MMSeg's voc_aug.py writes from SBD)."""
    rng = np.random.RandomState(4)
    base = tmp_path / "src" / "VOCdevkit" / "VOC2012"
    os.makedirs(f"{base}/ImageSets/Segmentation")
    os.makedirs(f"{base}/SegmentationClass")
    labels = {}
    for stem, aug in (("2007_000032", False), ("2008_000002", True), ("2008_000003", True)):
        image, label = random_pair(rng, classes=21)
        save(f"{base}/JPEGImages/{stem}.jpg", image)
        if aug:
            save(f"{base}/SegmentationClassAug/{stem}.png", label)
        else:
            lab = Image.fromarray(label, mode="P")
            lab.putpalette(sum(([i, i, i] for i in range(256)), []))
            lab.save(f"{base}/SegmentationClass/{stem}.png")
        labels[stem] = label
    (base / "ImageSets/Segmentation/train.txt").write_text("2007_000032\n")
    (base / "ImageSets/Segmentation/aug.txt").write_text("2008_000002\n2008_000003\n")
    run("voc", tmp_path / "src", tmp_path / "out", "--splits", "trainaug")
    got, _ = read_split(tmp_path / "out" / "trainaug")
    assert sorted(got) == sorted(labels)
    for stem, label in labels.items():
        np.testing.assert_array_equal(got[stem][1], label)

    (base / "ImageSets/Segmentation/aug.txt").unlink()
    p = run("voc", tmp_path / "src", tmp_path / "out2", "--splits", "trainaug", ok=False)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "aug.txt: split list not found" in p.stderr and "voc_aug.py" in p.stderr


def test_custom_layout(tmp_path):
    rng = np.random.RandomState(3)
    image, label = random_pair(rng, classes=3)
    save(f"{tmp_path}/src/imgs/train/a/x.png", image)
    save(f"{tmp_path}/src/anns/train/a/x_seg.png", label)
    run("custom", tmp_path / "src", tmp_path / "out", "--splits", "train", "--img-dir", "imgs", "--ann-dir", "anns",
        "--img-suffix", ".png", "--seg-suffix", "_seg.png", "--classes", "sky,tree,road")
    got, attrs = read_split(tmp_path / "out" / "train")
    np.testing.assert_array_equal(got["a/x"][1], label)
    assert [c for c in attrs["classes"]] == ["sky", "tree", "road"]


def test_same_input_same_bytes_whatever_the_workers(tmp_path):
    make_cityscapes(tmp_path / "src", n=6)
    run("cityscapes", tmp_path / "src", tmp_path / "a", "--splits", "train", "--workers", 1, "--compression", "gzip")
    run("cityscapes", tmp_path / "src", tmp_path / "b", "--splits", "train", "--workers", 3, "--compression", "gzip")
    digest = lambda d: hashlib.sha256((d / "train" / "train-00000-of-00001.h5").read_bytes()).hexdigest()
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


@pytest.mark.parametrize("problem,needle", [
    ("missing_label", "label not found"),
    ("size_mismatch", "differs from the image's"),
    ("out_of_range", "out of range"),
])
def test_bad_sample_is_an_error_naming_the_file_and_leaves_nothing(tmp_path, problem, needle):
    make_cityscapes(tmp_path / "src", n=3)
    stem = "city_000001_000019"
    label_path = tmp_path / "src" / "gtFine" / "train" / "city" / f"{stem}_gtFine_labelTrainIds.png"
    if problem == "missing_label":
        label_path.unlink()
    elif problem == "size_mismatch":
        save(str(label_path), np.zeros((5, 5), np.uint8))
    else:
        save(str(label_path), np.full((12, 16), 40, np.uint8))
    p = run("cityscapes", tmp_path / "src", tmp_path / "out", "--splits", "train", ok=False)
    assert p.returncode == 2
    assert needle in p.stderr and stem in p.stderr
    assert len(p.stderr.strip().splitlines()[-1]) > 0
    # An interrupted conversion leaves no shard that looks complete, and no temp folder.
    assert not (tmp_path / "out" / "train").exists()
    assert os.listdir(tmp_path / "out") == []


def test_skip_bad_reports(tmp_path):
    make_cityscapes(tmp_path / "src", n=3)
    (tmp_path / "src/gtFine/train/city/city_000002_000019_gtFine_labelTrainIds.png").unlink()
    run("cityscapes", tmp_path / "src", tmp_path / "out", "--splits", "train", "--skip-bad")
    got, attrs = read_split(tmp_path / "out" / "train")
    assert len(got) == 2 and attrs["total_samples"] == 2
    report = json.loads((tmp_path / "out/train/conversion_report.json").read_text())
    assert len(report["skipped"]) == 1 and "city_000002_000019" in report["skipped"][0]


def test_existing_output_needs_overwrite_and_survives_a_failed_one(tmp_path):
    make_cityscapes(tmp_path / "src", n=2)
    run("cityscapes", tmp_path / "src", tmp_path / "out", "--splits", "train")
    before = (tmp_path / "out/train/train-00000-of-00001.h5").read_bytes()
    p = run("cityscapes", tmp_path / "src", tmp_path / "out", "--splits", "train", ok=False)
    assert p.returncode == 2 and "--overwrite" in p.stderr
    (tmp_path / "src/gtFine/train/city/city_000001_000019_gtFine_labelTrainIds.png").unlink()
    p = run("cityscapes", tmp_path / "src", tmp_path / "out", "--splits", "train", "--overwrite", ok=False)
    assert p.returncode == 2
    assert (tmp_path / "out/train/train-00000-of-00001.h5").read_bytes() == before  # good data kept
    make_cityscapes(tmp_path / "src", n=2)
    run("cityscapes", tmp_path / "src", tmp_path / "out", "--splits", "train", "--overwrite")


def test_missing_source_is_an_error(tmp_path):
    p = run("cityscapes", tmp_path / "nothing", tmp_path / "out", ok=False)
    assert p.returncode == 2 and "source folder not found" in p.stderr
    os.makedirs(tmp_path / "empty")
    p = run("cityscapes", tmp_path / "empty", tmp_path / "out", ok=False)
    assert p.returncode == 2 and "folder not found" in p.stderr


def test_synthetic_dataset_cannot_be_solved_by_colour(tmp_path):
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_synthetic_dataset.py"), tmp_path / "syn",
                    "--train", "30", "--val", "10"], check=True, capture_output=True)

    def pixels_of(split):
        images = sorted((tmp_path / "syn/leftImg8bit" / split).rglob("*.png"))
        labels = sorted((tmp_path / "syn/gtFine" / split).rglob("*.png"))
        assert len(images) == len(labels) > 0
        px, cl = [], []
        for i, l in zip(images, labels):
            img, lab = np.asarray(Image.open(i)), np.asarray(Image.open(l))
            assert img.shape[:2] == lab.shape
            assert (lab == 255).any()  # some ignore pixels in every image
            keep = lab != 255
            px.append(img[keep])
            cl.append(lab[keep])
        return (np.concatenate(px) // 32).astype(np.int64) @ np.array([64, 8, 1]), np.concatenate(cl)

    train_key, train_cls = pixels_of("train")
    val_key, val_cls = pixels_of("val")
    assert len(np.unique(train_cls)) == 8
    # A per-pixel colour lookup: each quantised colour -> its majority class on train.
    lookup = np.zeros(512, dtype=np.int64)
    for k in np.unique(train_key):
        lookup[k] = np.bincount(train_cls[train_key == k]).argmax()
    predicted = lookup[val_key]
    ious = [((predicted == c) & (val_cls == c)).sum() / ((predicted == c) | (val_cls == c)).sum()
            for c in np.unique(val_cls)]
    assert np.mean(ious) < 0.5, np.mean(ious)
