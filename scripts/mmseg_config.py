#!/usr/bin/env python3
"""Converts MMSegmentation 0.x Python configs to segtrain's YAML, file by file.

    mmseg_config.py SRC.py [OUT.yaml]      one file (OUT defaults to SRC with .yaml)
    mmseg_config.py SRC_DIR OUT_DIR        every .py under SRC_DIR, same layout under OUT_DIR

Each file stays one file: its `_base_` entries keep their relative paths with .py -> .yaml, so a
converted folder has the same inheritance as MMSeg's. A file is executed as MMCV's Config does
(plain Python, its own variables; `{{ fileDirname }}`-style names substituted) and its variables are
written in file order. What differs between the two trainers is translated:
  - datasets: segtrain reads HDF5 shards (scripts/convert_dataset.py), so a dataset's
    img_dir/ann_dir (or VOC's split list; VOC aug's [train.txt, aug.txt] is `trainaug`) becomes
    `split`, and MMSeg's data_root becomes the shard folder that convert_dataset.py's documented
    command writes;
  - ADE20K's reduce_zero_label: convert_dataset.py applies it once when it writes the shards, so
    LoadAnnotations does not repeat it.
Types that segtrain cannot train (a backbone, head, dataset, pipeline step, optimizer, lr policy or
hook it lacks) are all listed in one error, per file, and nothing is written for that file.
"""
import argparse
import ast
import json
import os
import re
import sys

# What segtrain builds, by where a `type` sits in the merged config (a dotted path; list items
# share their list's path). A `type` anywhere else is a part segtrain does not have (a neck, a
# pixel sampler...). tests/python/test_mmseg_config.py holds this table to segtrain's own
# "valid types are ..." errors.
HEADS = {"FCNHead", "PSPHead", "ASPPHead", "DepthwiseSeparableASPPHead", "UPerHead", "SegformerHead"}
PIPELINE = {"LoadImageFromFile", "LoadAnnotations", "Resize", "RandomCrop", "RandomFlip", "PhotoMetricDistortion",
            "Normalize", "Pad", "DefaultFormatBundle", "Collect", "MultiScaleFlipAug", "ImageToTensor"}
SEGTRAIN_TYPES = [
    (r"model", {"EncoderDecoder"}),
    (r"model\.backbone", {"ResNet", "ResNetV1c", "ResNetV1d", "MixVisionTransformer", "SwinTransformer"}),
    (r"model\.backbone\.init_cfg", {"Pretrained"}),
    (r"model\.(decode_head|auxiliary_head)", HEADS),
    # The transformer backbones' LayerNorm and GELU (Swin's base names its norm_cfg backbone_norm_cfg).
    (r"model\.backbone\.norm_cfg|backbone_norm_cfg", {"BN", "SyncBN", "LN"}),
    (r"model\.backbone\.act_cfg", {"GELU"}),
    (r"(.+\.)?norm_cfg", {"BN", "SyncBN"}),
    (r"(.+\.)?act_cfg", {"ReLU"}),
    (r".+\.loss_decode", {"CrossEntropyLoss"}),
    (r"data\.(train|val|test)", {"CityscapesDataset", "ADE20KDataset", "PascalVOCDataset", "SyntheticDataset",
                                  "CustomDataset"}),
    (r"(.+\.)?(train_pipeline|test_pipeline|pipeline|transforms)", PIPELINE),
    (r"optimizer", {"SGD", "AdamW"}),
    (r"optimizer_config", {"OptimizerHook", "Fp16OptimizerHook"}),
    (r"runner", {"IterBasedRunner"}),
    (r"log_config\.hooks", {"TextLoggerHook", "TensorboardLoggerHook"}),
]
LR_POLICIES = {"poly", "step", "CosineAnnealing"}

# MMSeg's data_root -> the folder `convert_dataset.py NAME ROOT OUT` writes, as the dataset
# bases document it; and MMSeg's image folder (or split list) -> the shard split.
SHARD_ROOTS = {
    "data/cityscapes/": "data/cityscapes_shards",
    "data/ade/ADEChallengeData2016": "data/ade_shards",
    "data/VOCdevkit/VOC2012": "data/voc_shards",
}
SPLITS = {"train": "train", "val": "val", "test": "test", "training": "train", "validation": "val"}

PREDEFINED = ("fileDirname", "fileBasename", "fileBasenameNoExtension", "fileExtname")


class ConvertError(Exception):
    pass


# --- Reading a config as MMCV 1.x's Config._file2dict does (without merging the bases).

def read_config(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    base = os.path.basename(path)
    values = {"fileDirname": os.path.dirname(path), "fileBasename": base,
              "fileBasenameNoExtension": os.path.splitext(base)[0], "fileExtname": os.path.splitext(base)[1]}
    for name in PREDEFINED:
        text = re.sub(r"\{\{\s*" + name + r"\s*\}\}", values[name].replace("\\", "/"), text)
    if re.search(r"\{\{\s*_base_\.", text):
        raise ConvertError(f"{path}: '{{{{_base_.x}}}}' references are not converted; write the value out")
    try:
        code = compile(ast.parse(text, path), path, "exec")
    except SyntaxError as e:
        raise ConvertError(f"{path}:{e.lineno}: {e.msg}") from None
    scope = {}
    exec(code, scope)  # a config is trusted Python, as it is for MMCV
    return {k: v for k, v in scope.items()
            if not k.startswith("__") and not callable(v) and type(v).__name__ != "module"}


def merge(base, child):
    """MMCV's merge: dicts merge key by key unless the child says _delete_; anything else replaces."""
    if not isinstance(child, dict):
        return child
    if not isinstance(base, dict) or child.get("_delete_"):
        base = {}
    out = dict(base)
    for k, v in child.items():
        if k != "_delete_":
            out[k] = merge(base.get(k), v) if isinstance(v, dict) else v
    return out


def merged_config(path, seen=()):
    """The file with its _base_ chain merged in: what segtrain will train."""
    if path in seen:
        raise ConvertError(f"{path}: _base_ cycle ({' -> '.join(seen + (path,))})")
    cfg = plain(read_config(path))
    bases = cfg.pop("_base_", [])
    tree = {}
    for b in [bases] if isinstance(bases, str) else bases:
        base_path = os.path.normpath(os.path.join(os.path.dirname(path), b))
        if not os.path.isfile(base_path):
            raise ConvertError(f"{path}: _base_ '{b}' not found ({base_path})")
        tree = merge(tree, merged_config(base_path, seen + (path,)))
    return merge(tree, cfg)


# --- Translation to segtrain's vocabulary.

def shard_split(dataset, where):
    img_dir, split = dataset.get("img_dir"), dataset.get("split")
    if isinstance(split, str) and split.startswith("ImageSets/Segmentation/"):
        name = os.path.splitext(os.path.basename(split))[0]  # VOC's split list: train.txt -> train
        if name in SPLITS:
            return SPLITS[name]
        raise ConvertError(f"{where}: split list '{split}' has no shard split (train, val)")
    if isinstance(split, list):
        names = [os.path.splitext(os.path.basename(s))[0] for s in split if isinstance(s, str)]
        if names == ["train", "aug"]:  # pascal_voc12_aug: VOC's train, then SBD's (voc_aug.py)
            return "trainaug"
        raise ConvertError(f"{where}: joined split lists {split} are not converted; convert_dataset.py joins "
                           "VOC's train.txt and aug.txt only (split trainaug)")
    if isinstance(img_dir, str):
        last = img_dir.rstrip("/").split("/")[-1]
        if last in SPLITS:
            return SPLITS[last]
    raise ConvertError(f"{where}: cannot tell the shard split from img_dir={img_dir!r}, split={split!r}")


def translate_dataset(dataset, where, merged):
    """`merged`: the same dataset with the file's bases merged in, which tells the split when the
    file itself changes only part of img_dir/ann_dir/split."""
    if not any(k in dataset for k in ("img_dir", "ann_dir", "split")):
        if "data_root" in dataset:
            dataset["data_root"] = SHARD_ROOTS.get(dataset["data_root"], dataset["data_root"])
        return dataset
    out = {}
    for k, v in dataset.items():
        if k in ("img_dir", "ann_dir", "split"):
            if "split" not in out:
                out["split"] = shard_split(merged, where)
        elif k == "data_root":
            out[k] = SHARD_ROOTS.get(v, v)
        else:
            out[k] = v
    return out


def translate(cfg, merged=None):
    """segtrain's form of one file's variables (a new tree; the input is left alone). `merged`:
    the file with its bases merged in (default: `cfg` is already that)."""
    cfg = plain(cfg)
    merged = cfg if merged is None else plain(merged)
    if isinstance(cfg.get("data_root"), str):
        cfg["data_root"] = SHARD_ROOTS.get(cfg["data_root"], cfg["data_root"])
    for split in ("train", "val", "test"):
        d = cfg.get("data", {}).get(split)
        if isinstance(d, dict):
            m = merged.get("data", {}).get(split)
            cfg["data"][split] = translate_dataset(d, f"data.{split}", m if isinstance(m, dict) else d)
    drop_reduce_zero_label(cfg)
    return cfg


def drop_reduce_zero_label(node):
    """ADE20K's shards carry reduce_zero_label already (convert_dataset.py applied it)."""
    if isinstance(node, dict):
        if node.get("type") == "LoadAnnotations" and node.get("reduce_zero_label") is True:
            del node["reduce_zero_label"]
        for v in node.values():
            drop_reduce_zero_label(v)
    elif isinstance(node, list):
        for v in node:
            drop_reduce_zero_label(v)


def plain(value):
    """Tuples become lists, dicts get copied: YAML's vocabulary."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def unsupported_types(cfg):
    """(path, type) for every `type` (and lr policy) segtrain lacks, in config order."""
    found = []

    def allowed(path):
        for pattern, types in SEGTRAIN_TYPES:
            if re.fullmatch(pattern, path):
                return types
        return set()

    def walk(node, path):
        if isinstance(node, dict):
            kind = node.get("type")
            if isinstance(kind, str) and kind not in allowed(path):
                found.append((path, kind))
            if path == "lr_config" and node.get("policy") not in LR_POLICIES:
                found.append(("lr_config.policy", str(node.get("policy"))))
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list):
            for v in node:
                walk(v, path)

    walk(cfg, "")
    return found


# --- Writing YAML (block mappings, flow lists of scalars): the subset configs need, with every
# string quoted where YAML would read it as something else.

# A plain scalar: relative path prefixes, then a letter, `_` or `/` first (so `.5`, `.inf` get
# quotes), no trailing `:` (a key to YAML).
PLAIN = re.compile(r"^(\.\.?/)*[A-Za-z_/][A-Za-z0-9_./:+-]*(?<!:)$")
YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"}


def scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        text = repr(v)
        if text in ("inf", "-inf", "nan"):
            return {"inf": ".inf", "-inf": "-.inf", "nan": ".nan"}[text]
        mantissa, e, exponent = text.partition("e")
        return text if "." in mantissa else f"{mantissa}.0{e}{exponent}"  # 1e-06 -> 1.0e-06: a float in YAML
    if isinstance(v, str):
        if PLAIN.match(v) and v.lower() not in YAML_WORDS:
            return v
        return json.dumps(v)  # a JSON string is a YAML double-quoted scalar
    raise ConvertError(f"cannot write a {type(v).__name__} ({v!r}) as YAML")


def is_flat(v):
    return isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v)


def emit(node, indent=0):
    pad = "  " * indent
    lines = []
    if isinstance(node, dict):
        for k, v in node.items():
            key = scalar(k)
            if isinstance(v, dict) and v:
                lines.append(f"{pad}{key}:")
                lines += emit(v, indent + 1)
            elif isinstance(v, dict):
                lines.append(f"{pad}{key}: {{}}")
            elif isinstance(v, list) and is_flat(v) and len(flow := f"{pad}{key}: [{', '.join(map(scalar, v))}]") <= 100:
                lines.append(flow)
            elif isinstance(v, list):
                lines.append(f"{pad}{key}:")
                lines += emit(v, indent + 1)
            else:
                lines.append(f"{pad}{key}: {scalar(v)}")
    else:
        for item in node:
            if isinstance(item, dict) and item:
                inner = emit(item, indent + 1)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines += inner[1:]
            elif isinstance(item, list) and is_flat(item):
                lines.append(f"{pad}- [{', '.join(scalar(x) for x in item)}]")
            elif isinstance(item, list):
                lines.append(f"{pad}-")
                lines += emit(item, indent + 1)
            elif isinstance(item, dict):
                lines.append(f"{pad}- {{}}")
            else:
                lines.append(f"{pad}- {scalar(item)}")
    return lines


# --- Files and folders.

def yaml_name(path):
    return re.sub(r"\.py$", ".yaml", path)


def convert_text(src):
    try:
        return converted(src)
    except ConvertError as e:
        raise ConvertError(str(e) if str(e).startswith(src) else f"{src}: {e}") from None


def converted(src):
    cfg = read_config(src)
    bases = cfg.pop("_base_", None)
    # The whole chain is checked: a file that only changes a depth can still inherit a backbone
    # or a dataset split segtrain lacks.
    merged = merged_config(src)
    translate(merged)
    tree = translate(cfg, merged)
    missing = unsupported_types(merged)
    if missing:
        raise ConvertError(f"{src}: segtrain cannot train this config; it lacks " +
                           ", ".join(f"{kind} (at {path})" for path, kind in missing))
    out = {}
    if bases is not None:
        bases = [bases] if isinstance(bases, str) else list(bases)
        out["_base_"] = [yaml_name(b) for b in bases]
    out.update(tree)
    header = f"# Converted from MMSegmentation's {os.path.basename(src)} by scripts/mmseg_config.py\n"
    return header + "\n".join(emit(out)) + "\n"


def write(path, text):
    """Temp file + rename: an existing file is never left half-written."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def convert_folder(src_dir, out_dir):
    errors, written = [], 0
    for root, _, files in sorted(os.walk(src_dir)):
        for name in sorted(f for f in files if f.endswith(".py")):
            src = os.path.join(root, name)
            try:
                write(os.path.join(out_dir, yaml_name(os.path.relpath(src, src_dir))), convert_text(src))
                written += 1
            except ConvertError as e:
                errors.append(str(e))
    return written, errors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="an MMSeg .py config, or a folder of them")
    ap.add_argument("out", nargs="?", help="the .yaml to write (a folder when SRC is one)")
    args = ap.parse_args(argv)
    try:
        if os.path.isdir(args.src):
            if not args.out:
                raise ConvertError("a folder needs an output folder: mmseg_config.py SRC_DIR OUT_DIR")
            written, errors = convert_folder(args.src, args.out)
            for e in errors:
                print(f"mmseg_config.py: {e}", file=sys.stderr)
            print(f"converted {written} file(s) to {args.out}; {len(errors)} not converted")
            return 1 if errors else 0
        if not os.path.isfile(args.src):
            raise ConvertError(f"{args.src}: no such file")
        write(args.out or yaml_name(args.src), convert_text(args.src))
        return 0
    except ConvertError as e:
        print(f"mmseg_config.py: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
