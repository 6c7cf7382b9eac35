/**
 * Schedules from continuous σ ranges, as k-diffusion defines them (crowsonkb/k-diffusion,
 * `k_diffusion/sampling.py`: get_sigmas_karras, get_sigmas_exponential, get_sigmas_polyexponential,
 * get_sigmas_vp). Each returns `steps` σ values descending plus the end chosen by `final` (k-diffusion
 * appends 0, the default here).
 */
import { defineSchedule } from '../registry/node';
import type { NodeType } from '../registry/node';
import { defineParams } from '../registry/params';
import { finalParam, finish, linspace, overRange, sigmaRangeParams, stepsParam } from './common';

/** Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", eq. 5. */
export function karrasSigmas(n: number, sigmaMin: number, sigmaMax: number, rho: number): Float64Array {
  const ramp = linspace(0, 1, n);
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return ramp.map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** σ log-uniform from σ_max to σ_min (k-diffusion get_sigmas_exponential). */
export function exponentialSigmas(n: number, sigmaMin: number, sigmaMax: number): Float64Array {
  return linspace(Math.log(sigmaMax), Math.log(sigmaMin), n).map(Math.exp);
}

/** k-diffusion get_sigmas_polyexponential: log σ = ramp^ρ (log σ_max − log σ_min) + log σ_min, ramp 1→0. */
export function polyexponentialSigmas(n: number, sigmaMin: number, sigmaMax: number, rho: number): Float64Array {
  const lo = Math.log(sigmaMin);
  const hi = Math.log(sigmaMax);
  return linspace(1, 0, n).map((r) => Math.exp(r ** rho * (hi - lo) + lo));
}

/**
 * Song et al. 2021, "Score-Based Generative Modeling through Stochastic Differential Equations", VP SDE
 * (eq. 32): σ(t) = √(exp(β_d t²/2 + β_min t) − 1), t uniform from 1 to ε_s (k-diffusion get_sigmas_vp).
 */
export function vpSigmas(n: number, betaD: number, betaMin: number, epsS: number): Float64Array {
  return linspace(1, epsS, n).map((t) => Math.sqrt(Math.exp((betaD * t * t) / 2 + betaMin * t) - 1));
}

const STEPS = stepsParam();
const FINAL = finalParam('zero');
const RANGE = sigmaRangeParams(0.002, 80);

const KARRAS_PARAMS = defineParams(STEPS, ...RANGE, { name: 'rho', type: 'number', default: 7, min: 0, exclusiveMin: true, doc: 'ρ of eq. 5 (7 in the paper); larger puts more steps at low σ.' }, FINAL);
const EXP_PARAMS = defineParams(STEPS, ...RANGE, FINAL);
const POLY_PARAMS = defineParams(STEPS, ...RANGE, { name: 'rho', type: 'number', default: 1, min: 0, exclusiveMin: true, doc: 'Polynomial exponent of the ramp (1 = exponential schedule).' }, FINAL);
const VP_PARAMS = defineParams(
  STEPS,
  { name: 'betaD', type: 'number', default: 19.9, min: 0, exclusiveMin: true, doc: 'β_d = β_max − β_min of the VP SDE (19.9).' },
  { name: 'betaMin', type: 'number', default: 0.1, min: 0, doc: 'β_min of the VP SDE (0.1).' },
  { name: 'epsS', type: 'number', default: 1e-3, min: 0, exclusiveMin: true, max: 1, doc: 'Smallest time ε_s (1e-3).' },
  FINAL,
);

export const KDIFFUSION_SCHEDULES: NodeType[] = [
  defineSchedule({
    type: 'schedule.karras',
    title: 'Karras (ρ)',
    doc: 'σ_i = (σ_max^(1/ρ) + i/(n−1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ, i = 0..n−1, then the end. Reproduces k-diffusion get_sigmas_karras and diffusers use_karras_sigmas (with σ range from the model).',
    paper: 'Karras, Aittala, Aila, Laine 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", eq. 5.',
    params: KARRAS_PARAMS,
    needsModel: false,
    sigmas: overRange('schedule.karras', (p, lo, hi) => karrasSigmas(p.steps, lo, hi, p.rho)),
  }),
  defineSchedule({
    type: 'schedule.exponential',
    title: 'Exponential',
    doc: 'σ log-uniform from σ_max to σ_min (uniform in log-SNR), then the end. Reproduces k-diffusion get_sigmas_exponential.',
    paper: 'k-diffusion (Crowson), get_sigmas_exponential; equivalent to the logSNR-uniform steps of Lu et al. 2022 (DPM-Solver) between the same σs.',
    params: EXP_PARAMS,
    needsModel: false,
    sigmas: overRange('schedule.exponential', (p, lo, hi) => exponentialSigmas(p.steps, lo, hi)),
  }),
  defineSchedule({
    type: 'schedule.polyexponential',
    title: 'Polyexponential',
    doc: 'log σ = r^ρ·(log σ_max − log σ_min) + log σ_min with r from 1 to 0, then the end. ρ = 1 is the exponential schedule. Reproduces k-diffusion get_sigmas_polyexponential.',
    paper: 'k-diffusion (Crowson), get_sigmas_polyexponential.',
    params: POLY_PARAMS,
    needsModel: false,
    sigmas: overRange('schedule.polyexponential', (p, lo, hi) => polyexponentialSigmas(p.steps, lo, hi, p.rho)),
  }),
  defineSchedule({
    type: 'schedule.vp',
    title: 'VP continuous',
    doc: 'The continuous VP SDE\'s σ(t) = √(exp(β_d t²/2 + β_min t) − 1) at t uniform from 1 to ε_s, then the end. Reproduces k-diffusion get_sigmas_vp.',
    paper: 'Song et al. 2021, "Score-Based Generative Modeling through Stochastic Differential Equations", eq. 32 (VP SDE).',
    params: VP_PARAMS,
    needsModel: false,
    sigmas(p) {
      const s = vpSigmas(p.steps, p.betaD, p.betaMin, p.epsS);
      return finish(s, p.final, s[s.length - 1]);
    },
  }),
];
