"""Draws a grid of samples from a training checkpoint with PyTorch (independent of dpipe's engine).

    /usr/bin/python3 tools/train/sample_grid.py [--ckpt tools/train/runs/unet/ckpt.pt] [--steps 25] [--cfg 3]
        [--per-class 10] [--seed 0] [--out docs/img/mnist_unet_samples.png]

Row k holds samples of class k. Sampler: DDIM (Song et al. 2021, eq. 12, eta = 0) on the model's 1000 DDPM
timesteps, `--steps` timesteps evenly spaced from 999 to 0 (diffusers' "trailing"-like spacing), the last step
going to the clean sample; classifier-free guidance (Ho & Salimans 2022) on the v output,
v = v_uncond + w (v_cond - v_uncond), with the null class 10. Uses the EMA weights.
"""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from unet import UNet, linear_alphas_cumprod  # noqa: E402


@torch.no_grad()
def ddim_sample(model: UNet, labels: torch.Tensor, steps: int, cfg: float, gen: torch.Generator) -> torch.Tensor:
    abar = linear_alphas_cumprod()
    ts = np.round(np.linspace(999, 0, steps)).astype(np.int64)
    x = torch.randn((labels.shape[0], 1, 32, 32), generator=gen, dtype=torch.float64)
    null = torch.full_like(labels, 10)
    for i, t in enumerate(ts):
        a = abar[t]
        tt = torch.full((labels.shape[0],), float(t))
        if cfg == 1.0:
            v = model(x.float(), tt, labels).double()
        else:
            out = model(torch.cat([x, x]).float(), torch.cat([tt, tt]), torch.cat([labels, null])).double()
            vc, vu = out.chunk(2)
            v = vu + cfg * (vc - vu)
        x0 = a.sqrt() * x - (1 - a).sqrt() * v
        eps = (1 - a).sqrt() * x + a.sqrt() * v
        a_prev = abar[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0, dtype=torch.float64)
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return x


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'runs', 'unet', 'ckpt.pt'))
    ap.add_argument('--steps', type=int, default=25)
    ap.add_argument('--cfg', type=float, default=3.0)
    ap.add_argument('--per-class', type=int, default=10)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--out', default=os.path.join(ROOT, 'docs', 'img', 'mnist_unet_samples.png'))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ck = torch.load(args.ckpt)
    model = UNet()
    model.load_state_dict(ck['ema'])
    model.eval()
    labels = torch.arange(10).repeat_interleave(args.per_class)
    x = ddim_sample(model, labels, args.steps, args.cfg, torch.Generator().manual_seed(args.seed))
    img = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()[:, 0]
    pad = 2
    grid = np.zeros((10 * (32 + pad) + pad, args.per_class * (32 + pad) + pad), dtype=np.uint8) + 40
    for k in range(10):
        for j in range(args.per_class):
            y0, x0 = pad + k * (32 + pad), pad + j * (32 + pad)
            grid[y0:y0 + 32, x0:x0 + 32] = img[k * args.per_class + j]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(args.out)
    print(f'step {ck["step"]}: wrote {args.out}', flush=True)


if __name__ == '__main__':
    main()
