"""scripts/mmseg_config.py against MMSegmentation 0.30's own configs (the .py files its PyPI
package ships): converting them gives the merged trees of the YAML configs we ship, file by
file with the _base_ structure kept, and what segtrain cannot train is named up front.
"""
import glob
import importlib.util
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, mmseg_reference
from test_configs import CONFIGS, ade_like_shards, parse_printed, printed_config, rel, segtrain  # noqa: F401

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import mmseg_config  # noqa: E402

CONVERTER = os.path.join(ROOT, "scripts", "mmseg_config.py")


@pytest.fixture(scope="module")
def mmseg_configs():
    spec = importlib.util.find_spec("mmseg")  # found, not imported: importing needs mmcv
    if spec is None:
        pytest.fail("mmsegmentation==0.30.0 is not installed; run scripts/setup.sh (requirements.txt)")
    path = os.path.join(spec.submodule_search_locations[0], ".mim", "configs")
    assert os.path.isdir(path), path
    return path


def twin(mmseg_configs, config):
    """MMSeg's .py for one of our configs: the same path under configs/."""
    return os.path.join(mmseg_configs, os.path.relpath(config, os.path.join(ROOT, "configs"))[:-len(".yaml")] + ".py")


SHIPPED = [c for c in CONFIGS if f"{os.sep}demo{os.sep}" not in c]


@pytest.mark.xdist_group("printed_configs")  # test_configs.py prints them on the same worker
@pytest.mark.parametrize("config", SHIPPED, ids=rel)
def test_converting_mmsegs_config_gives_the_shipped_tree(mmseg_configs, config):
    src = twin(mmseg_configs, config)
    assert os.path.isfile(src), f"{rel(config)} has no MMSeg twin ({src})"
    converted = mmseg_config.translate(mmseg_config.merged_config(src))
    assert not mmseg_config.unsupported_types(converted)
    assert converted == printed_config(config)


def test_the_converters_merge_is_mmcvs(mmseg_configs):
    """MMCV's own Config.fromfile (in the reference environment) merges each shipped config's
    twin to the tree the converter's merge gives."""
    sources = [twin(mmseg_configs, c) for c in SHIPPED]
    theirs = mmseg_reference("configs", *sources)
    for src in sources:
        assert mmseg_config.plain(theirs[src]) == mmseg_config.merged_config(src), src


def test_a_childs_split_override_is_translated_with_its_bases(mmseg_configs, tmp_path):
    base = os.path.join(mmseg_configs, "_base_", "datasets", "pascal_voc12.py")
    child = tmp_path / "child.py"
    child.write_text(f"_base_ = '{base}'\ndata = dict(val=dict(split='ImageSets/Segmentation/train.txt'))\n")
    p = subprocess.run([sys.executable, CONVERTER, child, tmp_path / "child.yaml"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "child.yaml").read_text()
    assert "split: train" in text and "ImageSets" not in text, text


def test_strings_yaml_would_misread_are_quoted():
    for text in (".5", ".inf", "x:", "on", "Yes", "~", "1e5", "#x", "a: b", "", "null"):
        assert mmseg_config.scalar(text).startswith('"'), text
    for text in ("../_base_/models/fcn_r50-d8.yaml", "./a.yaml", "open-mmlab://resnet50_v1c", "SyncBN"):
        assert mmseg_config.scalar(text) == text


def test_converted_files_keep_the_base_structure_and_load_in_segtrain(mmseg_configs, tmp_path):
    """The written YAML (not just the merged tree): a folder converted file by file, whose chains
    segtrain itself merges to what the converter's merge says."""
    out = tmp_path / "configs"
    p = subprocess.run([sys.executable, CONVERTER, mmseg_configs, out], capture_output=True, text=True)
    assert p.returncode == 1  # MMSeg has models segtrain lacks; those are listed, the rest written
    assert re.search(r"converted \d+ file\(s\)", p.stdout), p.stdout
    text = (out / "pspnet" / "pspnet_r101-d8_769x769_80k_cityscapes.yaml").read_text()
    assert "_base_: [./pspnet_r50-d8_769x769_80k_cityscapes.yaml]" in text
    for name in ("pspnet/pspnet_r101-d8_769x769_80k_cityscapes", "upernet/upernet_r18_512x1024_80k_cityscapes",
                 "deeplabv3plus/deeplabv3plus_r50-d8_512x512_160k_ade20k", "fcn/fcn_r101-d8_fp16_512x1024_80k_cityscapes"):
        printed = segtrain(out / f"{name}.yaml", "--print-config")
        assert printed.returncode == 0, printed.stderr
        expected = mmseg_config.translate(mmseg_config.merged_config(os.path.join(mmseg_configs, name + ".py")))
        assert parse_printed(printed.stdout) == expected, name


def test_what_segtrain_lacks_is_listed_in_one_message_and_nothing_is_written(mmseg_configs, tmp_path):
    src = os.path.join(mmseg_configs, "fastfcn", "fastfcn_r50-d32_jpu_psp_512x1024_80k_cityscapes.py")
    out = tmp_path / "out.yaml"
    p = subprocess.run([sys.executable, CONVERTER, src, out], capture_output=True, text=True)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert src in lines[0] and "JPU (at model.neck)" in lines[0], lines[0]
    assert not out.exists()


def test_a_child_inherits_what_its_base_lacks(mmseg_configs, tmp_path):
    """twins_pcpvt-b only changes sizes; its base's PCPVT is still named."""
    src = os.path.join(mmseg_configs, "twins", "twins_pcpvt-b_uperhead_8x2_512x512_160k_ade20k.py")
    p = subprocess.run([sys.executable, CONVERTER, src, tmp_path / "b.yaml"], capture_output=True, text=True)
    assert p.returncode == 1
    assert "PCPVT (at model.backbone)" in p.stderr, p.stderr


def test_voc_aug_becomes_the_trainaug_split_and_other_joined_lists_are_refused(mmseg_configs, tmp_path):
    src = os.path.join(mmseg_configs, "_base_", "datasets", "pascal_voc12_aug.py")
    assert mmseg_config.translate(mmseg_config.merged_config(src))["data"]["train"]["split"] == "trainaug"
    joined = tmp_path / "joined.py"
    joined.write_text(f"_base_ = '{src}'\ndata = dict(train=dict(split=['ImageSets/Segmentation/val.txt', "
                      "'ImageSets/Segmentation/aug.txt']))\n")
    p = subprocess.run([sys.executable, CONVERTER, joined, tmp_path / "joined.yaml"], capture_output=True, text=True)
    assert p.returncode == 1 and "data.train: joined split lists" in p.stderr, p.stderr


def test_an_existing_output_survives_a_failed_conversion(mmseg_configs, tmp_path):
    out = tmp_path / "keep.yaml"
    out.write_text("model: {}\n")
    bad = tmp_path / "bad.py"
    bad.write_text("model = dict(type='EncoderDecoder'\n")
    p = subprocess.run([sys.executable, CONVERTER, bad, out], capture_output=True, text=True)
    assert p.returncode == 1 and f"{bad}:" in p.stderr, p.stderr
    assert out.read_text() == "model: {}\n"


# The converter's table of what segtrain builds, held to segtrain's own "valid ... are" errors.
VALID = re.compile(r"valid (?:types|steps|policies) are (.*)$")


def valid_list(config_overrides, shards, tmp_path):
    """The list in segtrain's error for a bogus type (the data must open: it is checked first)."""
    base = os.path.join(ROOT, "configs", "pspnet", "pspnet_r50-d8_512x512_80k_ade20k.yaml")
    p = segtrain(base, "--work-dir", tmp_path / "wd", "--options", f"data.train.data_root={shards}",
                 f"data.val.data_root={shards}", "model.pretrained=None", *config_overrides)
    m = VALID.search(p.stderr.strip())
    assert p.returncode != 0 and m, p.stderr
    return set(re.findall(r"'([^']+)'", m.group(1)))


@pytest.mark.parametrize("path,override", [
    ("model.backbone", "model.backbone.type=Bogus"),
    ("model.decode_head", "model.decode_head.type=Bogus"),
    ("data.train", "data.train.type=Bogus"),
    ("data.train.pipeline", "data.train.pipeline.0.type=Bogus"),
    ("optimizer", "optimizer.type=Bogus"),
    ("optimizer_config", "optimizer_config.type=Bogus"),
    ("runner", "runner.type=Bogus"),
    ("log_config.hooks", "log_config.hooks.0.type=Bogus"),
])
def test_the_converters_table_is_segtrains(path, override, ade_like_shards, tmp_path):
    table = next(types for pattern, types in mmseg_config.SEGTRAIN_TYPES if re.fullmatch(pattern, path))
    assert table == valid_list([override], ade_like_shards, tmp_path)


def test_the_converters_lr_policies_are_segtrains(ade_like_shards, tmp_path):
    assert mmseg_config.LR_POLICIES == valid_list(["lr_config.policy=Bogus"], ade_like_shards, tmp_path)
