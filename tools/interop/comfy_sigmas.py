#!/usr/bin/python3
"""Reference σ schedules of ComfyUI for dpipe's ComfyUI importer (test/interop/comfySigmas.test.ts).

Run with Debian's python3-torch (1.13, CPU), numpy and scipy:  /usr/bin/python3 tools/interop/comfy_sigmas.py

Writes test/fixtures/interop/comfy_sigmas.json: for each case (a ComfyUI node setup, described by the fields the
test turns into an API-format prompt), the σ values ComfyUI's sampler runs on, in float32 as ComfyUI holds them.

The functions below are this file's own transcription of what ComfyUI computes (read in comfyanonymous/ComfyUI
at the end of 2025: comfy/model_sampling.py ModelSamplingDiscrete, comfy/samplers.py simple/ddim/normal/beta/
linear_quadratic/kl_optimal schedulers, calculate_sigmas, KSampler.calculate_sigmas/set_steps/sample,
comfy/k_diffusion/sampling.py get_sigmas_karras/exponential/polyexponential, comfy_extras/nodes_custom_sampler.py
BasicScheduler/KarrasScheduler/ExponentialScheduler/PolyexponentialScheduler/BetaSamplingScheduler/SplitSigmas/
FlipSigmas, comfy_extras/nodes_align_your_steps.py, comfy/extra_samplers/uni_pc.py sample_unipc's final σ), for
a Stable Diffusion 1.x model (ComfyUI's "linear" β schedule 0.00085 … 0.012, 1000 steps: diffusers'
scaled_linear). No ComfyUI code is run or copied; nothing is downloaded; re-running gives the same bytes.
"""
import json
import math
import os

import numpy as np
import scipy.stats
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'interop', 'comfy_sigmas.json')

# KSAMPLER_NAMES + ["ddim", "uni_pc", "uni_pc_bh2"] (comfy/samplers.py SAMPLER_NAMES).
SAMPLERS = [
    'euler', 'euler_cfg_pp', 'euler_ancestral', 'euler_ancestral_cfg_pp', 'heun', 'heunpp2', 'exp_heun_2_x0',
    'exp_heun_2_x0_sde', 'dpm_2', 'dpm_2_ancestral', 'lms', 'dpm_fast', 'dpm_adaptive', 'dpmpp_2s_ancestral',
    'dpmpp_2s_ancestral_cfg_pp', 'dpmpp_sde', 'dpmpp_sde_gpu', 'dpmpp_2m', 'dpmpp_2m_cfg_pp', 'dpmpp_2m_sde',
    'dpmpp_2m_sde_gpu', 'dpmpp_2m_sde_heun', 'dpmpp_2m_sde_heun_gpu', 'dpmpp_3m_sde', 'dpmpp_3m_sde_gpu', 'ddpm',
    'lcm', 'ipndm', 'ipndm_v', 'deis', 'cfgpp_ud10_ab', 'res_multistep', 'res_multistep_cfg_pp',
    'res_multistep_ancestral', 'res_multistep_ancestral_cfg_pp', 'gradient_estimation', 'gradient_estimation_cfg_pp',
    'er_sde', 'seeds_2', 'seeds_3', 'sa_solver', 'sa_solver_pece', 'ddim', 'uni_pc', 'uni_pc_bh2',
]
SCHEDULERS = ['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal']
DISCARD_PENULTIMATE = {'dpm_2', 'dpm_2_ancestral', 'uni_pc', 'uni_pc_bh2'}


class DiscreteSampling:
    """ModelSamplingDiscrete of an SD 1.x model: float32 σ table, nearest-timestep lookup, log-σ interpolation."""

    def __init__(self):
        betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
        alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        sigmas = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5
        self.sigmas = sigmas.float()
        self.log_sigmas = sigmas.log().float()

    @property
    def sigma_min(self):
        return self.sigmas[0]

    @property
    def sigma_max(self):
        return self.sigmas[-1]

    def timestep(self, sigma):
        distance = (sigma.log() - self.log_sigmas[:, None]).abs()
        return distance.argmin(dim=0).view(sigma.shape)

    def sigma(self, timestep):
        t = torch.clamp(timestep.float(), min=0, max=len(self.sigmas) - 1)
        lo, hi, w = t.floor().long(), t.ceil().long(), t.frac()
        return ((1 - w) * self.log_sigmas[lo] + w * self.log_sigmas[hi]).exp()


MS = DiscreteSampling()


def append_zero(x):
    return torch.cat([x, x.new_zeros([1])])


def karras(n, sigma_min, sigma_max, rho=7.0):
    ramp = torch.linspace(0, 1, n)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return append_zero((hi + ramp * (lo - hi)) ** rho)


def exponential(n, sigma_min, sigma_max):
    return append_zero(torch.linspace(math.log(sigma_max), math.log(sigma_min), n).exp())


def polyexponential(n, sigma_min, sigma_max, rho=1.0):
    ramp = torch.linspace(1, 0, n) ** rho
    return append_zero(torch.exp(ramp * (math.log(sigma_max) - math.log(sigma_min)) + math.log(sigma_min)))


def simple(ms, steps):
    stride = len(ms.sigmas) / steps
    return torch.FloatTensor([float(ms.sigmas[-(1 + int(i * stride))]) for i in range(steps)] + [0.0])


def ddim_uniform(ms, steps):
    values = [] if math.isclose(float(ms.sigmas[1]), 0, abs_tol=1e-5) else [0.0]
    if not values:
        steps += 1
    stride = max(len(ms.sigmas) // steps, 1)
    i = 1
    while i < len(ms.sigmas):
        values.append(float(ms.sigmas[i]))
        i += stride
    return torch.FloatTensor(values[::-1])


def normal(ms, steps, sgm=False):
    start, end = ms.timestep(ms.sigma_max), ms.timestep(ms.sigma_min)
    zero = True
    if sgm:
        ts = torch.linspace(start, end, steps + 1)[:-1]
    else:
        if math.isclose(float(ms.sigma(end)), 0, abs_tol=1e-5):
            steps, zero = steps + 1, False
        ts = torch.linspace(start, end, steps)
    values = [float(ms.sigma(t)) for t in ts]
    return torch.FloatTensor(values + ([0.0] if zero else []))


def beta(ms, steps, alpha=0.6, beta_=0.6):
    total = len(ms.sigmas) - 1
    ts = np.rint(scipy.stats.beta.ppf(1 - np.linspace(0, 1, steps, endpoint=False), alpha, beta_) * total)
    values, last = [], -1
    for t in ts:
        if t != last:
            values.append(float(ms.sigmas[int(t)]))
        last = t
    return torch.FloatTensor(values + [0.0])


def linear_quadratic(ms, steps, threshold_noise=0.025, linear_steps=None):
    if steps == 1:
        schedule = [1.0, 0.0]
    else:
        linear_steps = steps // 2 if linear_steps is None else linear_steps
        linear = [i * threshold_noise / linear_steps for i in range(linear_steps)]
        diff = linear_steps - threshold_noise * steps
        quad_steps = steps - linear_steps
        qc = diff / (linear_steps * quad_steps ** 2)
        lc = threshold_noise / linear_steps - 2 * diff / (quad_steps ** 2)
        const = qc * linear_steps ** 2
        quad = [qc * i ** 2 + lc * i + const for i in range(linear_steps, steps)]
        schedule = [1.0 - x for x in linear + quad + [1.0]]
    return torch.FloatTensor(schedule) * ms.sigma_max


def kl_optimal(n, sigma_min, sigma_max):
    r = torch.arange(n, dtype=torch.float).div_(n - 1)
    out = r.new_zeros(n + 1)
    out[:-1] = (r * math.atan(sigma_min) + (1 - r) * math.atan(sigma_max)).tan_()
    return out


def calculate_sigmas(ms, scheduler, steps):
    if scheduler in ('karras', 'exponential', 'kl_optimal'):
        f = {'karras': karras, 'exponential': exponential, 'kl_optimal': kl_optimal}[scheduler]
        return f(n=steps, sigma_min=float(ms.sigma_min), sigma_max=float(ms.sigma_max))
    return {
        'simple': lambda: simple(ms, steps), 'sgm_uniform': lambda: normal(ms, steps, sgm=True),
        'ddim_uniform': lambda: ddim_uniform(ms, steps), 'beta': lambda: beta(ms, steps),
        'normal': lambda: normal(ms, steps), 'linear_quadratic': lambda: linear_quadratic(ms, steps),
    }[scheduler]()


def ksampler_sigmas(sampler, scheduler, steps, denoise=1.0):
    """KSampler.set_steps: the schedule of `steps` (or ⌊steps/denoise⌋ cut to its last steps) with the penultimate
    σ discarded for dpm_2 / dpm_2_ancestral / uni_pc / uni_pc_bh2."""
    def calc(n):
        discard = sampler in DISCARD_PENULTIMATE
        s = calculate_sigmas(MS, scheduler, n + 1 if discard else n)
        return torch.cat([s[:-2], s[-1:]]) if discard else s
    if denoise is None or denoise > 0.9999:
        return calc(steps)
    return calc(int(steps / denoise))[-(steps + 1):]


def ksampler_advanced(sigmas, start_step, last_step, force_full_denoise):
    if last_step is not None and last_step < len(sigmas) - 1:
        sigmas = sigmas[:last_step + 1].clone()
        if force_full_denoise:
            sigmas[-1] = 0
    if start_step is not None:
        sigmas = sigmas[start_step:] if start_step < len(sigmas) - 1 else sigmas[:0]
    return sigmas


def in_sampler(sampler, sigmas):
    """What the sampler function itself runs on: uni_pc stops at 0.001 instead of 0; dpm_fast/dpm_adaptive take the
    first σ, the last positive σ and (dpm_fast) the step count."""
    if sampler in ('uni_pc', 'uni_pc_bh2') and len(sigmas) and float(sigmas[-1]) == 0:
        sigmas = sigmas.clone()
        sigmas[-1] = 0.001
        return {'sigmas': sigmas}
    if sampler in ('dpm_fast', 'dpm_adaptive'):
        lo = sigmas[-2] if float(sigmas[-1]) == 0 else sigmas[-1]
        return {'sigmaMax': float(sigmas[0]), 'sigmaMin': float(lo), 'n': len(sigmas) - 1}
    return {'sigmas': sigmas}


def basic_scheduler(scheduler, steps, denoise):
    total = steps
    if denoise < 1.0:
        total = int(steps / denoise)
    return calculate_sigmas(MS, scheduler, total)[-(steps + 1):]


def ays(model_type, steps, denoise):
    levels = {
        'SD1': [14.6146412293, 6.4745760956, 3.8636745985, 2.6946151520, 1.8841921177, 1.3943805092, 0.9642583904, 0.6523686016, 0.3977456272, 0.1515232662, 0.0291671582],
        'SDXL': [14.6146412293, 6.3184485287, 3.7681790315, 2.1811480769, 1.3405244945, 0.8620721141, 0.5550693289, 0.3798540708, 0.2332364134, 0.1114188177, 0.0291671582],
        'SVD': [700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002],
    }[model_type]
    total = steps if denoise >= 1.0 else round(steps * denoise)
    sigmas = levels[:]
    if steps + 1 != len(sigmas):
        xs, ys = np.linspace(0, 1, len(sigmas)), np.log(sigmas[::-1])
        sigmas = np.exp(np.interp(np.linspace(0, 1, steps + 1), xs, ys))[::-1].copy()
    sigmas = sigmas[-(total + 1):]
    sigmas[-1] = 0
    return torch.FloatTensor(sigmas)


def flip(sigmas):
    sigmas = sigmas.flip(0)
    if sigmas[0] == 0:
        sigmas[0] = 0.0001
    return sigmas


class F32(float):
    """A float32 value written with the fewest digits that read back as the same float32."""

    def __repr__(self):
        return str(np.float32(self))


def f32(t):
    return [F32(float(v)) for v in t.to(torch.float32)]


def dumps(value):
    """JSON with float32 values in their shortest form (json.dumps would print the float64 expansion)."""
    if isinstance(value, F32):
        return repr(value)
    if isinstance(value, dict):
        return '{' + ','.join(f'{json.dumps(k)}:{dumps(v)}' for k, v in value.items()) + '}'
    if isinstance(value, list):
        return '[' + ','.join(dumps(v) for v in value) + ']'
    return json.dumps(value)


def main():
    cases = []

    def add(case, effective):
        out = dict(case)
        if 'sigmas' in effective:
            out['sigmas'] = f32(effective['sigmas'])
        else:
            out.update({k: F32(v) if isinstance(v, float) else v for k, v in effective.items()})
        cases.append(out)

    # Every sampler/scheduler pair of ComfyUI's KSampler, 10 steps.
    for sampler in SAMPLERS:
        for scheduler in SCHEDULERS:
            add({'node': 'KSampler', 'sampler': sampler, 'scheduler': scheduler, 'steps': 10, 'denoise': 1.0},
                in_sampler(sampler, ksampler_sigmas(sampler, scheduler, 10)))
    # denoise < 1 (a longer schedule cut to its last steps), with and without the discarded penultimate σ.
    for sampler in ('euler', 'dpm_2', 'uni_pc'):
        for scheduler in SCHEDULERS:
            for steps, denoise in ((10, 0.6), (20, 0.75)):
                add({'node': 'KSampler', 'sampler': sampler, 'scheduler': scheduler, 'steps': steps, 'denoise': denoise},
                    in_sampler(sampler, ksampler_sigmas(sampler, scheduler, steps, denoise)))
    # KSamplerAdvanced: start/end steps, leftover noise or a forced final 0.
    for sampler, scheduler, steps, start, end, leftover in (
            ('euler', 'karras', 20, 0, 12, 'enable'), ('euler', 'karras', 20, 12, 10000, 'disable'),
            ('euler', 'normal', 20, 5, 15, 'disable'), ('dpmpp_2m', 'simple', 15, 3, 10000, 'disable'),
            ('dpm_2', 'exponential', 12, 0, 8, 'disable'), ('uni_pc_bh2', 'sgm_uniform', 12, 0, 8, 'enable'),
            ('euler', 'normal', 20, 0, 10000, 'disable')):
        s = ksampler_advanced(ksampler_sigmas(sampler, scheduler, steps), start, end, leftover != 'enable')
        add({'node': 'KSamplerAdvanced', 'sampler': sampler, 'scheduler': scheduler, 'steps': steps, 'start_at_step': start,
             'end_at_step': end, 'return_with_leftover_noise': leftover}, in_sampler(sampler, s))
    # Custom sampling: the SIGMAS nodes, fed to a KSamplerSelect sampler.
    for scheduler in SCHEDULERS:
        for steps, denoise in ((9, 1.0), (12, 0.5)):
            add({'node': 'BasicScheduler', 'scheduler': scheduler, 'steps': steps, 'denoise': denoise, 'sampler': 'euler'},
                {'sigmas': basic_scheduler(scheduler, steps, denoise)})
    add({'node': 'BasicScheduler', 'scheduler': 'karras', 'steps': 9, 'denoise': 1.0, 'sampler': 'uni_pc'},
        in_sampler('uni_pc', basic_scheduler('karras', 9, 1.0)))
    for steps, smax, smin, rho in ((12, 14.614642, 0.0291675, 7.0), (8, 10.0, 0.1, 5.0)):
        add({'node': 'KarrasScheduler', 'steps': steps, 'sigma_max': smax, 'sigma_min': smin, 'rho': rho, 'sampler': 'euler'},
            {'sigmas': karras(steps, smin, smax, rho)})
        add({'node': 'ExponentialScheduler', 'steps': steps, 'sigma_max': smax, 'sigma_min': smin, 'sampler': 'euler'},
            {'sigmas': exponential(steps, smin, smax)})
        add({'node': 'PolyexponentialScheduler', 'steps': steps, 'sigma_max': smax, 'sigma_min': smin, 'rho': rho / 4, 'sampler': 'euler'},
            {'sigmas': polyexponential(steps, smin, smax, rho / 4)})
    for model_type in ('SD1', 'SDXL', 'SVD'):
        for steps, denoise in ((10, 1.0), (20, 1.0), (7, 1.0), (10, 0.55), (16, 0.5)):
            add({'node': 'AlignYourStepsScheduler', 'model_type': model_type, 'steps': steps, 'denoise': denoise, 'sampler': 'euler'},
                {'sigmas': ays(model_type, steps, denoise)})
    for steps, a, b in ((10, 0.6, 0.6), (15, 0.5, 0.7), (25, 1.0, 1.0)):
        add({'node': 'BetaSamplingScheduler', 'steps': steps, 'alpha': a, 'beta': b, 'sampler': 'euler'}, {'sigmas': beta(MS, steps, a, b)})
    for step in (0, 4, 9):
        full = basic_scheduler('karras', 9, 1.0)
        add({'node': 'SplitSigmas', 'scheduler': 'karras', 'steps': 9, 'step': step, 'output': 'high', 'sampler': 'euler'}, {'sigmas': full[:step + 1]})
        add({'node': 'SplitSigmas', 'scheduler': 'karras', 'steps': 9, 'step': step, 'output': 'low', 'sampler': 'euler'}, {'sigmas': full[step:]})
    for scheduler in ('karras', 'normal'):
        add({'node': 'FlipSigmas', 'scheduler': scheduler, 'steps': 9, 'sampler': 'euler'}, {'sigmas': flip(basic_scheduler(scheduler, 9, 1.0))})

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    head = {
        'about': 'ComfyUI σ schedules for an SD 1.x model (float32), by tools/interop/comfy_sigmas.py with torch ' + torch.__version__.split('a')[0],
        'sigmaMin': float(MS.sigma_min), 'sigmaMax': float(MS.sigma_max),
    }
    with open(OUT, 'w') as f:
        f.write('{\n' + ''.join(f'{json.dumps(k)}: {json.dumps(v)},\n' for k, v in head.items()) + '"cases": [\n')
        f.write(',\n'.join(dumps(c) for c in cases))
        f.write('\n]}\n')
    print(f'{len(cases)} cases -> {os.path.relpath(OUT, ROOT)}')


if __name__ == '__main__':
    main()
