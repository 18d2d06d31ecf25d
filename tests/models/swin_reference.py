"""An independent torch.nn definition of the Swin Transformer backbone (Liu et al., 2021) under
MMSeg 0.x's key names, written from the paper and MMSeg's documented layout, not from segtrain's
C++: windows are cut with unfold-free reshapes, the relative position index comes from explicit
coordinate differences, and the shifted windows' mask from per-pixel region labels compared
pairwise. parity_reference.py calls it.

MMSeg's layout: `patch_embed` (a patch_size conv, the input padded right/bottom to a multiple of
it, LayerNorm), `stages.i.blocks.j` (norm1, attn.w_msa.{qkv, proj, relative_position_bias_table,
relative_position_index}, norm2, ffn.layers.{0.0, 1}), `stages.i.downsample` (patch merging: 2x2
neighbours in nn.Unfold's channel-major order, `norm`, `reduction`), `norm{i}` on each output.

Cases (test_parity.cpp names them the same way):
  backbone_swin_t         Swin-T (embed 96, depths 2-2-6-2, heads 3-6-12-24, window 7)
  backbone_swin_s_small   Swin-S's depths (2-2-18-2) at a third of Swin-T's width, with an
                          absolute position embedding (pretrain_img_size 72)
                          both: input 2x3x72x72 (token maps 18, 9, 5, 3: padded windows, shifts)
  swin_uper               a narrow Swin + UPerHead (parity_reference.py's): logits, loss, gradients
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

SWIN_CASES = {
    "swin_t": dict(embed_dims=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24)),
    "swin_s_small": dict(embed_dims=32, depths=(2, 2, 18, 2), num_heads=(1, 2, 4, 8), abs_pos_size=72),
}
UPER_BACKBONE = dict(embed_dims=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8))
WINDOW = 7
EPS = 1e-5  # nn.LayerNorm's default, as MMSeg's LN


def pad_right_bottom(x, multiple):
    """N x H x W x C padded with zeros up to multiples of `multiple`."""
    h, w = x.shape[1:3]
    return F.pad(x, (0, 0, 0, (-w) % multiple, 0, (-h) % multiple))


def to_windows(x, w):
    """N x H x W x C -> (N * windows) x w*w x C, windows row by row."""
    n, h, wd, c = x.shape
    return x.reshape(n, h // w, w, wd // w, w, c).transpose(2, 3).reshape(-1, w * w, c)


def from_windows(t, w, n, h, wd):
    return t.reshape(n, h // w, wd // w, w, w, -1).transpose(2, 3).reshape(n, h, wd, -1)


class WindowAttention(nn.Module):
    def __init__(self, dims, heads, window):
        super().__init__()
        self.heads = heads
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        ys, xs = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
        coords = torch.stack([ys.flatten(), xs.flatten()])  # 2 x w*w
        rel = coords[:, :, None] - coords[:, None, :] + (window - 1)  # 2 x w*w x w*w, in [0, 2w-2]
        self.register_buffer("relative_position_index", rel[0] * (2 * window - 1) + rel[1])
        self.qkv = nn.Linear(dims, 3 * dims)
        self.proj = nn.Linear(dims, dims)

    def forward(self, x, mask):
        b, n, c = x.shape
        d = c // self.heads
        q, k, v = (t.reshape(b, n, self.heads, d).transpose(1, 2) for t in self.qkv(x).split(c, dim=-1))
        logits = q @ k.transpose(-2, -1) / d ** 0.5
        bias = self.relative_position_bias_table[self.relative_position_index.flatten()].reshape(n, n, -1)
        logits = logits + bias.permute(2, 0, 1)[None]
        if mask is not None:
            logits = (logits.reshape(-1, mask.shape[0], self.heads, n, n) + mask[None, :, None]).reshape(b, self.heads, n, n)
        return self.proj((logits.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c))


def shift_mask(h, w, window, shift):
    """windows x w*w x w*w: -100 between tokens that come from different regions of the unrolled map."""
    def regions(size):
        r = torch.zeros(size, dtype=torch.long)
        r[size - window:size - shift] = 1
        r[size - shift:] = 2
        return r
    label = regions(h)[:, None] * 3 + regions(w)[None, :]
    per_window = to_windows(label[None, :, :, None], window)[..., 0]
    return (per_window[:, :, None] != per_window[:, None, :]).float() * -100.0


class Block(nn.Module):
    def __init__(self, dims, heads, shift):
        super().__init__()
        self.shift = WINDOW // 2 if shift else 0
        self.norm1 = nn.LayerNorm(dims, eps=EPS)
        self.attn = nn.Module()
        self.attn.w_msa = WindowAttention(dims, heads, WINDOW)
        self.norm2 = nn.LayerNorm(dims, eps=EPS)
        self.ffn = nn.Module()
        self.ffn.layers = nn.Sequential(nn.Sequential(nn.Linear(dims, 4 * dims), nn.GELU()), nn.Linear(4 * dims, dims))

    def forward(self, x, h, w):
        n, _, c = x.shape
        y = pad_right_bottom(self.norm1(x).reshape(n, h, w, c), WINDOW)
        hp, wp = y.shape[1:3]
        mask = None
        if self.shift:
            y = torch.roll(y, (-self.shift, -self.shift), (1, 2))
            mask = shift_mask(hp, wp, WINDOW, self.shift)
        y = from_windows(self.attn.w_msa(to_windows(y, WINDOW), mask), WINDOW, n, hp, wp)
        if self.shift:
            y = torch.roll(y, (self.shift, self.shift), (1, 2))
        x = x + y[:, :h, :w].reshape(n, h * w, c)
        return x + self.ffn.layers(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.norm = nn.LayerNorm(4 * cin, eps=EPS)
        self.reduction = nn.Linear(4 * cin, 2 * cin, bias=False)

    def forward(self, x, h, w):
        n, _, c = x.shape
        y = pad_right_bottom(x.reshape(n, h, w, c), 2)
        h2, w2 = y.shape[1] // 2, y.shape[2] // 2
        # Channel-major: for each channel its (0,0), (0,1), (1,0), (1,1) neighbours.
        y = y.reshape(n, h2, 2, w2, 2, c).permute(0, 1, 3, 5, 2, 4).reshape(n, h2 * w2, 4 * c)
        return self.reduction(self.norm(y)), h2, w2


class Swin(nn.Module):
    def __init__(self, embed_dims, depths, num_heads, abs_pos_size=None):
        super().__init__()
        self.patch_embed = nn.Module()
        self.patch_embed.projection = nn.Conv2d(3, embed_dims, 4, stride=4)
        self.patch_embed.norm = nn.LayerNorm(embed_dims, eps=EPS)
        self.absolute_pos_embed = None
        if abs_pos_size:
            self.absolute_pos_embed = nn.Parameter(torch.zeros(1, (abs_pos_size // 4) ** 2, embed_dims))
        self.stages = nn.ModuleList()
        self.channels = [embed_dims * 2 ** i for i in range(len(depths))]
        for i, (depth, heads) in enumerate(zip(depths, num_heads)):
            stage = nn.Module()
            stage.blocks = nn.ModuleList(Block(self.channels[i], heads, j % 2 == 1) for j in range(depth))
            stage.downsample = PatchMerging(self.channels[i]) if i + 1 < len(depths) else None
            self.stages.append(stage)
            self.add_module(f"norm{i}", nn.LayerNorm(self.channels[i], eps=EPS))

    def forward(self, x):
        x = F.pad(x, (0, (-x.shape[3]) % 4, 0, (-x.shape[2]) % 4))
        x = self.patch_embed.projection(x)
        h, w = x.shape[2:]
        x = self.patch_embed.norm(x.flatten(2).transpose(1, 2))
        if self.absolute_pos_embed is not None:
            x = x + self.absolute_pos_embed
        outs = []
        for i, stage in enumerate(self.stages):
            for block in stage.blocks:
                x = block(x, h, w)
            out = getattr(self, f"norm{i}")(x)
            outs.append(out.transpose(1, 2).reshape(x.shape[0], -1, h, w))
            if stage.downsample is not None:
                x, h, w = stage.downsample(x, h, w)
        return outs


class SwinUper(nn.Module):
    def __init__(self, uper_head):
        super().__init__()
        self.backbone = Swin(**UPER_BACKBONE)
        self.decode_head = uper_head(tuple(self.backbone.channels))

    def forward(self, x):
        logits = self.decode_head(self.backbone(x))
        return F.interpolate(logits, size=x.shape[2:], mode="bilinear", align_corners=False)


def swin_cases(out, save_backbone_case, save_segmentor_case, randomize, uper_head):
    """Writes the cases through parity_reference.py's savers and random weights."""
    for name, kwargs in SWIN_CASES.items():
        gen = torch.Generator().manual_seed(11)
        model = Swin(**kwargs)
        randomize(model, gen)
        save_backbone_case(out, "backbone_" + name, model, torch.randn(2, 3, 72, 72, generator=gen), gen)
    gen = torch.Generator().manual_seed(12)
    model = SwinUper(uper_head)
    randomize(model, gen)
    save_segmentor_case(out, "swin_uper", model, gen)
