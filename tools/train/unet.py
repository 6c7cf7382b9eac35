"""A small class-conditional UNet for 32x32 single-channel images (the dpipe MNIST demo model).

Architecture (in the spirit of Ho et al. 2020, "Denoising Diffusion Probabilistic Models", and the diffusers
UNet2DModel, reduced for a 2-core CPU): conv_in -> [ResBlock 32 @32x32] -> down -> [ResBlock 64 @16x16] -> down ->
middle [ResBlock 64, self-attention, ResBlock 64 @8x8] -> up + skip -> [ResBlock 64 @16x16] -> up + skip ->
[ResBlock 32 @32x32] -> GroupNorm, SiLU, conv_out. Every ResBlock receives the sum of a sinusoidal timestep
embedding (MLP) and a learned class embedding; class index `num_classes` (10) is the "null" label used for
classifier-free guidance (Ho & Salimans 2022).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of a float timestep tensor [B] -> [B, dim] (cos half first, as in diffusers)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def upsample2(x: torch.Tensor, c: int) -> torch.Tensor:
    """Nearest-neighbour 2x upsampling, written as a depthwise transposed convolution with a 2x2 kernel of ones
    (exactly the same values as F.interpolate(mode='nearest')); exported to ONNX as ConvTranspose, whose output
    shape ONNX shape inference knows statically (Resize left the spatial dimensions of `out_sample` unnamed).
    `c` = channels of x, a Python int so that the kernel is a constant in the exported graph."""
    return F.conv_transpose2d(x, torch.ones((c, 1, 2, 2), dtype=x.dtype, device=x.device), stride=2, groups=c)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int, groups: int = 8):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * cout)  # scale and shift (FiLM), as in Dhariwal & Nichol 2021
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return self.skip(x) + h


class Attention(nn.Module):
    def __init__(self, ch: int, heads: int = 4, groups: int = 8):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # channel and spatial sizes as Python ints (constants in the ONNX graph, so its shape inference keeps the
        # spatial dimensions known); only the batch dimension (-1) stays dynamic
        c, hh, ww = int(x.shape[1]), int(x.shape[2]), int(x.shape[3])
        q, k, v = self.qkv(self.norm(x)).reshape(-1, 3, self.heads, c // self.heads, hh * ww).unbind(1)
        w = torch.softmax(torch.einsum('bhcn,bhcm->bhnm', q, k) / math.sqrt(c // self.heads), dim=-1)
        out = torch.einsum('bhnm,bhcm->bhcn', w, v).reshape(-1, c, hh, ww)
        return x + self.proj(out)


class UNet(nn.Module):
    def __init__(self, ch=(32, 64, 64), num_classes: int = 10, emb_dim: int = 128):
        super().__init__()
        c1, c2, c3 = ch
        self.num_classes = num_classes
        self.c2, self.c3 = c2, c3
        self.tdim = c1
        self.time_mlp = nn.Sequential(nn.Linear(c1, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.class_emb = nn.Embedding(num_classes + 1, emb_dim)  # last row = null label for CFG
        self.conv_in = nn.Conv2d(1, c1, 3, padding=1)
        self.down1 = ResBlock(c1, c1, emb_dim)
        self.pool1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.down2 = ResBlock(c1, c2, emb_dim)
        self.pool2 = nn.Conv2d(c2, c2, 3, stride=2, padding=1)
        self.mid1 = ResBlock(c2, c3, emb_dim)
        self.attn = Attention(c3)
        self.mid2 = ResBlock(c3, c3, emb_dim)
        self.up2 = ResBlock(c3 + c2, c2, emb_dim)
        self.up1 = ResBlock(c2 + c1, c1, emb_dim)
        self.norm_out = nn.GroupNorm(8, c1)
        self.conv_out = nn.Conv2d(c1, 1, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, class_labels: torch.Tensor) -> torch.Tensor:
        emb = self.time_mlp(timestep_embedding(timestep, self.tdim)) + self.class_emb(class_labels)
        h0 = self.conv_in(sample)
        s1 = self.down1(h0, emb)
        s2 = self.down2(self.pool1(s1), emb)
        h = self.mid1(self.pool2(s2), emb)
        h = self.mid2(self.attn(h), emb)
        h = self.up2(torch.cat([upsample2(h, self.c3), s2], dim=1), emb)
        h = upsample2(h, self.c2)
        h = self.up1(torch.cat([h, s1], dim=1), emb)
        return self.conv_out(F.silu(self.norm_out(h)))


def linear_alphas_cumprod(n: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """DDPM linear beta schedule (Ho et al. 2020; diffusers `beta_schedule="linear"`), in float64."""
    betas = torch.linspace(beta_start, beta_end, n, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, dim=0)
