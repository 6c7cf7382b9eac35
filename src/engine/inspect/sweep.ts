/**
 * The convergence sweep: one or more pipelines, each run at several step counts from the same initial noise; the
 * final error against a high-accuracy reference (`reference.ts`) plotted against NFE on log–log axes — the figure
 * of every sampler paper (e.g. Lu et al. 2022, DPM-Solver, Fig. 3; Karras et al. 2022, Fig. 2). A solver of
 * order p shows a line of slope −p.
 *
 * Each pipeline gets its own reference (its model, guidance, noise and σ range), solved once; its last Sample
 * node is the one measured. Runs keep no trajectory and write nothing.
 */
import { DpipeError } from '../core/errors';
import type { Latent } from '../core/types';
import type { PipelineDoc } from '../format/types';
import { nodeTypes as registryTypes } from '../registry/index';
import type { NodeType, RunServices } from '../registry/node';
import { runPipeline } from '../run/runner';
import { referenceTrajectory, scheduleNodeOf, solverNodes, type Dopri5Options, type ReferenceMethod } from './reference';
import { rmsDiff } from './stats';

export interface SweepPipeline {
  readonly label: string;
  readonly doc: PipelineDoc;
  readonly baseDir: string;
}

export interface SweepPoint {
  readonly steps: number;
  readonly nfe: number;
  /** ‖x_final − x_ref‖ (RMS over the batch). */
  readonly error: number;
}

export interface SweepSeries {
  readonly label: string;
  readonly node: string;
  readonly referenceMethod: string;
  readonly referenceNfe: number;
  readonly points: SweepPoint[];
  /** Least-squares slope of log error against log NFE (the empirical order is −slope); null with < 2 points. */
  readonly slope: number | null;
}

export interface SweepResult {
  readonly format: 'dpipe-sweep';
  readonly steps: readonly number[];
  readonly series: SweepSeries[];
}

export interface SweepOptions extends Dopri5Options {
  readonly steps: readonly number[];
  readonly reference?: ReferenceMethod;
  /** Steps of a `pipeline` reference (default 1000). */
  readonly referenceSteps?: number;
  readonly seed?: number;
  readonly loadModel?: RunServices['loadModel'];
  readonly readNpy?: RunServices['readNpy'];
  readonly nodeTypes?: ReadonlyMap<string, NodeType>;
  readonly signal?: AbortSignal;
  /** After each run: (pipeline label, steps or 'reference', runs done, runs total). */
  readonly onProgress?: (label: string, steps: number | 'reference', done: number, total: number) => void;
}

/** Least-squares slope of log y against log x over points with x, y > 0. */
export function logLogSlope(points: readonly { nfe: number; error: number }[]): number | null {
  const ps = points.filter((p) => p.nfe > 0 && p.error > 0).map((p) => [Math.log(p.nfe), Math.log(p.error)] as const);
  if (ps.length < 2) return null;
  const mx = ps.reduce((a, p) => a + p[0], 0) / ps.length;
  const my = ps.reduce((a, p) => a + p[1], 0) / ps.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of ps) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  return den > 0 ? num / den : null;
}

/** A unit of sweep work, the unit `--shard` deals out: a pipeline's reference solve, or one of its step counts. */
export type SweepUnit =
  | { readonly unit: number; readonly pipeline: number; readonly kind: 'reference' }
  | { readonly unit: number; readonly pipeline: number; readonly kind: 'point'; readonly steps: number };

/** What a unit produced: the final state (float64 as computed) with its NFE, or the reference's. */
export type SweepUnitResult =
  | { readonly unit: number; readonly pipeline: number; readonly kind: 'reference'; readonly node: string; readonly method: string; readonly nfe: number; readonly final: Float64Array }
  | { readonly unit: number; readonly pipeline: number; readonly kind: 'point'; readonly node: string; readonly steps: number; readonly nfe: number; readonly final: Float64Array };

/** Checks the options and numbers the units: pipeline p's reference, then its step counts in the order given. */
export function sweepUnits(pipelines: readonly SweepPipeline[], opts: Pick<SweepOptions, 'steps'>): SweepUnit[] {
  const steps = [...opts.steps];
  if (steps.length === 0 || steps.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new DpipeError('E_PARAM_VALUE', `sweep steps must be integers ≥ 1; got ${steps.join(', ') || 'none'}`);
  }
  if (pipelines.length === 0) throw new DpipeError('E_PARAM_VALUE', 'sweep needs at least one pipeline');
  const units: SweepUnit[] = [];
  pipelines.forEach((_, p) => {
    units.push({ unit: units.length, pipeline: p, kind: 'reference' });
    for (const n of steps) units.push({ unit: units.length, pipeline: p, kind: 'point', steps: n });
  });
  return units;
}

/** Runs the given units of a sweep (all by default); no errors computed yet. */
export async function runSweepUnits(pipelines: readonly SweepPipeline[], opts: SweepOptions, only?: readonly number[]): Promise<SweepUnitResult[]> {
  const all = sweepUnits(pipelines, opts);
  const types = opts.nodeTypes ?? registryTypes();
  const todo = only ? only.map((i) => all[i]) : all;
  const out: SweepUnitResult[] = [];
  let done = 0;
  for (const u of todo) {
    const p = pipelines[u.pipeline];
    const samples = [...solverNodes(p.doc, types).keys()];
    const node = samples[samples.length - 1];
    if (!node) throw new DpipeError('E_COMPOSE', `${p.label}: no Sample block fed by a solver`);
    const sched = scheduleNodeOf(p.doc, types, node);
    const common = { baseDir: p.baseDir, loadModel: opts.loadModel, readNpy: opts.readNpy, nodeTypes: types, signal: opts.signal, seed: opts.seed };
    if (u.kind === 'reference') {
      const refs = await referenceTrajectory(p.doc, { ...opts, ...common, method: opts.reference, steps: opts.referenceSteps });
      const ref = refs.get(node);
      if (!ref || ref.states.length === 0) throw new DpipeError('E_INTERNAL', `${p.label}: the reference produced no state for ${node}`);
      out.push({ unit: u.unit, pipeline: u.pipeline, kind: 'reference', node, method: ref.method, nfe: ref.nfe, final: ref.states[ref.states.length - 1] });
      opts.onProgress?.(p.label, 'reference', ++done, todo.length);
    } else {
      const r = await runPipeline(p.doc, { ...common, set: [{ node: sched, param: 'steps', value: u.steps }], trajectory: { record: false } });
      const x = r.values.get(node)?.latent as Latent | undefined;
      if (!x) throw new DpipeError('E_INTERNAL', `${p.label}: sample "${node}" produced no latent`);
      const nfe = r.record.samples.find((s) => s.node === node)?.nfe ?? r.record.nfe;
      out.push({ unit: u.unit, pipeline: u.pipeline, kind: 'point', node, steps: u.steps, nfe, final: Float64Array.from(x.data) });
      opts.onProgress?.(p.label, u.steps, ++done, todo.length);
    }
  }
  return out;
}

/** The sweep result from the results of every unit (from one run or merged from shards). */
export function finishSweep(pipelines: readonly { readonly label: string }[], opts: Pick<SweepOptions, 'steps'>, results: readonly SweepUnitResult[]): SweepResult {
  const all = sweepUnits(pipelines as readonly SweepPipeline[], opts);
  const byUnit = new Map(results.map((r) => [r.unit, r]));
  const missing = all.filter((u) => !byUnit.has(u.unit)).map((u) => u.unit);
  if (missing.length) throw new DpipeError('E_MERGE', `sweep: the results of unit${missing.length > 1 ? 's' : ''} ${missing.join(', ')} are missing`);
  const series: SweepSeries[] = pipelines.map((p, i) => {
    const ref = byUnit.get(all.find((u) => u.pipeline === i && u.kind === 'reference')!.unit)!;
    if (ref.kind !== 'reference') throw new DpipeError('E_MERGE', `sweep: unit ${ref.unit} is not a reference`);
    const points: SweepPoint[] = all
      .filter((u) => u.pipeline === i && u.kind === 'point')
      .map((u) => {
        const r = byUnit.get(u.unit)!;
        if (r.kind !== 'point') throw new DpipeError('E_MERGE', `sweep: unit ${u.unit} is not a point`);
        if (r.final.length !== ref.final.length) throw new DpipeError('E_SHAPE', `${p.label}: the final state has ${r.final.length} values, the reference ${ref.final.length}`);
        return { steps: r.steps, nfe: r.nfe, error: rmsDiff(r.final, ref.final) };
      });
    points.sort((a, b) => a.nfe - b.nfe);
    return { label: p.label, node: ref.node, referenceMethod: ref.method, referenceNfe: ref.nfe, points, slope: logLogSlope(points) };
  });
  return { format: 'dpipe-sweep', steps: [...opts.steps], series };
}

export async function sweep(pipelines: readonly SweepPipeline[], opts: SweepOptions): Promise<SweepResult> {
  return finishSweep(pipelines, opts, await runSweepUnits(pipelines, opts));
}
