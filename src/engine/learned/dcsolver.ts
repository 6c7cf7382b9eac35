/**
 * DC-Solver: UniPC's predictor–corrector with dynamic compensation.
 *
 * Zhao, Wang, Zhou & Lu 2024, "DC-Solver: Improving Predictor-Corrector Diffusion Sampler via Dynamic
 * Compensation" (ECCV 2024), §3.2 (eq. 9: dynamic compensation) and §3.3 (searching the ratios); reference
 * wl-zhao/DC-Solver `dc_solver.py` (`DCSolver.sample`, `dynamic_compensation`, `search_dc`).
 *
 * In a predictor–corrector sampler the model output m_i kept in the history was evaluated at the PREDICTED state,
 * not at the corrected one the next step starts from (the misalignment). Before step i DC-Solver replaces m_i by
 * the Lagrange interpolation, through the last K + 1 outputs (K = `dcOrder` = 2), evaluated at
 * τ_i = τ_{i−1} + ρ_i(τ_i − τ_{i−1}); ρ_i = 1 leaves it unchanged. The ratios ρ_i are fitted per step on a few
 * trajectories against a high-NFE reference (`dpipe fit dc FILE.dpipe`), greedily, step after step, minimizing the
 * mean squared distance of the step's result to the reference state at the same σ (reference: AdamW, lr 0.1, 40
 * iterations through the network's gradient; here a derivative-free scan + golden-section search, since an ONNX model
 * has no gradient). The compensated output then stays in the history, as in the reference.
 *
 * Differences from the reference, by design of the engine: the interpolation variable τ is λ = −log σ (the engine's
 * solvers see σ only; the reference uses the VP model's time t), so fitted ratios are not interchangeable with the
 * reference's; the cascade polynomial regression (CPR) that predicts ratios for unseen NFE is not implemented.
 * The UniP/UniC updates are the engine's (`solvers/unipc.ts`), data prediction.
 */
import { DpipeError } from '../core/errors';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { defineSolver, type NodeType } from '../registry/node';
import { defineParams } from '../registry/params';
import { checkAbort, emit, lambdaOf, requireDecreasing, sum } from '../solvers/common';
import { dpmpp2m, multistepOrder } from '../solvers/dpmpp';
import { uniC, uniP, UNIPC_VARIANTS, type UniPCVariant } from '../solvers/unipc';

export interface DcOptions {
  readonly order: number;
  readonly variant: UniPCVariant;
  /** ρ_i per step (missing entries: 1 = no compensation). */
  readonly ratios: readonly number[];
  readonly dcOrder: number;
}

/** Lagrange interpolation through (λ_k, m_k) (most recent last) at λ. */
export function compensate(ms: readonly Latent[], lams: readonly number[], lam: number): Latent {
  const terms: [number, Latent][] = [];
  for (let i = 0; i < ms.length; i++) {
    let c = 1;
    for (let j = 0; j < ms.length; j++) if (j !== i) c *= (lam - lams[j]) / (lams[i] - lams[j]);
    terms.push([c, ms[i]]);
  }
  return sum(ms[0], terms);
}

/** The solver state between steps, so the fit can try ratios on the next step and then advance. */
interface State {
  x: Latent;
  denoised: Latent;
  ms: Latent[];
  lams: number[];
}

/** Step i of the DC-Solver with ratio ρ from `st` (mutated only through the returned state). NFE: 1 unless the last step. */
async function step(model: Denoiser, st: State, sigmas: Float64Array, i: number, rho: number, o: DcOptions): Promise<State> {
  const n = sigmas.length - 1;
  const s = sigmas[i];
  const t = sigmas[i + 1];
  let ms = st.ms;
  if (rho !== 1 && ms.length >= o.dcOrder + 1) {
    const K = o.dcOrder + 1;
    const lamC = st.lams[st.lams.length - 2] + rho * (st.lams[st.lams.length - 1] - st.lams[st.lams.length - 2]);
    const mc = compensate(ms.slice(-K), st.lams.slice(-K), lamC);
    ms = [...ms.slice(0, -1), mc];
  }
  const p = multistepOrder(i, n, o.order, 'always', false, t);
  const m0 = ms[ms.length - 1];
  const prev = ms.slice(0, -1).reverse();
  const lamsPrev = st.lams.slice(0, -1).reverse();
  let xPred: Latent;
  if (t === 0) {
    if (o.variant === 'bh1') throw new DpipeError('E_COMPOSE', 'solver.dc_solver: with B(h) = h (variant bh1) a step to σ = 0 is undefined; end the schedule at σ_min or use variant bh2');
    xPred = m0;
  } else xPred = uniP(st.x, s, t, m0, prev, lamsPrev, p, 'data', o.variant);
  if (i === n - 1) return { x: xPred, denoised: st.denoised, ms, lams: st.lams };
  const denoised = await model(xPred, t, { step: i + 1, role: 'predictor' });
  const xNext = uniC(st.x, s, t, m0, prev, lamsPrev, denoised, p, 'data', o.variant);
  const keep = Math.max(3, o.dcOrder + 1);
  return { x: xNext, denoised, ms: [...ms, denoised].slice(-keep), lams: [...st.lams, lambdaOf(t)].slice(-keep) };
}

export async function dcSolver(model: Denoiser, x: Latent, sigmas: Float64Array, o: DcOptions, ctx: SolverContext): Promise<Latent> {
  requireDecreasing('solver.dc_solver', sigmas);
  const n = sigmas.length - 1;
  const d0 = await model(x, sigmas[0], { step: 0, role: 'predictor' });
  let st: State = { x, denoised: d0, ms: [d0], lams: [lambdaOf(sigmas[0])] };
  for (let i = 0; i < n; i++) {
    checkAbort(ctx, i, n);
    st = await step(model, st, sigmas, i, o.ratios[i] ?? 1, o);
    emit(ctx, i, sigmas, st.x, st.denoised);
  }
  return st.x;
}

export interface DcFitOptions {
  /** Reference substeps per interval of the schedule (DPM-Solver++(2M), log-uniform); default 40. */
  readonly refSubsteps?: number;
  /** Search range of ρ; default [−1, 3]. */
  readonly range?: readonly [number, number];
  readonly signal?: AbortSignal;
}

/** The high-NFE reference states at every σ of the schedule, from x at σ_0. */
export async function referenceStates(model: Denoiser, x: Latent, sigmas: Float64Array, substeps: number): Promise<Latent[]> {
  const fine: number[] = [];
  const at: number[] = [];
  for (let i = 0; i + 1 < sigmas.length; i++) {
    at.push(fine.length);
    const a = sigmas[i];
    const b = sigmas[i + 1];
    for (let k = 0; k < substeps; k++) fine.push(b > 0 ? a * Math.pow(b / a, k / substeps) : k === substeps - 1 ? Math.min(a, sigmas[i] * 1e-3) : a * Math.pow(1e-3, k / (substeps - 1)));
  }
  at.push(fine.length);
  fine.push(sigmas[sigmas.length - 1]);
  const states: Latent[] = [x];
  const grid = Float64Array.from(fine);
  await dpmpp2m(model, x, grid, { lowerOrderFinal: 'off' }, {
    noise: () => new Float64Array(0),
    onStep: (ev) => {
      if (at.includes(ev.step + 1)) states.push(ev.x);
    },
  });
  return states;
}

/**
 * Fits ρ_i step by step (reference `search_dc`): each step's ratio minimizes the mean squared distance of that
 * step's result to the reference state, given the ratios already chosen. Steps without enough history keep 1.
 */
export async function fitDcRatios(model: Denoiser, x: Latent, sigmas: Float64Array, o: Omit<DcOptions, 'ratios'>, f: DcFitOptions = {}): Promise<{ ratios: number[]; losses: number[] }> {
  requireDecreasing('solver.dc_solver', sigmas);
  const ref = await referenceStates(model, x, sigmas, f.refSubsteps ?? 40);
  const n = sigmas.length - 1;
  const [lo, hi] = f.range ?? [-1, 3];
  const d0 = await model(x, sigmas[0], { step: 0, role: 'predictor' });
  let st: State = { x, denoised: d0, ms: [d0], lams: [lambdaOf(sigmas[0])] };
  const ratios: number[] = [];
  const losses: number[] = [];
  const opts = { ...o, ratios: [] };
  for (let i = 0; i < n; i++) {
    if (f.signal?.aborted) throw new DpipeError('E_ABORTED', 'The fit was stopped.');
    const mse = async (rho: number) => {
      const r = await step(model, st, sigmas, i, rho, opts);
      let s = 0;
      for (let q = 0; q < r.x.data.length; q++) s += (r.x.data[q] - ref[i + 1].data[q]) ** 2;
      return s / r.x.data.length;
    };
    let best = 1;
    let bestLoss = await mse(1);
    if (st.ms.length >= o.dcOrder + 1) {
      const grid = 16;
      for (let k = 0; k <= grid; k++) {
        const r = lo + ((hi - lo) * k) / grid;
        const v = await mse(r);
        if (v < bestLoss) [best, bestLoss] = [r, v];
      }
      // Golden-section refinement around the best grid point.
      let a = Math.max(lo, best - (hi - lo) / grid);
      let b = Math.min(hi, best + (hi - lo) / grid);
      const g = (Math.sqrt(5) - 1) / 2;
      let c = b - g * (b - a);
      let d = a + g * (b - a);
      let fc = await mse(c);
      let fd = await mse(d);
      for (let it = 0; it < 14; it++) {
        if (fc < fd) {
          b = d;
          d = c;
          fd = fc;
          c = b - g * (b - a);
          fc = await mse(c);
        } else {
          a = c;
          c = d;
          fc = fd;
          d = a + g * (b - a);
          fd = await mse(d);
        }
      }
      const mid = (a + b) / 2;
      const fm = await mse(mid);
      if (fm < bestLoss) [best, bestLoss] = [mid, fm];
    }
    ratios.push(+best.toPrecision(6));
    losses.push(bestLoss);
    st = await step(model, st, sigmas, i, ratios[i], opts);
  }
  return { ratios, losses };
}

export const DC_PARAMS = defineParams(
  { name: 'ratios', type: 'numberList', default: [], doc: 'Compensation ratio ρ_i per step (1 = none; missing steps: 1), fitted by `dpipe fit dc FILE.dpipe`.' },
  { name: 'order', type: 'integer', default: 3, min: 1, max: 3, doc: 'Order of the UniP predictor (reference default 3).' },
  {
    name: 'variant', type: 'enum', default: 'bh1', options: UNIPC_VARIANTS,
    optionDocs: { bh1: 'B(h) = h (the reference DCSolver default).', bh2: 'B(h) = e^h − 1.' },
    doc: 'The B(h) of the UniPC coefficients.',
  },
  { name: 'dcOrder', type: 'integer', default: 2, min: 1, max: 3, advanced: true, doc: 'Degree K of the compensating Lagrange interpolation (K + 1 outputs; reference dc_order = 2).' },
  { name: 'fitSamples', type: 'integer', default: 0, min: 0, advanced: true, doc: 'Provenance: trajectories the ratios were fitted on (0 = not fitted).' },
  { name: 'fitRefSubsteps', type: 'integer', default: 0, min: 0, advanced: true, doc: 'Provenance: reference substeps per interval (DPM-Solver++(2M)) the ratios were fitted against.' },
);

export const DC_NODE: NodeType = defineSolver({
  type: 'solver.dc_solver',
  title: 'DC-Solver (UniPC + dynamic compensation)',
  doc:
    'UniPC\'s multistep predictor–corrector (UniP-p + UniC, data prediction, lower order in the final steps) with dynamic compensation ' +
    'of the misaligned model output: ratios ρ_i fitted on your model by `dpipe fit dc FILE.dpipe` against a high-NFE reference. ' +
    'With all ratios 1 it is solver.unipc. 1 model evaluation per step.',
  paper: 'Zhao, Wang, Zhou & Lu 2024, "DC-Solver: Improving Predictor-Corrector Diffusion Sampler via Dynamic Compensation" (ECCV), §3.2 eq. 9, §3.3 (wl-zhao/DC-Solver).',
  params: DC_PARAMS,
  order: 3,
  nfePerStep: 1,
  stochastic: false,
  noStepToZero: { variant: 'bh1' },
  solve: (model, x, sigmas, o, ctx) => dcSolver(model, x, sigmas, o, ctx),
  tests: {
    orderTestedElsewhere: 'its ratios are fitted on a model: test/learned/dcsolver.test.ts checks that with every ratio 1 it is solver.unipc number for number (whose order is measured) and that fitted ratios improve UniPC',
    noGolden: 'no golden run of wl-zhao/DC-Solver (its ratios come from a trained model); with every ratio 1 it reproduces solver.unipc',
  },
});
