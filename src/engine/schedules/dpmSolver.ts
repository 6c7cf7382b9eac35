/**
 * The time grids of the DPM-Solver and UniPC reference code (LuChengTHU/dpm-solver `DPM_Solver.get_time_steps`,
 * wl-zhao/UniPC `UniPC.get_time_steps`) on a discrete-time model, as σ values.
 *
 * The repositories turn a DDPM model into continuous time t ∈ [1/N, 1] (`NoiseScheduleVP('discrete')`):
 * t_i = (i+1)/N at training step i, log α(t) piecewise linear in t through log ᾱ_i/2 (linear extrapolation
 * outside), λ(t) = log α − ½ log(1 − α²), and σ (VE) = e^{−λ}. Skip types (Lu et al. 2022, "DPM-Solver",
 * §3.3 and Appendix D.1):
 * - `logSNR`: λ uniform between λ(t_T) and λ(t_0) — a log-uniform σ grid between σ(t_T) and σ(t_0);
 * - `time_uniform`: t uniform;
 * - `time_quadratic`: √t uniform.
 * The run goes from t_T = 1 to t_0 = 1/N by default (the repositories' defaults for discrete models), so it
 * ends at the model's smallest training σ, not 0.
 *
 * `singlestepOrder` 2 or 3 builds the grid of every model evaluation of the repository's singlestep solver
 * with `steps` evaluations (get_orders_and_timesteps_for_singlestep_solver): for logSNR, K outer steps
 * uniform in λ, each divided into as many equal λ parts as its order (the repository's inner time steps);
 * otherwise the `steps`-grid itself (its inner steps are the grid's points). solver.dpm_singlestep with
 * stages "dpm-solver" groups the intervals the same way.
 */
import { DpipeError } from '../core/errors';
import type { ModelSchedule } from '../core/types';
import { defineSchedule, type NodeType } from '../registry/node';
import { defineParams } from '../registry/params';
import { repoSinglestepOrders } from '../solvers/singlestep';
import { linspace, stepsParam, trainingSigmas } from './common';

/** Continuous-time view of a discrete model, as NoiseScheduleVP('discrete') builds it. */
export class DiscreteVP {
  readonly n: number;
  /** log α at t_i = (i+1)/N. */
  private readonly logAlpha: Float64Array;
  constructor(trainingSigmas: Float64Array) {
    this.n = trainingSigmas.length;
    this.logAlpha = trainingSigmas.map((s) => -0.5 * Math.log1p(s * s));
  }
  private tAt(i: number): number {
    return (i + 1) / this.n;
  }
  /** log α(t): piecewise linear in t, extrapolated linearly beyond the ends (dpm-solver interpolate_fn). */
  logAlphaAt(t: number): number {
    const n = this.n;
    let i = Math.floor(t * n) - 1; // segment [t_i, t_{i+1}]
    i = Math.max(0, Math.min(n - 2, i));
    const t0 = this.tAt(i);
    const t1 = this.tAt(i + 1);
    return this.logAlpha[i] + ((t - t0) * (this.logAlpha[i + 1] - this.logAlpha[i])) / (t1 - t0);
  }
  lambdaAt(t: number): number {
    const la = this.logAlphaAt(t);
    return la - 0.5 * Math.log(-Math.expm1(2 * la));
  }
  /** σ (VE) at continuous time t. */
  sigmaAt(t: number): number {
    return Math.exp(-this.lambdaAt(t));
  }
  /** t where λ(t) = λ (dpm-solver inverse_lambda: log α interpolated back to t). */
  inverseLambda(lambda: number): number {
    const la = -0.5 * (Math.max(0, -2 * lambda) + Math.log1p(Math.exp(-Math.abs(-2 * lambda))));
    const a = this.logAlpha; // decreasing in i
    const n = this.n;
    // Find segment with a[i] ≥ la ≥ a[i+1] (extrapolate at the ends).
    let lo = 0;
    let hi = n - 1;
    if (la >= a[0]) hi = 1;
    else if (la <= a[n - 1]) lo = n - 2;
    else {
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (a[mid] >= la) lo = mid;
        else hi = mid;
      }
    }
    const i = hi - lo === 1 ? lo : Math.min(lo, n - 2);
    return this.tAt(i) + ((la - a[i]) * (this.tAt(i + 1) - this.tAt(i))) / (a[i + 1] - a[i]);
  }
}

export const SKIP_TYPES = ['logSNR', 'time_uniform', 'time_quadratic'] as const;
export type SkipType = (typeof SKIP_TYPES)[number];

/** The repositories' get_time_steps, as t values (descending). */
export function dpmTimeSteps(vp: DiscreteVP, skip: SkipType, tT: number, t0: number, n: number): Float64Array {
  if (skip === 'logSNR') return linspace(vp.lambdaAt(tT), vp.lambdaAt(t0), n + 1).map((l) => vp.inverseLambda(l));
  if (skip === 'time_uniform') return linspace(tT, t0, n + 1);
  return linspace(Math.sqrt(tT), Math.sqrt(t0), n + 1).map((v) => v * v);
}

export function dpmSolverSigmas(model: ModelSchedule | undefined, steps: number, skip: SkipType, singlestepOrder: number, tStart: number, tEnd: number): Float64Array {
  const block = 'schedule.dpm_solver';
  const table = trainingSigmas(block, model);
  const vp = new DiscreteVP(table);
  const t0 = tEnd > 0 ? tEnd : 1 / vp.n;
  const tT = tStart;
  if (!(tT > t0)) throw new DpipeError('E_PARAM_VALUE', `${block}: needs tStart > tEnd; got ${tT} and ${t0}.`);
  const orders = singlestepOrder >= 2 ? repoSinglestepOrders(steps, singlestepOrder) : undefined;
  if (skip === 'logSNR') {
    // σ = e^{−λ} on the uniform λ grid; singlestep: K outer steps, each split into `order` equal λ parts.
    const outer = linspace(vp.lambdaAt(tT), vp.lambdaAt(t0), (orders?.length ?? steps) + 1);
    if (!orders) return outer.map((l) => Math.exp(-l));
    const lams: number[] = [outer[0]];
    orders.forEach((k, j) => {
      for (let q = 1; q <= k; q++) lams.push(q === k ? outer[j + 1] : outer[j] + ((outer[j + 1] - outer[j]) * q) / k);
    });
    return Float64Array.from(lams, (l) => Math.exp(-l));
  }
  const ts = dpmTimeSteps(vp, skip, tT, t0, steps);
  return ts.map((t) => vp.sigmaAt(t));
}

const PARAMS = defineParams(
  stepsParam(10, 'Number of steps (for singlestepOrder 2/3: the number of model evaluations).'),
  {
    name: 'skipType',
    type: 'enum',
    default: 'logSNR',
    options: SKIP_TYPES,
    optionDocs: { logSNR: 'uniform in λ = log(α/σ) (recommended for DPM-Solver)', time_uniform: 'uniform in t', time_quadratic: 'uniform in √t' },
    doc: "The repositories' skip_type.",
  },
  { name: 'singlestepOrder', type: 'integer', default: 0, min: 0, max: 3, doc: '0/1: a grid of `steps` steps (multistep solvers). 2/3: the evaluation points of the repository\'s singlestep DPM-Solver of that order with `steps` evaluations (for solver.dpm_singlestep with stages "dpm-solver").' },
  { name: 'tStart', type: 'number', default: 1, min: 0, exclusiveMin: true, max: 1, advanced: true, doc: 'Start time t_T (1 = the last training step).' },
  { name: 'tEnd', type: 'number', default: 0, min: 0, max: 1, advanced: true, doc: 'End time t_0; 0 = 1/N (the first training step), the repositories\' default for discrete models.' },
);

export const DPM_SOLVER_SCHEDULES: NodeType[] = [
  defineSchedule({
    type: 'schedule.dpm_solver',
    title: 'DPM-Solver / UniPC time grid',
    doc: 'logSNR-uniform, time-uniform or time-quadratic steps over a discrete model\'s continuous-time view t ∈ [1/N, 1], as the DPM-Solver and UniPC repositories compute them; ends at the smallest training σ. Needs the model.',
    paper: 'Lu et al. 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around 10 Steps", §3.3 and Appendix D.1 (step size schedules).',
    params: PARAMS,
    needsModel: true,
    sigmas(p, model) {
      return dpmSolverSigmas(model, p.steps, p.skipType, p.singlestepOrder, p.tStart, p.tEnd);
    },
  }),
];
