/**
 * Reference trajectories: for the same initial noise as a run, a high-accuracy solution of the probability-flow
 * ODE, against which the run's states are measured.
 *
 * Two methods:
 * - `dopri5` (default): the Dormand–Prince 5(4) embedded Runge–Kutta pair (Dormand & Prince 1980, "A family of
 *   embedded Runge–Kutta formulae", J. Comput. Appl. Math. 6(1); the tableau of Hairer, Nørsett & Wanner, Solving
 *   ODEs I, Table II.5.2, FSAL, local extrapolation) with adaptive steps, integrating the PF-ODE of Karras et al.
 *   2022 (EDM, eq. 4) written in s = log σ:  dx/ds = σ·dx/dσ = x − D(x, e^s).  The error of a step is the RMS
 *   over elements of (x5 − x4)/(atol + rtol·max(|x|, |x_new|)); a step is accepted when it is ≤ 1, and the next
 *   step is h·clamp(0.9·err^(−1/5), 0.2, 5) (Hairer et al. II.4). The integration stops exactly at every σ asked
 *   for (the run's evaluation σs, the schedule), so errors need no interpolation. A final σ = 0 cannot be reached
 *   in log σ: the solve goes to σ_ε = 10⁻³·(smallest positive stop) and returns x(0) ≈ D(x(σ_ε), σ_ε), whose
 *   error is O(σ_ε²) for a smooth denoiser. k-diffusion's `sample_dpm_adaptive` plays the same role with a
 *   DPM-Solver-12/23 pair; this is the classical pair, in log σ, the variable in which the PF-ODE is least stiff.
 * - `pipeline`: the run's own pipeline with its schedule's `steps` set to a large number (a convergent solver at
 *   many steps); the state between its σs is interpolated linearly in log σ.
 *
 * Both run through `runPipeline` with the run's pipeline as recorded (seeds and overrides applied), so the model,
 * conditioning, guidance and initial noise are the run's own: the reference solver replaces the solver block that
 * feeds each Sample node. For stochastic samplers the reference is still the ODE solution, which the sampler does
 * not converge to; the error then measures the noise the sampler added as much as its discretisation.
 */
import { DpipeError } from '../core/errors';
import type { Latent } from '../core/types';
import type { PipelineDoc } from '../format/types';
import { nodeTypes as registryTypes } from '../registry/index';
import { defineSolver, type NodeType, type RunServices } from '../registry/node';
import { runPipeline } from '../run/runner';
import { alignBySigma, mix } from './align';

export type ReferenceMethod = 'dopri5' | 'pipeline';

export interface Dopri5Options {
  /** Relative tolerance (default 1e-5). */
  readonly rtol?: number;
  /** Absolute tolerance (default 1e-5; latents are O(1)). */
  readonly atol?: number;
  /** Most model evaluations before giving up with E_SOLVER_BUDGET (default 20 000). */
  readonly maxNfe?: number;
  /** First step in log σ (default 0.1·|log σ_0 − log σ_end|, at most 0.5). */
  readonly h0?: number;
}

export const DOPRI5_DEFAULTS = { rtol: 1e-5, atol: 1e-5, maxNfe: 20_000 } as const;

/** The Dormand–Prince tableau. */
const C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
const A: number[][] = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
/** 5th-order weights minus the embedded 4th-order ones (b − b̂). */
const E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];

/** f(s, x) = x − D(x, e^s). */
export type LogSigmaRhs = (s: number, x: Float64Array) => Promise<Float64Array>;

export interface Dopri5Result {
  /** The state at each stop, in the order of `stops`. */
  readonly states: Float64Array[];
  readonly nfe: number;
  readonly accepted: number;
  readonly rejected: number;
}

/**
 * Integrates dx/ds = f(s, x) from s = stops[0] through every later stop (strictly monotone, either direction),
 * returning the state at each. `x0` is the state at stops[0].
 */
export async function dopri5(f: LogSigmaRhs, x0: Float64Array, stops: readonly number[], opts: Dopri5Options = {}, signal?: AbortSignal): Promise<Dopri5Result> {
  const rtol = opts.rtol ?? DOPRI5_DEFAULTS.rtol;
  const atol = opts.atol ?? DOPRI5_DEFAULTS.atol;
  const maxNfe = opts.maxNfe ?? DOPRI5_DEFAULTS.maxNfe;
  if (!(rtol > 0) || !(atol >= 0)) throw new DpipeError('E_PARAM_VALUE', `dopri5: rtol must be > 0 and atol ≥ 0; got rtol=${rtol}, atol=${atol}`);
  const n = x0.length;
  const states: Float64Array[] = [Float64Array.from(x0)];
  if (stops.length < 2) return { states, nfe: 0, accepted: 0, rejected: 0 };
  const dir = Math.sign(stops[stops.length - 1] - stops[0]);
  for (let k = 1; k < stops.length; k++) {
    if (Math.sign(stops[k] - stops[k - 1]) !== dir) throw new DpipeError('E_INTERNAL', 'dopri5: stops must be strictly monotone');
  }
  let nfe = 0;
  const call = async (s: number, x: Float64Array) => {
    if (signal?.aborted) throw new DpipeError('E_ABORTED', 'The reference solve was stopped.');
    if (nfe >= maxNfe) throw new DpipeError('E_SOLVER_BUDGET', `dopri5 needed more than ${maxNfe} model evaluations (rtol=${rtol}, atol=${atol}); loosen the tolerance or raise the budget`);
    nfe++;
    return f(s, x);
  };
  let s = stops[0];
  let x = Float64Array.from(x0);
  let k1 = await call(s, x);
  let h = dir * Math.min(0.5, opts.h0 ?? 0.1 * Math.abs(stops[stops.length - 1] - stops[0]));
  let accepted = 0;
  let rejected = 0;
  const ks: Float64Array[] = new Array(7);
  const tmp = new Float64Array(n);
  for (let target = 1; target < stops.length; target++) {
    const end = stops[target];
    while (dir * (end - s) > 0) {
      const hitsStop = dir * (s + h - end) >= 0;
      const hStep = hitsStop ? end - s : h;
      ks[0] = k1;
      for (let st = 1; st < 7; st++) {
        const row = A[st];
        for (let i = 0; i < n; i++) {
          let v = x[i];
          for (let j = 0; j < st; j++) if (row[j] !== 0) v += hStep * row[j] * ks[j][i];
          tmp[i] = v;
        }
        ks[st] = await call(s + C[st] * hStep, Float64Array.from(tmp));
      }
      // tmp now holds the 5th-order solution (the 7th stage's argument).
      let acc = 0;
      for (let i = 0; i < n; i++) {
        let e = 0;
        for (let j = 0; j < 7; j++) if (E[j] !== 0) e += E[j] * ks[j][i];
        const sc = atol + rtol * Math.max(Math.abs(x[i]), Math.abs(tmp[i]));
        const r = (hStep * e) / sc;
        acc += r * r;
      }
      const err = Math.sqrt(acc / n);
      const fac = Number.isFinite(err) ? Math.min(5, Math.max(0.2, 0.9 * Math.pow(Math.max(err, 1e-10), -0.2))) : 0.2;
      if (err <= 1) {
        s = hitsStop ? end : s + hStep;
        x = Float64Array.from(tmp);
        k1 = ks[6];
        accepted++;
        // After a step clipped to a stop, keep the size proposed before clipping (shrunk if even the clipped step was hard).
        h = hitsStop ? h * Math.min(1, fac) : hStep * fac;
      } else {
        rejected++;
        h = hStep * fac;
        if (Math.abs(h) < 1e-12) throw new DpipeError('E_SOLVER_BUDGET', `dopri5: the step size in log σ fell below 1e-12 at σ = ${Math.exp(s)}; the model output may be NaN or not smooth`);
      }
    }
    states.push(Float64Array.from(x));
  }
  return { states, nfe, accepted, rejected };
}

// ---------------------------------------------------------------------------------------------
// Reference states and errors

/** A reference solution sampled at σ values (descending; a final 0 allowed). */
export interface ReferenceStates {
  /** The Sample node it belongs to. */
  readonly node: string;
  readonly method: string;
  readonly shape: readonly number[];
  readonly sigmas: readonly number[];
  readonly states: readonly Float64Array[];
  /** Model evaluations the reference took. */
  readonly nfe: number;
}

/**
 * The reference state at σ: the stored one when σ is one of the reference's σs, else linear interpolation in
 * log σ between the two that bracket it (outside the range: the nearest end).
 */
export function stateAt(ref: ReferenceStates, sigma: number): Float64Array {
  const [p] = alignBySigma([sigma], ref.sigmas, 'interpolate');
  if (!p) throw new DpipeError('E_INTERNAL', 'reference has no states');
  return p.w === 0 ? ref.states[p.b0] : mix(ref.states[p.b0], ref.states[p.b1], p.w);
}

/** Sorted (descending), de-duplicated σ values, all ≥ 0. */
export function stopSigmas(values: Iterable<number>): number[] {
  return [...new Set([...values].filter((s) => s >= 0 && Number.isFinite(s)))].sort((a, b) => b - a);
}

// ---------------------------------------------------------------------------------------------
// Running a reference through the pipeline

export interface ReferenceOptions extends Dopri5Options {
  readonly method?: ReferenceMethod;
  /** `pipeline`: the schedule's step count (default 1000). */
  readonly steps?: number;
  /** Replaces every seeded noise block's seed (as `--seed`); default: the pipeline's own. */
  readonly seed?: number;
  /** Extra σ values per Sample node at which to keep the state (e.g. every σ a run evaluated). */
  readonly stops?: ReadonlyMap<string, readonly number[]>;
  readonly baseDir: string;
  readonly loadModel?: RunServices['loadModel'];
  readonly readNpy?: RunServices['readNpy'];
  readonly nodeTypes?: ReadonlyMap<string, NodeType>;
  readonly signal?: AbortSignal;
  /** Called after each model evaluation of the reference run. */
  readonly onEval?: (nfe: number) => void;
}

/** Sample node id → the solver node feeding its `sampler` input. */
export function solverNodes(doc: PipelineDoc, types: ReadonlyMap<string, NodeType>): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of doc.nodes) {
    if (types.get(n.type)?.category !== 'Sample') continue;
    const e = doc.edges.find((x) => x.to === `${n.id}.sampler`);
    if (e) out.set(n.id, e.from.split('.')[0]);
  }
  return out;
}

/** The node upstream of `sample.sigmas` that has a `steps` parameter (following schedule operations). */
export function scheduleNodeOf(doc: PipelineDoc, types: ReadonlyMap<string, NodeType>, sample: string): string {
  let target = `${sample}.sigmas`;
  for (let hop = 0; hop < 16; hop++) {
    const e = doc.edges.find((x) => x.to === target);
    if (!e) break;
    const id = e.from.split('.')[0];
    const node = doc.nodes.find((n) => n.id === id);
    const info = node && types.get(node.type);
    if (info?.params.some((p) => p.name === 'steps')) return id;
    target = `${id}.sigmas`;
  }
  throw new DpipeError('E_COMPOSE', `sample "${sample}": no schedule block with a "steps" parameter feeds its sigmas (e.g. schedule.explicit has none), so its step count cannot be changed`);
}

interface Capture {
  sigmas: number[];
  states: Float64Array[];
  shape: readonly number[];
  nfe: number;
}

/** A solver block that runs {@link dopri5} through every σ of its schedule and the node's extra stops. */
function referenceSolver(type: string, extra: readonly number[], opts: Dopri5Options, capture: Capture, signal?: AbortSignal): NodeType {
  return defineSolver({
    type,
    title: 'Reference (Dormand–Prince 5(4) in log σ)',
    doc: 'Adaptive reference solve of the PF-ODE; see src/engine/inspect/reference.ts.',
    paper: 'Dormand & Prince 1980; Karras et al. 2022, eq. 4',
    params: [],
    order: 5,
    nfePerStep: 6,
    nfe: () => undefined, // it picks its own steps
    stochastic: false,
    tests: { orderTestedElsewhere: 'not a registry block: test/inspect/reference.test.ts checks the Dormand–Prince solve' },
    async solve(model, x, sigmas) {
      const all = stopSigmas([...sigmas, ...extra.filter((s) => s <= sigmas[0] && s >= sigmas[sigmas.length - 1])]);
      const positive = all.filter((s) => s > 0);
      const endsAtZero = all[all.length - 1] === 0;
      const stops = positive.map(Math.log);
      if (endsAtZero) stops.push(Math.log(positive[positive.length - 1] * 1e-3));
      const sched = Array.from(sigmas);
      const stepOf = (sig: number) => Math.max(0, sched.findIndex((v, k) => k + 1 < sched.length && sig <= v && sig >= sched[k + 1]));
      const D = async (s: number, v: Float64Array) => {
        const sig = Math.exp(s);
        const d = await model({ shape: x.shape, data: v }, sig, { step: stepOf(sig), role: 'stage' });
        capture.nfe++;
        return d.data;
      };
      const f: LogSigmaRhs = async (s, v) => {
        const d = await D(s, v);
        const out = new Float64Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = v[i] - d[i];
        return out;
      };
      const r = await dopri5(f, x.data, stops, opts, signal);
      capture.shape = x.shape;
      capture.sigmas = positive;
      capture.states = r.states.slice(0, positive.length);
      let last: Latent = { shape: x.shape, data: r.states[r.states.length - 1] };
      if (endsAtZero) {
        const se = stops[stops.length - 1];
        last = { shape: x.shape, data: await D(se, last.data) };
        capture.sigmas.push(0);
        capture.states.push(last.data);
      }
      return last;
    },
  });
}

/** The reference solution for each Sample node of a pipeline (see the module comment). */
export async function referenceTrajectory(doc: PipelineDoc, opts: ReferenceOptions): Promise<Map<string, ReferenceStates>> {
  const base = opts.nodeTypes ?? registryTypes();
  const solvers = solverNodes(doc, base);
  if (solvers.size === 0) throw new DpipeError('E_COMPOSE', 'the pipeline has no Sample block fed by a solver, so there is nothing to compute a reference for');
  const method = opts.method ?? 'dopri5';
  const out = new Map<string, ReferenceStates>();
  let nfe = 0;
  const onEval = () => opts.onEval?.(++nfe);
  if (method === 'pipeline') {
    const steps = opts.steps ?? 1000;
    if (!Number.isInteger(steps) || steps < 1) throw new DpipeError('E_PARAM_VALUE', `reference steps must be an integer ≥ 1; got ${steps}`);
    const set = [...solvers.keys()].map((s) => ({ node: scheduleNodeOf(doc, base, s), param: 'steps', value: steps }));
    const caps = new Map<string, { sigmas: number[]; states: Float64Array[]; shape: readonly number[]; nfe: number }>();
    await runPipeline(doc, {
      baseDir: opts.baseDir,
      set,
      seed: opts.seed,
      loadModel: opts.loadModel,
      readNpy: opts.readNpy,
      nodeTypes: base,
      signal: opts.signal,
      trajectory: { record: false },
      onEval(node, ev) {
        let c = caps.get(node);
        if (!c) caps.set(node, (c = { sigmas: [ev.sigma], states: [Float64Array.from(ev.x.data)], shape: ev.x.shape, nfe: 0 }));
        c.nfe++;
        onEval();
      },
      onStep(node, ev) {
        const c = caps.get(node);
        if (c && ev.sigmaNext < c.sigmas[c.sigmas.length - 1]) {
          c.sigmas.push(ev.sigmaNext);
          c.states.push(Float64Array.from(ev.x.data));
        }
      },
    });
    for (const [node, c] of caps) out.set(node, { node, method: `pipeline steps=${steps}`, shape: c.shape, sigmas: c.sigmas, states: c.states, nfe: c.nfe });
    return out;
  }
  if (method !== 'dopri5') throw new DpipeError('E_PARAM_VALUE', `reference method "${String(method)}"; allowed: dopri5, pipeline`);
  const types = new Map(base);
  const captures = new Map<string, Capture>();
  const seen = new Map<string, string>();
  const nodes = doc.nodes.map((n) => {
    const sample = [...solvers].find(([, sv]) => sv === n.id)?.[0];
    if (!sample) return n;
    if (seen.has(n.id)) throw new DpipeError('E_COMPOSE', `solver "${n.id}" feeds several Sample blocks; a reference needs one solver per Sample block`);
    seen.set(n.id, sample);
    const cap: Capture = { sigmas: [], states: [], shape: [], nfe: 0 };
    captures.set(sample, cap);
    const type = `inspect.reference.${n.id}`;
    types.set(type, referenceSolver(type, opts.stops?.get(sample) ?? [], opts, cap, opts.signal));
    return { ...n, type, params: {} };
  });
  for (const [sample, solver] of solvers) {
    if ([...solvers.values()].filter((v) => v === solver).length > 1) throw new DpipeError('E_COMPOSE', `solver "${solver}" feeds several Sample blocks (${sample}, …); a reference needs one solver per Sample block`);
  }
  const solverIds = new Set(solvers.values());
  const edges = doc.edges.filter((e) => !solverIds.has(e.to.split('.')[0]));
  await runPipeline({ ...doc, nodes, edges }, {
    baseDir: opts.baseDir,
    seed: opts.seed,
    loadModel: opts.loadModel,
    readNpy: opts.readNpy,
    nodeTypes: types,
    signal: opts.signal,
    trajectory: { record: false },
    onEval: () => onEval(),
  });
  const tol = `rtol=${opts.rtol ?? DOPRI5_DEFAULTS.rtol} atol=${opts.atol ?? DOPRI5_DEFAULTS.atol}`;
  for (const [node, c] of captures) out.set(node, { node, method: `dopri5 ${tol}`, shape: c.shape, sigmas: c.sigmas, states: c.states, nfe: c.nfe });
  return out;
}
