/**
 * Stochastic DPM-Solver++ family (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
 * Probabilistic Models", arXiv:2211.01095), in k-diffusion's form (`k_diffusion/sampling.py` @4601bf0):
 *
 * - `solver.dpmpp_2s_ancestral`: DPM-Solver++(2S) (Alg. 1 of the paper, singlestep, r = ½) to σ_down,
 *   then ancestral noise σ_up (k-diffusion `sample_dpmpp_2s_ancestral`).
 * - `solver.dpmpp_sde`: k-diffusion's `sample_dpmpp_sde`, a two-stage (midpoint r) SDE-DPM-Solver++ with an
 *   ancestral split of each stage; two noise draws per step.
 * - `solver.dpmpp_2m_sde`: SDE-DPM-Solver++(2M) (paper §5, the data-prediction SDE solver with η), midpoint
 *   or Heun correction term; reproduces k-diffusion `sample_dpmpp_2m_sde` and diffusers'
 *   `DPMSolverMultistepScheduler(algorithm_type="sde-dpmsolver++")` (first step and the step to σ = 0 are
 *   first order in both; diffusers also draws noise on the last step, multiplied by 0).
 * - `solver.dpmpp_3m_sde`: k-diffusion's third-order multistep SDE variant `sample_dpmpp_3m_sde`.
 *
 * `order` in the registry: the weak order measured on Gaussian data (test/stochastic/order.test.ts); 3M's is
 * its ODE order 3, which its first-order warm-up step limits to 2 on uniform grids. `solver.dpmpp_sde` is
 * built for Brownian-tree noise (its two draws per step overlap); with i.i.d. noise it is weak order 1.
 *
 * All in VE coordinates with λ = −log σ and step h = λ_next − λ. Every noise draw calls
 * `ctx.noise(σ_i, σ_j)` with the interval it covers (k-diffusion's noise_sampler contract), so a Brownian
 * tree source gives consistent paths across step counts.
 */
import type { Denoiser, Latent, SolverContext } from '../../core/types';
import { combine } from '../../core/latent';
import { defineSolver, stagedNfe, type NodeType } from '../../registry/node';
import { defineParams, type OptionsOf } from '../../registry/params';
import { lowerOrderFinalParam, multistepOrder } from '../dpmpp';
import { ETA_PARAM, S_NOISE_PARAM, WEAK_STEPS, addNoise, oneMinusExp, runSteps } from './util';
import { ancestralStep } from '../common';

const sigmaFn = (t: number): number => Math.exp(-t);
const tFn = (sigma: number): number => -Math.log(sigma);

// ---------------------------------------------------------------------------------------------
// DPM-Solver++(2S) ancestral

const P_2SA = defineParams(ETA_PARAM, S_NOISE_PARAM);

const solveDpmpp2sAncestral = async (model: Denoiser, x0: Latent, sigmas: Float64Array, o: OptionsOf<typeof P_2SA>, ctx: SolverContext): Promise<Latent> => {
  return runSteps(model, x0, sigmas, ctx, false, async (x, denoised, i, s, sn) => {
    const [down, up] = ancestralStep(s, sn, o.eta);
    if (down === 0) {
      // Euler step to 0: x + (x − D)/σ·(0 − σ) = D
      x = combine(x, [[down / s, x], [1 - down / s, denoised]]);
    } else {
      const t = tFn(s);
      const tNext = tFn(down);
      const h = tNext - t;
      const sMid = t + 0.5 * h;
      const x2 = combine(x, [[sigmaFn(sMid) / s, x], [oneMinusExp(0.5 * h), denoised]]);
      const denoised2 = await model(x2, sigmaFn(sMid), { step: i, role: 'stage' });
      x = combine(x, [[sigmaFn(tNext) / s, x], [oneMinusExp(h), denoised2]]);
    }
    if (sn > 0) x = addNoise(x, ctx.noise, s, sn, o.sNoise * up);
    return x;
  });
};

// ---------------------------------------------------------------------------------------------
// DPM-Solver++ SDE (k-diffusion sample_dpmpp_sde)

const P_SDE = defineParams(
  ETA_PARAM, S_NOISE_PARAM,
  { name: 'r', type: 'number', default: 0.5, min: 0.01, max: 1, exclusiveMin: false, doc: 'Position of the intermediate stage in λ (fraction r of the step; k-diffusion default ½).' },
);

const solveDpmppSde = async (model: Denoiser, x0: Latent, sigmas: Float64Array, o: OptionsOf<typeof P_SDE>, ctx: SolverContext): Promise<Latent> => {
  return runSteps(model, x0, sigmas, ctx, false, async (x, denoised, i, s, sn) => {
    if (sn === 0) return denoised; // Euler step to σ = 0
    const t = tFn(s);
    const tNext = tFn(sn);
    const h = tNext - t;
    const sMid = t + h * o.r;
    const fac = 1 / (2 * o.r);
    // Stage 1: to σ(s) with an ancestral split.
    const [sd1, su1] = ancestralStep(s, sigmaFn(sMid), o.eta);
    const s1 = tFn(sd1);
    let x2 = combine(x, [[sigmaFn(s1) / s, x], [-Math.expm1(t - s1), denoised]]);
    x2 = addNoise(x2, ctx.noise, s, sigmaFn(sMid), o.sNoise * su1);
    const denoised2 = await model(x2, sigmaFn(sMid), { step: i, role: 'stage' });
    // Stage 2
    const [sd2, su2] = ancestralStep(s, sn, o.eta);
    const tn2 = tFn(sd2);
    const dd = combine(denoised, [[1 - fac, denoised], [fac, denoised2]]);
    x = combine(x, [[sigmaFn(tn2) / s, x], [-Math.expm1(t - tn2), dd]]);
    return addNoise(x, ctx.noise, s, sn, o.sNoise * su2);
  });
};

// ---------------------------------------------------------------------------------------------
// DPM-Solver++(2M) SDE

const P_2MSDE = defineParams(
  ETA_PARAM, S_NOISE_PARAM,
  {
    name: 'solverType', type: 'enum', default: 'midpoint', options: ['midpoint', 'heun'],
    optionDocs: {
      midpoint: 'Second-order term ½(1 − e^{−(1+η)h})·D₁ (k-diffusion and diffusers default).',
      heun: 'Second-order term ((1 − e^{−(1+η)h})/(−(1+η)h) + 1)·D₁.',
    },
    doc: 'How the second-order difference term is weighted (k-diffusion/diffusers `solver_type`).',
  },
  lowerOrderFinalParam('off'),
);

const solveDpmpp2mSde = async (model: Denoiser, x0: Latent, sigmas: Float64Array, o: OptionsOf<typeof P_2MSDE>, ctx: SolverContext): Promise<Latent> => {
  let old: Latent | undefined;
  let hLast = 0;
  return runSteps(model, x0, sigmas, ctx, true, (x, denoised, i, s, sn) => {
    let h = hLast;
    if (sn === 0) {
      x = denoised;
    } else {
      h = Math.log(s / sn);
      const etaH = o.eta * h;
      const a = oneMinusExp(h + etaH); // 1 − e^{−h−ηh}
      const terms: [number, Latent][] = [[(sn / s) * Math.exp(-etaH), x], [a, denoised]];
      if (old && multistepOrder(i, sigmas.length - 1, 2, o.lowerOrderFinal, false, sn) === 2) {
        const r = hLast / h;
        const c = o.solverType === 'heun' ? (a / (-h - etaH) + 1) / r : (0.5 * a) / r;
        terms.push([c, denoised], [-c, old]);
      }
      x = combine(x, terms);
      if (o.eta) x = addNoise(x, ctx.noise, s, sn, sn * Math.sqrt(oneMinusExp(2 * etaH)) * o.sNoise);
    }
    old = denoised;
    hLast = h;
    return x;
  });
};

// ---------------------------------------------------------------------------------------------
// DPM-Solver++(3M) SDE

const P_3MSDE = defineParams(ETA_PARAM, S_NOISE_PARAM);

const solveDpmpp3mSde = async (model: Denoiser, x0: Latent, sigmas: Float64Array, o: OptionsOf<typeof P_3MSDE>, ctx: SolverContext): Promise<Latent> => {
  let d1: Latent | undefined;
  let d2: Latent | undefined;
  let h1: number | undefined;
  let h2: number | undefined;
  return runSteps(model, x0, sigmas, ctx, true, (x, denoised, _i, s, sn) => {
    let h = h1 as number;
    if (sn === 0) {
      x = denoised;
    } else {
      h = Math.log(s / sn);
      const hEta = h * (o.eta + 1);
      const terms: [number, Latent][] = [[Math.exp(-hEta), x], [oneMinusExp(hEta), denoised]];
      const phi2 = -oneMinusExp(hEta) / hEta + 1;
      if (h2 !== undefined && d1 && d2) {
        const r0 = (h1 as number) / h;
        const r1 = h2 / h;
        // d1_0 = (D − D1)/r0, d1_1 = (D1 − D2)/r1; d1 = d1_0 + (d1_0 − d1_1)·r0/(r0+r1); d2 = (d1_0 − d1_1)/(r0+r1)
        const phi3 = phi2 / hEta - 0.5;
        const a0 = 1 / r0; // d1_0 = a0·(D − D1)
        const a1 = 1 / r1; // d1_1 = a1·(D1 − D2)
        const k = r0 / (r0 + r1);
        const q = 1 / (r0 + r1);
        // phi2·d1 − phi3·d2 = phi2·((1+k)·d1_0 − k·d1_1) − phi3·q·(d1_0 − d1_1)
        const c0 = phi2 * (1 + k) - phi3 * q; // × d1_0
        const c1 = -phi2 * k + phi3 * q; // × d1_1
        terms.push([c0 * a0, denoised], [-c0 * a0 + c1 * a1, d1], [-c1 * a1, d2]);
      } else if (h1 !== undefined && d1) {
        const r = h1 / h;
        terms.push([phi2 / r, denoised], [-phi2 / r, d1]);
      }
      x = combine(x, terms);
      if (o.eta) x = addNoise(x, ctx.noise, s, sn, sn * Math.sqrt(oneMinusExp(2 * h * o.eta)) * o.sNoise);
    }
    d2 = d1;
    d1 = denoised;
    h2 = h1;
    h1 = h;
    return x;
  });
};

// ---------------------------------------------------------------------------------------------

const PAPER = 'Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models" (arXiv:2211.01095)';

export const DPMPP_2S_ANCESTRAL = defineSolver({
  type: 'solver.dpmpp_2s_ancestral',
  title: 'DPM-Solver++(2S) ancestral',
  doc: 'Each step: a DPM-Solver++(2S) step (midpoint in λ, 2 model evaluations) to σ_down, then fresh noise σ_up (ancestral split with η). The step to σ = 0 is a single Euler step. Reproduces k-diffusion `sample_dpmpp_2s_ancestral`.',
  paper: `${PAPER}, Alg. 1 (2S) with k-diffusion's ancestral split.`,
  params: P_2SA,
  order: 2,
  nfePerStep: 2,
  nfe: (sigmas) => stagedNfe(sigmas, 2),
  stochastic: true,
  solve: solveDpmpp2sAncestral,
  tests: { weakOrder: [{ steps: WEAK_STEPS }] },
});

export const DPMPP_SDE = defineSolver({
  type: 'solver.dpmpp_sde',
  title: 'DPM-Solver++ SDE',
  doc: 'k-diffusion\'s stochastic DPM-Solver++: two stages per step (intermediate λ at fraction r), each followed by its ancestral noise; two noise draws and two model evaluations per step. The step to σ = 0 is a single Euler step. Reproduces k-diffusion `sample_dpmpp_sde`.',
  paper: `${PAPER}; k-diffusion sample_dpmpp_sde.`,
  params: P_SDE,
  order: 2,
  nfePerStep: 2,
  nfe: (sigmas) => stagedNfe(sigmas, 2),
  stochastic: true,
  solve: solveDpmppSde,
  tests: {
    weakOrder: [
      { steps: WEAK_STEPS, brownian: true, note: 'Brownian-path noise, what it is built for' },
      { steps: WEAK_STEPS, order: 1, note: 'i.i.d. noise: its two draws per step do not overlap' },
    ],
  },
});

/**
 * Presets: k-diffusion `sample_dpmpp_2m_sde` (η and s_noise are its own arguments) and diffusers
 * `DPMSolverMultistepScheduler(algorithm_type="sde-dpmsolver++")`, which has neither (η = 1, s_noise = 1) and
 * lowers the last step's order below 15 steps (lower_order_final=True).
 */
export const DPMPP_2M_SDE = defineSolver({
  type: 'solver.dpmpp_2m_sde',
  title: 'DPM-Solver++(2M) SDE',
  doc: 'Second-order multistep SDE-DPM-Solver++ with stochasticity η (η = 0: DPM-Solver++(2M) ODE). First step and the step to σ = 0 are first order. Presets: k-diffusion `sample_dpmpp_2m_sde` and diffusers `DPMSolverMultistepScheduler(algorithm_type="sde-dpmsolver++")`.',
  paper: `${PAPER}, §5 (SDE-DPM-Solver++(2M)).`,
  params: P_2MSDE,
  presets: {
    'k-diffusion': { doc: 'k-diffusion sample_dpmpp_2m_sde (solver_type="midpoint");', sets: { solverType: 'midpoint', lowerOrderFinal: 'off' } },
    diffusers: { doc: 'diffusers DPMSolverMultistepScheduler(algorithm_type="sde-dpmsolver++") defaults (solver_type="midpoint", lower_order_final=True; no η or s_noise);', sets: { eta: 1, sNoise: 1, solverType: 'midpoint', lowerOrderFinal: 'below15' } },
  },
  order: 2,
  nfePerStep: 1,
  stochastic: true,
  acceptsCorrector: true,
  solve: solveDpmpp2mSde,
  tests: { weakOrder: [{ steps: WEAK_STEPS, note: 'midpoint' }, { steps: WEAK_STEPS, params: { solverType: 'heun' } }] },
});

export const DPMPP_3M_SDE = defineSolver({
  type: 'solver.dpmpp_3m_sde',
  title: 'DPM-Solver++(3M) SDE',
  doc: 'Third-order multistep SDE-DPM-Solver++ with stochasticity η (warm-up with first and second order). Reproduces k-diffusion `sample_dpmpp_3m_sde`.',
  paper: `${PAPER}; k-diffusion sample_dpmpp_3m_sde.`,
  params: P_3MSDE,
  order: 3,
  nfePerStep: 1,
  stochastic: true,
  acceptsCorrector: true,
  solve: solveDpmpp3mSde,
  tests: { weakOrder: [{ steps: WEAK_STEPS, order: 2, note: 'the first- and second-order warm-up bounds it by 2 on a uniform-in-λ grid' }] },
});

export const dpmpp2sAncestral = DPMPP_2S_ANCESTRAL.solverEntry.run;
export const dpmppSde = DPMPP_SDE.solverEntry.run;
export const dpmpp2mSde = DPMPP_2M_SDE.solverEntry.run;
export const dpmpp3mSde = DPMPP_3M_SDE.solverEntry.run;

export const DPMPP_SDE_NODES: NodeType[] = [DPMPP_2S_ANCESTRAL, DPMPP_SDE, DPMPP_2M_SDE, DPMPP_3M_SDE];
