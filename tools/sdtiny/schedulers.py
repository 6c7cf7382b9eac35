"""Scheduler math of diffusers' DDIMScheduler, EulerDiscreteScheduler, DPMSolverMultistepScheduler (dpmsolver++,
order 2, midpoint) and FlowMatchEulerDiscreteScheduler, written from their set_timesteps / step logic for the
options the reference runs use. Tables and step arithmetic are float32 torch tensors, as in diffusers
(betas = torch.linspace(...) in float32, alphas_cumprod = torch.cumprod in float32, sigma tables built in float32
then interpolated in float64 by numpy and stored as float32).

Each scheduler object: `.timesteps` (what the model is given, one per step), `.sigmas` (or None), `.init_noise_sigma`,
`.scale(x, i)` (scale_model_input for step i), `.step(model_output, i, x) -> x_next`, and `.record()` for run.json.
"""
import numpy as np
import torch


def betas_for(config: dict) -> torch.Tensor:
    n = config['num_train_timesteps']
    if config['beta_schedule'] == 'scaled_linear':
        b = torch.linspace(config['beta_start'] ** 0.5, config['beta_end'] ** 0.5, n, dtype=torch.float32) ** 2
    elif config['beta_schedule'] == 'linear':
        b = torch.linspace(config['beta_start'], config['beta_end'], n, dtype=torch.float32)
    else:
        raise ValueError(config['beta_schedule'])
    if config.get('rescale_betas_zero_snr'):
        b = rescale_zero_terminal_snr(b)
    return b


def rescale_zero_terminal_snr(betas: torch.Tensor) -> torch.Tensor:
    """Lin et al. 2023 (arXiv 2305.08891) Algorithm 1: shift and scale sqrt(alpha_bar) so the last is 0."""
    ab_sqrt = torch.cumprod(1.0 - betas, dim=0).sqrt()
    first, last = ab_sqrt[0].clone(), ab_sqrt[-1].clone()
    ab_sqrt = (ab_sqrt - last) * (first / (first - last))
    ab = ab_sqrt ** 2
    alphas = torch.cat([ab[0:1], ab[1:] / ab[:-1]])
    return 1 - alphas


def discrete_timesteps(config: dict, steps: int, kind: str) -> np.ndarray:
    """`kind`: 'ddim' (int64), 'euler' (float32). linspace / leading / trailing as in each class."""
    n = config['num_train_timesteps']
    spacing = config['timestep_spacing']
    if spacing == 'linspace':
        t = np.linspace(0, n - 1, steps)[::-1]
        t = t.round() if kind == 'ddim' else t
    elif spacing == 'leading':
        t = (np.arange(0, steps) * (n // steps)).round()[::-1] + config['steps_offset']
    elif spacing == 'trailing':
        t = np.round(np.arange(n, 0, -n / steps)) - 1
    else:
        raise ValueError(spacing)
    return t.astype(np.int64) if kind == 'ddim' else t.astype(np.float32)


class DDIM:
    """DDIMScheduler, eta = 0 (the pipelines' default): x_prev = sqrt(a_prev) * x0 + sqrt(1 - a_prev) * eps."""
    name = 'DDIMScheduler'

    def __init__(self, config: dict, steps: int):
        self.config = config
        self.ac = torch.cumprod(1.0 - betas_for(config), dim=0)
        self.final = torch.tensor(1.0) if config['set_alpha_to_one'] else self.ac[0]
        self.timesteps = discrete_timesteps(config, steps, 'ddim')
        self.step_ratio = config['num_train_timesteps'] // steps
        self.sigmas = None
        self.init_noise_sigma = 1.0

    def scale(self, x, i):
        return x

    def alphas(self, i):
        t = int(self.timesteps[i])
        prev = t - self.step_ratio
        return self.ac[t], (self.ac[prev] if prev >= 0 else self.final)

    def step(self, out, i, x):
        a_t, a_prev = self.alphas(i)
        b_t = 1 - a_t
        pt = self.config['prediction_type']
        if pt == 'epsilon':
            x0 = (x - b_t ** 0.5 * out) / a_t ** 0.5
            eps = out
        elif pt == 'v_prediction':
            x0 = a_t ** 0.5 * x - b_t ** 0.5 * out
            eps = a_t ** 0.5 * out + b_t ** 0.5 * x
        else:
            raise ValueError(pt)
        if self.config.get('clip_sample'):
            x0 = x0.clamp(-self.config['clip_sample_range'], self.config['clip_sample_range'])
        return a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps

    def add_noise(self, x0, noise, t: int):
        a = self.ac[t]
        return a ** 0.5 * x0 + (1 - a) ** 0.5 * noise

    def record(self):
        return {'alphas_cumprod_t': [float(self.alphas(i)[0]) for i in range(len(self.timesteps))],
                'alphas_cumprod_prev': [float(self.alphas(i)[1]) for i in range(len(self.timesteps))]}


def _sigma_table(config: dict) -> np.ndarray:
    ac = torch.cumprod(1.0 - betas_for(config), dim=0)
    return np.array(((1 - ac) / ac) ** 0.5)


class Euler:
    """EulerDiscreteScheduler (linear interpolation, final sigma 0, no churn): x0 = x - sigma * eps,
    x_next = x + (x - x0) / sigma * (sigma_next - sigma); the model sees x / sqrt(sigma^2 + 1)."""
    name = 'EulerDiscreteScheduler'

    def __init__(self, config: dict, steps: int):
        self.config = config
        self.timesteps = discrete_timesteps(config, steps, 'euler')
        table = _sigma_table(config)
        s = np.interp(self.timesteps, np.arange(0, len(table)), table)
        self.sigmas = torch.from_numpy(np.concatenate([s, [0.0]]).astype(np.float32))
        m = self.sigmas.max()
        self.init_noise_sigma = float(m if config['timestep_spacing'] in ('linspace', 'trailing') else (m ** 2 + 1) ** 0.5)

    def scale(self, x, i):
        return x / ((self.sigmas[i] ** 2 + 1) ** 0.5)

    def step(self, out, i, x):
        x = x.to(torch.float32)  # as diffusers' step does
        sigma = self.sigmas[i]
        if self.config['prediction_type'] == 'epsilon':
            x0 = x - sigma * out
        elif self.config['prediction_type'] == 'v_prediction':
            x0 = out * (-sigma / (sigma ** 2 + 1) ** 0.5) + (x / (sigma ** 2 + 1))
        else:
            raise ValueError(self.config['prediction_type'])
        d = (x - x0) / sigma
        return (x + d * (self.sigmas[i + 1] - sigma)).to(out.dtype)

    def record(self):
        return {}


class DPMSolverPP2M:
    """DPMSolverMultistepScheduler with algorithm_type dpmsolver++, solver_order 2, solver_type midpoint,
    lower_order_final (first order at the last step, and when fewer than 15 steps second order at the one
    before, which order 2 is anyway), final sigma 0. Data prediction x0 = (x - sigma_t * eps) / alpha_t with
    alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma * alpha_t, lambda = ln(alpha_t) - ln(sigma_t)."""
    name = 'DPMSolverMultistepScheduler'

    def __init__(self, config: dict, steps: int):
        self.config = config
        n = config['num_train_timesteps']
        last = n  # lambda_min_clipped = -inf clips nothing
        spacing = config['timestep_spacing']
        if spacing == 'linspace':
            t = np.linspace(0, last - 1, steps + 1).round()[::-1][:-1]
        elif spacing == 'leading':
            t = (np.arange(0, steps + 1) * (last // (steps + 1))).round()[::-1][:-1] + config['steps_offset']
        elif spacing == 'trailing':
            t = np.arange(last, 0, -n / steps).round() - 1
        else:
            raise ValueError(spacing)
        self.timesteps = t.astype(np.int64)
        table = _sigma_table(config)
        s = np.interp(self.timesteps, np.arange(0, len(table)), table)
        self.sigmas = torch.from_numpy(np.concatenate([s, [0.0]]).astype(np.float32))
        self.init_noise_sigma = 1.0
        self.prev_x0 = None

    def scale(self, x, i):
        return x

    @staticmethod
    def _at(sigma):
        alpha = 1 / ((sigma ** 2 + 1) ** 0.5)
        return alpha, sigma * alpha

    def step(self, out, i, x):
        n = len(self.timesteps)
        s0 = self.sigmas[i]
        a_s0, sg_s0 = self._at(s0)
        if self.config['prediction_type'] == 'epsilon':
            x0 = (x - sg_s0 * out) / a_s0
        elif self.config['prediction_type'] == 'v_prediction':
            x0 = a_s0 * x - sg_s0 * out
        else:
            raise ValueError(self.config['prediction_type'])
        x = x.to(torch.float32)  # as diffusers' step does (after converting the model output)
        a_t, sg_t = self._at(self.sigmas[i + 1])
        lam_t = torch.log(a_t) - torch.log(sg_t)
        lam_s0 = torch.log(a_s0) - torch.log(sg_s0)
        h = lam_t - lam_s0
        first_order = self.prev_x0 is None or i == n - 1
        if first_order:
            x_next = (sg_t / sg_s0) * x - (a_t * (torch.exp(-h) - 1.0)) * x0
        else:
            a_s1, sg_s1 = self._at(self.sigmas[i - 1])
            lam_s1 = torch.log(a_s1) - torch.log(sg_s1)
            r0 = (lam_s0 - lam_s1) / h
            d1 = (1.0 / r0) * (x0 - self.prev_x0)
            x_next = (sg_t / sg_s0) * x - (a_t * (torch.exp(-h) - 1.0)) * x0 - 0.5 * (a_t * (torch.exp(-h) - 1.0)) * d1
        self.prev_x0 = x0
        return x_next.to(x0.dtype)

    def record(self):
        n = len(self.timesteps)
        return {'order_per_step': [1 if i == 0 or i == n - 1 else 2 for i in range(n)]}


class FlowMatchEuler:
    """FlowMatchEulerDiscreteScheduler (static shift): sigmas = shift * s / (1 + (shift - 1) * s) for
    s = linspace(1, shifted(1/N), steps) (the table's last sigma is already shifted, and is shifted again: as
    diffusers does), timesteps = sigmas * N, then x_next = x + (sigma_next - sigma) * v, last sigma 0."""
    name = 'FlowMatchEulerDiscreteScheduler'

    def __init__(self, config: dict, steps: int):
        self.config = config
        n = config['num_train_timesteps']
        shift = config['shift']
        table = torch.from_numpy(np.linspace(1, n, n, dtype=np.float32)[::-1].copy()) / n
        table = shift * table / (1 + (shift - 1) * table)
        sigma_max, sigma_min = table[0].item(), table[-1].item()
        t = np.linspace(sigma_max * n, sigma_min * n, steps)
        s = t / n
        s = shift * s / (1 + (shift - 1) * s)
        s = torch.from_numpy(s).to(torch.float32)
        self.timesteps = (s * n).numpy()
        self.sigmas = torch.cat([s, torch.zeros(1)])
        self.init_noise_sigma = 1.0

    def scale(self, x, i):
        return x

    def step(self, out, i, x):
        return (x.to(torch.float32) + (self.sigmas[i + 1] - self.sigmas[i]) * out).to(out.dtype)

    def record(self):
        return {}
