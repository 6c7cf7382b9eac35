/**
 * Gotta Go Fast (Jolicoeur-Martineau et al. 2021, "Gotta Go Fast When Generating Data with Score-Based
 * Models", Alg. 1): an adaptive-step SDE solver for the reverse VE SDE. Each attempt makes an
 * Euler–Maruyama step x′ and an improved-Euler (stochastic Heun) step x″ with the same noise, accepts when the
 * scaled error E₂ = ‖(x′ − x″)/δ‖₂/√n ≤ 1 with δ = max(ε_abs, ε_rel·max(|x′|, |x′_prev|)), and sets the next
 * step h ← min(t, θ·h·E₂^{−r}). Each batch item adapts its own steps (its own t, h and accept/reject), as in the
 * paper; the items advance in rounds, one attempt per unfinished item per round, as the authors' batched loop does
 * (`pc_sampler_adaptive`: per-item t and h vectors, one update of the whole batch per iteration). An item draws its
 * noise for its own interval (a Brownian source gives it the same path as a run of that item alone).
 *
 * Progress (`onStep`): one step event each time the slowest item (largest t) moves on, with σ, σ_next its σ
 * before and after, i.e. the whole batch has reached at least σ_next; x holds every item at its own current σ
 * (≤ σ_next) and `denoised` each item's x̂0 from the start of its latest accepted step. With one item this is one
 * event per accepted step. Model evaluations carry the index of the step event they precede; the final
 * denoising step, when the schedule ends at 0, is one more event from σ_min to 0.
 *
 * Time: the paper's VE SDE time t ∈ [0, 1] with σ(t) = σ_min·(σ_max/σ_min)^t, where σ_max is the schedule's
 * first σ and σ_min its last positive σ. The solver picks its own steps: the schedule must hold only those
 * ends (optionally followed by 0, which adds the paper's final denoising step x ← D(x; σ_min), one NFE).
 * Reverse SDE: dx = −g²∇log p dt + g dw̄, g² = dσ²/dt = 2σ²·ln(σ_max/σ_min), ∇log p = (D − x)/σ².
 * Follows the authors' `sde_sampling_torch.py` (AdaptivePredictor: error_use_prev, h_init 0.01, safety 0.9,
 * exponent 0.9, ε_rel 0.01); the model output at the start of an attempt is reused after a rejection
 * (same x, same t), which saves evaluations and changes no number.
 */
import type { Denoiser, Latent, SolverContext } from '../../core/types';
import { DpipeError } from '../../core/errors';
import { defineSolver, type NodeType } from '../../registry/node';
import { defineParams, type OptionsOf } from '../../registry/params';

const P_GGF = defineParams(
  { name: 'relTol', type: 'number', default: 0.01, min: 0, exclusiveMin: true, max: 10, doc: 'ε_rel, relative tolerance (authors\' code default 0.01; the paper also uses 0.02–0.5 for speed).' },
  { name: 'absTol', type: 'number', default: 0.0078, min: 0, exclusiveMin: true, max: 10, doc: 'ε_abs, absolute tolerance (paper: 0.0078 for data in [−1, 1]).' },
  { name: 'hInit', type: 'number', default: 0.01, min: 0, exclusiveMin: true, max: 1, doc: 'Initial step in SDE time t ∈ [0, 1].' },
  { name: 'safety', type: 'number', default: 0.9, min: 0, exclusiveMin: true, max: 1, doc: 'θ, safety factor of the step-size update.' },
  { name: 'exponent', type: 'number', default: 0.9, min: 0, exclusiveMin: true, max: 2, doc: 'r, exponent of the step-size update h ← θ·h·E₂^{−r}.' },
  { name: 'maxEvaluations', type: 'integer', default: 5000, min: 2, max: 1000000, doc: 'Budget of model evaluations per batch item; a run that needs more stops with E_SOLVER_BUDGET.' },
);

/** The ends [σ_max, σ_min] and whether to finish with a denoising step; rejects schedules with interior points. */
export function adaptiveEnds(block: string, sigmas: Float64Array): { sigmaMax: number; sigmaMin: number; denoise: boolean } {
  const denoise = sigmas[sigmas.length - 1] === 0;
  const pos = denoise ? sigmas.slice(0, -1) : sigmas;
  if (pos.length !== 2 || !(pos[0] > pos[1]) || !(pos[1] > 0)) {
    throw new DpipeError(
      'E_COMPOSE',
      `${block} picks its own steps and uses only the schedule's ends: connect a schedule of [σ_max, σ_min] or [σ_max, σ_min, 0] with σ_max > σ_min > 0 (e.g. schedule.explicit); this one has ${sigmas.length} values [${[...sigmas].slice(0, 4).map((v) => +v.toPrecision(4)).join(', ')}${sigmas.length > 4 ? ', …' : ''}].`,
    );
  }
  return { sigmaMax: pos[0], sigmaMin: pos[1], denoise };
}

/** One batch item's adaptive state. */
interface ItemState {
  readonly b: number;
  x: Latent;
  /** x′ (Euler–Maruyama) of the last accepted step, for the relative tolerance (authors' error_use_prev). */
  xPrev: Float64Array;
  t: number;
  h: number;
  nfe: number;
  /** D(x; σ(t)) while x and t are unchanged (after a rejection). */
  dCache?: Latent;
  /** x̂0 at the start of the latest accepted step. */
  denoised?: Float64Array;
}

const T_END = 1e-6;

const solveGottaGoFast = async (model: Denoiser, x0: Latent, sigmas: Float64Array, o: OptionsOf<typeof P_GGF>, ctx: SolverContext): Promise<Latent> => {
  const { sigmaMax, sigmaMin, denoise } = adaptiveEnds('solver.gotta_go_fast', sigmas);
  const L = Math.log(sigmaMax / sigmaMin);
  const sig = (t: number) => sigmaMin * Math.exp(L * t);
  const batch = x0.shape[0];
  const per = x0.data.length / batch;
  const itemShape = [1, ...x0.shape.slice(1)];
  const items: ItemState[] = Array.from({ length: batch }, (_, b) => {
    const data = x0.data.slice(b * per, (b + 1) * per);
    return { b, x: { shape: itemShape, data }, xPrev: data, t: 1, h: Math.min(o.hInit, 1), nfe: 0 };
  });
  /** Step events so far; the model evaluations of a round carry the index of the next one. */
  let step = 0;

  const evalAt = async (it: ItemState, xx: Latent, s: number, role: 'predictor' | 'stage' | 'final') => {
    if (++it.nfe > o.maxEvaluations) {
      throw new DpipeError('E_SOLVER_BUDGET', `solver.gotta_go_fast needed more than maxEvaluations = ${o.maxEvaluations} model evaluations for batch item ${it.b} (t = ${it.t.toPrecision(4)}, h = ${it.h.toExponential(2)}); raise the tolerances or the budget.`);
    }
    return model(xx, s, { step, role });
  };

  /** One attempted step of one item (Alg. 1): accept or reject, then the next step size. */
  const attempt = async (it: ItemState) => {
    const { x, t, h } = it;
    const s = sig(t);
    const sNext = sig(t - h);
    const z = ctx.noise(s, sNext).subarray(it.b * per, (it.b + 1) * per);
    const d1 = it.dCache ?? (await evalAt(it, x, s, 'predictor'));
    it.dCache = d1;
    const c = 2 * L * h;
    const n1 = s * Math.sqrt(c);
    const k1 = new Float64Array(per);
    const x1 = new Float64Array(per);
    for (let i = 0; i < per; i++) { k1[i] = c * (d1.data[i] - x.data[i]) + n1 * z[i]; x1[i] = x.data[i] + k1[i]; }
    const d2 = await evalAt(it, { shape: itemShape, data: x1 }, sNext, 'stage');
    const n2 = sNext * Math.sqrt(c);
    const xNew = new Float64Array(per);
    let e2 = 0;
    for (let i = 0; i < per; i++) {
      const k2 = c * (d2.data[i] - x1[i]) + n2 * z[i];
      xNew[i] = x.data[i] + 0.5 * (k1[i] + k2);
      const delta = Math.max(o.absTol, o.relTol * Math.max(Math.abs(it.xPrev[i]), Math.abs(x1[i])));
      const e = (0.5 * (k2 - k1[i])) / delta;
      e2 += e * e;
    }
    e2 = Math.sqrt(e2 / per);
    if (e2 <= 1) {
      it.x = { shape: itemShape, data: xNew };
      it.xPrev = x1;
      it.t = t - h;
      it.dCache = undefined;
      it.denoised = d1.data;
    }
    const hMax = Math.max(it.t, 0);
    it.h = Math.min(hMax, e2 === 0 ? hMax : o.safety * h * e2 ** -o.exponent);
  };

  const gather = (part: (it: ItemState) => Float64Array): Latent => {
    const data = new Float64Array(x0.data.length);
    for (const it of items) data.set(part(it), it.b * per);
    return { shape: x0.shape, data };
  };

  let tSlowest = 1;
  while (items.some((it) => Math.abs(it.t) > T_END)) {
    for (const it of items) {
      if (Math.abs(it.t) <= T_END) continue;
      if (ctx.signal?.aborted) throw new DpipeError('E_ABORTED', `The run was stopped at adaptive step ${step + 1} (batch item ${it.b + 1}).`);
      await attempt(it);
    }
    const t = Math.max(...items.map((it) => it.t));
    if (t < tSlowest) {
      // Every item has accepted a step (all are below the previous slowest t), so each has its x̂0.
      if (ctx.onStep) ctx.onStep({ step, sigma: sig(tSlowest), sigmaNext: sig(t), x: gather((it) => it.x.data), denoised: gather((it) => it.denoised!) });
      step++;
      tSlowest = t;
    }
  }
  if (denoise) {
    for (const it of items) it.x = await evalAt(it, it.x, sigmaMin, 'final');
    const x = gather((it) => it.x.data);
    ctx.onStep?.({ step, sigma: sigmaMin, sigmaNext: 0, x, denoised: x });
    return x;
  }
  return gather((it) => it.x.data);
};

export const GOTTA_GO_FAST = defineSolver({
  type: 'solver.gotta_go_fast',
  title: 'Gotta Go Fast (adaptive SDE)',
  doc: 'Adaptive-step reverse-SDE solver: Euler–Maruyama vs stochastic improved Euler with the same noise, error control with absolute/relative tolerances, per batch item (progress: one step event each time the slowest item moves on). It picks its own steps: connect a schedule holding only [σ_max, σ_min] (a final 0 adds the denoising step). NFE depends on the tolerances (about 2 per attempted step); the run reports the count.',
  paper: 'Jolicoeur-Martineau et al. 2021, "Gotta Go Fast When Generating Data with Score-Based Models", Alg. 1.',
  params: P_GGF,
  order: 1,
  nfePerStep: 2,
  nfe: () => undefined,
  stochastic: true,
  adaptive: true,
  solve: solveGottaGoFast,
  tests: {
    orderTestedElsewhere: 'adaptive (it picks its own steps): test/stochastic/gotta_go_fast.test.ts checks the exact terminal variance on Gaussian data and that a tighter tolerance costs more evaluations',
    noGolden: 'no golden run of the authors\' code; test/stochastic/gotta_go_fast.test.ts checks the terminal law, the denoising step and the per-item step events',
  },
});
export const gottaGoFast = GOTTA_GO_FAST.solverEntry.run;

export const GGF_NODES: NodeType[] = [GOTTA_GO_FAST];
