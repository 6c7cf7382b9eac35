/**
 * Random access to a run's trajectory on disk (format: `run/trajectory.ts`), one plane of one model evaluation at
 * a time, for the Latent Inspector.
 *
 * A run folder holds `run.json` and `trajectory/`; {@link TrajectoryReader.open} takes either the run folder, its
 * `run.json`, or the trajectory folder itself. Reading plane p of evaluation i opens `trajectory/e<i>.npy`, parses
 * only its header (once per file; the header length is cached) and reads the B·C·H·W float32 values at byte offset
 * `header + p·B·C·H·W·4` — never the whole file. Planes are kept in a small LRU cache bounded in bytes
 * ({@link ReaderOptions.cacheBytes}), so scrubbing back and forth is cheap and memory stays bounded whatever the
 * length of the run.
 *
 * Derived planes (not stored): `eps` = ε̂ = (x_t − x̂0)/σ (zeros at σ = 0), and `diff` = cond − uncond when the
 * evaluation has both guidance branches.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../core/errors';
import { RUN_RECORD_FILE, type RunRecord } from '../run/record';
import { TRAJECTORY_FORMAT, TRAJECTORY_INDEX, TRAJECTORY_VERSION, type EvalMeta, type SampleMeta, type TrajectoryIndex } from '../run/trajectory';

/** Default plane cache: 64 MiB. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/** Planes a reader can return: stored ones (`x`, `denoised`, guidance branches) and derived ones. */
export type PlaneName = 'x' | 'denoised' | 'eps' | 'diff' | (string & {});

export interface ReaderOptions {
  /** Bytes of decoded planes kept in the LRU cache (default {@link DEFAULT_CACHE_BYTES}; 0 = no cache). */
  readonly cacheBytes?: number;
  /** Whether a folder the run record names may be opened (the editor in an untrusted workspace: only inside it). */
  readonly mayTouch?: (abs: string) => boolean;
}

/** Counters, for tests and the benchmark. */
export interface ReaderStats {
  /** Planes read from disk. */
  reads: number;
  /** Planes served from the cache. */
  hits: number;
  /** Bytes read from disk (plane data and headers). */
  bytesRead: number;
}

/** A byte-bounded least-recently-used cache (Map keeps insertion order: re-inserting moves to the end). */
export class ByteLru<V> {
  private readonly map = new Map<string, { v: V; bytes: number }>();
  private used = 0;
  constructor(readonly capacity: number) {}
  get bytes(): number {
    return this.used;
  }
  get size(): number {
    return this.map.size;
  }
  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.v;
  }
  set(key: string, v: V, bytes: number): void {
    const old = this.map.get(key);
    if (old) {
      this.used -= old.bytes;
      this.map.delete(key);
    }
    if (bytes > this.capacity) return;
    this.map.set(key, { v, bytes });
    this.used += bytes;
    for (const [k, e] of this.map) {
      if (this.used <= this.capacity) break;
      this.map.delete(k);
      this.used -= e.bytes;
    }
  }
  clear(): void {
    this.map.clear();
    this.used = 0;
  }
}

/** Where a run's files are: the run folder (may be null for a bare trajectory folder) and the trajectory folder. */
export interface RunLocation {
  readonly runDir: string | null;
  readonly trajectoryDir: string;
}

/** Resolves a run folder, a `run.json` or a trajectory folder to its folders. */
export function locateRun(target: string, mayTouch: (abs: string) => boolean = () => true): RunLocation {
  const abs = path.resolve(target);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new DpipeError('E_FILE_MISSING', `${abs} does not exist; give a run folder (with run.json and trajectory/), its run.json, or a trajectory folder`);
  }
  if (stat.isFile()) return locateRun(path.dirname(abs), mayTouch);
  if (fs.existsSync(path.join(abs, TRAJECTORY_INDEX))) {
    const parent = path.dirname(abs);
    return { runDir: fs.existsSync(path.join(parent, RUN_RECORD_FILE)) ? parent : null, trajectoryDir: abs };
  }
  let dir = path.join(abs, 'trajectory');
  const recFile = path.join(abs, RUN_RECORD_FILE);
  if (fs.existsSync(recFile)) {
    try {
      const rec = JSON.parse(fs.readFileSync(recFile, 'utf8')) as Partial<RunRecord>;
      const d = rec.trajectory?.dir;
      if (typeof d === 'string') dir = path.resolve(abs, d);
    } catch {
      // an unreadable record: fall back to the default folder
    }
  }
  if (!mayTouch(dir)) {
    throw new DpipeError('E_FILE_MISSING', `${recFile} names the trajectory folder ${dir}, outside the workspace; it is not opened in an untrusted workspace`);
  }
  if (!fs.existsSync(path.join(dir, TRAJECTORY_INDEX))) {
    throw new DpipeError('E_FILE_MISSING', `${abs} has no trajectory (${path.join(dir, TRAJECTORY_INDEX)} is missing); runs record one when they have an output folder and a trajectory memory budget above 0`);
  }
  return { runDir: fs.existsSync(recFile) ? abs : null, trajectoryDir: dir };
}

interface FileInfo {
  readonly dataOffset: number;
  readonly count: number;
}

/** Opens a trajectory folder and reads planes on demand. See the module comment. */
export class TrajectoryReader {
  readonly stats: ReaderStats = { reads: 0, hits: 0, bytesRead: 0 };
  private readonly cache: ByteLru<Float32Array>;
  private readonly headers = new Map<string, FileInfo>();

  private constructor(
    readonly location: RunLocation,
    readonly index: TrajectoryIndex,
    readonly record: RunRecord | null,
    opts: ReaderOptions,
  ) {
    this.cache = new ByteLru(opts.cacheBytes ?? DEFAULT_CACHE_BYTES);
  }

  /** Opens a run folder, its run.json, or a trajectory folder. */
  static open(target: string, opts: ReaderOptions = {}): TrajectoryReader {
    const loc = locateRun(target, opts.mayTouch);
    const indexFile = path.join(loc.trajectoryDir, TRAJECTORY_INDEX);
    let index: TrajectoryIndex;
    try {
      index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as TrajectoryIndex;
    } catch (e) {
      throw new DpipeError('E_FILE_MISSING', `${indexFile} cannot be read (${(e as Error).message})`);
    }
    if (index.format !== TRAJECTORY_FORMAT || !Array.isArray(index.evals) || !Array.isArray(index.samples)) {
      throw new DpipeError('E_FORMAT', `${indexFile} is not a dpipe trajectory index`);
    }
    if (index.version > TRAJECTORY_VERSION) throw new DpipeError('E_VERSION', `${indexFile} has trajectory version ${index.version}; this dpipe reads up to ${TRAJECTORY_VERSION}`);
    let record: RunRecord | null = null;
    if (loc.runDir) {
      try {
        record = JSON.parse(fs.readFileSync(path.join(loc.runDir, RUN_RECORD_FILE), 'utf8')) as RunRecord;
      } catch {
        record = null;
      }
    }
    return new TrajectoryReader(loc, index, record, opts);
  }

  get evals(): readonly EvalMeta[] {
    return this.index.evals;
  }
  get samples(): readonly SampleMeta[] {
    return this.index.samples;
  }
  get length(): number {
    return this.index.evals.length;
  }
  /** Bytes held by the plane cache. */
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  /** A short name for titles: the run folder's name (or the trajectory folder's parent). */
  get name(): string {
    return path.basename(this.location.runDir ?? path.dirname(this.location.trajectoryDir));
  }

  meta(i: number): EvalMeta {
    const m = this.index.evals[i];
    if (!m) throw new DpipeError('E_PARAM_VALUE', `evaluation ${i} does not exist; this run has evaluations 0–${this.index.evals.length - 1}`);
    return m;
  }

  /** Shape [B, C, H, W] of evaluation i's planes. */
  shapeOf(i: number): readonly number[] {
    const m = this.meta(i);
    const s = this.index.samples.find((x) => x.node === m.node);
    if (!s) throw new DpipeError('E_FORMAT', `trajectory: evaluation ${i} names sample node ${m.node}, which the index does not list`);
    return s.shape;
  }

  /** Planes evaluation i offers: the stored ones, `eps`, and `diff` when it has `cond` and `uncond`. */
  planesOf(i: number): string[] {
    const m = this.meta(i);
    const out = [...m.planes, 'eps'];
    if (m.planes.includes('cond') && m.planes.includes('uncond')) out.push('diff');
    return out;
  }

  /**
   * Plane `name` of evaluation i as float32 [B·C·H·W] (shared with the cache: do not modify). `cache: false` reads
   * around the cache (a pass over the whole run must not evict what the user is looking at).
   */
  plane(i: number, name: PlaneName, opts: { cache?: boolean } = {}): Float32Array {
    const m = this.meta(i);
    const useCache = opts.cache !== false;
    if (name === 'eps') {
      const x = this.plane(i, 'x', opts);
      const d = this.plane(i, 'denoised', opts);
      const out = new Float32Array(x.length);
      if (m.sigma > 0) for (let k = 0; k < out.length; k++) out[k] = (x[k] - d[k]) / m.sigma;
      return out;
    }
    if (name === 'diff') {
      if (!m.planes.includes('cond') || !m.planes.includes('uncond')) {
        throw new DpipeError('E_PARAM_VALUE', `evaluation ${i} has no cond/uncond branches (planes: ${m.planes.join(', ')}), so no guidance difference`);
      }
      const c = this.plane(i, 'cond', opts);
      const u = this.plane(i, 'uncond', opts);
      return Float32Array.from(c, (v, k) => v - u[k]);
    }
    const p = m.planes.indexOf(name);
    if (p < 0) throw new DpipeError('E_PARAM_VALUE', `evaluation ${i} has no plane "${name}"; it has ${this.planesOf(i).join(', ')}`);
    const key = `${i}/${p}`;
    const hit = useCache ? this.cache.get(key) : undefined;
    if (hit) {
      this.stats.hits++;
      return hit;
    }
    const n = this.shapeOf(i).reduce((a, b) => a * b, 1);
    const data = this.readPlane(m, p, n);
    if (useCache) this.cache.set(key, data, data.byteLength);
    return data;
  }

  /** Final state of a Sample node (its `final-NODE.npy`), or undefined when the run did not finish it. */
  finalOf(node: string): Float32Array | undefined {
    const s = this.index.samples.find((x) => x.node === node);
    if (!s?.final) return undefined;
    const file = path.join(this.location.trajectoryDir, s.final);
    if (!fs.existsSync(file)) return undefined;
    const n = s.shape.reduce((a, b) => a * b, 1);
    const info = this.header(file, n);
    return this.readAt(file, info.dataOffset, n);
  }

  clearCache(): void {
    this.cache.clear();
  }

  private readPlane(m: EvalMeta, p: number, n: number): Float32Array {
    const file = path.join(this.location.trajectoryDir, m.file);
    const info = this.header(file, n * m.planes.length);
    return this.readAt(file, info.dataOffset + p * n * 4, n);
  }

  /** Reads n float32 values at `offset` (the bytes are little-endian; so is every platform Node supports). */
  private readAt(file: string, offset: number, n: number): Float32Array {
    const out = new Float32Array(n);
    const bytes = new Uint8Array(out.buffer);
    const fd = this.openFile(file);
    try {
      let got = 0;
      while (got < bytes.length) {
        const r = fs.readSync(fd, bytes, got, bytes.length - got, offset + got);
        if (r === 0) throw new DpipeError('E_NPY', `${file}: truncated (wanted ${bytes.length} bytes at ${offset}, got ${got})`);
        got += r;
      }
    } finally {
      fs.closeSync(fd);
    }
    this.stats.reads++;
    this.stats.bytesRead += bytes.length;
    return out;
  }

  private openFile(file: string): number {
    try {
      return fs.openSync(file, 'r');
    } catch (e) {
      throw new DpipeError('E_FILE_MISSING', `trajectory frame ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  /** Parses the .npy header of `file` (cached): `<f4`, C order, `count` values. */
  private header(file: string, count: number): FileInfo {
    const cached = this.headers.get(file);
    if (cached) return cached;
    const fd = this.openFile(file);
    const head = new Uint8Array(12);
    let info: FileInfo;
    try {
      fs.readSync(fd, head, 0, 12, 0);
      if (head[0] !== 0x93 || head[1] !== 0x4e || head[5] !== 0x59) throw new DpipeError('E_NPY', `${file}: not a .npy file`);
      const dv = new DataView(head.buffer);
      const major = head[6];
      const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
      const start = major === 1 ? 10 : 12;
      const text = new Uint8Array(hlen);
      fs.readSync(fd, text, 0, hlen, start);
      this.stats.bytesRead += 12 + hlen;
      const header = new TextDecoder('latin1').decode(text);
      const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
      if (descr !== '<f4') throw new DpipeError('E_NPY', `${file}: dtype ${descr ?? '?'}; trajectory frames are float32 (<f4)`);
      if (/'fortran_order'\s*:\s*True/.test(header)) throw new DpipeError('E_NPY', `${file}: Fortran order is not supported`);
      const shape = (/'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
      const total = shape.reduce((a, b) => a * b, 1);
      if (total !== count) throw new DpipeError('E_NPY', `${file}: ${total} values, the index implies ${count}`);
      info = { dataOffset: start + hlen, count };
    } finally {
      fs.closeSync(fd);
    }
    if (this.headers.size > 100_000) this.headers.clear();
    this.headers.set(file, info);
    return info;
  }
}
