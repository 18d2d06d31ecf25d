"""The bad-input corpus: mistakes a new user makes, each tried against the real programs.

Every case asserts the exit code (2 for the user's mistake, 1 for a runtime failure), exactly one
"error:" line on stderr that names the file, key, flag or rank at fault, and that an existing
work_dir (a finished run's: checkpoints, logs, config dump) and the shard split the case reads
are byte-identical afterwards. Cases whose mistake only shows once training reads a sample
("during_run") get a work_dir of their own: by then the run has started.

Run by tests/bad_inputs/run.sh (meson suite e2e) with SEGTRAIN_BIN, SEGTEST_BIN set.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable, List

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEGTRAIN = os.environ.get("SEGTRAIN_BIN") or os.path.join(ROOT, "build", "segtrain")
SEGTEST = os.environ.get("SEGTEST_BIN") or os.path.join(ROOT, "build", "segtest")
DEMO = os.path.join(ROOT, "configs", "demo", "fcn_r18-d8_64x64_2k_synthetic.yaml")
PY = [sys.executable]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
MPIRUN = ["mpirun", "--oversubscribe", "--bind-to", "none"]
EPOCH = ["runner.max_iters=4"]  # 4 batches of 2: every one of the 8 training samples is read


def data_options(root):
    return [f"data.train.data_root={root}", f"data.val.data_root={root}", f"data.test.data_root={root}",
            "data.samples_per_gpu=2", "data.train.pipeline.2.img_scale=[48,40]",
            "data.val.pipeline.1.img_scale=[48,40]", "runner.max_iters=2", "evaluation.interval=100",
            "checkpoint_config.interval=2"]


class Bed:
    """What the cases start from: shards, a finished run's work_dir, scratch space per case."""

    def __init__(self, base):
        self.base = base
        subprocess.run(PY + [os.path.join(ROOT, "scripts", "make_synthetic_dataset.py"), f"{base}/png",
                             "--train", "8", "--val", "4", "--size", "48x40"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(PY + [os.path.join(ROOT, "scripts", "convert_dataset.py"), "cityscapes", f"{base}/png",
                             f"{base}/shards", "--num-classes", "8", "--workers", "1", "--compression", "gzip",
                             "--shard-size", "3"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.shards = f"{base}/shards"
        self.wd = f"{base}/wd"
        subprocess.run([SEGTRAIN, DEMO, "--work-dir", self.wd, "--options"] + data_options(self.shards),
                       check=True, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ckpt = f"{self.wd}/latest.pth"
        self.scratch = None  # the case's own folder

    def train(self, *extra, options=(), data=None, config=DEMO, work_dir=None):
        return [SEGTRAIN, config, "--work-dir", work_dir or self.wd, *extra, "--options",
                *data_options(data or self.shards), *options]

    def file(self, name, text):
        path = os.path.join(self.scratch, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def config(self, text, name="cfg.yaml"):
        return self.file(name, f"_base_: {DEMO}\n{text}")

    def shard_copy(self):
        """A copy of the shards for a case to damage."""
        dst = os.path.join(self.scratch, "shards")
        shutil.copytree(self.shards, dst)
        return dst

    def checkpoint(self, change):
        """The finished run's checkpoint with `change(dict)` applied, saved in the scratch folder."""
        c = torch.load(self.ckpt, weights_only=False)
        change(c)
        path = os.path.join(self.scratch, "changed.pth")
        torch.save(c, path)
        return path


def first_shard(root):
    return os.path.join(root, "train", sorted(f for f in os.listdir(os.path.join(root, "train")) if f.endswith(".h5"))[0])


def set_attr(root, name, value):
    with h5py.File(first_shard(root), "r+") as f:
        f.attrs[name] = value
    return root


def edit_shard(root, edit):
    with h5py.File(first_shard(root), "r+") as f:
        edit(f)
    return root


def replace_sample(root, data):
    """Sample 0 of the first shard replaced by `data` (its index entry unchanged)."""
    def edit(f):
        del f["samples/000000"]
        f.create_dataset("samples/000000", data=data, chunks=data.shape)
    return edit_shard(root, edit)


def write_label(root, value):
    """Sample 0's label pixels set to `value` (in place, the chunk re-encoded by h5py)."""
    def edit(f):
        sample = f["samples/000000"][...]
        sample[..., 3] = value
        f["samples/000000"][...] = sample
    return edit_shard(root, edit)


def mpmd(rank0, rank1):
    return MPIRUN + ["-np", "1"] + rank0 + [":", "-np", "1"] + rank1


@dataclass
class Case:
    id: str
    argv: Callable[[Bed], List[str]]
    code: int
    needle: str  # in the one error line; {scratch} and {shards} are filled in
    during_run: bool = False
    tags: list = field(default_factory=list)


def png_tree(bed, damage):
    """A small Cityscapes tree in the scratch folder, damaged by `damage(root)`, converted."""
    src = os.path.join(bed.scratch, "src")
    subprocess.run(PY + [os.path.join(ROOT, "scripts", "make_synthetic_dataset.py"), src, "--train", "3",
                         "--val", "0", "--size", "16x12"], check=True, stdout=subprocess.DEVNULL)
    damage(src)
    return PY + [os.path.join(ROOT, "scripts", "convert_dataset.py"), "cityscapes", src,
                 os.path.join(bed.scratch, "out"), "--splits", "train", "--num-classes", "8", "--workers", "1"]


STEM = "synthB_000001_000019"  # a sample of make_synthetic_dataset.py's tree


def label_of(src):
    return f"{src}/gtFine/train/synthB/{STEM}_gtFine_labelTrainIds.png"


def image_of(src):
    return f"{src}/leftImg8bit/train/synthB/{STEM}_leftImg8bit.png"


CASES = [
    # --- configs ---
    Case("yaml_syntax", lambda b: b.train(config=b.file("c.yaml", "model: {type: [EncoderDecoder\n")), 2, "c.yaml"),
    Case("yaml_tabs", lambda b: b.train(config=b.file("c.yaml", "model:\n\ttype: X\n")), 2, "c.yaml"),
    Case("empty_config", lambda b: b.train(config=b.file("c.yaml", "")), 2, "c.yaml"),
    Case("config_is_folder", lambda b: b.train(config=b.scratch), 2, "{scratch}"),
    Case("config_missing", lambda b: b.train(config=b.scratch + "/none.yaml"), 2, "none.yaml"),
    Case("config_binary", lambda b: b.train(config=b.file("c.yaml", "\x00\x01\x02garbage\xff")), 2, "c.yaml"),
    Case("base_cycle", lambda b: b.train(config=(b.file("a.yaml", "_base_: b.yaml\n"),
                                                  b.file("b.yaml", "_base_: a.yaml\n"))[0]), 2, "a.yaml"),
    Case("base_missing", lambda b: b.train(config=b.file("c.yaml", "_base_: nowhere.yaml\n")), 2, "nowhere.yaml"),
    Case("unknown_top_key", lambda b: b.train(config=b.config("optimzer: {lr: 0.1}\n")), 2, "optimzer"),
    Case("unknown_runner_key", lambda b: b.train(options=["runner.max_iter=3"]), 2, "runner.max_iter"),
    Case("wrong_type", lambda b: b.train(options=["optimizer.lr=abc"]), 2, "key 'optimizer.lr'"),
    Case("wrong_type_in_file", lambda b: b.train(config=b.config("optimizer: {momentum: lots}\n")),
         2, "key 'optimizer.momentum'"),
    Case("negative_iters", lambda b: b.train(options=["runner.max_iters=-1"]), 2, "runner.max_iters"),
    Case("override_without_value", lambda b: b.train(options=["runner.max_iters="]), 2, "runner.max_iters"),
    Case("override_bad_list", lambda b: b.train(options=["data.train.pipeline.2.img_scale=[48,40"]), 2, "img_scale"),
    Case("unknown_pipeline_step", lambda b: b.train(options=["data.train.pipeline.3.type=RandomCrp"]),
         2, "RandomCrp"),
    Case("unknown_step_argument", lambda b: b.train(options=["data.train.pipeline.3.crop_sise=[8,8]"]),
         2, "crop_sise"),
    Case("save_best_metric", lambda b: b.train(options=["evaluation.save_best=mDice"]), 2, "evaluation.save_best"),
    Case("bn_momentum", lambda b: b.train(options=["model.backbone.norm_cfg.momentum=2"]), 2, "momentum"),
    Case("bucket_cap_mb", lambda b: b.train(options=["bucket_cap_mb=0"]), 2, "bucket_cap_mb"),
    Case("comm_hook", lambda b: b.train(options=["comm_hook=fp8_compress"]), 2, "key 'comm_hook'"),
    Case("collective_timeout", lambda b: b.train(options=["dist_params.timeout=0"]), 2, "dist_params.timeout"),
    Case("num_classes", lambda b: b.train(options=["model.decode_head.num_classes=5"]),
         2, "model.decode_head.num_classes"),
    Case("unknown_backbone", lambda b: b.train(options=["model.backbone.type=ResNet9000"]), 2, "ResNet9000"),
    Case("fp16_on_cpu", lambda b: b.train(options=["optimizer_config.type=Fp16OptimizerHook",
                                                   "optimizer_config.loss_scale=512."]),
         2, "fp16.dtype=bfloat16"),
    Case("fp16_dtype", lambda b: b.train(options=["fp16.dtype=float8"]), 2, "key 'fp16.dtype'"),
    Case("fp16_loss_scale", lambda b: b.train(options=["fp16.dtype=float16", "fp16.loss_scale=often"]),
         2, "key 'fp16.loss_scale'"),
    Case("optimizer_hook_type", lambda b: b.train(options=["optimizer_config.type=Fp32Hook"]),
         2, "key 'optimizer_config.type'"),
    # --- flags ---
    Case("unknown_flag", lambda b: b.train("--no-valdate"), 2, "--no-valdate"),
    Case("seed_word", lambda b: b.train("--seed", "abc"), 2, "--seed"),
    Case("seed_negative", lambda b: b.train("--seed=-5"), 2, "--seed"),
    Case("load_and_resume", lambda b: b.train("--load-from", b.ckpt, "--resume-from", b.ckpt), 2, "--load-from"),
    Case("empty_work_dir", lambda b: [SEGTRAIN, DEMO, "--work-dir="], 2, "--work-dir"),
    Case("no_config", lambda b: [SEGTRAIN], 2, "CONFIG"),
    Case("options_without_pairs", lambda b: [SEGTRAIN, DEMO, "--options"], 2, "--options"),
    Case("resume_missing", lambda b: b.train("--resume-from", b.scratch + "/none.pth"), 2, "none.pth"),
    Case("load_missing", lambda b: b.train("--load-from", b.scratch + "/none.pth"), 2, "none.pth"),
    Case("segtest_metric", lambda b: [SEGTEST, DEMO, b.ckpt, "--eval", "mDice", "--options"]
         + data_options(b.shards), 2, "mDice"),
    Case("segtest_nothing_to_do", lambda b: [SEGTEST, DEMO, b.ckpt, "--options"] + data_options(b.shards),
         2, "--eval"),
    # --- shards ---
    Case("data_root_missing", lambda b: b.train(data=b.scratch + "/none"), 2, "none/train"),
    Case("split_empty", lambda b: b.train(data=(os.makedirs(b.scratch + "/d/train"), b.scratch + "/d")[1]),
         2, "d/train: no shard files"),
    Case("shard_truncated", lambda b: b.train(data=(lambda r: (os.truncate(first_shard(r), 2000), r)[1])(
        b.shard_copy())), 2, "train-00000-of-00003.h5"),
    Case("shard_not_hdf5", lambda b: b.train(data=(lambda r: (open(first_shard(r), "w").write("text"), r)[1])(
        b.shard_copy())), 2, "train-00000-of-00003.h5"),
    Case("shard_missing", lambda b: b.train(data=(lambda r: (os.remove(first_shard(r)), r)[1])(b.shard_copy())),
         2, "shards/train/train-00000-of-00003.h5: shard 0 of 3 is missing"),
    Case("shard_counts_disagree", lambda b: b.train(data=(lambda r: (os.rename(
        first_shard(r), first_shard(r).replace("-of-00003", "-of-00004")), r)[1])(b.shard_copy())),
        2, "shard counts disagree"),
    Case("format_version", lambda b: b.train(data=set_attr(b.shard_copy(), "format_version", 99)),
         2, "shard format version 99"),
    Case("not_a_segtrain_shard", lambda b: b.train(data=set_attr(b.shard_copy(), "format", "other")),
         2, "not a segtrain shard"),
    Case("index_missing", lambda b: b.train(data=edit_shard(b.shard_copy(), lambda f: f.__delitem__("index/names"))),
         2, "train-00000-of-00003.h5"),
    Case("label_out_of_range", lambda b: b.train(work_dir=b.scratch + "/wd", options=EPOCH, data=write_label(b.shard_copy(), 9)),
         2, "label 9 is not a class id", during_run=True),
    Case("sample_wrong_dtype", lambda b: b.train(work_dir=b.scratch + "/wd", options=EPOCH, data=replace_sample(
        b.shard_copy(), np.zeros((40, 48, 4), np.uint16))), 2, "chunk decodes to", during_run=True),
    Case("sample_wrong_shape", lambda b: b.train(work_dir=b.scratch + "/wd", options=EPOCH, data=replace_sample(
        b.shard_copy(), np.zeros((20, 48, 4), np.uint8))), 2, "chunk decodes to", during_run=True),
    # --- checkpoints ---
    Case("resume_truncated", lambda b: b.train("--resume-from", (lambda p: (shutil.copy(b.ckpt, p), os.truncate(
        p, 3000), p)[2])(b.scratch + "/t.pth")), 2, "t.pth: cannot read the checkpoint"),
    Case("resume_text_file", lambda b: b.train("--resume-from", b.file("t.pth", "not a checkpoint\n")),
         2, "t.pth: cannot read the checkpoint"),
    Case("resume_not_zip", lambda b: b.train("--resume-from", b.file("t.pth", "PK\x03\x04" + "x" * 100)),
         2, "t.pth: cannot read the checkpoint"),
    Case("resume_no_state_dict", lambda b: b.train("--resume-from", b.checkpoint(lambda c: c.pop("state_dict"))),
         2, "no key 'state_dict'"),
    Case("resume_meta_list", lambda b: b.train("--resume-from", b.checkpoint(lambda c: c.update(meta=[1]))),
         2, "key 'meta': expected a dict"),
    Case("resume_sampler_text", lambda b: b.train("--resume-from", b.checkpoint(lambda c: c.update(sampler="x"))),
         2, "key 'sampler': expected a dict"),
    Case("resume_wrong_shape", lambda b: b.train("--resume-from", b.checkpoint(
        lambda c: c["state_dict"].update({"decode_head.conv_seg.weight": torch.zeros(3, 3, 1, 1)}))),
        2, "decode_head.conv_seg.weight"),
    Case("resume_other_model", lambda b: b.train("--resume-from", b.ckpt, options=["model.decode_head.channels=32"]),
         2, "does not match the model"),
    Case("resume_optimizer_type", lambda b: b.train("--resume-from", b.checkpoint(
        lambda c: c["optimizer"].update(type="AdamW"))), 2, "the checkpoint's optimizer is AdamW"),
    Case("load_nothing_fits", lambda b: b.train("--load-from", b.checkpoint(
        lambda c: c.update(state_dict={"foo": torch.zeros(1)}))), 2, "none of its tensors fits the model"),
    Case("segtest_other_model", lambda b: [SEGTEST, DEMO, b.ckpt, "--eval", "mIoU", "--options"]
         + data_options(b.shards) + ["model.decode_head.channels=32"], 2, "does not fit the config's model"),
    # --- the converter ---
    Case("convert_missing_label", lambda b: png_tree(b, lambda src: os.remove(label_of(src))), 2, "label not found"),
    Case("convert_size_mismatch", lambda b: png_tree(b, lambda src: Image.fromarray(
        np.zeros((5, 5), np.uint8)).save(label_of(src))), 2, "differs from the image's"),
    Case("convert_corrupt_png", lambda b: png_tree(b, lambda src: open(image_of(src), "wb").write(b"\x89PNG garbage")),
         2, STEM),
    Case("convert_empty_split", lambda b: png_tree(b, lambda src: [os.remove(os.path.join(d, f)) for d, _, fs in
                                                                 os.walk(src) for f in fs]), 2, "no samples for split 'train'"),
    # --- one rank alone ---
    Case("rank1_data_root", lambda b: mpmd(b.train(), b.train(data=b.scratch + "/none")), 2, "[rank 1 on "),
    Case("rank1_bad_value", lambda b: mpmd(b.train(), b.train(options=["optimizer.lr=abc"])), 2, "[rank 1 on "),
    Case("rank1_checkpoint", lambda b: mpmd(
        [SEGTEST, DEMO, b.ckpt, "--eval", "mIoU", "--options"] + data_options(b.shards),
        [SEGTEST, DEMO, b.scratch + "/none.pth", "--eval", "mIoU", "--options"] + data_options(b.shards)),
        2, "[rank 1 on "),
]


def snapshot(folder):
    out = {}
    for d, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, folder)] = hashlib.sha1(fh.read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    return Bed(str(tmp_path_factory.mktemp("bed")))


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(bed, case, tmp_path):
    bed.scratch = str(tmp_path)
    argv = case.argv(bed)
    data_root = next((a.split("=", 1)[1] for a in argv if a.startswith("data.train.data_root=")), bed.shards)
    data_before = snapshot(data_root) if os.path.isdir(data_root) else None
    wd_before, shards_before = snapshot(bed.wd), snapshot(bed.shards)
    p = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=180, cwd=ROOT)
    errors = [line for line in p.stderr.splitlines() if ": error: " in line]
    assert p.returncode == case.code, f"exit {p.returncode}; stderr:\n{p.stderr[-2000:]}"
    assert len(errors) == 1, f"wanted one error line; stderr:\n{p.stderr[-2000:]}"
    print(f"{case.id}: {errors[0]}")  # the corpus's messages, in the test log for review
    needle = case.needle.format(scratch=bed.scratch, shards=bed.shards)
    assert needle in errors[0], errors[0]
    assert re.match(r"(\[rank \d+ on \S+\] )?(segtrain|segtest|convert_dataset): error: ", errors[0]), \
        "the error line starts with something else"
    assert snapshot(bed.wd) == wd_before, "the existing work_dir changed"
    assert snapshot(bed.shards) == shards_before, "the shard split changed"
    if data_before is not None:
        assert snapshot(data_root) == data_before, "the case's shard split changed"
