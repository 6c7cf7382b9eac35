/**
 * Restart sampling (Xu et al. 2023, "Restart Sampling for Improving Generative Processes", NeurIPS 2023,
 * Alg. 1): integrate the probability-flow ODE with Heun steps (EDM, Karras et al. 2022 Alg. 1) along the
 * schedule; on reaching the restart interval's lower end σ_min, K times: add forward noise to jump back to
 * σ_max (x ← x + S_noise·√(σ_max² − σ_min²)·z) and run the ODE back down to σ_min with N_restart Heun steps
 * on a Karras (ρ = 7) sub-schedule. The restart ends are snapped to the nearest σ of the schedule.
 *
 * Follows the k-diffusion port by the paper's authors as shipped in ComfyUI (`sample_restart`, restart_list
 * {σ_min: [N_restart + 1, K, σ_max]}); ComfyUI's automatic restart list (which also rebuilds the main
 * schedule for ≥ 20 steps) is not reproduced: the main schedule is the one connected.
 */
import type { Denoiser, Latent, SolverContext } from '../../core/types';
import { combine } from '../../core/latent';
import { defineSolver, type NodeType } from '../../registry/node';
import { defineParams, type OptionsOf } from '../../registry/params';
import { DpipeError } from '../../core/errors';
import { S_NOISE_PARAM } from './util';
import { checkAbort, emit } from '../common';

const P_RESTART = defineParams(
  { name: 'restartSigmaMin', type: 'number', default: 0.1, min: 0, exclusiveMin: true, doc: 'Lower end σ_min of the restart interval (snapped to the nearest σ of the schedule). 0.1 as ComfyUI\'s preset for Stable Diffusion.' },
  { name: 'restartSigmaMax', type: 'number', default: 2, min: 0, exclusiveMin: true, doc: 'Upper end σ_max of the restart interval (snapped to the nearest σ of the schedule); 2 as ComfyUI\'s preset.' },
  { name: 'restartSteps', type: 'integer', default: 9, min: 1, max: 1000, doc: 'N_restart: Heun steps of each restart back down from σ_max to σ_min (on a Karras ρ = 7 sub-schedule).' },
  { name: 'restartTimes', type: 'integer', default: 1, min: 0, max: 100, doc: 'K: how many times the interval is restarted (0 = plain Heun).' },
  S_NOISE_PARAM,
);

function karras(n: number, sigmaMin: number, sigmaMax: number, rho = 7): number[] {
  const a = sigmaMax ** (1 / rho);
  const b = sigmaMin ** (1 / rho);
  return Array.from({ length: n }, (_, i) => (a + (n === 1 ? 0 : i / (n - 1)) * (b - a)) ** rho);
}

function nearest(sigmas: Float64Array, v: number): number {
  let best = 0;
  for (let i = 1; i < sigmas.length; i++) if (Math.abs(sigmas[i] - v) < Math.abs(sigmas[best] - v)) best = i;
  return best;
}

const solveRestart = async (model: Denoiser, x0: Latent, sigmas: Float64Array, o: OptionsOf<typeof P_RESTART>, ctx: SolverContext): Promise<Latent> => {
  if (o.restartSigmaMin >= o.restartSigmaMax) {
    throw new DpipeError('E_PARAM_VALUE', `solver.restart: restartSigmaMin (${o.restartSigmaMin}) must be below restartSigmaMax (${o.restartSigmaMax}).`);
  }
  const minIdx = nearest(sigmas, o.restartSigmaMin);
  const maxIdx = nearest(sigmas, o.restartSigmaMax);
  const segment = maxIdx < minIdx ? karras(o.restartSteps + 1, sigmas[minIdx], sigmas[maxIdx]) : [];

  const heun = async (x: Latent, s: number, sn: number, step: number, role: 'predictor' | 'corrector'): Promise<[Latent, Latent]> => {
    const denoised = await model(x, s, { step, role });
    const d = combine(x, [[1 / s, x], [-1 / s, denoised]]);
    const xe = combine(x, [[1, x], [sn - s, d]]);
    if (sn === 0) return [xe, denoised];
    const denoised2 = await model(xe, sn, { step, role: role === 'predictor' ? 'stage' : role });
    const d2 = combine(xe, [[1 / sn, xe], [-1 / sn, denoised2]]);
    return [combine(x, [[1, x], [(sn - s) / 2, d], [(sn - s) / 2, d2]]), denoised];
  };

  let x = x0;
  for (let i = 0; i < sigmas.length - 1; i++) {
    checkAbort(ctx, i, sigmas.length - 1);
    let denoised: Latent;
    [x, denoised] = await heun(x, sigmas[i], sigmas[i + 1], i, 'predictor');
    if (i + 1 === minIdx && segment.length > 1) {
      let lo = sigmas[minIdx];
      const hi = segment[0];
      for (let k = 0; k < o.restartTimes; k++) {
        const z = ctx.noise(lo, hi);
        x = combine(x, [[1, x], [o.sNoise * Math.sqrt(hi * hi - lo * lo), z]]);
        for (let j = 0; j + 1 < segment.length; j++) [x] = await heun(x, segment[j], segment[j + 1], i, 'corrector');
        lo = segment[segment.length - 1];
      }
    }
    emit(ctx, i, sigmas, x, denoised);
  }
  return x;
};

/**
 * Exact model evaluations of {@link restart} on `sigmas`: 2 per Heun step (1 for a step to σ = 0) along the
 * schedule, plus restartTimes × restartSteps Heun steps back down to the interval's lower end when the snapped
 * interval is not empty.
 */
function restartNfe(sigmas: Float64Array, o: OptionsOf<typeof P_RESTART>): number {
  const heunCost = (to: number): number => (to === 0 ? 1 : 2);
  let nfe = 0;
  for (let i = 0; i + 1 < sigmas.length; i++) nfe += heunCost(sigmas[i + 1]);
  const minIdx = nearest(sigmas, o.restartSigmaMin);
  const maxIdx = nearest(sigmas, o.restartSigmaMax);
  if (maxIdx < minIdx) nfe += o.restartTimes * (2 * (o.restartSteps - 1) + heunCost(sigmas[minIdx]));
  return nfe;
}

export const RESTART = defineSolver({
  type: 'solver.restart',
  title: 'Restart sampling',
  doc: 'Heun (EDM) steps along the schedule; at the restart interval\'s lower end, K times: noise forward to its upper end and Heun back down in N_restart steps. Costs 2 NFE per Heun step (1 for the step to σ = 0) plus 2·N_restart·K. Use i.i.d. (seeded) noise: a Brownian-tree source returns the same increment for every restart of the same interval.',
  paper: 'Xu et al. 2023, "Restart Sampling for Improving Generative Processes" (NeurIPS), Alg. 1; ComfyUI sample_restart.',
  params: P_RESTART,
  order: 2,
  nfePerStep: 2,
  nfe: restartNfe,
  stochastic: true,
  solve: solveRestart,
  tests: {
    orderTestedElsewhere: 'test/stochastic/restart.test.ts: with restartTimes 0 it is EDM Heun number for number (Heun\'s order is measured), and each restart jumps and integrates back as Alg. 1 says',
    noGolden: 'no golden run of ComfyUI sample_restart; test/stochastic/restart.test.ts checks Alg. 1 step by step',
  },
});
export const restart = RESTART.solverEntry.run;

export const RESTART_NODES: NodeType[] = [RESTART];
