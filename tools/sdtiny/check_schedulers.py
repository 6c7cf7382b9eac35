"""Checks schedulers.py against real diffusers runs: the golden runs in test/fixtures/golden (diffusers @58eb52c,
DDIM / Euler / DPM-Solver++ 2M with the SD v1 scheduler config, on the closed-form Gaussian-mixture eps model,
sample in float64) are re-run with this folder's scheduler classes on the same model from the same noise.

    /usr/bin/python3 tools/sdtiny/check_schedulers.py

Prints, per run, the largest difference of timesteps, sigmas and the final sample; exits 1 if any final sample
differs by more than 1e-6 (the runs agree to ~1e-12 when the step arithmetic is diffusers').
"""
import json
import math
import os
import sys

import numpy as np
import torch

import schedulers

HERE = os.path.dirname(os.path.abspath(__file__))
GOLD = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'test', 'fixtures', 'golden')
RUNS = {'df_ddim_n10': schedulers.DDIM, 'df_ddim_trailing_n10': schedulers.DDIM, 'df_euler_n10': schedulers.Euler,
        'df_dpmpp_2m_n10': schedulers.DPMSolverPP2M, 'df_dpmpp_2m_trailing_n10': schedulers.DPMSolverPP2M}


def mixture():
    """The golden model (test/fixtures/golden README): 8 isotropic Gaussians in [3, 8, 8], std 0.2,
    mu_k[c,i,j] = 0.9 sin(2 pi ((k+1) i + (k%3+1) j) / 16 + 2 pi c / 3 + 0.7 k)."""
    c, i, j = np.meshgrid(np.arange(3), np.arange(8), np.arange(8), indexing='ij')
    return np.stack([0.9 * np.sin(2 * np.pi * ((k + 1) * i + (k % 3 + 1) * j) / 16 + 2 * np.pi * c / 3 + 0.7 * k)
                     for k in range(8)]), 0.2


MU, S = mixture()
B64 = np.linspace(math.sqrt(0.00085), math.sqrt(0.012), 1000) ** 2
AB64 = np.cumprod(1 - B64)
LOG_SIGMA = np.log(np.sqrt((1 - AB64) / AB64))


def eps(x: np.ndarray, t: float) -> np.ndarray:
    lo = int(math.floor(t))
    hi = min(lo + 1, 999)
    w = t - lo
    sigma = math.exp((1 - w) * LOG_SIGMA[lo] + w * LOG_SIGMA[hi])
    xv = x * math.sqrt(1 + sigma ** 2)
    d2 = ((xv[:, None] - MU[None]) ** 2).reshape(x.shape[0], 8, -1).sum(-1)
    logits = -d2 / (2 * (S ** 2 + sigma ** 2))
    r = np.exp(logits - logits.max(1, keepdims=True))
    r /= r.sum(1, keepdims=True)
    den = (r[:, :, None, None, None] * (MU[None] + S ** 2 / (S ** 2 + sigma ** 2) * (xv[:, None] - MU[None]))).sum(1)
    return (xv - den) / sigma


def main() -> int:
    meta = json.load(open(os.path.join(GOLD, 'runs', 'meta.json')))
    z = np.load(os.path.join(GOLD, 'noise', 'z.npy')).astype(np.float64)
    worst = 0.0
    for name, cls in RUNS.items():
        m = meta[name]
        sched = cls(m['scheduler_config'], m['nfe'])
        dt = np.abs(np.asarray(sched.timesteps, np.float64) - m['timesteps']).max()
        ds = 0.0 if sched.sigmas is None else np.abs(sched.sigmas.numpy() - np.asarray(m['sigmas'])).max()
        x = torch.from_numpy(z) * sched.init_noise_sigma
        for i, t in enumerate(sched.timesteps):
            out = torch.from_numpy(eps(sched.scale(x, i).numpy(), float(t)))
            x = sched.step(out, i, x)
        gold = np.load(os.path.join(GOLD, 'runs', f'{name}.npy'))
        dx = np.abs(x.numpy() - gold).max()
        worst = max(worst, dx)
        print(f'{name}: timesteps {dt:.1e}, sigmas {ds:.1e}, final sample max |diff| {dx:.2e}')
    return 0 if worst <= 1e-6 else 1


if __name__ == '__main__':
    sys.exit(main())
