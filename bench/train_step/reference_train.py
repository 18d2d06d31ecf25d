#!/usr/bin/env python3
"""The Python side of bench/train_step and bench/gpu_step: a PyTorch DDP training loop over MMSeg's
FCN, PSPNet, DeepLabV3+ (ResNetV1c-D8 backbone) and UPerNet (ResNetV1c) with their auxiliary
FCNHead, defined here in torch.nn from MMSeg's architecture, not from segtrain's C++
(tests/models/parity_reference.py has no BasicBlock, FCNHead or these decode heads).

Each iteration is what MMSeg's IterBasedRunner times as `time`, minus the data loading: zero_grad,
forward (decode + 0.4 x auxiliary cross-entropy, ignore_index 255, pixel accuracy), backward (DDP
averages the gradients), SGD step (momentum 0.9, weight decay 5e-4), and reading the losses
(.item()). The batch is one fixed random batch, so no data pipeline is timed.

Normalization: SyncBN with more than one rank, as the configs ask (nn.SyncBatchNorm on GPU; on
CPU, where nn.SyncBatchNorm refuses to run, an equivalent autograd function with the same
collectives: all_gather of per-rank statistics forward, one all_reduce backward); plain BN with
one rank, as nn.SyncBatchNorm itself does then. `--norm bn` uses plain BN on every rank (to tell
SyncBN's collectives apart from DDP's gradient allreduce).

Ranks: started by mpirun (OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK) or torchrun (RANK/WORLD_SIZE/
LOCAL_RANK), rendezvous at MASTER_ADDR (default 127.0.0.1):MASTER_PORT (default 29500); gloo on
CPU, NCCL on CUDA. Without a launcher: one rank.

Usage:
  reference_train.py [--arch ARCH] [--device cpu|cuda] [--batch N] [--crop HxW]
                     [--iters N] [--warmup N] [--norm syncbn|bn] [--threads N]
                     [--no-cudnn-benchmark] [--precision fp32|fp16|bf16] [--channels-last]
  fcn_r18: the demo config (configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml), 8 classes,
           defaults batch 4, crop 64x64.
  fcn_r50, pspnet_r50, deeplabv3plus_r50, upernet_r50: configs/_base_/models/<arch>[-d8].yaml,
           19 classes (Cityscapes), defaults batch 2, crop 512x1024.
Rank 0 prints one JSON line (with the model's parameter count): median seconds per iteration (the mean of the ranks' medians),
images/s over all ranks, peak memory, the largest over ranks, in MiB: on CUDA
torch.cuda.max_memory_allocated over the timed iterations (peak_memory_mb; steady state) and
since the start (peak_memory_mb_with_warmup, what MMSeg logs: with cudnn.benchmark it holds the
trial workspaces of the first iterations, tens of GiB at 512x1024); on CPU the max RSS.
"""
import argparse
import inspect
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

_CITYSCAPES = dict(depth=50, aux=(1024, 256), classes=19, batch=2, crop=(512, 1024), d8=True)
ARCHS = {
    # depth, head, (decode in, channels), (aux in, channels), classes, default batch and crop,
    # d8: strides 1, 2, 1, 1 and dilations 1, 1, 2, 4 (else strides 1, 2, 2, 2, no dilation)
    "fcn_r18": dict(depth=18, head="fcn", decode=(512, 64), aux=(256, 32), classes=8, batch=4, crop=(64, 64), d8=True),
    "fcn_r50": dict(_CITYSCAPES, head="fcn", decode=(2048, 512)),
    "pspnet_r50": dict(_CITYSCAPES, head="psp", decode=(2048, 512)),
    "deeplabv3plus_r50": dict(_CITYSCAPES, head="sep_aspp", decode=(2048, 512)),
    "upernet_r50": dict(_CITYSCAPES, head="uper", decode=((256, 512, 1024, 2048), 512), d8=False),
}


# ---------------------------------------------------------------------------------------------
# SyncBN on CPU: torch's nn.SyncBatchNorm uses CUDA-only kernels, so the same algorithm in plain
# tensor ops (per-rank mean/var gathered and combined forward; sum(dy), sum(dy * (x - mean))
# reduced backward).

class _CpuSyncBatchNormFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps, momentum):
        c = x.shape[1]
        var, mean = torch.var_mean(x, dim=(0, 2, 3), correction=0)
        local = torch.cat([mean, var, x.new_tensor([x.numel() // c])])
        parts = [torch.empty_like(local) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, local)
        stats = torch.stack(parts)
        counts = stats[:, 2 * c:]
        total = counts.sum()
        share = counts / total
        g_mean = (share * stats[:, :c]).sum(0)
        g_var = (share * (stats[:, c:2 * c] + (stats[:, :c] - g_mean) ** 2)).sum(0)
        invstd = torch.rsqrt(g_var + eps)
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(g_mean, alpha=momentum)
            running_var.mul_(1 - momentum).add_(g_var * (total / (total - 1).clamp_min(1)), alpha=momentum)
        scale = invstd * weight
        ctx.save_for_backward(x, g_mean, invstd, scale)
        ctx.total = total.item()
        return (x - g_mean.view(1, -1, 1, 1)) * scale.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)

    @staticmethod
    def backward(ctx, dy):
        x, mean, invstd, scale = ctx.saved_tensors
        c = x.shape[1]
        xmu = x - mean.view(1, -1, 1, 1)
        sum_dy = dy.sum((0, 2, 3))
        sum_dy_xmu = (dy * xmu).sum((0, 2, 3))
        grad_weight, grad_bias = sum_dy_xmu * invstd, sum_dy
        both = torch.cat([sum_dy, sum_dy_xmu])
        dist.all_reduce(both)
        mean_dy, mean_dy_xmu = both[:c] / ctx.total, both[c:] / ctx.total
        dx = (dy - mean_dy.view(1, -1, 1, 1) - xmu * (invstd * invstd * mean_dy_xmu).view(1, -1, 1, 1)) \
            * scale.view(1, -1, 1, 1)
        return dx, grad_weight, grad_bias, None, None, None, None


class CpuSyncBatchNorm(nn.BatchNorm2d):
    def forward(self, x):
        if not self.training:
            return super().forward(x)
        self.num_batches_tracked.add_(1)
        return _CpuSyncBatchNormFn.apply(x, self.weight, self.bias, self.running_mean, self.running_var,
                                         self.eps, self.momentum)


def norm_layer(kind, device, world_size):
    if world_size == 1 or kind == "bn":
        return nn.BatchNorm2d
    return nn.SyncBatchNorm if device.type == "cuda" else CpuSyncBatchNorm


# ---------------------------------------------------------------------------------------------
# The models: MMSeg's ResNetV1c (deep stem, pytorch style, contract_dilation), D8 (strides
# 1, 2, 1, 1; dilations 1, 1, 2, 4) or not (strides 1, 2, 2, 2), and the decode heads.

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, norm, inplanes, planes, stride, dilation, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, dilation, dilation, bias=False)
        self.bn1 = norm(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)  # MMSeg does not dilate this one
        self.bn2 = norm(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, norm, inplanes, planes, stride, dilation, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = norm(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, dilation, dilation, bias=False)
        self.bn2 = norm(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = norm(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNetV1c(nn.Module):
    def __init__(self, depth, norm, d8, stem=64, base=64):
        super().__init__()
        block, blocks = {18: (BasicBlock, (2, 2, 2, 2)), 50: (Bottleneck, (3, 4, 6, 3))}[depth]
        self.stem = nn.Sequential(
            nn.Conv2d(3, stem // 2, 3, 2, 1, bias=False), norm(stem // 2), nn.ReLU(),
            nn.Conv2d(stem // 2, stem // 2, 3, 1, 1, bias=False), norm(stem // 2), nn.ReLU(),
            nn.Conv2d(stem // 2, stem, 3, 1, 1, bias=False), norm(stem), nn.ReLU())
        inplanes = stem
        self.stages = nn.ModuleList()
        strides, dilations = ((1, 2, 1, 1), (1, 1, 2, 4)) if d8 else ((1, 2, 2, 2), (1, 1, 1, 1))
        for i, (n, stride, dilation) in enumerate(zip(blocks, strides, dilations)):
            planes = base * 2 ** i
            layers = []
            for b in range(n):
                s = stride if b == 0 else 1
                d = dilation // 2 if b == 0 and dilation > 1 else dilation  # contract_dilation
                down = None
                if b == 0 and (s != 1 or inplanes != planes * block.expansion):
                    down = nn.Sequential(nn.Conv2d(inplanes, planes * block.expansion, 1, s, bias=False),
                                         norm(planes * block.expansion))
                layers.append(block(norm, inplanes, planes, s, d, down))
                inplanes = planes * block.expansion
            self.stages.append(nn.Sequential(*layers))

    def forward(self, x):
        x = F.max_pool2d(self.stem(x), 3, 2, 1)
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs


def conv_bn_relu(norm, cin, cout, k, dilation=1, groups=1):
    """MMCV's ConvModule with a norm: conv without bias, norm, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation, groups=groups,
                                   bias=False), norm(cout), nn.ReLU())


def separable(norm, cin, cout, dilation):
    """MMCV's DepthwiseSeparableConvModule, 3x3: depthwise ConvModule, then pointwise ConvModule."""
    return nn.Sequential(conv_bn_relu(norm, cin, cin, 3, dilation, groups=cin), conv_bn_relu(norm, cin, cout, 1))


def resize(x, size):
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class PPM(nn.ModuleList):
    """Pyramid pooling: each scale pooled, 1x1 ConvModule, resized back to the input's size."""

    def __init__(self, norm, cin, channels, scales=(1, 2, 3, 6)):
        super().__init__(nn.Sequential(nn.AdaptiveAvgPool2d(s), conv_bn_relu(norm, cin, channels, 1)) for s in scales)

    def forward(self, x):
        return [resize(m(x), x.shape[2:]) for m in self]


class DecodeHead(nn.Module):
    """MMSeg's BaseDecodeHead: features(), dropout, 1x1 conv_seg; cross-entropy on logits resized to the label."""

    def __init__(self, channels, classes, loss_weight):
        super().__init__()
        self.loss_weight = loss_weight
        self.dropout = nn.Dropout2d(0.1)
        self.conv_seg = nn.Conv2d(channels, classes, 1)

    def losses(self, feats, labels):
        logits = resize(self.conv_seg(self.dropout(self.features(feats))), labels.shape[1:])
        loss = F.cross_entropy(logits, labels, ignore_index=255, reduction="none").mean() * self.loss_weight
        with torch.no_grad():
            valid = labels != 255
            acc = ((logits.argmax(1) == labels) & valid).sum() * 100.0 / valid.sum().clamp_min(1)
        return loss, acc


class FCNHead(DecodeHead):
    def __init__(self, norm, cin, channels, classes, num_convs, concat_input, in_index, loss_weight):
        super().__init__(channels, classes, loss_weight)
        self.in_index = in_index
        self.convs = nn.Sequential(*[conv_bn_relu(norm, cin if i == 0 else channels, channels, 3)
                                     for i in range(num_convs)])
        self.conv_cat = conv_bn_relu(norm, cin + channels, channels, 3) if concat_input else None

    def features(self, feats):
        x = feats[self.in_index]
        out = self.convs(x)
        return out if self.conv_cat is None else self.conv_cat(torch.cat([x, out], 1))


class PSPHead(DecodeHead):
    def __init__(self, norm, cin, channels, classes):
        super().__init__(channels, classes, 1.0)
        self.ppm = PPM(norm, cin, channels)
        self.bottleneck = conv_bn_relu(norm, cin + 4 * channels, channels, 3)

    def features(self, feats):
        x = feats[3]
        return self.bottleneck(torch.cat([x] + self.ppm(x), 1))


class SepASPPHead(DecodeHead):
    """DeepLabV3+: image pooling + ASPP (1x1, then separable 3x3 at dilations 12, 24, 36), a 3x3
    bottleneck, upsampled to stage 1 and joined with its 48-channel projection, two separable 3x3."""

    def __init__(self, norm, cin, channels, classes, dilations=(1, 12, 24, 36), c1_in=256, c1_channels=48):
        super().__init__(channels, classes, 1.0)
        self.image_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), conv_bn_relu(norm, cin, channels, 1))
        self.aspp = nn.ModuleList(conv_bn_relu(norm, cin, channels, 1) if d == 1 else separable(norm, cin, channels, d)
                                  for d in dilations)
        self.bottleneck = conv_bn_relu(norm, (len(dilations) + 1) * channels, channels, 3)
        self.c1_bottleneck = conv_bn_relu(norm, c1_in, c1_channels, 1)
        self.sep_bottleneck = nn.Sequential(separable(norm, channels + c1_channels, channels, 1),
                                            separable(norm, channels, channels, 1))

    def features(self, feats):
        x = feats[3]
        out = self.bottleneck(torch.cat([resize(self.image_pool(x), x.shape[2:])] + [m(x) for m in self.aspp], 1))
        c1 = self.c1_bottleneck(feats[0])
        return self.sep_bottleneck(torch.cat([resize(out, c1.shape[2:]), c1], 1))


class UPerHead(DecodeHead):
    """UPerNet: PPM on the last stage, 1x1 laterals and a top-down path, 3x3 FPN convs, all
    levels resized to the first and fused by a 3x3 bottleneck."""

    def __init__(self, norm, cins, channels, classes):
        super().__init__(channels, classes, 1.0)
        self.ppm = PPM(norm, cins[-1], channels)
        self.psp_bottleneck = conv_bn_relu(norm, cins[-1] + 4 * channels, channels, 3)
        self.laterals = nn.ModuleList(conv_bn_relu(norm, c, channels, 1) for c in cins[:-1])
        self.fpn_convs = nn.ModuleList(conv_bn_relu(norm, channels, channels, 3) for _ in cins[:-1])
        self.fpn_bottleneck = conv_bn_relu(norm, len(cins) * channels, channels, 3)

    def features(self, feats):
        top = feats[-1]
        levels = [m(f) for m, f in zip(self.laterals, feats)] + [self.psp_bottleneck(torch.cat([top] + self.ppm(top), 1))]
        for i in range(len(levels) - 1, 0, -1):
            levels[i - 1] = levels[i - 1] + resize(levels[i], levels[i - 1].shape[2:])
        outs = [conv(level) for conv, level in zip(self.fpn_convs, levels)] + [levels[-1]]
        return self.fpn_bottleneck(torch.cat([outs[0]] + [resize(o, outs[0].shape[2:]) for o in outs[1:]], 1))


class Segmentor(nn.Module):
    def __init__(self, arch, norm):
        super().__init__()
        self.backbone = ResNetV1c(arch["depth"], norm, arch["d8"])
        cin, channels = arch["decode"]
        classes = arch["classes"]
        self.decode_head = {
            "fcn": lambda: FCNHead(norm, cin, channels, classes, 2, True, 3, 1.0),
            "psp": lambda: PSPHead(norm, cin, channels, classes),
            "sep_aspp": lambda: SepASPPHead(norm, cin, channels, classes),
            "uper": lambda: UPerHead(norm, cin, channels, classes),
        }[arch["head"]]()
        self.auxiliary_head = FCNHead(norm, *arch["aux"], classes, 1, False, 2, 0.4)

    def forward(self, images, labels):
        feats = self.backbone(images)
        decode_loss, decode_acc = self.decode_head.losses(feats, labels)
        aux_loss, aux_acc = self.auxiliary_head.losses(feats, labels)
        return {"decode.loss_ce": decode_loss, "decode.acc_seg": decode_acc,
                "aux.loss_ce": aux_loss, "aux.acc_seg": aux_acc}


# ---------------------------------------------------------------------------------------------

def launcher_env():
    """(rank, world size, local rank) from mpirun or torchrun; one rank without either."""
    for prefix in ("OMPI_COMM_WORLD_", ""):
        rank, size = os.environ.get(prefix + "RANK"), os.environ.get(prefix + ("SIZE" if prefix else "WORLD_SIZE"))
        if rank is not None and size is not None:
            return int(rank), int(size), int(os.environ.get(prefix + "LOCAL_RANK", rank))
    return 0, 1, 0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", choices=sorted(ARCHS), default="fcn_r18")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--batch", type=int, help="samples per rank (default: per --arch)")
    p.add_argument("--crop", help="HxW (default: per --arch)")
    p.add_argument("--iters", type=int, default=30, help="timed iterations")
    p.add_argument("--warmup", type=int, default=5, help="untimed iterations first")
    p.add_argument("--norm", choices=["syncbn", "bn"], default="syncbn",
                   help="syncbn (the configs' SyncBN; plain BN with one rank) or bn on every rank")
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: OMP_NUM_THREADS / torch's)")
    p.add_argument("--no-cudnn-benchmark", action="store_true",
                   help="MMSeg's default_runtime sets cudnn_benchmark; this turns it off")
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16"], default="fp32",
                   help="fp16: autocast + GradScaler(init_scale=512) (MMSeg's Fp16OptimizerHook); bf16: autocast only")
    p.add_argument("--channels-last", action="store_true", help="weights and the batch in NHWC")
    a = p.parse_args()
    arch = ARCHS[a.arch]
    a.batch = a.batch or arch["batch"]
    if a.crop:
        try:
            crop = tuple(int(v) for v in a.crop.lower().split("x"))
            assert len(crop) == 2 and min(crop) > 0
        except (ValueError, AssertionError):
            p.error(f"--crop: expected HxW with positive integers, got '{a.crop}'")
        a.crop = crop
    else:
        a.crop = arch["crop"]
    if a.batch < 1 or a.iters < 1 or a.warmup < 0:
        p.error("--batch and --iters must be >= 1, --warmup >= 0")
    if a.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: torch sees no CUDA device")
    if a.precision == "fp16" and a.device != "cuda":
        p.error("--precision fp16 needs --device cuda (as segtrain's fp16)")
    return a


def main():
    args = parse_args()
    rank, world_size, local_rank = launcher_env()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda", local_rank % torch.cuda.device_count()) if args.device == "cuda" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = not args.no_cudnn_benchmark
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world_size)

    arch = ARCHS[args.arch]
    torch.manual_seed(0)  # the same weights everywhere (DDP broadcasts rank 0's anyway)
    model = Segmentor(arch, norm_layer(args.norm, device, world_size)).to(device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    # MMSeg keeps BN buffers per rank (no broadcast every forward); torch >= 2.15 names this
    # forward_sync_buffers and deprecates broadcast_buffers.
    ddp_cls = nn.parallel.DistributedDataParallel
    no_buffer_sync = ({"forward_sync_buffers": False} if "forward_sync_buffers" in inspect.signature(ddp_cls).parameters
                      else {"broadcast_buffers": False})
    ddp = ddp_cls(model, device_ids=[device.index] if device.type == "cuda" else None, **no_buffer_sync)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    gen = torch.Generator().manual_seed(1000 + rank)
    h, w = args.crop
    images = torch.randn(args.batch, 3, h, w, generator=gen).to(device)
    labels = torch.randint(0, arch["classes"], (args.batch, h, w), generator=gen)
    labels[:, :, : max(1, w // 16)] = 255  # some padding, as RandomCrop + Pad leave
    labels = labels.to(device)
    if args.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    low = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(args.precision)
    # The scale stays 512 (MMCV's update(512.) every iteration); overflowing steps are skipped.
    scaler = torch.amp.GradScaler(device.type, init_scale=512.0, growth_factor=1.0, backoff_factor=1.0,
                                  enabled=args.precision == "fp16")

    times = []
    peak_warmup_mb = 0.0
    for i in range(args.warmup + args.iters):
        if i == args.warmup and device.type == "cuda":
            # cudnn.benchmark's trial workspaces (warm-up only) would otherwise dominate the peak.
            peak_warmup_mb = torch.cuda.max_memory_allocated(device) / 2 ** 20
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        optimizer.zero_grad()
        with torch.autocast(device.type, dtype=low or torch.float32, enabled=low is not None):
            losses = ddp(images, labels)
        loss = sum(v for k, v in losses.items() if "loss" in k)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        logged = {k: v.item() for k, v in losses.items()}  # synchronizes a CUDA device
        logged["loss"] = loss.item()
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    if device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(device) / 2 ** 20
        peak_warmup_mb = max(peak_warmup_mb, peak_mb)
    else:
        peak_mb = peak_warmup_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    median = statistics.median(times)
    median_sum = torch.tensor([median], dtype=torch.float64, device=device)
    peak = torch.tensor([peak_mb, peak_warmup_mb], dtype=torch.float64, device=device)
    dist.all_reduce(median_sum)
    dist.all_reduce(peak, op=dist.ReduceOp.MAX)
    median_all = median_sum.item() / world_size
    if rank == 0:
        print(json.dumps({
            "benchmark": "train_step_reference", "framework": f"torch {torch.__version__} DDP",
            "arch": args.arch, "parameters": sum(p.numel() for p in model.parameters()), "device": args.device, "world_size": world_size,
            "norm": "SyncBN" if world_size > 1 and args.norm == "syncbn" else "BN", "batch_per_rank": args.batch, "crop": [h, w],
            "threads": torch.get_num_threads(), "warmup": args.warmup, "iters": args.iters,
            "seconds_per_iter": median_all, "images_per_s": world_size * args.batch / median_all,
            "peak_memory_mb": peak[0].item(), "peak_memory_mb_with_warmup": peak[1].item(),
            "cudnn_benchmark": device.type == "cuda" and torch.backends.cudnn.benchmark,
            "precision": args.precision, "channels_last": args.channels_last,
            "last_loss": logged["loss"]}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
