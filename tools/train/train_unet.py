"""Trains the dpipe MNIST demo model: a class-conditional v-prediction UNet (see unet.py) on 32x32 digits.

    node tools/train/export-mnist.mjs                       # once: writes tools/train/data/*.npy
    /usr/bin/python3 tools/train/train_unet.py --out tools/train/runs/unet [--iters 3000] [--stop-at 2000] [--seed 0]
        [--threads 1] [--resume]

Diffusion setup (Ho et al. 2020, DDPM): 1000 discrete training steps, linear betas 1e-4..0.02,
x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps with t uniform in {0..999}. The network predicts
v = sqrt(abar_t) eps - sqrt(1 - abar_t) x0 (Salimans & Ho 2022, "Progressive Distillation", sec. 4), the diffusers
`prediction_type="v_prediction"` convention, and is fed the float timestep index t. Labels are replaced by the null
class 10 with probability --p-uncond (classifier-free guidance, Ho & Salimans 2022). Images: 28x28 padded with
background to 32x32, scaled to [-1, 1].

Determinism: batch indices, timesteps, noise and label dropout for step k come from a generator seeded with
(seed, k), so a run resumed from a checkpoint (--resume; written every --ckpt-every seconds and at the end)
continues exactly as an uninterrupted one would. Loss is logged to OUT/loss.csv; OUT/ckpt.pt holds model, EMA,
optimizer and step.
"""
import argparse
import csv
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import UNet, linear_alphas_cumprod  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def load_split(name: str) -> tuple:
    img = np.load(os.path.join(HERE, 'data', f'{name}_images.npy'))
    lab = np.load(os.path.join(HERE, 'data', f'{name}_labels.npy'))
    x = np.zeros((img.shape[0], 1, 32, 32), dtype=np.float32) - 1.0
    x[:, 0, 2:30, 2:30] = img.astype(np.float32) / 127.5 - 1.0
    return torch.from_numpy(x), torch.from_numpy(lab.astype(np.int64))


def lr_at(step: int, iters: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    p = (step - warmup) / max(1, iters - warmup)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(HERE, 'runs', 'unet'))
    ap.add_argument('--iters', type=int, default=3000)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--ema', type=float, default=0.999)
    ap.add_argument('--p-uncond', type=float, default=0.1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--ckpt-every', type=float, default=180.0, help='seconds between checkpoints')
    ap.add_argument('--stop-at', type=int, default=0,
                    help='stop after this many steps (0 = --iters); the learning-rate schedule still spans --iters')
    ap.add_argument('--resume', action='store_true')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    x_all, y_all = load_split('train')
    n = x_all.shape[0]
    abar = linear_alphas_cumprod().float()

    torch.manual_seed(args.seed)
    model = UNet()
    ema = UNet()
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    step = 0
    elapsed0 = 0.0
    ckpt_path = os.path.join(args.out, 'ckpt.pt')
    csv_path = os.path.join(args.out, 'loss.csv')
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck['model'])
        ema.load_state_dict(ck['ema'])
        opt.load_state_dict(ck['opt'])
        step, elapsed0 = ck['step'], ck['elapsed']
        print(f'resumed at step {step}', flush=True)
        # drop log rows written after the checkpoint so the CSV matches the resumed run
        if os.path.exists(csv_path):
            with open(csv_path) as f:
                rows = [r for r in csv.reader(f)]
            with open(csv_path, 'w', newline='') as f:
                csv.writer(f).writerows([rows[0]] + [r for r in rows[1:] if int(r[0]) <= step])
    else:
        with open(csv_path, 'w', newline='') as f:
            csv.writer(f).writerow(['step', 'loss', 'lr', 'elapsed_s'])

    def save() -> None:
        tmp = ckpt_path + '.tmp'
        torch.save({'model': model.state_dict(), 'ema': ema.state_dict(), 'opt': opt.state_dict(), 'step': step,
                    'elapsed': elapsed0 + time.time() - t_start, 'args': vars(args)}, tmp)
        os.replace(tmp, ckpt_path)

    t_start = time.time()
    last_ckpt = time.time()
    log = open(csv_path, 'a', newline='')
    writer = csv.writer(log)
    run_loss = 0.0
    model.train()
    stop = args.stop_at if 0 < args.stop_at < args.iters else args.iters
    while step < stop:
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        idx = torch.randint(0, n, (args.batch,), generator=g)
        x0, y = x_all[idx], y_all[idx].clone()
        t = torch.randint(0, 1000, (args.batch,), generator=g)
        eps = torch.randn(x0.shape, generator=g)
        drop = torch.rand(args.batch, generator=g) < args.p_uncond
        y[drop] = 10
        a = abar[t].sqrt()[:, None, None, None]
        s = (1 - abar[t]).sqrt()[:, None, None, None]
        xt = a * x0 + s * eps
        v = a * eps - s * x0
        lr = lr_at(step, args.iters, args.lr, args.warmup)
        for pg in opt.param_groups:
            pg['lr'] = lr
        loss = (model(xt, t.float(), y) - v).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        d = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm, alpha=1 - d)
        run_loss = loss.item() if step == 1 else 0.98 * run_loss + 0.02 * loss.item()
        if step % 10 == 0 or step == stop:
            el = elapsed0 + time.time() - t_start
            writer.writerow([step, f'{loss.item():.5f}', f'{lr:.3e}', f'{el:.1f}'])
            log.flush()
            if step % 50 == 0:
                print(f'step {step}/{stop} loss {run_loss:.4f} lr {lr:.2e} {el:.0f}s '
                      f'({step / max(el, 1e-9):.2f} it/s avg)', flush=True)
        if time.time() - last_ckpt > args.ckpt_every or step == stop:
            save()
            last_ckpt = time.time()
    log.close()
    print(f'done: {step} steps in {elapsed0 + time.time() - t_start:.0f}s', flush=True)


if __name__ == '__main__':
    main()
