/**
 * `runGrid`: runs the cells of a grid (all of them, or one shard's), each into its own run folder under
 * `OUT/cells/`, optionally with its error against a reference solve (`reference.json` in the cell folder, as
 * `dpipe reference` writes it) and its FD-MNIST score (as `dpipe eval` computes it), and returns one record per cell.
 * `result.ts` turns the records into `grid.json` and the labelled `grid.png`.
 *
 * Cells run side by side in lanes (`lanes`, default 8): every lane loads its model through the one warm session
 * per model file that the ONNX layer caches, and a {@link CallBatcher} joins the lanes' model calls into batched
 * calls when the model's batch is dynamic. A cell's numbers do not depend on the lanes (see `model/batch.ts`), so a
 * shard gives each of its cells exactly what the unsharded run gives it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { version as DPIPE_VERSION } from '../../../package.json';
import { DpipeError, isAbort } from '../core/errors';
import { evalPipeline, type FdMnistFiles } from '../eval/index';
import type { PipelineDoc } from '../format/types';
import { TrajectoryReader } from '../inspect/reader';
import { referenceForRun } from '../inspect/error';
import { CallBatcher, type BatchStats, type Lane } from '../model/batch';
import { onnxruntimeVersion } from '../model/onnx';
import { loadModel as loadOnnxModel } from '../model/wrap';
import { nodeTypes as registryTypes } from '../registry/index';
import type { NodeType, RunServices } from '../registry/node';
import type { ParamValue } from '../registry/types';
import { applyOverrides } from '../run/overrides';
import type { RunRecord } from '../run/record';
import { pipelineText, runPipeline } from '../run/runner';
import { WHOLE, shardUnits, specKey, type Shard } from '../shard/index';
import { cellCount, parseSets, planCell, resolveAxes, validateCell, type AxisArg, type GridAxis, type GridCell } from './plan';

/** What a grid runs; the same for every shard of one grid (its {@link specKey} ties the shards together). */
export interface GridSpec {
  readonly dpipeVersion: string;
  /** The .dpipe file, absolute. */
  readonly file: string;
  /** The base pipeline's text (stable serialization). */
  readonly pipeline: string;
  readonly axes: readonly { readonly name: string; readonly values: readonly ParamValue[] }[];
  readonly set: readonly string[];
  /** Seeds of every cell: one batch, item b with seed first + b; null: the pipeline's own seed and batch. */
  readonly seeds: { readonly first: number; readonly count: number } | null;
  /** `--batch` when no seeds are given. */
  readonly batch: number | null;
  readonly reference: { readonly rtol: number; readonly atol: number; readonly maxNfe: number } | null;
  readonly score: { readonly kind: 'fd'; readonly samples: number; readonly batch: number } | null;
}

export interface GridReferenceError {
  readonly node: string;
  /** ‖x_final − x_ref‖ (RMS over the batch). */
  readonly final: number | null;
  /** Largest error along the run. */
  readonly max: number | null;
  readonly method: string;
  readonly referenceNfe: number;
}

export interface GridScore {
  readonly kind: 'fd';
  readonly samples: number;
  readonly fd: number;
  readonly accuracy: number | null;
  readonly nfe: number;
  /** Generation time of the scored samples, ms (a timing). */
  readonly wallMs: number;
}

export interface GridCellResult {
  readonly index: number;
  readonly coords: readonly number[];
  /** `axis=label, …`. */
  readonly label: string;
  /** The cell's run folder, relative to the grid folder (forward slashes). */
  readonly dir: string;
  readonly status: 'completed' | 'failed';
  readonly error?: { readonly code: string; readonly message: string };
  /** Parameters the cell dropped or could not apply (block swaps). */
  readonly dropped: readonly string[];
  /** Model evaluations of the run (per sample trajectory: the batch runs together). */
  readonly nfe: number | null;
  /** Wall time of the run, ms (a timing; cells in lanes overlap). */
  readonly wallMs: number | null;
  /** The image shown in the grid, relative to the grid folder; null when the cell has none. */
  readonly image: string | null;
  readonly reference: readonly GridReferenceError[] | null;
  readonly score: GridScore | null;
  /** The cell's run record (run.json). */
  readonly record: RunRecord | null;
}

export interface GridProgress {
  readonly cell: number;
  readonly label: string;
  readonly phase: 'start' | 'run' | 'reference' | 'score' | 'done' | 'failed';
  readonly done: number;
  readonly total: number;
}

export interface GridRunOptions {
  /** The .dpipe file (absolute; for the record and messages). */
  readonly file: string;
  readonly doc: PipelineDoc;
  readonly baseDir: string;
  readonly axes: readonly AxisArg[];
  /** `NODE.PARAM=VALUE` settings for every cell. */
  readonly set?: readonly string[];
  readonly seeds?: { readonly first: number; readonly count: number };
  readonly batch?: number;
  /** Error against a reference solve (dopri5, as `dpipe reference`). */
  readonly reference?: { readonly rtol?: number; readonly atol?: number; readonly maxNfe?: number };
  /** FD-MNIST of each cell over `samples` samples (as `dpipe eval`). */
  readonly score?: { readonly samples: number; readonly batch?: number; readonly files: FdMnistFiles };
  /** The grid folder; cells go to `OUT/cells/`. */
  readonly outDir: string;
  readonly shard?: Shard;
  /** Cells run side by side with their model calls batched (default 8; 1 runs one cell at a time). */
  readonly lanes?: number;
  readonly nodeTypes?: ReadonlyMap<string, NodeType>;
  /** Injected model loader (tests); without it models load through the batching lanes. */
  readonly loadModel?: RunServices['loadModel'];
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: GridProgress) => void;
}

export interface GridPlan {
  readonly spec: GridSpec;
  readonly key: string;
  readonly axes: readonly GridAxis[];
  readonly total: number;
  /** Every cell, planned and validated. */
  readonly cells: readonly GridCell[];
}

export const DOPRI5_GRID_DEFAULTS = { rtol: 1e-5, atol: 1e-5, maxNfe: 20_000 } as const;

/** Plans a grid: resolves axes, plans and validates every cell (all of them, whatever the shard). */
export function planGrid(opts: Omit<GridRunOptions, 'outDir'>): GridPlan {
  const types = opts.nodeTypes ?? registryTypes();
  if (opts.axes.length === 0) throw new DpipeError('E_USAGE', 'a grid needs at least one --axis');
  if (opts.seeds && opts.batch !== undefined) throw new DpipeError('E_USAGE', '--seeds sets the batch of every cell (one item per seed); give --seeds or --batch, not both');
  const axes = resolveAxes(opts.doc, types, opts.axes);
  const total = cellCount(axes);
  if (total > 10_000) throw new DpipeError('E_USAGE', `the grid has ${total} cells; more than 10,000 is surely a mistake`);
  const sets = parseSets(opts.set ?? []);
  const cells: GridCell[] = [];
  for (let i = 0; i < total; i++) {
    const cell = planCell(opts.doc, types, axes, sets, i);
    const eff = applyOverrides(cell.doc, types, { set: cell.set, seed: opts.seeds?.first, batch: opts.seeds?.count ?? opts.batch }, opts.baseDir).doc;
    validateCell(cell, eff, types, opts.file, opts.baseDir);
    if (!eff.nodes.some((n) => n.type === 'output.image')) {
      throw new DpipeError('E_COMPOSE', `${opts.file}: a grid shows each cell's image, and this pipeline has no output.image block; add one fed by the Sample block's latent`);
    }
    cells.push(cell);
  }
  const spec: GridSpec = {
    dpipeVersion: DPIPE_VERSION,
    file: path.resolve(opts.file),
    pipeline: pipelineText(opts.doc, types),
    axes: axes.map((a) => ({ name: a.name, values: a.values })),
    set: [...(opts.set ?? [])],
    seeds: opts.seeds ? { first: opts.seeds.first, count: opts.seeds.count } : null,
    batch: opts.batch ?? null,
    reference: opts.reference ? { rtol: opts.reference.rtol ?? DOPRI5_GRID_DEFAULTS.rtol, atol: opts.reference.atol ?? DOPRI5_GRID_DEFAULTS.atol, maxNfe: opts.reference.maxNfe ?? DOPRI5_GRID_DEFAULTS.maxNfe } : null,
    score: opts.score ? { kind: 'fd', samples: opts.score.samples, batch: Math.min(opts.score.batch ?? 50, opts.score.samples) } : null,
  };
  return { spec, key: specKey(spec), axes, total, cells };
}

/** Folder name of a cell: its number and axis labels, made safe for file systems. */
export function cellDirName(cell: GridCell, axes: readonly GridAxis[], total: number): string {
  const width = Math.max(3, String(total - 1).length);
  const labels = axes.map((a, i) => a.labels[cell.coords[i]]).join('-').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `cells/${String(cell.index).padStart(width, '0')}-${labels}`;
}

/**
 * Creates a cell's run folder (a new folder: an existing one is refused, so no earlier result is overwritten).
 * Kept in one small function so the run-folder rules can change in one place.
 */
export function makeCellFolder(abs: string): void {
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  try {
    fs.mkdirSync(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new DpipeError('E_OUT_EXISTS', `${abs} already exists; a grid writes every cell into a new folder — give another --out or remove the old grid`);
    throw e;
  }
}

/** The PNG a cell shows: the first image output's grid of the batch, else its only image. */
function cellImage(record: RunRecord): string | undefined {
  const pngs = record.outputs.filter((o) => o.kind === 'png');
  if (!pngs.length) return undefined;
  const imageNode = record.pipeline.nodes.find((n) => n.type === 'output.image' && pngs.some((o) => o.node === n.id))?.id ?? pngs[0].node;
  const mine = pngs.filter((o) => o.node === imageNode);
  return (mine.find((o) => o.file.endsWith('-grid.png')) ?? mine[0]).file;
}

export interface GridShardRun {
  readonly plan: GridPlan;
  readonly shard: Shard;
  readonly cells: GridCellResult[];
  readonly batching: BatchStats;
  readonly wallMs: number;
}

/** Runs the shard's cells of a planned grid. Stops (E_ABORTED) on the signal after the cells in flight; failed cells are recorded. */
export async function runGridCells(plan: GridPlan, opts: GridRunOptions): Promise<GridShardRun> {
  const t0 = performance.now();
  const types = opts.nodeTypes ?? registryTypes();
  const shard = opts.shard ?? WHOLE;
  const outDir = path.resolve(opts.outDir);
  const lanes = Math.max(1, opts.lanes ?? 8);
  const batcher = new CallBatcher();
  const units = shardUnits(plan.total, shard);
  const results = new Map<number, GridCellResult>();
  let done = 0;
  const report = (cell: GridCell, phase: GridProgress['phase']) => opts.onProgress?.({ cell: cell.index, label: cell.label, phase, done, total: units.length });

  const runCell = async (cell: GridCell, lane: Lane | undefined): Promise<GridCellResult> => {
    const dir = cellDirName(cell, plan.axes, plan.total);
    const abs = path.join(outDir, dir);
    const base = { index: cell.index, coords: cell.coords, label: cell.label, dir, dropped: cell.dropped };
    makeCellFolder(abs);
    const loadModel: RunServices['loadModel'] = opts.loadModel ?? ((params, file) => loadOnnxModel(params, file, lane ? { through: (s) => lane.session(s) } : {}));
    const common = { baseDir: opts.baseDir, signal: opts.signal, nodeTypes: types, loadModel };
    report(cell, 'run');
    const res = await runPipeline(cell.doc, {
      ...common,
      file: opts.file,
      outDir: abs,
      set: cell.set,
      seed: opts.seeds?.first,
      batch: opts.seeds?.count ?? opts.batch,
      runtimeVersion: opts.loadModel ? undefined : onnxruntimeVersion(),
      trajectory: { record: true, memoryBytes: 32 * 1024 * 1024 },
    });
    if (res.status === 'aborted') throw res.error ?? new DpipeError('E_ABORTED', 'The grid was stopped.');
    const img = cellImage(res.record);
    let reference: GridReferenceError[] | null = null;
    if (plan.spec.reference) {
      report(cell, 'reference');
      const file = await referenceForRun(TrajectoryReader.open(abs), { ...common, ...plan.spec.reference, write: true });
      reference = file.errors.map((e) => {
        const finite = e.perEval.filter((v): v is number => v !== null);
        return { node: e.node, final: e.final, max: finite.length ? Math.max(...finite) : null, method: e.method, referenceNfe: e.referenceNfe };
      });
    }
    let score: GridScore | null = null;
    if (plan.spec.score && opts.score) {
      report(cell, 'score');
      const r = await evalPipeline(cell.doc, {
        ...common,
        file: opts.file,
        samples: plan.spec.score.samples,
        batch: plan.spec.score.batch,
        seed: opts.seeds?.first ?? 0,
        set: cell.set,
        files: opts.score.files,
      });
      score = { kind: 'fd', samples: r.samples, fd: r.fd.mean, accuracy: r.accuracy?.mean ?? null, nfe: r.nfe, wallMs: r.wallMs.mean };
    }
    return {
      ...base,
      status: 'completed',
      nfe: res.record.nfe,
      wallMs: res.record.timings.totalMs,
      image: img ? `${dir}/${img}` : null,
      reference,
      score,
      record: res.record,
    };
  };

  let next = 0;
  let stopped: unknown;
  const worker = async () => {
    while (next < units.length && stopped === undefined) {
      const cell = plan.cells[units[next++]];
      const lane = lanes > 1 && !opts.loadModel ? batcher.lane() : undefined;
      report(cell, 'start');
      try {
        results.set(cell.index, await runCell(cell, lane));
        done++;
        report(cell, 'done');
      } catch (e) {
        if (isAbort(e) || (e instanceof DpipeError && e.code === 'E_OUT_EXISTS')) {
          stopped ??= e;
        } else {
          const err = e instanceof DpipeError ? { code: e.code, message: e.message } : { code: 'E_INTERNAL', message: String((e as Error)?.stack ?? e) };
          const dir = cellDirName(cell, plan.axes, plan.total);
          results.set(cell.index, {
            index: cell.index, coords: cell.coords, label: cell.label, dir, dropped: cell.dropped, status: 'failed', error: err,
            nfe: null, wallMs: null, image: null, reference: null, score: null, record: readRecord(path.join(outDir, dir)),
          });
          done++;
          report(cell, 'failed');
        }
      } finally {
        lane?.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, units.length) }, worker));
  if (stopped !== undefined) throw stopped;
  return { plan, shard, cells: units.map((u) => results.get(u)!), batching: batcher.stats(), wallMs: performance.now() - t0 };
}

function readRecord(dir: string): RunRecord | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunRecord;
  } catch {
    return null;
  }
}
