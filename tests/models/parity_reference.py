"""An independent torch.nn definition of MMSeg's ResNet family (V1b, V1c, V1d) + PSPHead and + UPerHead, written
from the architecture (MMSeg's docs and papers), not from segtrain's C++. It saves random
weights under MMSeg's key names with torch.save, a fixed input and label, the eval-mode logits
and the gradients of one training step; tests/models/test_parity.cpp loads them into segtrain.

Usage: parity_reference.py OUT_DIR      (writes OUT_DIR/{psp,uper,segformer,swin_uper}_{weights,mmseg,expected}.pth,
                                         backbone_imagenet.pth, the backbone with a classifier, and
                                         backbone_{v1b_r18,v1d_r50,mit_b0,mit_b2_small,swin_t,swin_s_small}_{weights,expected}.pth;
                                         the MiT cases from mit_reference.py, the Swin ones from
                                         swin_reference.py)
Sizes (shared with test_parity.cpp): ResNetV1c depth 50 with stem_channels 16, base_channels 8
(stage outputs 32, 64, 128, 256), D8; heads with channels 8, 5 classes, pool scales 1, 2, 3, 6;
input 2x3x64x64; BN (not SyncBN); dropout 0.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import mit_reference
import swin_reference


class ConvModule(nn.Module):
    """conv (no bias) -> bn -> relu, MMCV's names."""

    def __init__(self, cin, cout, k, stride=1, padding=0, dilation=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding, dilation, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def downsample(inplanes, out, stride, avg_down):
    """The shortcut's projection; avg_down (ResNetV1d, Bag of Tricks' ResNet-D) pools first and
    keeps the 1x1 conv at stride 1 (MMSeg keeps the pool at stride 1 too: an identity)."""
    if avg_down:
        return nn.Sequential(nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False),
                             nn.Conv2d(inplanes, out, 1, bias=False), nn.BatchNorm2d(out))
    return nn.Sequential(nn.Conv2d(inplanes, out, 1, stride, bias=False), nn.BatchNorm2d(out))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, dilation, avg_down):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, dilation, dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)  # MMSeg dilates conv1 only
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = downsample(inplanes, planes, stride, avg_down)

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, dilation, avg_down):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, dilation, dilation, bias=False)  # pytorch style
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = downsample(inplanes, planes * 4, stride, avg_down)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class ResNetRef(nn.Module):
    """deep_stem: three 3x3 convs (V1c, V1d); else torchvision's 7x7 conv1/bn1 (V1b).
    contract_dilation: a dilated stage's first block uses half the dilation; multi_grid: the last
    stage's blocks take their dilations from it."""

    def __init__(self, block=Bottleneck, blocks=(3, 4, 6, 3), stem=16, base=8, strides=(1, 2, 1, 1),
                 dilations=(1, 1, 2, 4), deep_stem=True, avg_down=False, contract=True, multi_grid=None):
        super().__init__()
        half = stem // 2
        if deep_stem:
            self.stem = nn.Sequential(
                nn.Conv2d(3, half, 3, 2, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(),
                nn.Conv2d(half, half, 3, 1, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(),
                nn.Conv2d(half, stem, 3, 1, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU())
        else:
            self.conv1 = nn.Conv2d(3, stem, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(stem)
        self.deep_stem = deep_stem
        self.num_stages = len(blocks)
        inplanes = stem
        for i, (n, s, d) in enumerate(zip(blocks, strides, dilations)):
            planes = base * 2 ** i
            layers = []
            for b in range(n):
                if multi_grid is not None and i == len(blocks) - 1:
                    dil = multi_grid[b]
                elif b == 0 and contract and d > 1:
                    dil = d // 2
                else:
                    dil = d
                layers.append(block(inplanes, planes, s if b == 0 else 1, dil, avg_down))
                inplanes = planes * block.expansion
            self.add_module(f"layer{i + 1}", nn.Sequential(*layers))

    def forward(self, x):
        x = self.stem(x) if self.deep_stem else F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(x, 3, 2, 1)
        outs = []
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
            outs.append(x)
        return outs


# Backbone-only cases for the ResNet family (test_parity.cpp names them with the same configs):
# ResNet (V1b) depth 18, D8 with contract_dilation; ResNetV1d depth 50, D16 with multi_grid
# (1, 2, 4). Their input is 72x72, so avg_down's ceil_mode meets an odd size (9 -> 5).
BACKBONE_CASES = {
    "v1b_r18": dict(block=BasicBlock, blocks=(2, 2, 2, 2), deep_stem=False),
    "v1d_r50": dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2), avg_down=True, contract=False,
                    multi_grid=(1, 2, 4)),
}


def ppm(scales, cin, ch):
    return nn.ModuleList(nn.Sequential(nn.AdaptiveAvgPool2d(s), ConvModule(cin, ch, 1)) for s in scales)


def run_ppm(modules, x):
    return [F.interpolate(m(x), size=x.shape[2:], mode="bilinear", align_corners=False) for m in modules]


class PSPHead(nn.Module):
    def __init__(self, cin=256, ch=8, classes=5, scales=(1, 2, 3, 6)):
        super().__init__()
        self.psp_modules = ppm(scales, cin, ch)
        self.bottleneck = ConvModule(cin + len(scales) * ch, ch, 3, padding=1)
        self.conv_seg = nn.Conv2d(ch, classes, 1)

    def forward(self, feats):
        x = feats[3]
        return self.conv_seg(self.bottleneck(torch.cat([x] + run_ppm(self.psp_modules, x), 1)))


class UPerHead(nn.Module):
    def __init__(self, cins=(32, 64, 128, 256), ch=8, classes=5, scales=(1, 2, 3, 6)):
        super().__init__()
        self.psp_modules = ppm(scales, cins[-1], ch)
        self.bottleneck = ConvModule(cins[-1] + len(scales) * ch, ch, 3, padding=1)
        self.lateral_convs = nn.ModuleList(ConvModule(c, ch, 1) for c in cins[:-1])
        self.fpn_convs = nn.ModuleList(ConvModule(ch, ch, 3, padding=1) for _ in cins[:-1])
        self.fpn_bottleneck = ConvModule(len(cins) * ch, ch, 3, padding=1)
        self.conv_seg = nn.Conv2d(ch, classes, 1)

    def forward(self, feats):
        laterals = [conv(feats[i]) for i, conv in enumerate(self.lateral_convs)]
        laterals.append(self.bottleneck(torch.cat([feats[-1]] + run_ppm(self.psp_modules, feats[-1]), 1)))
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(laterals[i], size=laterals[i - 1].shape[2:],
                                                              mode="bilinear", align_corners=False)
        outs = [self.fpn_convs[i](laterals[i]) for i in range(len(laterals) - 1)] + [laterals[-1]]
        outs = [outs[0]] + [F.interpolate(o, size=outs[0].shape[2:], mode="bilinear", align_corners=False)
                            for o in outs[1:]]
        return self.conv_seg(self.fpn_bottleneck(torch.cat(outs, 1)))


class Segmentor(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.backbone = ResNetRef()
        self.decode_head = head

    def forward(self, x):
        logits = self.decode_head(self.backbone(x))
        return F.interpolate(logits, size=x.shape[2:], mode="bilinear", align_corners=False)


def randomize(model, gen):
    """Random weights (He-scaled convs, matrices scaled by 1/sqrt(fan-in), norm affine params away
    from 1 and 0), then BN running statistics measured on random batches, so eval mode sees
    realistic statistics."""
    with torch.no_grad():
        for name, t in model.named_parameters():
            if t.dim() >= 2:
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=gen) * ((2.0 if t.dim() == 4 else 1.0) / fan_in) ** 0.5)
            elif name.endswith("weight"):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
        bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        if not bns:
            return
        for m in bns:
            m.momentum = None  # cumulative average over the calibration batches
        model.train()
        for _ in range(3):
            model(torch.randn(2, 3, 64, 64, generator=gen))
        for m in bns:
            m.momentum = 0.1
            m.num_batches_tracked.zero_()


def save_segmentor_case(out, name, model, gen):
    """NAME_weights.pth (a plain dict), NAME_mmseg.pth (MMSeg's checkpoint layout) and
    NAME_expected.pth: input, label, eval-mode logits, the training loss and its gradients."""
    x = torch.randn(2, 3, 64, 64, generator=gen)
    label = torch.randint(0, 5, (2, 64, 64), generator=gen)
    label[:, :4] = 255
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save(state, os.path.join(out, f"{name}_weights.pth"))  # a plain dict of tensors
    torch.save({"meta": {"CLASSES": ["a", "b", "c", "d", "e"]}, "state_dict": state},
               os.path.join(out, f"{name}_mmseg.pth"))  # MMSeg's checkpoint layout
    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train()
    loss = F.cross_entropy(model(x), label, ignore_index=255, reduction="none").mean()
    loss.backward()
    expected = {"input": x, "label": label, "logits": logits, "loss": loss.detach()}
    for k, p in model.named_parameters():
        expected["grad." + k] = p.grad
    torch.save(expected, os.path.join(out, f"{name}_expected.pth"))


def save_backbone_case(out, name, model, x, gen):
    """NAME_weights.pth and NAME_expected.pth: the stage outputs in eval mode, and the gradients
    of a random weighting of the training-mode outputs."""
    torch.save({k: v.clone() for k, v in model.state_dict().items()}, os.path.join(out, f"{name}_weights.pth"))
    model.eval()
    with torch.no_grad():
        outs = model(x)
    model.train()
    weights = [torch.randn(o.shape, generator=gen) for o in outs]
    loss = sum((o * w).sum() for o, w in zip(model(x), weights))
    loss.backward()
    expected = {"input": x}
    for i, (o, w) in enumerate(zip(outs, weights)):
        expected[f"out{i}"] = o
        expected[f"loss_weight{i}"] = w
    for k, p in model.named_parameters():
        expected["grad." + k] = p.grad
    torch.save(expected, os.path.join(out, f"{name}_expected.pth"))


def main(out):
    os.makedirs(out, exist_ok=True)
    for name, head in (("psp", PSPHead()), ("uper", UPerHead())):
        gen = torch.Generator().manual_seed(1234)
        model = Segmentor(head)
        randomize(model, gen)
        save_segmentor_case(out, name, model, gen)
        if name == "psp":
            # An ImageNet-pretrained backbone as MMCV's open-mmlab:// files hold it: the backbone's
            # own names (no `backbone.` prefix) and a 1000-class classifier a segmentor leaves out.
            # As torch.save(module.state_dict()) writes it: an OrderedDict with `_metadata`, which
            # LibTorch's own unpickler cannot read (segtrain rewrites it: io/checkpoint/ordered_dicts.h).
            imagenet = model.backbone.state_dict()
            assert hasattr(imagenet, "_metadata")
            imagenet["fc.weight"] = torch.randn(1000, 256, generator=gen)
            imagenet["fc.bias"] = torch.randn(1000, generator=gen)
            torch.save({"state_dict": imagenet}, os.path.join(out, "backbone_imagenet.pth"))


def backbone_cases(out):
    for name, kwargs in BACKBONE_CASES.items():
        gen = torch.Generator().manual_seed(99)
        model = ResNetRef(**kwargs)
        randomize(model, gen)
        save_backbone_case(out, "backbone_" + name, model, torch.randn(2, 3, 72, 72, generator=gen), gen)


if __name__ == "__main__":
    main(sys.argv[1])
    backbone_cases(sys.argv[1])
    mit_reference.mit_cases(sys.argv[1], save_backbone_case, save_segmentor_case, randomize)
    swin_reference.swin_cases(sys.argv[1], save_backbone_case, save_segmentor_case, randomize,
                              lambda cins: UPerHead(cins=cins))
