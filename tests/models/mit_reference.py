"""An independent torch.nn definition of SegFormer's MixVisionTransformer (MiT) and its all-MLP
decoder (SegformerHead), written from the SegFormer paper (Xie et al., 2021) and MMSeg's key
names, not from segtrain's C++: the attention is spelled out (packed q/k/v projection, scaled dot
product, softmax) rather than taken from nn.MultiheadAttention. parity_reference.py calls it.

Cases (test_parity.cpp names them the same way):
  backbone_mit_b0, backbone_mit_b2_small  stage outputs (eval) and gradients of a weighted sum
                                         (train), input 2x3x72x72 (odd token maps: 18, 9, 5, 3)
  segformer                              MiT-B0 + SegformerHead (channels 16, 5 classes): logits,
                                         loss and gradients, input 2x3x64x64
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

# MiT-B0's sizes; "b2_small" has MiT-B2's depths (3, 4, 6, 3) at half B0's width.
MIT_CASES = {
    "mit_b0": dict(embed_dims=32, num_layers=(2, 2, 2, 2)),
    "mit_b2_small": dict(embed_dims=16, num_layers=(3, 4, 6, 3)),
}
HEADS = (1, 2, 5, 8)
SR_RATIOS = (8, 4, 2, 1)
EPS = 1e-6


def tokens_to_map(x, h, w):
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], h, w)


class Attention(nn.Module):
    def __init__(self, dims, heads, sr):
        super().__init__()
        self.heads = heads
        self.attn = nn.Module()  # MMSeg keeps torch's attention as `attn.attn`
        self.attn.in_proj_weight = nn.Parameter(torch.empty(3 * dims, dims))
        self.attn.in_proj_bias = nn.Parameter(torch.empty(3 * dims))
        self.attn.out_proj = nn.Linear(dims, dims)
        if sr > 1:
            self.sr = nn.Conv2d(dims, dims, sr, stride=sr)
            self.norm = nn.LayerNorm(dims, eps=EPS)
        self.has_sr = sr > 1

    def forward(self, x, h, w):
        b, n, c = x.shape
        kv = self.norm(self.sr(tokens_to_map(x, h, w)).flatten(2).transpose(1, 2)) if self.has_sr else x
        wq, wk, wv = self.attn.in_proj_weight.chunk(3)
        bq, bk, bv = self.attn.in_proj_bias.chunk(3)
        d = c // self.heads

        def split(t):  # b x len x c -> b x heads x len x d
            return t.reshape(b, -1, self.heads, d).transpose(1, 2)
        q, k, v = split(x @ wq.t() + bq), split(kv @ wk.t() + bk), split(kv @ wv.t() + bv)
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(b, n, c)
        return self.attn.out_proj(out)


class Block(nn.Module):
    def __init__(self, dims, heads, sr):
        super().__init__()
        self.norm1 = nn.LayerNorm(dims, eps=EPS)
        self.attn = Attention(dims, heads, sr)
        self.norm2 = nn.LayerNorm(dims, eps=EPS)
        hidden = 4 * dims
        self.ffn = nn.Module()
        # Mix-FFN: 1x1, depthwise 3x3 (the positional information), GELU, 1x1; MMSeg's indices
        # 3 and 5 are dropouts.
        self.ffn.layers = nn.Sequential(nn.Conv2d(dims, hidden, 1), nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden),
                                        nn.GELU(), nn.Identity(), nn.Conv2d(hidden, dims, 1), nn.Identity())

    def forward(self, x, h, w):
        x = x + self.attn(self.norm1(x), h, w)
        y = self.ffn.layers(tokens_to_map(self.norm2(x), h, w))
        return x + y.flatten(2).transpose(1, 2)


class PatchEmbed(nn.Module):
    def __init__(self, cin, dims, kernel, stride):
        super().__init__()
        self.projection = nn.Conv2d(cin, dims, kernel, stride=stride, padding=kernel // 2)
        self.norm = nn.LayerNorm(dims, eps=EPS)

    def forward(self, x):
        x = self.projection(x)
        return self.norm(x.flatten(2).transpose(1, 2)), x.shape[2], x.shape[3]


class MiT(nn.Module):
    def __init__(self, embed_dims, num_layers):
        super().__init__()
        self.layers = nn.ModuleList()
        cin = 3
        for i, (n, heads, sr) in enumerate(zip(num_layers, HEADS, SR_RATIOS)):
            dims = embed_dims * heads
            self.layers.append(nn.ModuleList([PatchEmbed(cin, dims, 7 if i == 0 else 3, 4 if i == 0 else 2),
                                              nn.ModuleList(Block(dims, heads, sr) for _ in range(n)),
                                              nn.LayerNorm(dims, eps=EPS)]))
            cin = dims
        self.channels = [embed_dims * h for h in HEADS]

    def forward(self, x):
        outs = []
        for embed, blocks, norm in self.layers:
            x, h, w = embed(x)
            for block in blocks:
                x = block(x, h, w)
            x = tokens_to_map(norm(x), h, w)
            outs.append(x)
        return outs


class ConvBnRelu(nn.Module):  # MMCV's ConvModule: keys conv.weight, bn.*
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class SegformerHead(nn.Module):
    """Each stage to `channels` by a 1x1 conv, all upsampled to the first stage's size,
    concatenated and fused by another 1x1 conv, then the classifier."""

    def __init__(self, cins, ch=16, classes=5):
        super().__init__()
        self.convs = nn.ModuleList(ConvBnRelu(c, ch) for c in cins)
        self.fusion_conv = ConvBnRelu(len(cins) * ch, ch)
        self.conv_seg = nn.Conv2d(ch, classes, 1)

    def forward(self, feats):
        size = feats[0].shape[2:]
        outs = [F.interpolate(conv(f), size=size, mode="bilinear", align_corners=False)
                for conv, f in zip(self.convs, feats)]
        return self.conv_seg(self.fusion_conv(torch.cat(outs, 1)))


class Segformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = MiT(**MIT_CASES["mit_b0"])
        self.decode_head = SegformerHead(self.backbone.channels)

    def forward(self, x):
        logits = self.decode_head(self.backbone(x))
        return F.interpolate(logits, size=x.shape[2:], mode="bilinear", align_corners=False)


def mit_cases(out, save_backbone_case, save_segmentor_case, randomize):
    """Writes the cases through parity_reference.py's savers and random weights (the same file
    layout, the same weight scales)."""
    for name, kwargs in MIT_CASES.items():
        gen = torch.Generator().manual_seed(7)
        model = MiT(**kwargs)
        randomize(model, gen)
        save_backbone_case(out, "backbone_" + name, model, torch.randn(2, 3, 72, 72, generator=gen), gen)
    gen = torch.Generator().manual_seed(8)
    model = Segformer()
    randomize(model, gen)
    save_segmentor_case(out, "segformer", model, gen)
