/**
 * Singlestep DPM-Solver (noise prediction) and DPM-Solver++ (data prediction), orders 1–3, in λ = −log σ.
 *
 * - Lu, Zhou, Bao, Chen, Li & Zhu 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model
 *   Sampling in Around 10 Steps", Algorithms 1 (DPM-Solver-2, r₁ = ½) and 2 (DPM-Solver-3, r₁ = ⅓, r₂ = ⅔),
 *   and §3.4 (DPM-Solver-fast step orders for a given NFE).
 * - Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models",
 *   Algorithm 1 (DPM-Solver++(2S)).
 *
 * An order-k step from s to t evaluates the model at s and at k − 1 stages between them. Stage conventions:
 * - `interior` (k-diffusion `sample_dpm_2`, `sample_dpmpp_2s_ancestral` with η = 0, the papers' algorithms):
 *   each schedule interval is one step of order `order` with stages at fixed λ fractions r (½; ⅓ and ⅔).
 * - `dpm-solver` (LuChengTHU/dpm-solver `sample(method="singlestep")`): the schedule's points are the stages;
 *   consecutive intervals are grouped into steps of orders get_orders_and_timesteps_for_singlestep_solver(
 *   steps = number of intervals, order) (e.g. 10 → 3,3,3,1). Stage 1 is a first-order update, stage 2 the
 *   "taylor" second-order one (as in the paper's Algorithm 2); schedule.dpm_solver with singlestepOrder builds
 *   the repository's grids. One model evaluation per schedule point.
 * - `diffusers` (`DPMSolverSinglestepScheduler`): stages are the schedule's points, grouped by get_order_list
 *   with lower_order_final ([1, 2, 1, 2, …, 1, 1] / [1, 2, 3, …]); every stage update uses `solverType`.
 * A step ending at σ = 0 ends with a first-order update (the higher-order terms are undefined at λ = ∞).
 */
import { defineSolver, stagedNfe, stepsOf, type NodeType } from '../registry/node';
import { defineParam, defineParams } from '../registry/params';
import type { Denoiser, EvalRole, Latent, SolverContext } from '../core/types';
import { checkAbort, emit, lambdaOf, requireDecreasing, sum } from './common';
import type { SolverType } from './dpmpp';

export type Prediction = 'data' | 'noise';

/**
 * The order-k update from σ_s to σ_t given model outputs `ms` (prediction space) at s and at the k − 1
 * interior stages `lams` (λ values). `type` "midpoint" = the papers' DPM-Solver(-2/-3) forms, "heun" =
 * the Taylor forms (repo "taylor", diffusers "heun").
 */
export function singlestepUpdate(x: Latent, sigmaS: number, sigmaT: number, ms: readonly Latent[], lams: readonly number[], pred: Prediction, type: SolverType): Latent {
  const k = ms.length;
  const lamS = lambdaOf(sigmaS);
  const h = lambdaOf(sigmaT) - lamS;
  const rs = lams.map((l) => (l - lamS) / h);
  const m0 = ms[0];
  if (pred === 'data') {
    const ratio = sigmaT / sigmaS;
    const a = ratio - 1; // e^{−h} − 1
    if (k === 1) return sum(x, [[ratio, x], [-a, m0]]);
    const b = a / h + 1;
    if (k === 2) {
      const r = rs[0];
      return type === 'midpoint' ? sum(x, [[ratio, x], [-a, m0], [(-0.5 * a) / r, ms[1]], [(0.5 * a) / r, m0]]) : sum(x, [[ratio, x], [-a, m0], [b / r, ms[1]], [-b / r, m0]]);
    }
    const [r1, r2] = rs;
    if (type === 'midpoint') return sum(x, [[ratio, x], [-a, m0], [b / r2, ms[2]], [-b / r2, m0]]);
    const c = (a + h) / (h * h) - 0.5;
    // D1_0 = (m1 − m0)/r1, D1_1 = (m2 − m0)/r2, D1 = (r2·D1_0 − r1·D1_1)/(r2 − r1), D2 = 2(D1_1 − D1_0)/(r2 − r1)
    const d = r2 - r1;
    const c10 = b * (r2 / d) + (c * 2) / d; // coefficient of D1_0
    const c11 = -b * (r1 / d) - (c * 2) / d; // coefficient of D1_1
    return sum(x, [[ratio, x], [-a, m0], [c10 / r1, ms[1]], [-c10 / r1, m0], [c11 / r2, ms[2]], [-c11 / r2, m0]]);
  }
  const A = sigmaS - sigmaT; // σ_t(e^{h} − 1)
  if (k === 1) return sum(x, [[1, x], [-A, m0]]);
  const B = A / h - sigmaT; // σ_t((e^h − 1)/h − 1)
  if (k === 2) {
    const r = rs[0];
    return type === 'midpoint' ? sum(x, [[1, x], [-A, m0], [(-0.5 * A) / r, ms[1]], [(0.5 * A) / r, m0]]) : sum(x, [[1, x], [-A, m0], [-B / r, ms[1]], [B / r, m0]]);
  }
  const [r1, r2] = rs;
  if (type === 'midpoint') return sum(x, [[1, x], [-A, m0], [-B / r2, ms[2]], [B / r2, m0]]);
  const C = (A / h - sigmaT) / h - 0.5 * sigmaT; // σ_t((e^h − 1 − h)/h² − ½)
  const d = r2 - r1;
  const c10 = -B * (r2 / d) + (C * 2) / d;
  const c11 = B * (r1 / d) - (C * 2) / d;
  return sum(x, [[1, x], [-A, m0], [c10 / r1, ms[1]], [-c10 / r1, m0], [c11 / r2, ms[2]], [-c11 / r2, m0]]);
}

/** LuChengTHU/dpm-solver get_orders_and_timesteps_for_singlestep_solver: step orders for `nfe` evaluations. */
export function repoSinglestepOrders(nfe: number, order: number): number[] {
  if (order === 3) {
    const K = Math.floor(nfe / 3) + 1;
    if (nfe % 3 === 0) return [...Array<number>(K - 2).fill(3), 2, 1];
    if (nfe % 3 === 1) return [...Array<number>(K - 1).fill(3), 1];
    return [...Array<number>(K - 1).fill(3), 2];
  }
  if (order === 2) {
    if (nfe % 2 === 0) return Array<number>(nfe / 2).fill(2);
    return [...Array<number>(Math.floor(nfe / 2)).fill(2), 1];
  }
  return Array<number>(nfe).fill(1);
}

/** diffusers DPMSolverSinglestepScheduler.get_order_list with lower_order_final = True. */
export function diffusersSinglestepOrders(steps: number, order: number): number[] {
  const rep = (p: number[], n: number) => Array.from({ length: Math.max(n, 0) }, () => p).flat();
  if (order === 3) {
    if (steps % 3 === 0) return [...rep([1, 2, 3], steps / 3 - 1), 1, 2, 1];
    if (steps % 3 === 1) return [...rep([1, 2, 3], Math.floor(steps / 3)), 1];
    return [...rep([1, 2, 3], Math.floor(steps / 3)), 1, 2];
  }
  if (order === 2) {
    if (steps % 2 === 0) return [...rep([1, 2], steps / 2 - 1), 1, 1];
    return [...rep([1, 2], Math.floor(steps / 2)), 1];
  }
  return Array<number>(steps).fill(1);
}

export const STAGES = ['interior', 'dpm-solver', 'diffusers'] as const;
export type Stages = (typeof STAGES)[number];

export interface SinglestepOptions {
  readonly order: number;
  readonly prediction: Prediction;
  readonly solverType: SolverType;
  readonly stages: Stages;
  readonly r1: number;
}

const toPred = (x: Latent, sigma: number, denoised: Latent, pred: Prediction): Latent => (pred === 'data' ? denoised : sum(x, [[1 / sigma, x], [-1 / sigma, denoised]]));

export async function dpmSinglestep(model: Denoiser, x: Latent, sigmas: Float64Array, o: SinglestepOptions, ctx: SolverContext, block: string): Promise<Latent> {
  requireDecreasing(block, sigmas);
  const n = sigmas.length - 1;
  const evalAt = async (xx: Latent, sigma: number, step: number, role: EvalRole) => {
    const d = await model(xx, sigma, { step, role });
    return { d, m: toPred(xx, sigma, d, o.prediction) };
  };
  if (o.stages === 'diffusers') {
    const orders = diffusersSinglestepOrders(n, o.order);
    let start = x;
    let startIdx = 0;
    const ms: Latent[] = [];
    const lams: number[] = [];
    for (let i = 0; i < n; i++) {
      checkAbort(ctx, i, n);
      let k = orders[i];
      if (k === 1) {
        start = x;
        startIdx = i;
        ms.length = 0;
        lams.length = 0;
      }
      const { d, m } = await evalAt(x, sigmas[i], i, k === 1 ? 'predictor' : 'stage');
      ms.push(m);
      lams.push(lambdaOf(sigmas[i]));
      if (sigmas[i + 1] === 0 && k > 1) k = 1;
      x = k === 1 ? singlestepUpdate(x, sigmas[i], sigmas[i + 1], [m], [], o.prediction, o.solverType) : singlestepUpdate(start, sigmas[startIdx], sigmas[i + 1], ms.slice(0, k), lams.slice(1, k), o.prediction, o.solverType);
      emit(ctx, i, sigmas, x, d);
    }
    return x;
  }
  if (o.stages === 'dpm-solver') {
    const orders = repoSinglestepOrders(n, o.order);
    let i = 0;
    for (let k of orders) {
      const startIdx = i;
      const start = x;
      if (k > 1 && sigmas[startIdx + k] === 0) k -= 1; // the last interval to σ = 0 becomes its own first-order step
      const ms: Latent[] = [];
      const lams: number[] = [];
      for (let j = 0; j < k; j++) {
        checkAbort(ctx, i, n);
        const { d, m } = await evalAt(x, sigmas[i], i, j === 0 ? 'predictor' : 'stage');
        ms.push(m);
        if (j > 0) lams.push(lambdaOf(sigmas[i]));
        // Stage j+1 (or the step's end when j = k−1): order j+1, taylor form for the second stage.
        const type: SolverType = j === k - 1 ? o.solverType : 'heun';
        x = singlestepUpdate(start, sigmas[startIdx], sigmas[i + 1], ms, lams, o.prediction, type);
        emit(ctx, i, sigmas, x, d);
        i++;
      }
    }
    while (i < n) {
      // Remaining interval(s) dropped from a group that ended at σ = 0: first-order steps.
      checkAbort(ctx, i, n);
      const { d, m } = await evalAt(x, sigmas[i], i, 'predictor');
      x = singlestepUpdate(x, sigmas[i], sigmas[i + 1], [m], [], o.prediction, o.solverType);
      emit(ctx, i, sigmas, x, d);
      i++;
    }
    return x;
  }
  const orders = Array<number>(n).fill(o.order);
  for (let i = 0; i < n; i++) {
    checkAbort(ctx, i, n);
    const s = sigmas[i];
    const t = sigmas[i + 1];
    const k = t === 0 ? 1 : orders[i];
    const { d, m } = await evalAt(x, s, i, 'predictor');
    if (k === 1) {
      x = singlestepUpdate(x, s, t, [m], [], o.prediction, o.solverType);
    } else {
      const lamS = lambdaOf(s);
      const h = lambdaOf(t) - lamS;
      if (k === 2) {
        const l1 = lamS + o.r1 * h;
        const x1 = singlestepUpdate(x, s, Math.exp(-l1), [m], [], o.prediction, o.solverType);
        const e1 = await evalAt(x1, Math.exp(-l1), i, 'stage');
        x = singlestepUpdate(x, s, t, [m, e1.m], [l1], o.prediction, o.solverType);
      } else {
        const l1 = lamS + h / 3;
        const l2 = lamS + (2 * h) / 3;
        const x1 = singlestepUpdate(x, s, Math.exp(-l1), [m], [], o.prediction, o.solverType);
        const e1 = await evalAt(x1, Math.exp(-l1), i, 'stage');
        const x2 = singlestepUpdate(x, s, Math.exp(-l2), [m, e1.m], [l1], o.prediction, 'heun');
        const e2 = await evalAt(x2, Math.exp(-l2), i, 'stage');
        x = singlestepUpdate(x, s, t, [m, e1.m, e2.m], [l1, l2], o.prediction, o.solverType);
      }
    }
    emit(ctx, i, sigmas, x, d);
  }
  return x;
}

const ORDER = defineParam({ name: 'order', type: 'integer', default: 3, min: 1, max: 3, doc: 'Order of each step (model evaluations per step in "interior" stages).' });
const PREDICTION = defineParam({
  name: 'prediction',
  type: 'enum',
  default: 'noise',
  options: ['noise', 'data'],
  optionDocs: { noise: 'DPM-Solver (ε integrals, Lu et al. 2022a).', data: 'DPM-Solver++ (x̂0 integrals, Lu et al. 2022b).' },
  doc: 'Which model output the exponential integrator integrates.',
});
const SOLVER_TYPE = defineParam({
  name: 'solverType',
  type: 'enum',
  default: 'midpoint',
  options: ['midpoint', 'heun'],
  optionDocs: { midpoint: 'the papers\' DPM-Solver-2/-3 forms (repo "dpmsolver", diffusers "midpoint").', heun: 'Taylor forms with D1/D2 (repo "taylor", diffusers "heun").' },
  advanced: true,
  doc: 'Form of the final update of each step.',
});
const STAGES_PARAM = defineParam({
  name: 'stages',
  type: 'enum',
  default: 'interior',
  options: STAGES,
  optionDocs: {
    interior: 'each σ interval is one step of order `order` with stages inside it at fixed λ fractions (k-diffusion, the papers\' algorithms).',
    'dpm-solver': 'the schedule\'s points are the stages, grouped as the dpm-solver repository does (10 intervals at order 3 → 3,3,3,1); use schedule.dpm_solver with singlestepOrder.',
    diffusers: 'the schedule\'s points are the stages, grouped [1,2,…] as diffusers DPMSolverSinglestepScheduler does.',
  },
  doc: 'Where the intermediate stages lie.',
});
const R1 = defineParam({ name: 'r1', type: 'number', default: 0.5, min: 0, exclusiveMin: true, max: 1, advanced: true, doc: 'Order 2, "interior": stage position r₁ in (0, 1] of the step in λ (½ in the paper).' });

const SINGLESTEP_BASE: SinglestepOptions = { order: 3, prediction: 'noise', solverType: 'midpoint', stages: 'interior', r1: 0.5 };
const STEPS_16 = [16, 32, 64, 128];

/**
 * Presets (order and prediction stay the block's own choice):
 * - k-diffusion: its `DPMSolver` class (`sample_dpm_fast`/`sample_dpm_adaptive` steps, `sample_dpm_2`), stages
 *   inside each interval at r = ½ (order 2) and ⅓, ⅔ (order 3); also the repository's method="singlestep_fixed";
 * - diffusers `DPMSolverSinglestepScheduler` defaults (solver_type="midpoint", lower_order_final=True);
 * - repo: LuChengTHU/dpm-solver `DPM_Solver.sample(method="singlestep", solver_type="dpmsolver")` on the grid of
 *   schedule.dpm_solver with singlestepOrder = order.
 */
export const DPM_SINGLESTEP = defineSolver({
  type: 'solver.dpm_singlestep',
  title: 'DPM-Solver (singlestep 1/2/3)',
  doc: 'Singlestep DPM-Solver-1/2/3 (noise prediction) or DPM-Solver++ (data prediction): each step evaluates the model at intermediate stages. Presets: k-diffusion / the papers (stages interior: `order` evaluations per step), dpm-solver repository (stages dpm-solver, with schedule.dpm_solver singlestepOrder), diffusers (stages diffusers); in the last two every schedule point costs one evaluation.',
  paper: 'Lu et al. 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around 10 Steps", Algorithms 1–2; Lu et al. 2022, "DPM-Solver++", Algorithm 1.',
  params: defineParams(ORDER, PREDICTION, SOLVER_TYPE, STAGES_PARAM, R1),
  presets: {
    'k-diffusion': { doc: 'k-diffusion DPMSolver (sample_dpm_fast steps, sample_dpm_2), = dpm-solver method="singlestep_fixed";', sets: { stages: 'interior', solverType: 'midpoint', r1: 0.5 } },
    diffusers: { doc: 'diffusers DPMSolverSinglestepScheduler (solver_type="midpoint", lower_order_final=True);', sets: { stages: 'diffusers', solverType: 'midpoint' } },
    repo: { doc: 'LuChengTHU/dpm-solver DPM_Solver.sample(method="singlestep", solver_type="dpmsolver"), with schedule.dpm_solver singlestepOrder = order;', sets: { stages: 'dpm-solver', solverType: 'midpoint' } },
  },
  order: 3,
  nfePerStep: (o) => (o.stages === 'interior' ? o.order : 1),
  nfe: (sigmas, o) => (o.stages === 'interior' ? stagedNfe(sigmas, o.order) : stepsOf(sigmas)),
  stochastic: false,
  solve: (model, x, sigmas, o, ctx) => dpmSinglestep(model, x, sigmas, o, ctx, 'solver.dpm_singlestep'),
  tests: {
    convergence: [
      { params: { order: 1 }, order: 1, steps: STEPS_16 },
      { params: { order: 2 }, order: 2, steps: STEPS_16 },
      { params: { order: 3 }, steps: STEPS_16 },
      { params: { order: 3, prediction: 'data', solverType: 'heun' }, steps: STEPS_16 },
      { params: { order: 2, prediction: 'data', stages: 'diffusers' }, order: 2, steps: STEPS_16 },
      { params: { order: 3, stages: 'dpm-solver' }, steps: [32, 62, 122, 242], note: 'n % 3 = 2: the last group is order 2' },
    ],
    presetsWithoutGolden: { 'k-diffusion': 'k-diffusion runs these steps inside sample_dpm_2 (golden kd_edm_dpm_2_*, reproduced by solver.dpm_2) and sample_dpm_fast / sample_dpm_adaptive' },
  },
});

export const DPM_2 = defineSolver({
  type: 'solver.dpm_2',
  title: 'DPM-Solver-2 (k-diffusion DPM2)',
  doc: 'DPM-Solver-2 in noise prediction with the stage at the log-σ midpoint: in σ terms an Euler step to the midpoint and the full step with the midpoint\'s derivative (k-diffusion sample_dpm_2). The step to σ = 0 is Euler. 2 model evaluations per step.',
  paper: 'Lu et al. 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around 10 Steps", Algorithm 1 (r₁ = ½); k-diffusion sample_dpm_2.',
  params: defineParams(R1),
  order: 2,
  nfePerStep: 2,
  nfe: (sigmas) => stagedNfe(sigmas, 2),
  stochastic: false,
  solve: (model, x, sigmas, o, ctx) => dpmSinglestep(model, x, sigmas, { ...SINGLESTEP_BASE, ...o, order: 2 }, ctx, 'solver.dpm_2'),
  tests: { convergence: [{ steps: STEPS_16 }] },
});

export const DPMPP_2S = defineSolver({
  type: 'solver.dpmpp_2s',
  title: 'DPM-Solver++(2S)',
  doc: 'Second-order singlestep DPM-Solver++ (data prediction, stage at r₁ = ½ of the step in λ); k-diffusion sample_dpmpp_2s_ancestral with η = 0. The step to σ = 0 is first order. 2 model evaluations per step.',
  paper: 'Lu, Zhou, Bao, Chen, Li & Zhu 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models", Algorithm 1.',
  params: defineParams(R1),
  /** DPM-Solver++(2S): k-diffusion sample_dpmpp_2s_ancestral (η = 0) and the repository's singlestep_fixed agree. */
  presets: {
    'k-diffusion': { doc: 'k-diffusion sample_dpmpp_2s_ancestral with eta=0;', sets: { r1: 0.5 } },
    repo: { doc: 'LuChengTHU/dpm-solver DPM_Solver(algorithm_type="dpmsolver++").sample(method="singlestep_fixed", order=2, solver_type="dpmsolver");', sets: { r1: 0.5 } },
  },
  order: 2,
  nfePerStep: 2,
  nfe: (sigmas) => stagedNfe(sigmas, 2),
  stochastic: false,
  solve: (model, x, sigmas, o, ctx) => dpmSinglestep(model, x, sigmas, { ...SINGLESTEP_BASE, ...o, order: 2, prediction: 'data' }, ctx, 'solver.dpmpp_2s'),
  tests: {
    convergence: [{ steps: STEPS_16 }],
    noGolden: 'k-diffusion has no ODE 2S sampler: the golden runs of sample_dpmpp_2s_ancestral are reproduced by solver.dpmpp_2s_ancestral, whose step at η = 0 is this one',
  },
});

export const dpmSinglestepSolver = DPM_SINGLESTEP.solverEntry.run;
export const dpm2 = DPM_2.solverEntry.run;
export const dpmpp2s = DPMPP_2S.solverEntry.run;

export const SINGLESTEP_NODES: NodeType[] = [DPM_SINGLESTEP, DPM_2, DPMPP_2S];
