/**
 * The trajectory of a run: σ, x_t and x̂0 (and guidance branches) at every model evaluation, so the inspector
 * can show any step after the fact. ε̂ = (x_t − x̂0)/σ is derived, not stored.
 *
 * Frames are kept in memory (float32) up to a byte budget; frames past the budget go straight to disk. When
 * the run has an output directory, the remaining in-memory frames are written at the end too, so the folder
 * is complete.
 *
 * On-disk layout (version 1), a folder `trajectory/`:
 *
 *     trajectory/index.json       what is below, rewritten at the end of the run (also when stopped)
 *     trajectory/e000000.npy      model evaluation 0: float32, shape [P, B, C, H, W]
 *     trajectory/e000001.npy      …
 *     trajectory/final-NODE.npy   the state at the last σ of Sample node NODE, float32 [B, C, H, W]
 *
 * Plane p of an evaluation file is `evals[i].planes[p]` of the index: always `x` then `denoised`, then the
 * guidance branches in the guider's order (e.g. `cond`, `uncond`). Frame i is file `e` + i (6 digits, more
 * when needed) + `.npy`, so random access needs no search; a reader may take the byte offset of plane p as
 * header + p·B·C·H·W·4. `index.json` is
 *
 *     { "format": "dpipe-trajectory", "version": 1, "dtype": "<f4",
 *       "samples": [{ "node", "shape", "sigmas", "firstEval", "evals", "final" }],
 *       "evals": [{ "i", "node", "index", "step", "sigma", "timestep"?, "role", "planes", "file", "modelMs", "engineMs" }] }
 *
 * where `index` counts evaluations within the Sample node and `i` across the run. `timestep` (optional, added
 * within version 1: readers must accept its absence) is what the model's time input received — the discrete
 * timestep or flow t — or null for σ-input models; it is absent when the model does not say (older files too).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DpipeError } from '../core/errors';
import { encodeNpy, parseNpy } from '../core/npy';
import type { Latent } from '../core/types';
import type { EvalEvent } from '../registry/node';

export const TRAJECTORY_FORMAT = 'dpipe-trajectory';
export const TRAJECTORY_VERSION = 1;
export const TRAJECTORY_INDEX = 'index.json';
/** Default in-memory budget: 256 MiB of float32 frames. */
export const DEFAULT_TRAJECTORY_MEMORY = 256 * 1024 * 1024;

export interface EvalMeta {
  /** Evaluation number across the run (0-based). */
  readonly i: number;
  readonly node: string;
  /** Evaluation number within its Sample node. */
  readonly index: number;
  readonly step: number;
  readonly sigma: number;
  /** The model's time input at this σ (discrete timestep, flow t); null for σ-input models; absent when unknown. */
  readonly timestep?: number | null;
  readonly role: string;
  /** Names of the planes stored for this evaluation: `x`, `denoised`, then guidance branches. */
  readonly planes: readonly string[];
  /** File name inside the trajectory folder. */
  readonly file: string;
  readonly modelMs: number;
  readonly engineMs: number;
}

export interface SampleMeta {
  readonly node: string;
  readonly shape: readonly number[];
  readonly sigmas: readonly number[];
  /** `i` of the node's first evaluation. */
  readonly firstEval: number;
  evals: number;
  /** File of the state at the last σ, once the node finished. */
  final?: string;
}

export interface TrajectoryIndex {
  readonly format: typeof TRAJECTORY_FORMAT;
  readonly version: number;
  readonly dtype: '<f4';
  readonly samples: readonly SampleMeta[];
  readonly evals: readonly EvalMeta[];
}

/** One model evaluation, with its planes as float32 arrays of B·C·H·W values. */
export interface TrajectoryFrame {
  readonly meta: EvalMeta;
  readonly shape: readonly number[];
  /** The state the model saw. */
  readonly x: Float32Array;
  /** The model's x̂0 (after guidance). */
  readonly denoised: Float32Array;
  /** Guidance branches (e.g. `cond`, `uncond`) by name. */
  readonly branches: Readonly<Record<string, Float32Array>>;
}

/** ε̂ = (x_t − x̂0)/σ of a frame (the noise the model predicts); zeros at σ = 0. */
export function epsilonOf(frame: TrajectoryFrame): Float32Array {
  const out = new Float32Array(frame.x.length);
  const s = frame.meta.sigma;
  if (s > 0) for (let k = 0; k < out.length; k++) out[k] = (frame.x[k] - frame.denoised[k]) / s;
  return out;
}

/** Read access to a trajectory, live (during/after a run) or from a folder. */
export interface TrajectoryView {
  readonly samples: readonly SampleMeta[];
  readonly evals: readonly EvalMeta[];
  /** Frame `i` (0 ≤ i < evals.length). */
  frame(i: number): TrajectoryFrame;
}

export function evalFileName(i: number): string {
  return `e${String(i).padStart(6, '0')}.npy`;
}

function shapeOf(samples: readonly SampleMeta[], node: string): readonly number[] {
  const s = samples.find((m) => m.node === node);
  if (!s) throw new DpipeError('E_INTERNAL', `trajectory: no sample node ${node}`);
  return s.shape;
}

function splitPlanes(meta: EvalMeta, shape: readonly number[], data: Float32Array): TrajectoryFrame {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n * meta.planes.length) {
    throw new DpipeError('E_NPY', `trajectory frame ${meta.i}: ${data.length} values, expected ${meta.planes.length} planes of ${n}`);
  }
  const planes = meta.planes.map((_, p) => data.subarray(p * n, (p + 1) * n));
  const branches: Record<string, Float32Array> = {};
  meta.planes.forEach((name, p) => {
    if (p >= 2) branches[name] = planes[p];
  });
  return { meta, shape, x: planes[0], denoised: planes[1], branches };
}

export interface TrajectoryOptions {
  /** Bytes of frames kept in memory; frames beyond go to disk. Default {@link DEFAULT_TRAJECTORY_MEMORY}. */
  readonly memoryBytes?: number;
  /** Folder for frames on disk. Default: a fresh temporary folder, made on the first spill. */
  readonly dir?: string;
  /** Write every frame (and the index) to `dir` by the end of the run, not only the spilled ones. */
  readonly persist?: boolean;
  /**
   * Writes a file of the trajectory folder (`dir`), e.g. through the run's {@link RunFolder}; default: plain writes
   * into `dir` (or a fresh temporary folder).
   */
  readonly write?: (name: string, bytes: Uint8Array) => void;
}

/** The recorder a run fills, and a {@link TrajectoryView} over it. */
export class Trajectory implements TrajectoryView {
  readonly samples: SampleMeta[] = [];
  readonly evals: EvalMeta[] = [];
  private readonly memory = new Map<number, Float32Array>();
  private readonly finals = new Map<string, Latent>();
  private readonly onDisk = new Set<number>();
  private memoryUsed = 0;
  private readonly budget: number;
  private folder: string | undefined;
  private readonly persist: boolean;
  private readonly sink: TrajectoryOptions['write'];

  constructor(opts: TrajectoryOptions = {}) {
    this.budget = opts.memoryBytes ?? DEFAULT_TRAJECTORY_MEMORY;
    this.folder = opts.dir;
    this.persist = opts.persist ?? false;
    this.sink = opts.write;
  }

  /** Folder holding frames on disk (undefined while none was needed). */
  get dir(): string | undefined {
    return this.folder;
  }
  get bytesInMemory(): number {
    return this.memoryUsed;
  }
  get framesInMemory(): number {
    return this.memory.size;
  }
  get framesOnDisk(): number {
    return this.onDisk.size;
  }

  startSample(node: string, shape: readonly number[], sigmas: ArrayLike<number>): void {
    this.samples.push({ node, shape: [...shape], sigmas: Array.from(sigmas), firstEval: this.evals.length, evals: 0 });
  }

  /** Records one model evaluation (copying its arrays to float32). */
  add(node: string, ev: EvalEvent, engineMs: number): EvalMeta {
    const sample = this.samples.find((s) => s.node === node);
    if (!sample) throw new DpipeError('E_INTERNAL', `trajectory: evaluation of ${node} before its start`);
    const branchNames = Object.keys(ev.branches ?? {});
    const planes = ['x', 'denoised', ...branchNames];
    const arrays: Latent[] = [ev.x, ev.denoised, ...branchNames.map((b) => ev.branches![b])];
    const n = ev.x.data.length;
    const data = new Float32Array(n * planes.length);
    arrays.forEach((a, p) => {
      if (a.data.length !== n) throw new DpipeError('E_SHAPE', `trajectory: plane ${planes[p]} has ${a.data.length} values, x has ${n}`);
      data.set(a.data, p * n);
    });
    const i = this.evals.length;
    const meta: EvalMeta = {
      i, node, index: ev.index, step: ev.step, sigma: ev.sigma, ...(ev.timestep !== undefined ? { timestep: ev.timestep } : {}),
      role: ev.role, planes, file: evalFileName(i), modelMs: ev.modelMs, engineMs,
    };
    this.evals.push(meta);
    sample.evals++;
    if (this.memoryUsed + data.byteLength <= this.budget) {
      this.memory.set(i, data);
      this.memoryUsed += data.byteLength;
    } else {
      this.writeFrame(meta, data);
    }
    return meta;
  }

  /** Records the state at a Sample node's last σ (written to disk when the trajectory is persisted). */
  finishSample(node: string, x: Latent): void {
    const sample = this.samples.find((s) => s.node === node);
    if (!sample) return;
    sample.final = `final-${node}.npy`;
    this.finals.set(node, x);
  }

  frame(i: number): TrajectoryFrame {
    const meta = this.evals[i];
    if (!meta) throw new DpipeError('E_INTERNAL', `trajectory has ${this.evals.length} frames; asked for ${i}`);
    const shape = shapeOf(this.samples, meta.node);
    const mem = this.memory.get(i);
    if (mem) return splitPlanes(meta, shape, mem);
    return splitPlanes(meta, shape, readPlanes(path.join(this.folder!, meta.file)));
  }

  index(): TrajectoryIndex {
    return { format: TRAJECTORY_FORMAT, version: TRAJECTORY_VERSION, dtype: '<f4', samples: this.samples, evals: this.evals };
  }

  /**
   * Ends recording: with `persist`, writes the in-memory frames and final states too; writes `index.json` whenever
   * a folder exists. Frames stay readable from memory afterwards.
   */
  close(): void {
    if (this.persist) {
      for (const [i, data] of this.memory) if (!this.onDisk.has(i)) this.writeFrame(this.evals[i], data);
      for (const [node, x] of this.finals) this.put(`final-${node}.npy`, encodeNpy(x.shape, x.data));
    }
    if (this.persist || this.folder) this.put(TRAJECTORY_INDEX, new TextEncoder().encode(JSON.stringify(this.index(), null, 1) + '\n'));
  }

  private put(name: string, bytes: Uint8Array): void {
    if (this.sink && this.folder) this.sink(name, bytes);
    else fs.writeFileSync(path.join(this.ensureDir(), name), bytes);
  }

  private ensureDir(): string {
    if (!this.folder) this.folder = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-trajectory-'));
    else fs.mkdirSync(this.folder, { recursive: true });
    return this.folder;
  }

  private writeFrame(meta: EvalMeta, data: Float32Array): void {
    const shape = shapeOf(this.samples, meta.node);
    this.put(meta.file, encodeNpy([meta.planes.length, ...shape], data));
    this.onDisk.add(meta.i);
  }
}

function readPlanes(file: string): Float32Array {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new DpipeError('E_FILE_MISSING', `trajectory frame ${file} cannot be read (${(e as Error).message})`);
  }
  return Float32Array.from(parseNpy(bytes, file).data);
}

/** Opens a trajectory folder written by a run (`OUT/trajectory`). */
export function openTrajectory(dir: string): TrajectoryView {
  const indexFile = path.join(dir, TRAJECTORY_INDEX);
  let index: TrajectoryIndex;
  try {
    index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as TrajectoryIndex;
  } catch (e) {
    throw new DpipeError('E_FILE_MISSING', `${indexFile} cannot be read (${(e as Error).message}); is ${dir} a dpipe trajectory folder?`);
  }
  if (index.format !== TRAJECTORY_FORMAT || !Array.isArray(index.evals)) throw new DpipeError('E_FORMAT', `${indexFile} is not a dpipe trajectory index`);
  if (index.version > TRAJECTORY_VERSION) throw new DpipeError('E_VERSION', `${indexFile} has trajectory version ${index.version}; this dpipe reads up to ${TRAJECTORY_VERSION}`);
  return {
    samples: index.samples,
    evals: index.evals,
    frame(i) {
      const meta = index.evals[i];
      if (!meta) throw new DpipeError('E_INTERNAL', `trajectory has ${index.evals.length} frames; asked for ${i}`);
      return splitPlanes(meta, shapeOf(index.samples, meta.node), readPlanes(path.join(dir, meta.file)));
    },
  };
}
