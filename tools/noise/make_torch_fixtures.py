#!/usr/bin/python3
"""Reference values for dpipe's `noise.torch` block (test/noise/torch.test.ts).

Run with Debian's python3-torch (1.13, CPU):  /usr/bin/python3 tools/noise/make_torch_fixtures.py

Writes test/fixtures/noise/torch/*.npy (float32 or float64, C order) and index.json describing every case:
  - torch.randn on the CPU for several seeds and shapes, once per CPU kernel: the AVX2 kernel (what x86-64
    builds use) and the default kernel (what builds without AVX2 use), each in its own process with
    ATEN_CPU_CAPABILITY set, because torch picks the kernel once at start-up;
  - one generator reused across calls of different sizes (state continuity, the small-tensor cache);
  - the draw orders of ComfyUI, diffusers and A1111, written here from their documented code paths
    (ComfyUI comfy/sample.py prepare_noise + comfy/k_diffusion/sampling.py default_noise_sampler; diffusers
    utils/torch_utils.py randn_tensor + the schedulers' step(); A1111 modules/rng.py ImageRNG);
  - A1111's "NV" generator, computed by this file's own transcription of the algorithm of A1111's
    modules/rng_philox.py (no A1111 code is run here);
  - a k-diffusion Euler-ancestral run on a closed-form Gaussian denoiser with ComfyUI's noise order.
Nothing here is downloaded; re-running gives the same bytes.
"""
import hashlib
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'noise', 'torch')

SEEDS = [0, 1, 42, 2**32 - 1, 2**64 - 1, 12345678901234567890]
SHAPES = [[1], [7], [15], [16], [17], [100], [2, 4, 8, 8], [1, 4, 64, 64]]
LARGE_SEEDS = [0, 42, 2**64 - 1]  # [1, 4, 64, 64] only for these, to keep the fixtures small
BIG_SHAPE = [1, 16, 128, 128]
CAPABILITIES = {'avx2': 'AVX2', 'default': 'NO AVX'}


def capability():
    return torch.__config__.show().split('CPU capability usage:')[1].split('\n')[0].strip()


class Writer:
    """Collects arrays into one .npy per group; the index records each case's offset and shape."""

    def __init__(self, group, dtype):
        self.group, self.dtype, self.parts, self.size = group, dtype, [], 0

    def add(self, array):
        a = np.ascontiguousarray(np.asarray(array, dtype=self.dtype)).reshape(-1)
        offset = self.size
        self.parts.append(a)
        self.size += a.size
        return {'file': f'{self.group}.npy', 'offset': offset, 'length': int(a.size)}

    def save(self):
        np.save(os.path.join(OUT, f'{self.group}.npy'), np.concatenate(self.parts) if self.parts else np.zeros(0, self.dtype))


def numel(shape):
    return int(np.prod(shape))


def sha256_f32(t):
    return hashlib.sha256(t.detach().numpy().astype('<f4').tobytes()).hexdigest()


def randn(shape, g):
    return torch.randn(shape, generator=g, dtype=torch.float32)


# ---------------------------------------------------------------------------------------------------------
# Child process: torch.randn under one CPU kernel.

def child(kind):
    got = capability()
    if got != CAPABILITIES[kind]:
        raise SystemExit(f'ATEN_CPU_CAPABILITY={kind} gave capability {got!r}; expected {CAPABILITIES[kind]!r}')
    w = Writer(f'randn_{kind}', np.float32)
    cases = []
    for seed in SEEDS:
        for shape in SHAPES:
            if numel(shape) > 1000 and seed not in LARGE_SEEDS:
                continue
            g = torch.Generator().manual_seed(seed)
            cases.append({'seed': str(seed), 'shape': shape, **w.add(randn(shape, g))})
    big = []
    for seed in (0, 2**64 - 1):
        t = randn(BIG_SHAPE, torch.Generator().manual_seed(seed))
        big.append({'seed': str(seed), 'shape': BIG_SHAPE, 'sha256': sha256_f32(t),
                    'head': [float(v) for v in t.reshape(-1)[:4]], 'tail': [float(v) for v in t.reshape(-1)[-4:]]})
    # One generator across calls: the small path's cached second value survives a large draw in between.
    seq_shapes = [[7], [100], [7], [3], [16], [2, 4, 8, 8], [5], [1], [1]]
    g = torch.Generator().manual_seed(7)
    seq = [w.add(randn(s, g)) for s in seq_shapes]
    w.save()
    return {'capability': got, 'cases': cases, 'big': big,
            'sequence': {'seed': '7', 'shapes': seq_shapes, 'parts': seq}}


# ---------------------------------------------------------------------------------------------------------
# Tool draw orders (AVX2 kernel: the one this machine's torch uses by default).

def comfyui_order(w, seed, shape, steps):
    """ComfyUI: prepare_noise -> torch.manual_seed(seed) + one randn of the whole latent batch on the CPU;
    default_noise_sampler(x, seed) on a CPU run -> a separate Generator seeded seed + 1, x-shaped draws."""
    generator = torch.manual_seed(seed)
    initial = torch.randn(shape, generator=generator, device='cpu')
    step_gen = torch.Generator(device='cpu')
    step_gen.manual_seed(seed + 1)
    draws = [torch.randn(shape, generator=step_gen) for _ in range(steps)]
    return {'seed': str(seed), 'shape': shape, 'initial': w.add(initial), 'steps': w.add(torch.stack(draws))}


def comfyui_batch_index(w, seed, shape, inds):
    """ComfyUI prepare_noise with noise_inds (a latent's batch_index): item-shaped draws 0..max(inds) from
    torch.manual_seed(seed), item b taking draw inds[b]."""
    generator = torch.manual_seed(seed)
    draws = [torch.randn([1] + shape[1:], generator=generator, device='cpu') for _ in range(max(inds) + 1)]
    return {'seed': str(seed), 'shape': shape, 'batchIndex': inds, 'initial': w.add(torch.cat([draws[i] for i in inds]))}


def diffusers_order(w, seed, shape, steps, per_item):
    """diffusers: randn_tensor(shape, generator) for the latents, then the scheduler's step() draws
    randn_tensor(model_output.shape, generator) from the same generator(s). A list of generators draws each
    batch item from its own generator (shape [1, ...])."""
    if per_item:
        gens = [torch.Generator('cpu').manual_seed(seed + b) for b in range(shape[0])]
        draw = lambda: torch.cat([torch.randn([1] + shape[1:], generator=g) for g in gens])  # noqa: E731
    else:
        gen = torch.Generator('cpu').manual_seed(seed)
        draw = lambda: torch.randn(shape, generator=gen)  # noqa: E731
    initial = draw()
    draws = [draw() for _ in range(steps)]
    return {'seed': str(seed), 'shape': shape, 'perItem': per_item, 'initial': w.add(initial), 'steps': w.add(torch.stack(draws))}


def a1111_slerp64(val, low, high):
    """A1111 modules/rng.py slerp on one item [C, H, W], in float64: norms over dim 1 (H) per (c, w)."""
    low = np.asarray(low, np.float64)
    high = np.asarray(high, np.float64)
    low_norm = low / np.linalg.norm(low, axis=1, keepdims=True)
    high_norm = high / np.linalg.norm(high, axis=1, keepdims=True)
    dot = (low_norm * high_norm).sum(1)
    if dot.mean() > 0.9995:
        return low * val + high * (1 - val)
    omega = np.arccos(dot)
    so = np.sin(omega)
    return (np.sin((1.0 - val) * omega) / so)[:, None, :] * low + (np.sin(val * omega) / so)[:, None, :] * high


def a1111_slerp32(val, low, high):
    """The same formula in torch float32, as A1111 runs it (there on the GPU)."""
    low_norm = low / torch.norm(low, dim=1, keepdim=True)
    high_norm = high / torch.norm(high, dim=1, keepdim=True)
    dot = (low_norm * high_norm).sum(1)
    if dot.mean() > 0.9995:
        return low * val + high * (1 - val)
    omega = torch.acos(dot)
    so = torch.sin(omega)
    return (torch.sin((1.0 - val) * omega) / so).unsqueeze(1) * low + (torch.sin(val * omega) / so).unsqueeze(1) * high


class NvGenerator:
    """A1111's "NV" source (modules/rng_philox.py), transcribed: Philox4x32-10 with counter
    (offset, 0, index, 0) and key = the 64-bit seed (low word first); one call per randn, offset += 1;
    each element is the first Box-Muller output of words 0 and 1, computed in float64 with CUDA's float32
    constants 2^-32 ~ 2.3283064e-10 and 2^-32*2pi, then rounded to float32."""

    M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85

    def __init__(self, seed):
        self.seed, self.offset = seed, 0

    def randn(self, shape):
        n = int(np.prod(shape))
        c0 = np.full(n, self.offset, np.uint64)
        c1 = np.zeros(n, np.uint64)
        c2 = np.arange(n, dtype=np.uint64)
        c3 = np.zeros(n, np.uint64)
        self.offset += 1
        k0 = np.uint64(self.seed & 0xFFFFFFFF)
        k1 = np.uint64((self.seed >> 32) & 0xFFFFFFFF)
        mask = np.uint64(0xFFFFFFFF)
        for r in range(10):
            if r:
                k0 = (k0 + np.uint64(self.W0)) & mask
                k1 = (k1 + np.uint64(self.W1)) & mask
            p0 = c0 * np.uint64(self.M0)
            p1 = c2 * np.uint64(self.M1)
            c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0), (p1 & mask), ((p0 >> np.uint64(32)) ^ c3 ^ k1), (p0 & mask)
        inv = float(np.float32(2.3283064e-10))
        inv2pi = float(np.float32(2.3283064e-10 * 6.2831855))
        u = c0.astype(np.float64) * inv + inv / 2
        v = c1.astype(np.float64) * inv2pi + inv2pi / 2
        return (np.sqrt(-2.0 * np.log(u)) * np.sin(v)).astype(np.float32).reshape(shape)


def a1111_order(w, seed, item_shape, batch, steps, source, subseed=None, strength=0.0, resize=None, ensd=0):
    """A1111 ImageRNG: per-item generators; item b uses seed + b (all items the same seed and subseed + b
    when a variation strength is set); first(): subnoise from the subseed's first draw (at the resize shape),
    the seed's first draw, slerp, then with seed resize the per-item generator's first full-size draw with the
    small noise pasted centred; next(): per-item draws of the item shape (from generators seeded seed + ENSD
    when ENSD is set)."""
    def gen(s):
        return NvGenerator(s) if source == 'nv' else torch.Generator('cpu').manual_seed(s)

    def draw(g, shape):
        return torch.from_numpy(g.randn(shape)) if source == 'nv' else torch.randn(shape, generator=g)

    seeds = [seed + (b if strength == 0 else 0) for b in range(batch)]
    subseeds = [(subseed if subseed is not None else 0) + b for b in range(batch)]
    gens = [gen(s) for s in seeds]
    noise_shape = item_shape if resize is None else [item_shape[0], resize[0], resize[1]]
    items64, items32 = [], []
    for b, s in enumerate(seeds):
        sub = draw(gen(subseeds[b]), noise_shape) if strength != 0 else None
        if noise_shape != item_shape:
            noise = draw(gen(s), noise_shape)
        else:
            noise = draw(gens[b], item_shape)
        n64 = noise.numpy().astype(np.float64)
        n32 = noise
        if sub is not None:
            n64 = a1111_slerp64(strength, n64, sub.numpy())
            n32 = a1111_slerp32(strength, noise, sub)
        if noise_shape != item_shape:
            x = draw(gens[b], item_shape)
            x64, x32 = x.numpy().astype(np.float64), x.clone()
            dx = (item_shape[2] - noise_shape[2]) // 2
            dy = (item_shape[1] - noise_shape[1]) // 2
            wdt = noise_shape[2] if dx >= 0 else noise_shape[2] + 2 * dx
            hgt = noise_shape[1] if dy >= 0 else noise_shape[1] + 2 * dy
            tx, ty = (0 if dx < 0 else dx), (0 if dy < 0 else dy)
            dx, dy = max(-dx, 0), max(-dy, 0)
            x64[:, ty:ty + hgt, tx:tx + wdt] = n64[:, dy:dy + hgt, dx:dx + wdt]
            x32[:, ty:ty + hgt, tx:tx + wdt] = n32[:, dy:dy + hgt, dx:dx + wdt]
            n64, n32 = x64, x32
        items64.append(n64)
        items32.append(n32.numpy() if isinstance(n32, torch.Tensor) else n32)
    if ensd:
        gens = [gen(s + ensd) for s in seeds]
    draws = [np.stack([draw(g, item_shape).numpy() for g in gens]) for _ in range(steps)]
    return {'seed': str(seed), 'itemShape': item_shape, 'batch': batch, 'source': source,
            'subseed': None if subseed is None else str(subseed), 'strength': strength, 'resize': resize, 'ensd': ensd,
            'initial': w['f64'].add(np.stack(items64)), 'initialFloat32': w['f32'].add(np.stack(items32)),
            'steps': w['f32'].add(np.stack(draws))}


def gauss_euler_ancestral(seed, shape, sigmas, mu=0.25, s=0.5):
    """k-diffusion sample_euler_ancestral (eta 1, s_noise 1) on the exact denoiser of N(mu, s^2), in float64,
    with ComfyUI's noise: x = sigma_0 * initial; per-step draws from Generator(seed + 1)."""
    initial = torch.randn(shape, generator=torch.manual_seed(seed)).double()
    step_gen = torch.Generator('cpu').manual_seed(seed + 1)
    x = initial * sigmas[0]
    for i in range(len(sigmas) - 1):
        sig, nxt = sigmas[i], sigmas[i + 1]
        den = mu + s * s / (s * s + sig * sig) * (x - mu)
        up = min(nxt, (nxt ** 2 * (sig ** 2 - nxt ** 2) / sig ** 2) ** 0.5)
        down = (nxt ** 2 - up ** 2) ** 0.5
        if down == 0:
            x = den
        else:
            d = (x - den) / sig
            x = x + d * (down - sig) + torch.randn(shape, generator=step_gen).double() * up
    return x


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--child':
        json.dump(child(sys.argv[2]), sys.stdout)
        return
    os.makedirs(OUT, exist_ok=True)
    index = {'torch': torch.__version__, 'numpy': np.__version__, 'kernels': {}}
    for kind in CAPABILITIES:
        env = dict(os.environ, ATEN_CPU_CAPABILITY=kind)
        res = subprocess.run([sys.executable, os.path.abspath(__file__), '--child', kind], env=env, check=True, capture_output=True, text=True)
        index['kernels'][kind] = json.loads(res.stdout)
    if capability() != 'AVX2':
        raise SystemExit('the tool orders are written with the AVX2 kernel; this torch uses ' + capability())

    w = Writer('orders', np.float32)
    index['comfyui'] = [comfyui_order(w, 42, [2, 4, 8, 8], 5), comfyui_order(w, 2**64 - 2, [1, 4, 8, 8], 3)]
    index['comfyuiBatchIndex'] = [comfyui_batch_index(w, 42, [3, 4, 8, 8], [2, 0, 2]), comfyui_batch_index(w, 7, [2, 1, 3, 5], [1, 3]),
                                  comfyui_batch_index(w, 7, [2, 1, 5, 5], [0, 1])]
    index['diffusers'] = [diffusers_order(w, 42, [2, 4, 8, 8], 5, False), diffusers_order(w, 42, [2, 4, 8, 8], 5, True)]
    # The example pipeline's initial noise: batch 10 of the MNIST UNet's [1, 32, 32].
    g = torch.manual_seed(42)
    index['mnistInitial'] = {'seed': '42', 'shape': [10, 1, 32, 32], **w.add(torch.randn([10, 1, 32, 32], generator=g))}
    w.save()

    wa = {'f32': Writer('a1111_f32', np.float32), 'f64': Writer('a1111_f64', np.float64)}
    index['a1111'] = [
        a1111_order(wa, 42, [4, 8, 8], 2, 3, 'cpu'),
        a1111_order(wa, 42, [4, 8, 8], 2, 3, 'cpu', ensd=31337),
        a1111_order(wa, 42, [4, 8, 8], 2, 3, 'cpu', subseed=7, strength=0.3),
        a1111_order(wa, 42, [4, 8, 8], 2, 2, 'cpu', subseed=7, strength=0.75, resize=[6, 10]),
        a1111_order(wa, 42, [4, 8, 8], 1, 2, 'cpu', resize=[11, 13]),
        a1111_order(wa, 42, [4, 8, 8], 2, 3, 'nv'),
        a1111_order(wa, 5, [4, 8, 8], 2, 2, 'nv', subseed=9, strength=0.5, ensd=31337),
        a1111_order(wa, 42, [4, 8, 8], 1, 1, 'cpu', subseed=42, strength=0.5),
    ]
    wa['f32'].save()
    wa['f64'].save()

    wn = Writer('nv', np.float32)
    nv = []
    for seed in (0, 42, 2**32 - 1, 2**40 + 3):
        g = NvGenerator(seed)
        nv.append({'seed': str(seed), 'shapes': [[3, 4], [1, 4, 8, 8], [5]], 'parts': [wn.add(g.randn(s)) for s in ([3, 4], [1, 4, 8, 8], [5])]})
    index['nv'] = nv
    wn.save()

    sigmas = [14.614642, 6.4747, 2.9487, 1.2855, 0.5, 0.1, 0.0]
    wg = Writer('gauss', np.float64)
    index['gaussEulerAncestral'] = {'seed': '42', 'shape': [2, 1, 4, 4], 'sigmas': sigmas, 'mu': 0.25, 's': 0.5,
                                     **wg.add(gauss_euler_ancestral(42, [2, 1, 4, 4], sigmas))}
    wg.save()

    with open(os.path.join(OUT, 'index.json'), 'w') as fh:
        json.dump(index, fh, indent=1)
        fh.write('\n')


if __name__ == '__main__':
    main()
