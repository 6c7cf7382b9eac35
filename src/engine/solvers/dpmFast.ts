/**
 * DPM-Solver-fast and DPM-Solver-adaptive: Lu, Zhou, Bao, Chen, Li & Zhu 2022, "DPM-Solver: A Fast ODE Solver
 * for Diffusion Probabilistic Model Sampling in Around 10 Steps", §3.4 (DPM-Solver-fast: K = ⌊NFE/3⌋ + 1
 * logSNR-uniform steps of orders 3, …, 3 and a last step of order NFE mod 3, or 2 and 1) and Algorithm 4 /
 * Appendix C (adaptive step size: DPM-Solver-12 or -23 pairs with error control). Noise prediction, stage
 * positions ½ (order 2) and ⅓, ⅔ (order 3), as k-diffusion's `DPMSolver` (`sample_dpm_fast`,
 * `sample_dpm_adaptive`, deterministic η = 0) implements them; the error norm and PID step-size controller
 * follow k-diffusion (rtol 0.05, atol 0.0078, h_init 0.05, integral gain 1, accept safety 0.81).
 *
 * Both choose their own steps: they use only the schedule's first σ and its last positive σ; when the schedule
 * ends with 0, a final step returns x̂0 at the last positive σ (one more model evaluation).
 */
import { DpipeError } from '../core/errors';
import { defineSolver, type NodeType } from '../registry/node';
import { defineParams, type OptionsOf } from '../registry/params';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { checkAbort, lambdaOf, sum } from './common';
import { singlestepUpdate } from './singlestep';

/** First σ and last positive σ of an adaptive solver's schedule; rejects interior points. */
export function adaptiveRange(block: string, sigmas: Float64Array): { sigmaMax: number; sigmaMin: number; toZero: boolean } {
  const toZero = sigmas[sigmas.length - 1] === 0;
  const pos = toZero ? sigmas.subarray(0, sigmas.length - 1) : sigmas;
  if (pos.length !== 2) {
    throw new DpipeError('E_COMPOSE', `${block} chooses its own steps; give it a schedule with just σ_max and σ_min (optionally a final 0), e.g. schedule.explicit [σ_max, σ_min] — this one has ${sigmas.length} values.`);
  }
  if (!(pos[0] > pos[1] && pos[1] > 0)) throw new DpipeError('E_COMPOSE', `${block} needs σ_max > σ_min > 0; got ${pos[0]} and ${pos[1]}.`);
  return { sigmaMax: pos[0], sigmaMin: pos[1], toZero };
}

/** DPM-Solver-fast step orders for `nfe` evaluations (k-diffusion dpm_solver_fast). */
export function fastOrders(nfe: number): number[] {
  const m = Math.floor(nfe / 3) + 1;
  if (nfe % 3 === 0) return [...Array<number>(m - 2).fill(3), 2, 1];
  return [...Array<number>(m - 1).fill(3), nfe % 3];
}

type Eps = (x: Latent, sigma: number, role: 'predictor' | 'stage') => Promise<{ d: Latent; e: Latent }>;

/** One DPM-Solver step of order k from σ_s to σ_t (noise prediction, r = ½ or ⅓/⅔); `e0` = ε at (x, σ_s). */
async function dpmStep(x: Latent, s: number, t: number, e0: Latent, k: number, eps: Eps, r1For2 = 0.5): Promise<{ x: Latent; e1?: Latent }> {
  if (k === 1) return { x: singlestepUpdate(x, s, t, [e0], [], 'noise', 'midpoint') };
  const ls = lambdaOf(s);
  const h = lambdaOf(t) - ls;
  if (k === 2) {
    const l1 = ls + r1For2 * h;
    const e1 = (await eps(singlestepUpdate(x, s, Math.exp(-l1), [e0], [], 'noise', 'midpoint'), Math.exp(-l1), 'stage')).e;
    return { x: singlestepUpdate(x, s, t, [e0, e1], [l1], 'noise', 'midpoint'), e1 };
  }
  const l1 = ls + h / 3;
  const l2 = ls + (2 * h) / 3;
  const e1 = (await eps(singlestepUpdate(x, s, Math.exp(-l1), [e0], [], 'noise', 'midpoint'), Math.exp(-l1), 'stage')).e;
  const e2 = (await eps(singlestepUpdate(x, s, Math.exp(-l2), [e0, e1], [l1], 'noise', 'heun'), Math.exp(-l2), 'stage')).e;
  return { x: singlestepUpdate(x, s, t, [e0, e1, e2], [l1, l2], 'noise', 'midpoint'), e1 };
}

function makeEps(model: Denoiser, stepRef: { i: number }): Eps {
  return async (x, sigma, role) => {
    const d = await model(x, sigma, { step: stepRef.i, role });
    return { d, e: sum(x, [[1 / sigma, x], [-1 / sigma, d]]) };
  };
}

async function finalDenoise(model: Denoiser, x: Latent, sigma: number, step: number, ctx: SolverContext): Promise<Latent> {
  const d = await model(x, sigma, { step, role: 'final' });
  ctx.onStep?.({ step, sigma, sigmaNext: 0, x: d, denoised: d });
  return d;
}

const FAST_PARAMS = defineParams({ name: 'nfe', type: 'integer', default: 10, min: 1, max: 10000, doc: 'Model evaluations for the ODE part (a final step to σ = 0 adds one).' });

async function solveDpmFast(model: Denoiser, x: Latent, sigmas: Float64Array, o: OptionsOf<typeof FAST_PARAMS>, ctx: SolverContext): Promise<Latent> {
  const { sigmaMax, sigmaMin, toZero } = adaptiveRange('solver.dpm_fast', sigmas);
  const orders = fastOrders(o.nfe);
  const l0 = lambdaOf(sigmaMax);
  const l1 = lambdaOf(sigmaMin);
  const ref = { i: 0 };
  const eps = makeEps(model, ref);
  for (let i = 0; i < orders.length; i++) {
    checkAbort(ctx, i, orders.length);
    ref.i = i;
    const s = Math.exp(-(l0 + ((l1 - l0) * i) / orders.length));
    const t = i === orders.length - 1 ? sigmaMin : Math.exp(-(l0 + ((l1 - l0) * (i + 1)) / orders.length));
    const { d, e } = await eps(x, s, 'predictor');
    x = (await dpmStep(x, s, t, e, orders[i], eps)).x;
    ctx.onStep?.({ step: i, sigma: s, sigmaNext: t, x, denoised: d });
  }
  return toZero ? finalDenoise(model, x, sigmaMin, orders.length, ctx) : x;
}

const ADAPTIVE_PARAMS = defineParams(
  { name: 'order', type: 'integer', default: 3, min: 2, max: 3, doc: 'DPM-Solver-23 (3: third-order steps, second-order error estimate) or -12 (2).' },
  { name: 'rtol', type: 'number', default: 0.05, min: 0, exclusiveMin: true, doc: 'Relative tolerance.' },
  { name: 'atol', type: 'number', default: 0.0078, min: 0, exclusiveMin: true, doc: 'Absolute tolerance (0.0078 ≈ one 8-bit level of data in [−1, 1]).' },
  { name: 'hInit', type: 'number', default: 0.05, min: 0, exclusiveMin: true, doc: 'First step size in λ.' },
  { name: 'acceptSafety', type: 'number', default: 0.81, min: 0, exclusiveMin: true, advanced: true, doc: 'Accept a step when the proposed step-size factor is at least this.' },
  { name: 'maxNfe', type: 'integer', default: 1000, min: 3, advanced: true, doc: 'Stop with E_SOLVER_BUDGET beyond this many model evaluations.' },
);

async function solveDpmAdaptive(model: Denoiser, x: Latent, sigmas: Float64Array, o: OptionsOf<typeof ADAPTIVE_PARAMS>, ctx: SolverContext): Promise<Latent> {
  const { sigmaMax, sigmaMin, toZero } = adaptiveRange('solver.dpm_adaptive', sigmas);
  let nfe = 0;
  const ref = { i: 0 };
  const counted: Denoiser = async (xx, sg, req) => {
    if (++nfe > o.maxNfe) throw new DpipeError('E_SOLVER_BUDGET', `solver.dpm_adaptive needed more than maxNfe = ${o.maxNfe} model evaluations (rtol ${o.rtol}, atol ${o.atol}); raise maxNfe or the tolerances.`);
    return model(xx, sg, req);
  };
  const eps = makeEps(counted, ref);
  const tEnd = lambdaOf(sigmaMin);
  let s = lambdaOf(sigmaMax);
  let h = o.hInit;
  // PID controller with k-diffusion's defaults (pcoeff 0, icoeff 1, dcoeff 0): factor = 1 + atan(err⁻¹^(1/order) − 1).
  const b1 = 1 / o.order;
  let xPrev = x;
  let accepted = 0;
  while (s < tEnd - 1e-5) {
    checkAbort(ctx, accepted, accepted + 1);
    ref.i = accepted;
    const t = Math.min(tEnd, s + h);
    const sigS = Math.exp(-s);
    const sigT = Math.exp(-t);
    const { d, e } = await eps(x, sigS, 'predictor');
    // Lower-order solution shares the first stage with the higher-order one (r₁ = ⅓ for the 2/3 pair).
    const high = await dpmStep(x, sigS, sigT, e, o.order, eps);
    const low = o.order === 2 ? singlestepUpdate(x, sigS, sigT, [e], [], 'noise', 'midpoint') : singlestepUpdate(x, sigS, sigT, [e, high.e1!], [s + (t - s) / 3], 'noise', 'midpoint');
    let acc = 0;
    for (let i = 0; i < x.data.length; i++) {
      const delta = Math.max(o.atol, o.rtol * Math.max(Math.abs(low.data[i]), Math.abs(xPrev.data[i])));
      acc += ((low.data[i] - high.x.data[i]) / delta) ** 2;
    }
    const error = Math.sqrt(acc) / Math.sqrt(x.data.length);
    const factor = 1 + Math.atan((1 / (error + 1e-8)) ** b1 - 1);
    h *= factor;
    if (factor >= o.acceptSafety) {
      xPrev = low;
      x = high.x;
      ctx.onStep?.({ step: accepted, sigma: sigS, sigmaNext: sigT, x, denoised: d });
      accepted++;
      s = t;
    }
  }
  return toZero ? finalDenoise(model, x, sigmaMin, accepted, ctx) : x;
}

const ADAPTIVE_TESTS = 'test/solvers/convergence.test.ts';

export const DPM_FAST = defineSolver({
  type: 'solver.dpm_fast',
  title: 'DPM-Solver-fast',
  doc: 'DPM-Solver with a fixed budget: ⌊NFE/3⌋+1 logSNR-uniform steps of order 3 (the last of order 2/1) between the schedule\'s σ_max and σ_min (k-diffusion sample_dpm_fast). Give it a schedule [σ_max, σ_min(, 0)].',
  paper: 'Lu et al. 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around 10 Steps", §3.4 (DPM-Solver-fast).',
  params: FAST_PARAMS,
  order: 3,
  nfePerStep: 3,
  nfe: (sigmas, o) => o.nfe + (sigmas[sigmas.length - 1] === 0 ? 1 : 0),
  stochastic: false,
  adaptive: true,
  solve: solveDpmFast,
  tests: {
    orderTestedElsewhere: `it chooses its own steps from its \`nfe\` budget: ${ADAPTIVE_TESTS} measures the error falling as NFE^−3`,
    noGolden: 'no golden run of k-diffusion sample_dpm_fast; its steps are the DPM-Solver-2/3 updates that the golden sample_dpm_2 and dpm-solver singlestep runs verify',
  },
});

export const DPM_ADAPTIVE = defineSolver({
  type: 'solver.dpm_adaptive',
  title: 'DPM-Solver-adaptive',
  doc: 'DPM-Solver-12/23 with embedded error estimate and step-size control in λ between the schedule\'s σ_max and σ_min (k-diffusion sample_dpm_adaptive, η = 0). 3 (order 3) or 2 model evaluations per attempted step.',
  paper: 'Lu et al. 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around 10 Steps", Algorithm 4 (adaptive step size).',
  params: ADAPTIVE_PARAMS,
  order: 3,
  nfePerStep: (o) => o.order,
  nfe: () => undefined,
  stochastic: false,
  adaptive: true,
  solve: solveDpmAdaptive,
  tests: {
    orderTestedElsewhere: `adaptive step size: ${ADAPTIVE_TESTS} checks that tighter tolerances cost more evaluations and give smaller errors`,
    noGolden: 'no golden run of k-diffusion sample_dpm_adaptive; its steps are the DPM-Solver-2/3 updates that the golden sample_dpm_2 and dpm-solver singlestep runs verify',
  },
});

export const dpmFast = DPM_FAST.solverEntry.run;
export const dpmAdaptive = DPM_ADAPTIVE.solverEntry.run;

export const DPM_FAST_NODES: NodeType[] = [DPM_FAST, DPM_ADAPTIVE];
