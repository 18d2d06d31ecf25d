"""MMSegmentation 0.30's side of tests/python/test_mmseg_weights.py, run as a subprocess in the
reference environment (scripts/setup.sh, requirements-reference.txt) with MMSeg's own code:

  mmseg_side.py eval CONFIG.py CHECKPOINT     init_segmentor loads the checkpoint (its keys and
                                              shapes must equal the model's); MMSeg's test loop and
                                              dataset.evaluate give the metrics, printed as JSON
  mmseg_side.py configs CONFIG.py ...         MMCV's Config.fromfile of each (its _base_ merge), as
                                              JSON {path: tree}
  mmseg_side.py train CONFIG.py OUT.pth ITERS MMSeg's model trained ITERS steps by MMSeg's own
                                              train_step and SGD, saved by MMCV's save_checkpoint
                                              with the meta MMSeg's train_segmentor gives it
  mmseg_side.py mit MODELS_DIR                tests/models/mit_reference.py (the parity test's
                                              torch.nn MiT and SegformerHead) against MMSeg's own
                                              modules with the same weights, strictly loaded: the
                                              largest output difference of each, as JSON
  mmseg_side.py swin MODELS_DIR               tests/models/swin_reference.py's torch.nn Swin against
                                              MMSeg's own SwinTransformer, the same way
"""
import json
import sys
import types
import warnings


def stand_in_for_mmcv_ops():
    """mmseg.models imports names from mmcv.ops, whose compiled kernels this mmcv (built with
    MMCV_WITH_OPS=0) lacks; the ResNet + FCN/PSP/ASPP/UPer path never calls them."""
    ops = types.ModuleType("mmcv.ops")

    def missing(name):
        def call(*args, **kwargs):
            raise RuntimeError(f"mmcv.ops.{name} is a stand-in: mmcv was built without its compiled ops")
        return call

    for name in ("CrissCrossAttention", "PSAMask", "point_sample", "sigmoid_focal_loss", "get_onnxruntime_op_path",
                 "DeformConv2d", "ModulatedDeformConv2d", "DeformConv2dPack", "ModulatedDeformConv2dPack"):
        setattr(ops, name, missing(name))
    sys.modules["mmcv.ops"] = ops


def evaluate(config, checkpoint):
    import torch
    from mmcv.parallel import MMDataParallel
    from mmseg.apis import init_segmentor, single_gpu_test
    from mmseg.datasets import build_dataloader, build_dataset

    model = init_segmentor(config, checkpoint, device="cpu")
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    own = model.state_dict()
    mismatched = sorted(set(saved) ^ set(own)) + sorted(k for k in saved.keys() & own.keys()
                                                         if saved[k].shape != own[k].shape)
    dataset = build_dataset(model.cfg.data.test)
    loader = build_dataloader(dataset, samples_per_gpu=1, workers_per_gpu=0, dist=False, shuffle=False,
                              persistent_workers=False)
    results = single_gpu_test(MMDataParallel(model, device_ids=None), loader, pre_eval=True)
    metrics = dataset.evaluate(results, metric="mIoU")
    print(json.dumps({"mismatched_keys": mismatched, "metrics": {k: float(v) for k, v in metrics.items()}}))


def configs(*paths):
    import mmcv

    print(json.dumps({p: mmcv.Config.fromfile(p)._cfg_dict.to_dict() for p in paths}))


def train(config, out, iters):
    import mmcv
    import mmseg
    import torch
    from mmcv.parallel import MMDataParallel
    from mmcv.runner import build_optimizer, save_checkpoint
    from mmseg.datasets import build_dataloader, build_dataset
    from mmseg.models import build_segmentor

    torch.manual_seed(0)
    cfg = mmcv.Config.fromfile(config)
    model = build_segmentor(cfg.model)
    model.init_weights()
    model.train()
    dataset = build_dataset(cfg.data.train)
    loader = build_dataloader(dataset, cfg.data.samples_per_gpu, 0, dist=False, shuffle=True, seed=0, drop_last=True,
                              persistent_workers=False)
    optimizer = build_optimizer(model, cfg.optimizer)
    wrapped = MMDataParallel(model, device_ids=None)
    done = 0
    while done < iters:
        for batch in loader:
            outputs = wrapped.train_step(batch, optimizer)  # MMSeg's losses, as IterBasedRunner calls it
            optimizer.zero_grad()
            outputs["loss"].backward()  # what MMCV's OptimizerHook does
            optimizer.step()
            done += 1
            if done == iters:
                break
    # train_segmentor's meta, and IterBasedRunner's: its CheckpointHook saves iter_N.pth in
    # after_train_iter, before the runner counts the N-th iteration, so meta.iter is N - 1.
    meta = dict(mmseg_version=f"{mmseg.__version__}", config=cfg.pretty_text, CLASSES=dataset.CLASSES,
                PALETTE=dataset.PALETTE, epoch=1, iter=done - 1)
    save_checkpoint(model, out, optimizer=optimizer, meta=meta)
    print(json.dumps({"iter": done, "last_loss": float(outputs["loss"])}))


def mit(models_dir):
    import torch
    from mmseg.models.backbones import MixVisionTransformer
    from mmseg.models.decode_heads import SegformerHead
    sys.path.insert(0, models_dir)
    import mit_reference as ref
    from parity_reference import randomize
    out = {}
    for name, kwargs in ref.MIT_CASES.items():
        mine = ref.MiT(**kwargs)
        randomize(mine, torch.Generator().manual_seed(3))
        theirs = MixVisionTransformer(embed_dims=kwargs["embed_dims"], num_layers=list(kwargs["num_layers"]),
                                      num_heads=list(ref.HEADS), sr_ratios=list(ref.SR_RATIOS))
        theirs.load_state_dict(mine.state_dict(), strict=True)
        mine.eval(), theirs.eval()
        x = torch.randn(2, 3, 72, 72, generator=torch.Generator().manual_seed(4))
        with torch.no_grad():
            out[name] = max(float((a - b).abs().max() / b.abs().max()) for a, b in zip(mine(x), theirs(x)))
    model = ref.Segformer()
    randomize(model, torch.Generator().manual_seed(5))
    head = SegformerHead(in_channels=model.backbone.channels, in_index=[0, 1, 2, 3], channels=16, num_classes=5,
                         dropout_ratio=0, norm_cfg=dict(type="BN"), align_corners=False)
    head.load_state_dict(model.decode_head.state_dict(), strict=True)
    model.eval(), head.eval()
    with torch.no_grad():
        feats = model.backbone(torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(6)))
        want = head(feats)
        out["segformer_head"] = float((model.decode_head(feats) - want).abs().max() / want.abs().max())
    print(json.dumps(out))


def swin(models_dir):
    import torch
    from mmseg.models.backbones import SwinTransformer
    sys.path.insert(0, models_dir)
    import swin_reference as ref
    from parity_reference import randomize
    out = {}
    for name, kwargs in ref.SWIN_CASES.items():
        mine = ref.Swin(**kwargs)
        randomize(mine, torch.Generator().manual_seed(3))
        abs_size = kwargs.get("abs_pos_size")
        theirs = SwinTransformer(embed_dims=kwargs["embed_dims"], depths=list(kwargs["depths"]),
                                 num_heads=list(kwargs["num_heads"]), window_size=ref.WINDOW, drop_path_rate=0.0,
                                 use_abs_pos_embed=bool(abs_size), pretrain_img_size=abs_size or 224)
        theirs.load_state_dict(mine.state_dict(), strict=True)
        mine.eval(), theirs.eval()
        # 72x72, and (without the absolute position embedding, which fixes the size) a size that
        # needs padding at every level.
        for h, w in [(72, 72)] + ([] if abs_size else [(70, 61)]):
            x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(4))
            with torch.no_grad():
                out[f"{name}_{h}x{w}"] = max(float((a - b).abs().max() / b.abs().max()) for a, b in zip(mine(x), theirs(x)))
    print(json.dumps(out))


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    stand_in_for_mmcv_ops()
    command, args = sys.argv[1], sys.argv[2:]
    if command == "eval":
        evaluate(*args)
    elif command == "configs":
        configs(*args)
    elif command == "train":
        train(args[0], args[1], int(args[2]))
    elif command == "mit":
        mit(*args)
    elif command == "swin":
        swin(*args)
    else:
        sys.exit(f"mmseg_side.py: unknown command {command!r}")
