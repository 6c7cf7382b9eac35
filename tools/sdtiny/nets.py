"""Tiny random-weight torch modules with the interfaces of the real Stable Diffusion parts (our own small
architectures, not copies of the real ones). Each `forward` takes and returns what the Optimum ONNX export of the
real part takes and returns, in that order:

- ClipText: CLIP-style causal text transformer (token + learned position embeddings, pre-LN blocks with causal
  self-attention and a quick_gelu/gelu MLP, final LayerNorm). Pooled output = the final-LN state at the position
  of the largest input id (transformers' legacy pooling, used when config.eos_token_id == 2 as in every SD
  text encoder config; <|endoftext|> is the largest id). `projection=None`: CLIPTextModel outputs
  (last_hidden_state, pooler_output); else CLIPTextModelWithProjection outputs (text_embeds, last_hidden_state),
  text_embeds = pooled @ W (no bias). With `hidden_states=True` the outputs go on with hidden_states.0..N
  (embeddings, then the residual stream after each of the N blocks, before the final LayerNorm).
- T5Encoder: T5-style encoder (RMSNorm, bidirectional self-attention with T5's bucketed relative position bias
  computed once and shared, gated-GELU feed-forward, final RMSNorm) -> last_hidden_state. No attention mask
  (diffusers' SD3 pipeline passes none).
- UNet: conditional UNet-like net: sinusoidal timestep embedding (flip_sin_to_cos, freq_shift 0, computed in
  float32 like diffusers) -> MLP; two resolution levels of (ResBlock + transformer block with self-attention and
  cross-attention on encoder_hidden_states); for SDXL the `text_time` added conditioning (each of the 6 time_ids
  embedded sinusoidally, concatenated with text_embeds, MLP, added to the time embedding). Output =
  conv_out(features) + skip * sample: the input skip keeps samplers stable with random weights.
- SD3Transformer: patchified (patch 2) joint-attention transformer with adaLN modulation from timestep and
  pooled_projections; text tokens projected from joint_attention_dim; learned position table center-cropped to
  the latent size. Output = unpatchified prediction + skip * hidden_states.
- VaeEncoder / VaeDecoder: three 2x down / up steps (8x spatial factor); the encoder returns the
  DiagonalGaussian parameters [mean, logvar] concatenated on channels (2 x latent_channels).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    """Multi-head attention; `ctx` None for self-attention. `bias` on q/k/v like CLIP (True) or not (UNet)."""

    def __init__(self, dim: int, heads: int, ctx_dim: int = None, bias: bool = True):
        super().__init__()
        ctx_dim = ctx_dim or dim
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=bias)
        self.k = nn.Linear(ctx_dim, dim, bias=bias)
        self.v = nn.Linear(ctx_dim, dim, bias=bias)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, ctx=None, bias=None):
        ctx = x if ctx is None else ctx
        b, n, d = x.shape
        m = ctx.shape[1]
        h = self.heads
        q = self.q(x).view(b, n, h, d // h).transpose(1, 2)
        k = self.k(ctx).view(b, m, h, d // h).transpose(1, 2)
        v = self.v(ctx).view(b, m, h, d // h).transpose(1, 2)
        s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h))
        if bias is not None:
            s = s + bias
        a = torch.softmax(s, dim=-1)
        o = torch.matmul(a, v).transpose(1, 2).reshape(b, n, d)
        return self.out(o)


# ---------------------------------------------------------------------------------------------- text encoders

class ClipText(nn.Module):
    def __init__(self, vocab: int, hidden: int, layers: int, heads: int, inter: int, max_pos: int = 77,
                 act: str = 'quick_gelu', projection: int = None, hidden_states: bool = False):
        super().__init__()
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Parameter(torch.randn(max_pos, hidden) * 0.3)
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            blk = nn.Module()
            blk.ln1 = nn.LayerNorm(hidden)
            blk.attn = Attention(hidden, heads)
            blk.ln2 = nn.LayerNorm(hidden)
            blk.fc1 = nn.Linear(hidden, inter)
            blk.fc2 = nn.Linear(inter, hidden)
            self.blocks.append(blk)
        self.final_ln = nn.LayerNorm(hidden)
        self.act = act
        self.proj = nn.Linear(hidden, projection, bias=False) if projection else None
        self.hidden_states = hidden_states
        with torch.no_grad():
            self.tok.weight.mul_(0.5)
            for ln in [self.final_ln] + [m for b in self.blocks for m in (b.ln1, b.ln2)]:
                ln.weight.add_(torch.randn_like(ln.weight) * 0.1)
                ln.bias.add_(torch.randn_like(ln.bias) * 0.05)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos[:n]
        idx = torch.arange(n, device=input_ids.device)
        mask = torch.zeros(n, n).masked_fill(idx[None, :] > idx[:, None], float('-inf'))
        states = [x]
        for b in self.blocks:
            x = x + b.attn(b.ln1(x), bias=mask)
            h = b.fc1(b.ln2(x))
            h = quick_gelu(h) if self.act == 'quick_gelu' else F.gelu(h)
            x = x + b.fc2(h)
            states.append(x)
        last = self.final_ln(x)
        pooled = last[torch.arange(last.shape[0]), input_ids.argmax(dim=-1)]
        outs = (last, pooled) if self.proj is None else (self.proj(pooled), last)
        return outs + tuple(states) if self.hidden_states else outs


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def t5_buckets(rel, num_buckets: int = 32, max_distance: int = 128):
    """T5's bidirectional relative-position bucket of (key - query) offsets: half the buckets per sign, exact
    for |offset| < num_buckets/4, logarithmic up to max_distance."""
    nb = num_buckets // 2
    out = (rel > 0).long() * nb
    n = rel.abs()
    exact = nb // 2
    large = exact + (torch.log(n.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (nb - exact)).long()
    large = torch.clamp(large, max=nb - 1)
    return out + torch.where(n < exact, n, large)


class T5Encoder(nn.Module):
    def __init__(self, vocab: int, d_model: int, layers: int, heads: int, d_ff: int, num_buckets: int = 32,
                 max_distance: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.rel_bias = nn.Embedding(num_buckets, heads)
        self.num_buckets, self.max_distance = num_buckets, max_distance
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            blk = nn.Module()
            blk.n1 = RMSNorm(d_model)
            blk.attn = Attention(d_model, heads, bias=False)
            blk.n2 = RMSNorm(d_model)
            blk.wi0 = nn.Linear(d_model, d_ff, bias=False)
            blk.wi1 = nn.Linear(d_model, d_ff, bias=False)
            blk.wo = nn.Linear(d_ff, d_model, bias=False)
            self.blocks.append(blk)
        self.final = RMSNorm(d_model)
        with torch.no_grad():
            self.rel_bias.weight.mul_(0.5)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        pos = torch.arange(n, device=input_ids.device)
        buckets = t5_buckets(pos[None, :] - pos[:, None], self.num_buckets, self.max_distance)
        bias = self.rel_bias(buckets).permute(2, 0, 1)[None]
        x = self.embed(input_ids)
        for b in self.blocks:
            x = x + b.attn(b.n1(x), bias=bias)
            h = b.n2(x)
            x = x + b.wo(F.gelu(b.wi0(h), approximate='tanh') * b.wi1(h))
        return (self.final(x),)


# ---------------------------------------------------------------------------------------------- UNet

class Timesteps(nn.Module):
    """Sinusoidal embedding like diffusers' Timesteps(dim, flip_sin_to_cos=True, freq_shift=0): [cos | sin] of
    t * exp(-ln(10000) * i / (dim/2)), computed in float32 whatever the model's dtype (the float16 export keeps
    the nodes of modules named `time_proj*` in float32, see onnx_io.to_float16)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        arg = t.float()[:, None] * freqs[None, :]
        return torch.cat([torch.cos(arg), torch.sin(arg)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int = None, groups: int = 8):
        super().__init__()
        self.n1 = nn.GroupNorm(groups, cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(temb, cout) if temb else None
        self.n2 = nn.GroupNorm(groups, cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb=None):
        h = self.c1(F.silu(self.n1(x)))
        if self.t is not None:
            h = h + self.t(F.silu(temb))[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return h + (x if self.skip is None else self.skip(x))


class TransformerBlock(nn.Module):
    """GroupNorm -> tokens -> self-attention, cross-attention on the context, GELU MLP -> back to the map."""

    def __init__(self, ch: int, ctx_dim: int, heads: int = 4, groups: int = 8):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch)
        self.proj_in = nn.Linear(ch, ch)
        self.ln1 = nn.LayerNorm(ch)
        self.attn1 = Attention(ch, heads, bias=False)
        self.ln2 = nn.LayerNorm(ch)
        self.attn2 = Attention(ch, heads, ctx_dim, bias=False)
        self.ln3 = nn.LayerNorm(ch)
        self.ff1 = nn.Linear(ch, 2 * ch)
        self.ff2 = nn.Linear(2 * ch, ch)
        self.proj_out = nn.Linear(ch, ch)

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        t = self.proj_in(self.norm(x).flatten(2).transpose(1, 2))
        t = t + self.attn1(self.ln1(t))
        t = t + self.attn2(self.ln2(t), ctx)
        t = t + self.ff2(F.gelu(self.ff1(self.ln3(t))))
        return x + self.proj_out(t).transpose(1, 2).reshape(b, c, h, w)


class UNet(nn.Module):
    def __init__(self, in_ch: int = 4, ch=(32, 64), ctx_dim: int = 64, add_time_dim: int = None,
                 text_embeds_dim: int = None, groups: int = 8):
        super().__init__()
        c0, c1 = ch
        temb = 4 * c0
        self.time_proj = Timesteps(c0)
        self.time_mlp1 = nn.Linear(c0, temb)
        self.time_mlp2 = nn.Linear(temb, temb)
        self.add_time_dim = add_time_dim
        if add_time_dim:
            self.time_proj_add = Timesteps(add_time_dim)
            self.add_mlp1 = nn.Linear(6 * add_time_dim + text_embeds_dim, temb)
            self.add_mlp2 = nn.Linear(temb, temb)
        self.conv_in = nn.Conv2d(in_ch, c0, 3, padding=1)
        self.down0 = ResBlock(c0, c0, temb, groups)
        self.attn_d0 = TransformerBlock(c0, ctx_dim, groups=groups)
        self.downsample = nn.Conv2d(c0, c0, 3, stride=2, padding=1)
        self.down1 = ResBlock(c0, c1, temb, groups)
        self.attn_d1 = TransformerBlock(c1, ctx_dim, groups=groups)
        self.mid = ResBlock(c1, c1, temb, groups)
        self.attn_mid = TransformerBlock(c1, ctx_dim, groups=groups)
        self.up1 = ResBlock(2 * c1, c1, temb, groups)
        self.attn_u1 = TransformerBlock(c1, ctx_dim, groups=groups)
        self.upsample = nn.Conv2d(c1, c1, 3, padding=1)
        self.up0 = ResBlock(c1 + c0, c0, temb, groups)
        self.attn_u0 = TransformerBlock(c0, ctx_dim, groups=groups)
        self.norm_out = nn.GroupNorm(groups, c0)
        self.conv_out = nn.Conv2d(c0, in_ch, 3, padding=1)
        self.skip = nn.Parameter(torch.ones(1, in_ch, 1, 1) + 0.05 * torch.randn(1, in_ch, 1, 1))

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds=None, time_ids=None):
        b = sample.shape[0]
        t = timestep.reshape(-1).expand(b)
        emb = self.time_mlp2(F.silu(self.time_mlp1(self.time_proj(t).to(sample.dtype))))
        if self.add_time_dim:
            tid = self.time_proj_add(time_ids.reshape(-1)).reshape(b, -1).to(sample.dtype)
            emb = emb + self.add_mlp2(F.silu(self.add_mlp1(torch.cat([text_embeds, tid], dim=-1))))
        ctx = encoder_hidden_states
        h0 = self.attn_d0(self.down0(self.conv_in(sample), emb), ctx)
        h1 = self.attn_d1(self.down1(self.downsample(h0), emb), ctx)
        m = self.attn_mid(self.mid(h1, emb), ctx)
        u1 = self.attn_u1(self.up1(torch.cat([m, h1], dim=1), emb), ctx)
        u1 = self.upsample(F.interpolate(u1, scale_factor=2.0, mode='nearest'))
        u0 = self.attn_u0(self.up0(torch.cat([u1, h0], dim=1), emb), ctx)
        return (self.conv_out(F.silu(self.norm_out(u0))) + self.skip * sample,)


# ---------------------------------------------------------------------------------------------- SD3 transformer

class JointBlock(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(dim, eps=1e-6)  # weight 1, bias 0: torch 1.13 cannot export the affine-free form
        self.mod_x = nn.Linear(dim, 6 * dim)
        self.mod_c = nn.Linear(dim, 6 * dim)
        self.qkv_x = nn.Linear(dim, 3 * dim)
        self.qkv_c = nn.Linear(dim, 3 * dim)
        self.out_x = nn.Linear(dim, dim)
        self.out_c = nn.Linear(dim, dim)
        self.ff_x = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(approximate='tanh'), nn.Linear(2 * dim, dim))
        self.ff_c = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(approximate='tanh'), nn.Linear(2 * dim, dim))
        with torch.no_grad():
            self.mod_x.weight.mul_(0.3)
            self.mod_c.weight.mul_(0.3)

    def forward(self, x, c, cond):
        b, n, d = x.shape
        m = c.shape[1]
        sx, scx, gx, sx2, scx2, gx2 = self.mod_x(F.silu(cond))[:, None].chunk(6, dim=-1)
        sc, scc, gc, sc2, scc2, gc2 = self.mod_c(F.silu(cond))[:, None].chunk(6, dim=-1)
        hx = self.norm(x) * (1 + scx) + sx
        hc = self.norm(c) * (1 + scc) + sc
        qkv = torch.cat([self.qkv_x(hx), self.qkv_c(hc)], dim=1).view(b, n + m, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // self.heads), dim=-1)
        o = torch.matmul(a, v).transpose(1, 2).reshape(b, n + m, d)
        x = x + gx * self.out_x(o[:, :n])
        c = c + gc * self.out_c(o[:, n:])
        x = x + gx2 * self.ff_x(self.norm(x) * (1 + scx2) + sx2)
        c = c + gc2 * self.ff_c(self.norm(c) * (1 + scc2) + sc2)
        return x, c


class SD3Transformer(nn.Module):
    def __init__(self, in_ch: int = 16, patch: int = 2, dim: int = 64, heads: int = 4, layers: int = 2,
                 joint_dim: int = 96, pooled_dim: int = 80, pos_max: int = 16):
        super().__init__()
        self.patch, self.dim, self.pos_max, self.in_ch = patch, dim, pos_max, in_ch
        self.patch_embed = nn.Conv2d(in_ch, dim, patch, stride=patch)
        self.pos = nn.Parameter(torch.randn(1, pos_max, pos_max, dim) * 0.3)
        self.time_proj = Timesteps(256)
        self.t1 = nn.Linear(256, dim)
        self.t2 = nn.Linear(dim, dim)
        self.p1 = nn.Linear(pooled_dim, dim)
        self.p2 = nn.Linear(dim, dim)
        self.ctx = nn.Linear(joint_dim, dim)
        self.blocks = nn.ModuleList([JointBlock(dim, heads) for _ in range(layers)])
        self.norm_out = nn.LayerNorm(dim, eps=1e-6)  # weight 1, bias 0: torch 1.13 cannot export the affine-free form
        self.mod_out = nn.Linear(dim, 2 * dim)
        self.proj_out = nn.Linear(dim, patch * patch * in_ch)
        self.skip = nn.Parameter(torch.ones(1, in_ch, 1, 1) + 0.05 * torch.randn(1, in_ch, 1, 1))

    def forward(self, hidden_states, encoder_hidden_states, pooled_projections, timestep):
        b, ch, hh, ww = hidden_states.shape
        p = self.patch
        gh, gw = hh // p, ww // p
        x = self.patch_embed(hidden_states)
        top = (self.pos_max - gh) // 2
        left = (self.pos_max - gw) // 2
        pos = self.pos[:, top:top + gh, left:left + gw, :]
        x = x.flatten(2).transpose(1, 2) + pos.reshape(1, -1, self.dim)
        temb = self.t2(F.silu(self.t1(self.time_proj(timestep).to(hidden_states.dtype))))
        cond = temb + self.p2(F.silu(self.p1(pooled_projections)))
        c = self.ctx(encoder_hidden_states)
        for blk in self.blocks:
            x, c = blk(x, c, cond)
        shift, scale = self.mod_out(F.silu(cond))[:, None].chunk(2, dim=-1)
        x = self.proj_out(self.norm_out(x) * (1 + scale) + shift)
        x = x.view(b, gh, gw, p, p, ch).permute(0, 5, 1, 3, 2, 4).reshape(b, ch, gh * p, gw * p)
        return (x + self.skip * hidden_states,)


# ---------------------------------------------------------------------------------------------- VAE

class VaeEncoder(nn.Module):
    def __init__(self, latent_ch: int = 4, ch=(16, 16, 32, 32), groups: int = 8):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        layers = []
        for i in range(3):
            layers += [ResBlock(ch[i], ch[i + 1], None, groups), nn.Conv2d(ch[i + 1], ch[i + 1], 3, stride=2, padding=1)]
        self.down = nn.ModuleList(layers)
        self.mid = ResBlock(ch[3], ch[3], None, groups)
        self.norm_out = nn.GroupNorm(groups, ch[3])
        self.conv_out = nn.Conv2d(ch[3], 2 * latent_ch, 3, padding=1)
        self.quant = nn.Conv2d(2 * latent_ch, 2 * latent_ch, 1)

    def forward(self, sample):
        h = self.conv_in(sample)
        for layer in self.down:
            h = layer(h)
        h = self.conv_out(F.silu(self.norm_out(self.mid(h))))
        return (self.quant(h),)


class VaeDecoder(nn.Module):
    def __init__(self, latent_ch: int = 4, ch=(16, 16, 32, 32), groups: int = 8):
        super().__init__()
        rev = list(reversed(ch))
        self.post_quant = nn.Conv2d(latent_ch, latent_ch, 1)
        self.conv_in = nn.Conv2d(latent_ch, rev[0], 3, padding=1)
        self.mid = ResBlock(rev[0], rev[0], None, groups)
        self.blocks = nn.ModuleList([ResBlock(rev[i], rev[i + 1], None, groups) for i in range(3)])
        self.up_convs = nn.ModuleList([nn.Conv2d(rev[i + 1], rev[i + 1], 3, padding=1) for i in range(3)])
        self.norm_out = nn.GroupNorm(groups, rev[3])
        self.conv_out = nn.Conv2d(rev[3], 3, 3, padding=1)

    def forward(self, latent_sample):
        h = self.mid(self.conv_in(self.post_quant(latent_sample)))
        for blk, up in zip(self.blocks, self.up_convs):
            h = up(F.interpolate(blk(h), scale_factor=2.0, mode='nearest'))
        return (self.conv_out(F.silu(self.norm_out(h))),)
