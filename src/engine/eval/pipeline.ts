/**
 * `evalPipeline`: runs a pipeline for N samples (in batches, through the engine's runner) and scores them with
 * FD-MNIST (`score.ts`), optionally K times over disjoint seeds for the spread — what `dpipe eval` prints.
 *
 * Seeds: repeat r, sample i (0-based over the N samples) uses seed S + r·N + i, i.e. batch k runs with the run
 * seed S + r·N + k·B (a seeded noise block gives batch item b the seed + b). Results do not depend on the batch
 * size, and repeats never share noise.
 *
 * Labels (class-conditional pipelines): sample i is conditioned on class i mod 10, so every class gets N/10
 * samples. This is done by setting the `labels` list of every `cond.class` block that does not feed a guider's
 * `negative` input, per batch (the model wrapper gives batch item b the label labels[b]). Pipelines without a
 * `cond.class` block are scored for FD only (accuracy null); `keepLabels` keeps the pipeline's own labels
 * (accuracy is then measured against them).
 */
import { DpipeError } from '../core/errors';
import type { Latent } from '../core/types';
import type { PipelineDoc } from '../format/types';
import { parseEndpoint } from '../run/graph';
import { runPipeline, type RunOptions } from '../run/runner';
import { paramsWithDefaults } from '../format/registry';
import { nodeTypes } from '../registry/index';
import type { ModelValue, ParamValue } from '../registry/types';
import type { ParamOverride } from '../run/overrides';
import { loadReference, realVsRealFd, scoreImages, type FdMnistFiles, type ScoreResult } from './score';

export const FD_MNIST_CLASSES = 10;

export interface EvalOptions {
  /** Folder of the .dpipe file (relative paths resolve against it). */
  readonly baseDir: string;
  readonly file?: string;
  /** Samples per repeat (N ≥ 2). */
  readonly samples: number;
  /** First seed S (default 0). */
  readonly seed?: number;
  /** Number of repeats K over disjoint seeds (default 1). */
  readonly repeats?: number;
  /** Batch size B (default min(N, 50)). */
  readonly batch?: number;
  /** Extra `--set NODE.PARAM=VALUE` overrides, applied to every batch. */
  readonly set?: readonly (string | ParamOverride)[];
  /** Defaults for model blocks left at "auto" (execution provider, CPU fallback). */
  readonly modelDefaults?: RunOptions['modelDefaults'];
  /** Keep the pipeline's class labels instead of cycling 0..9. */
  readonly keepLabels?: boolean;
  readonly files: FdMnistFiles;
  readonly signal?: AbortSignal;
  /** Called after each batch: repeat (0-based), samples done in this repeat. */
  readonly onProgress?: (repeat: number, done: number) => void;
  /** Injected model loader (tests, and the batching lanes of a grid). */
  readonly loadModel?: RunOptions['loadModel'];
  readonly nodeTypes?: RunOptions['nodeTypes'];
}

export interface RepeatResult extends ScoreResult {
  /** Seed of the repeat's first sample. */
  readonly seed: number;
  /** Model evaluations per sample (every batch of one run makes the same number). */
  readonly nfe: number;
  /** Wall time of generation (all batches), ms; scoring excluded. */
  readonly wallMs: number;
  /** Time inside the model, ms. */
  readonly modelMs: number;
  /** Model calls made (NFE summed over batches). */
  readonly modelCalls: number;
}

export interface Spread {
  readonly mean: number;
  /** Sample standard deviation over repeats (n − 1); null with one repeat. */
  readonly std: number | null;
  readonly values: readonly number[];
}

export interface EvalReport {
  readonly samples: number;
  readonly repeats: number;
  readonly batch: number;
  readonly seeds: readonly number[];
  /** How labels were chosen: 'cycle' (i mod 10), 'pipeline' (kept), or 'none' (no cond.class block). */
  readonly labels: 'cycle' | 'pipeline' | 'none';
  readonly nfe: number;
  readonly fd: Spread;
  readonly accuracy: Spread | null;
  readonly wallMs: Spread;
  /** Mean time of one model evaluation at batch B, ms. */
  readonly modelMsPerCall: Spread;
  /** Real-vs-real FD of the held-out halves (the floor) and the size of each half. */
  readonly floor: { readonly fd: number; readonly n: number };
  readonly nReference: number;
  readonly runs: readonly RepeatResult[];
}

function spread(values: number[]): Spread {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : null;
  return { mean, std, values };
}

/** The connected `cond.class` blocks whose labels eval sets: all but those feeding a `negative` input. */
export function positiveClassNodes(doc: PipelineDoc): string[] {
  const from = doc.edges.map((e) => ({ src: parseEndpoint(e.from).node, port: parseEndpoint(e.to).port }));
  const negative = new Set(from.filter((e) => e.port === 'negative').map((e) => e.src));
  const used = new Set(from.map((e) => e.src));
  return doc.nodes.filter((n) => n.type === 'cond.class' && used.has(n.id) && !negative.has(n.id)).map((n) => n.id);
}

/** The LATENT that the first image output shows (else the last Sample block's result): what gets scored. */
function scoredEndpoint(doc: PipelineDoc): { node: string; port: string } {
  for (const n of doc.nodes) {
    if (n.type !== 'output.image') continue;
    const e = doc.edges.find((x) => x.to === `${n.id}.latent`);
    if (e) return parseEndpoint(e.from);
  }
  const samples = doc.nodes.filter((n) => n.type === 'sample');
  if (!samples.length) throw new DpipeError('E_COMPOSE', 'dpipe eval needs a pipeline with a Sample block (and ideally an image output); this one has none.');
  return { node: samples[samples.length - 1].id, port: 'latent' };
}

/** The value range the images are shown in: the output block's own, else the model's (sidecar), else [−1, 1]. */
function valueRangeOf(doc: PipelineDoc, values: ReadonlyMap<string, Readonly<Record<string, unknown>>>): [number, number] {
  const types = nodeTypes();
  const out = doc.nodes.find((n) => n.type === 'output.image');
  if (out) {
    const info = types.get(out.type);
    const vr = info ? paramsWithDefaults(info, out.params).valueRange : undefined;
    if (Array.isArray(vr) && vr.length === 2) return [vr[0], vr[1]];
  }
  for (const v of values.values()) {
    const m = v.model as ModelValue | undefined;
    if (m && typeof m === 'object' && 'schedule' in m && m.valueRange) return [m.valueRange[0], m.valueRange[1]];
  }
  return [-1, 1];
}

/** One batch of one repeat: the unit of work that `--shard` deals out (see `engine/shard`). */
export interface EvalUnit {
  /** Unit number: repeat × batches per repeat + batch. */
  readonly unit: number;
  readonly repeat: number;
  /** Index of the batch's first sample within the repeat. */
  readonly start: number;
  /** Samples in the batch. */
  readonly count: number;
}

/** What one unit produced: the scored images (VE values, float64 as computed), their labels, NFE and times. */
export interface EvalUnitResult extends EvalUnit {
  readonly h: number;
  readonly w: number;
  /** count × h × w values. */
  readonly images: Float64Array;
  readonly labels: readonly number[] | null;
  readonly valueRange: readonly [number, number];
  /** Model evaluations of the run. */
  readonly nfe: number;
  readonly modelMs: number;
  readonly wallMs: number;
}

interface EvalSetup {
  readonly N: number;
  readonly K: number;
  readonly S: number;
  readonly B: number;
  readonly endpoint: { node: string; port: string };
  readonly classNodes: string[];
  readonly labelMode: EvalReport['labels'];
  readonly units: EvalUnit[];
}

/** Checks the options and numbers the units: repeat r, batch k is unit r·⌈N/B⌉ + k. */
export function evalSetup(doc: PipelineDoc, opts: Pick<EvalOptions, 'samples' | 'repeats' | 'seed' | 'batch' | 'keepLabels'>): EvalSetup {
  const N = opts.samples;
  const K = opts.repeats ?? 1;
  const S = opts.seed ?? 0;
  if (!Number.isInteger(N) || N < 2) throw new DpipeError('E_USAGE', `--samples must be an integer ≥ 2 (FD needs a covariance); got ${N}`);
  if (!Number.isInteger(K) || K < 1) throw new DpipeError('E_USAGE', `--repeats must be an integer ≥ 1; got ${K}`);
  const B = Math.min(opts.batch ?? 50, N);
  if (!Number.isInteger(B) || B < 1) throw new DpipeError('E_USAGE', `--batch must be an integer ≥ 1; got ${opts.batch}`);
  const endpoint = scoredEndpoint(doc);
  const classNodes = positiveClassNodes(doc);
  const labelMode: EvalReport['labels'] = classNodes.length === 0 ? 'none' : opts.keepLabels ? 'pipeline' : 'cycle';
  const units: EvalUnit[] = [];
  for (let r = 0; r < K; r++) {
    for (let start = 0; start < N; start += B) units.push({ unit: units.length, repeat: r, start, count: Math.min(B, N - start) });
  }
  return { N, K, S, B, endpoint, classNodes, labelMode, units };
}

/** Runs the given units (all of them by default) and returns their images; no scoring. */
export async function evalUnits(doc: PipelineDoc, opts: EvalOptions, only?: readonly number[]): Promise<EvalUnitResult[]> {
  const setup = evalSetup(doc, opts);
  const { N, S, endpoint, classNodes, labelMode } = setup;
  const out: EvalUnitResult[] = [];
  for (const u of only ? only.map((i) => setup.units[i]) : setup.units) {
    const { repeat: r, start, count: b } = u;
    const set: (string | ParamOverride)[] = [...(opts.set ?? [])];
    if (labelMode === 'cycle') {
      const list: ParamValue = Array.from({ length: b }, (_, j) => (start + j) % FD_MNIST_CLASSES);
      for (const id of classNodes) set.push({ node: id, param: 'labels', value: list });
    }
    const t0 = performance.now();
    const res = await runPipeline(doc, {
      baseDir: opts.baseDir,
      file: opts.file,
      seed: S + r * N + start,
      batch: b,
      set,
      signal: opts.signal,
      trajectory: { record: false },
      loadModel: opts.loadModel,
      modelDefaults: opts.modelDefaults,
      nodeTypes: opts.nodeTypes,
    });
    if (res.status === 'aborted') throw res.error ?? new DpipeError('E_ABORTED', 'The evaluation was stopped.');
    const x = res.values.get(endpoint.node)?.[endpoint.port] as Latent | undefined;
    if (!x || !x.shape) throw new DpipeError('E_INTERNAL', `eval: ${endpoint.node}.${endpoint.port} produced no latent`);
    const [bb, c, hh, ww] = x.shape;
    if (x.shape.length !== 4 || c !== 1 || bb !== b) {
      throw new DpipeError('E_SHAPE', `FD-MNIST scores single-channel images [B,1,32,32]; ${endpoint.node}.${endpoint.port} is [${x.shape.join(',')}] (batch ${b} asked).`);
    }
    out.push({
      ...u,
      h: hh,
      w: ww,
      images: Float64Array.from(x.data),
      labels: labelMode !== 'none' ? itemLabels(res.values, classNodes[0], b) : null,
      valueRange: valueRangeOf(res.record.pipeline, res.values),
      nfe: res.record.nfe,
      modelMs: res.record.timings.modelMs,
      wallMs: performance.now() - t0,
    });
    opts.onProgress?.(r, start + b);
  }
  return out;
}

/** Scores the results of every unit (from one run or merged from shards) into the report. */
export async function scoreEvalUnits(doc: PipelineDoc, opts: Pick<EvalOptions, 'samples' | 'repeats' | 'seed' | 'batch' | 'keepLabels' | 'files'>, results: readonly EvalUnitResult[]): Promise<EvalReport> {
  const setup = evalSetup(doc, opts);
  const { N, K, S, B, labelMode } = setup;
  const byUnit = new Map(results.map((r) => [r.unit, r]));
  const missing = setup.units.filter((u) => !byUnit.has(u.unit)).map((u) => u.unit);
  if (missing.length) throw new DpipeError('E_MERGE', `eval: the results of batch${missing.length > 1 ? 'es' : ''} ${missing.join(', ')} are missing`);
  const reference = await loadReference(opts.files);
  const runs: RepeatResult[] = [];
  for (let r = 0; r < K; r++) {
    const mine = setup.units.filter((u) => u.repeat === r).map((u) => byUnit.get(u.unit)!);
    const { h, w } = mine[0];
    const images = new Float64Array(N * h * w);
    const labels: number[] = [];
    for (const m of mine) {
      if (m.h !== h || m.w !== w) throw new DpipeError('E_SHAPE', `eval: batch ${m.unit} has ${m.h}×${m.w} images, batch ${mine[0].unit} ${h}×${w}`);
      images.set(m.images, m.start * h * w);
      if (m.labels) labels.push(...m.labels);
    }
    const score = await scoreImages({ n: N, h, w, data: images, valueRange: [mine[0].valueRange[0], mine[0].valueRange[1]] }, labelMode === 'none' ? undefined : labels, opts.files);
    const sum = (f: (m: EvalUnitResult) => number) => mine.reduce((a, m) => a + f(m), 0);
    runs.push({ ...score, seed: S + r * N, nfe: mine[0].nfe, wallMs: sum((m) => m.wallMs), modelMs: sum((m) => m.modelMs), modelCalls: sum((m) => m.nfe) });
  }
  const floor = await realVsRealFd(opts.files);
  return {
    samples: N,
    repeats: K,
    batch: B,
    seeds: runs.map((x) => x.seed),
    labels: labelMode,
    nfe: runs[0].nfe,
    fd: spread(runs.map((x) => x.fd)),
    accuracy: labelMode === 'none' ? null : spread(runs.map((x) => x.accuracy ?? NaN)),
    wallMs: spread(runs.map((x) => x.wallMs)),
    modelMsPerCall: spread(runs.map((x) => x.modelMs / Math.max(1, x.modelCalls))),
    floor: { fd: floor.fd, n: floor.n },
    nReference: reference.features.n,
    runs,
  };
}

/** Runs and scores a pipeline; see the module comment. Errors: the runner's, E_SHAPE for non-MNIST outputs. */
export async function evalPipeline(doc: PipelineDoc, opts: EvalOptions): Promise<EvalReport> {
  return scoreEvalUnits(doc, opts, await evalUnits(doc, opts));
}

/** Labels of the b items of a batch, as the cond.class block produced them (labels cycled over the batch). */
function itemLabels(values: ReadonlyMap<string, Readonly<Record<string, unknown>>>, nodeId: string, b: number): number[] {
  const cond = values.get(nodeId)?.conditioning as { kind: string; label: number; labels?: readonly number[] } | undefined;
  if (!cond || cond.kind !== 'class') throw new DpipeError('E_INTERNAL', `eval: ${nodeId} produced no class conditioning`);
  const list = cond.labels && cond.labels.length ? cond.labels : [cond.label];
  return Array.from({ length: b }, (_, i) => list[i % list.length]);
}
