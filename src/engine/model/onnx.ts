/**
 * The onnxruntime adapter: the only module of the project that imports `onnxruntime-node`.
 *
 * - One `InferenceSession` per model file (keyed by absolute path), reused across runs and reloaded when
 *   the file's mtime or size changes (or when a different thread count is asked for).
 * - `inspect(path)` lists inputs and outputs with names, element types and shapes (symbolic dimensions
 *   as strings, unknown ones as -1), from the session's `inputMetadata` / `outputMetadata`.
 * - `run(path, feeds, outputNames)` runs the model on float32 / int64 (and other typed-array) tensors.
 *
 * Generic on purpose: the denoiser wrapper (`wrap.ts`) and the classifier evaluator both use it.
 */
import * as ort from 'onnxruntime-node';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { DpipeError } from '../core/errors';
import { halfToFloat } from '../core/npy';

/** ONNX element types as onnxruntime names them ('float32', 'int64', 'float16', 'bool', …). */
export type ElementType = string;

/** One input or output of a model. */
export interface TensorInfo {
  readonly name: string;
  /** Element type ('float32', 'int64', …); 'non-tensor' for sequences and maps. */
  readonly type: ElementType;
  /** Dimensions: a number when fixed, the symbolic name (e.g. 'batch') when named, -1 when unknown. */
  readonly shape: readonly (number | string)[];
}

export interface ModelIO {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}

/** A tensor handed to or returned from the model. `data` is the typed array of `type`. */
export interface Tensor {
  readonly type: ElementType;
  readonly data: Float32Array | BigInt64Array | Int32Array | Float64Array | Uint8Array | Uint16Array | Int8Array | BigUint64Array | Uint32Array | Int16Array;
  readonly dims: readonly number[];
}

/**
 * Execution providers dpipe can ask onnxruntime-node for. Which ones a machine has depends on the platform and on
 * how onnxruntime-node was installed: the npm package bundles `cpu` everywhere, `webgpu` on Linux/Windows/macOS,
 * `dml` (DirectML) on Windows and `coreml` on macOS; `cuda` and `tensorrt` need the CUDA binaries that
 * onnxruntime-node's install script downloads (`ONNXRUNTIME_NODE_INSTALL=cuda12`), see the README.
 */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'tensorrt', 'dml', 'coreml', 'webgpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export interface SessionOptions {
  /**
   * Threads onnxruntime uses inside one operator (`intraOpNumThreads`). 0 or undefined: onnxruntime's
   * default (one per physical core).
   */
  readonly threads?: number;
  /** Execution provider (default `cpu`). */
  readonly provider?: ExecutionProvider;
  /**
   * When the provider cannot be used on this machine: true = open the model on the CPU instead (the session's
   * `provider` then says `cpu` and `providerNote` why); false (default) = fail with E_PROVIDER.
   */
  readonly fallbackToCpu?: boolean;
}

/** A loaded model file. Cheap to get again: `openSession` returns the cached one while the file is unchanged. */
export interface OnnxSession {
  readonly path: string;
  readonly io: ModelIO;
  /** Identity of the file version the session was built from: `${mtimeMs}:${size}`. */
  readonly fileStamp: string;
  /** Number of the underlying onnxruntime session (a new one each time a file is (re)loaded). */
  readonly sessionId: number;
  /** The execution provider the session runs on. */
  readonly provider: ExecutionProvider;
  /** Why the session runs on another provider than the one asked for (CPU fallback); undefined when it does not. */
  readonly providerNote?: string;
  run(feeds: Readonly<Record<string, Tensor>>, outputNames?: readonly string[], signal?: AbortSignal): Promise<Record<string, Tensor>>;
}

interface CacheEntry {
  /** The file version the session was built from. */
  readonly stamp: string;
  readonly ready: Promise<{ session: ort.InferenceSession; provider: ExecutionProvider; note?: string }>;
  inflight: number;
  stale: boolean;
  released: boolean;
  readonly id: number;
  /** `Date.now()` of the last open or run, for {@link releaseIdle}. */
  lastUsed: number;
}

let sessionsCreated = 0;
let runsDone = 0;

/** Keyed by `${absolutePath}|${threads}|${provider}|${fallback}`: one session per file (per thread and provider setting). */
const cache = new Map<string, CacheEntry>();

/** The onnxruntime version string for run records, e.g. "onnxruntime-node 1.30.0". */
export function onnxruntimeVersion(): string {
  const v = ort.env.versions as { node?: string; common?: string } | undefined;
  return `onnxruntime-node ${v?.node ?? v?.common ?? 'unknown'}`;
}

/** Execution providers onnxruntime-node reports for this machine (`bundled: false` ones need extra binaries). */
export function availableProviders(): { name: string; bundled: boolean }[] {
  try {
    return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
  } catch {
    return [{ name: 'cpu', bundled: true }];
  }
}

/** Opens (or reuses) the session for a model file. Errors: E_FILE_MISSING, E_MODEL, E_PROVIDER. */
export async function openSession(file: string, opts: SessionOptions = {}): Promise<OnnxSession> {
  const abs = path.resolve(file);
  let st;
  try {
    st = await fsp.stat(abs);
  } catch {
    throw new DpipeError('E_FILE_MISSING', `Model file ${abs} does not exist.`);
  }
  if (!st.isFile()) throw new DpipeError('E_MODEL', `${abs} is not a file; give the path of a .onnx model.`);
  const threads = normalizeThreads(opts.threads);
  const provider = normalizeProvider(opts.provider);
  const fallback = opts.fallbackToCpu === true;
  const fileStamp = `${st.mtimeMs}:${st.size}`;
  const key = `${abs}|${threads}|${provider}|${fallback}`;
  let entry = cache.get(key);
  if (!entry || entry.stamp !== fileStamp) {
    // The file changed: every session built from the old version goes.
    for (const [k, e] of [...cache]) {
      if (k.startsWith(`${abs}|`) && e.stamp !== fileStamp) {
        cache.delete(k);
        retire(e);
      }
    }
    const ready = createSession(abs, threads, provider, fallback).catch((e: unknown) => {
      if (cache.get(key) === entry) cache.delete(key);
      throw e;
    });
    entry = { stamp: fileStamp, ready, inflight: 0, stale: false, released: false, id: ++sessionsCreated, lastUsed: Date.now() };
    cache.set(key, entry);
  }
  const made = await entry.ready;
  entry.lastUsed = Date.now();
  const io = describeSession(made.session);
  const pinned = entry;
  return {
    path: abs,
    io,
    fileStamp,
    sessionId: pinned.id,
    provider: made.provider,
    providerNote: made.note,
    run: (feeds, outputNames, signal) => runOn(pinned, abs, io, feeds, outputNames, signal),
  };
}

async function createSession(abs: string, threads: number, provider: ExecutionProvider, fallback: boolean): Promise<{ session: ort.InferenceSession; provider: ExecutionProvider; note?: string }> {
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', executionProviders: [provider] };
  if (threads > 0) Object.assign(options, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  try {
    return { session: await ort.InferenceSession.create(abs, options), provider };
  } catch (e) {
    if (provider === 'cpu') throw new DpipeError('E_MODEL', `Cannot load ${abs} with onnxruntime: ${errorText(e)}`);
    const why = providerFailure(provider, e);
    if (!fallback) throw new DpipeError('E_PROVIDER', `${shortName(abs)}: ${why} Choose another provider, or allow the CPU fallback (model parameter fallbackToCpu, setting dpipe.executionProviderFallback).`);
    try {
      return { session: await ort.InferenceSession.create(abs, { ...options, executionProviders: ['cpu'] }), provider: 'cpu', note: `${why} Running on the CPU instead (fallback allowed).` };
    } catch (e2) {
      throw new DpipeError('E_MODEL', `Cannot load ${abs} with onnxruntime: ${errorText(e2)}`);
    }
  }
}

/** Why a provider could not be used, in words, with what is available here. */
function providerFailure(provider: ExecutionProvider, e: unknown): string {
  const avail = availableProviders();
  const listed = avail.find((b) => b.name === provider);
  const have = avail.filter((b) => b.bundled).map((b) => b.name).join(', ');
  let why: string;
  if (!listed) why = `execution provider "${provider}" is not part of onnxruntime-node on this platform (${process.platform}-${process.arch}).`;
  else if (!listed.bundled) {
    why = `execution provider "${provider}" needs binaries that this onnxruntime-node installation does not have` +
      (provider === 'cuda' || provider === 'tensorrt' ? ' (install them with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with internet, see the README).' : '.');
  } else why = `execution provider "${provider}" failed to start: ${errorText(e).split('\n')[0]}`;
  return `${why} Available here: ${have || 'cpu'}.`;
}

/**
 * Releases every cached session not used for `idleMs` milliseconds (and not running). Returns how many went.
 * The runner calls it on a timer so an idle extension holds no model memory; a later run opens them again.
 */
export function releaseIdle(idleMs: number, now = Date.now()): number {
  let n = 0;
  for (const [k, e] of [...cache]) {
    if (e.inflight === 0 && now - e.lastUsed >= idleMs) {
      cache.delete(k);
      retire(e);
      n++;
    }
  }
  return n;
}

/** Inputs and outputs of a model file (opens the session, which stays cached). */
export async function inspect(file: string, opts: SessionOptions = {}): Promise<ModelIO> {
  return (await openSession(file, opts)).io;
}

/** Runs a model file once. `outputNames` defaults to all outputs. */
export async function run(
  file: string,
  feeds: Readonly<Record<string, Tensor>>,
  outputNames?: readonly string[],
  opts: SessionOptions & { signal?: AbortSignal } = {},
): Promise<Record<string, Tensor>> {
  return (await openSession(file, opts)).run(feeds, outputNames, opts.signal);
}

/** Drops the cached sessions of one file (each released once no call is using it). */
export function releaseSession(file: string): void {
  const abs = path.resolve(file);
  for (const [k, e] of [...cache]) {
    if (k.startsWith(`${abs}|`)) {
      cache.delete(k);
      retire(e);
    }
  }
}

/** Drops every cached session. */
export function releaseAll(): void {
  for (const [k, e] of [...cache]) {
    cache.delete(k);
    retire(e);
  }
}

/** Counters for tests, diagnostics and benchmarks: sessions cached now, sessions ever created, model calls run. */
export function sessionStats(): { cached: number; created: number; runs: number } {
  return { cached: cache.size, created: sessionsCreated, runs: runsDone };
}

/** The model files that have a cached session now (diagnostics, tests: what a run keeps in memory). */
export function cachedSessionFiles(): string[] {
  return [...new Set([...cache.keys()].map((k) => k.slice(0, k.indexOf('|'))))];
}

/** Shorthand constructors for feeds. */
export function float32(data: Float32Array, dims: readonly number[]): Tensor {
  return { type: 'float32', data, dims };
}
export function int64(data: BigInt64Array | readonly number[], dims: readonly number[]): Tensor {
  const d = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(Math.trunc(v)));
  return { type: 'int64', data: d, dims };
}

/** A tensor's values as float64 (int64 through Number). */
export function toFloat64(t: Tensor): Float64Array {
  const src = t.data;
  const out = new Float64Array(src.length);
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  } else if (t.type === 'float16' && src instanceof Uint16Array) {
    for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
  } else {
    for (let i = 0; i < src.length; i++) out[i] = (src as ArrayLike<number>)[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function normalizeProvider(p: string | undefined): ExecutionProvider {
  if (p === undefined || p === '') return 'cpu';
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(p)) {
    throw new DpipeError('E_PROVIDER', `execution provider "${p}" is not one of ${EXECUTION_PROVIDERS.join(', ')}.`);
  }
  return p as ExecutionProvider;
}

function normalizeThreads(t: number | undefined): number {
  if (t === undefined || t === 0) return 0;
  if (!Number.isInteger(t) || t < 0) throw new DpipeError('E_MODEL', `threads must be a non-negative integer (0 = onnxruntime's default); got ${t}.`);
  return t;
}

function retire(e: CacheEntry): void {
  e.stale = true;
  if (e.inflight === 0) dispose(e);
}

function dispose(e: CacheEntry): void {
  if (e.released) return;
  e.released = true;
  void e.ready.then((s) => s.session.release()).catch(() => undefined);
}

async function runOn(
  entry: CacheEntry,
  abs: string,
  io: ModelIO,
  feeds: Readonly<Record<string, Tensor>>,
  outputNames: readonly string[] | undefined,
  signal: AbortSignal | undefined,
): Promise<Record<string, Tensor>> {
  if (signal?.aborted) throw new DpipeError('E_ABORTED', 'The run was stopped.');
  const names = io.inputs.map((i) => i.name);
  for (const k of Object.keys(feeds)) {
    if (!names.includes(k)) throw new DpipeError('E_MODEL', `${path.basename(abs)} has no input "${k}"; its inputs are ${listIO(io.inputs)}.`);
  }
  const missing = names.filter((n) => !(n in feeds));
  if (missing.length) throw new DpipeError('E_MODEL', `${path.basename(abs)} needs input(s) ${missing.map((m) => `"${m}"`).join(', ')}; its inputs are ${listIO(io.inputs)}.`);
  const outs = outputNames ?? io.outputs.map((o) => o.name);
  for (const o of outs) {
    if (!io.outputs.some((x) => x.name === o)) throw new DpipeError('E_MODEL', `${path.basename(abs)} has no output "${o}"; its outputs are ${listIO(io.outputs)}.`);
  }
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) {
    ortFeeds[k] = new ort.Tensor(t.type as ort.Tensor.Type, t.data as ort.Tensor.DataType, [...t.dims]);
  }
  if (entry.released) {
    throw new DpipeError('E_MODEL', `${abs} changed on disk (or was released) while it was in use; run again to load the new version.`);
  }
  // Counted as in flight before any await, so a reload elsewhere cannot release the session under this call.
  entry.inflight++;
  entry.lastUsed = Date.now();
  let result: ort.InferenceSession.ReturnType;
  try {
    const { session } = await entry.ready;
    if (signal) {
      // onnxruntime holds this thread for the whole evaluation, and the solver goes from one evaluation to the next
      // in microtasks: let the event loop deliver a pending stop (a worker's or runner's message) first.
      await new Promise<void>((r) => setImmediate(r));
      if (signal.aborted) throw new DpipeError('E_ABORTED', 'The run was stopped.');
    }
    result = await session.run(ortFeeds, [...outs]);
    runsDone++;
  } catch (e) {
    if (e instanceof DpipeError) throw e;
    throw new DpipeError('E_MODEL', `${path.basename(abs)} failed to run with inputs ${describeFeeds(feeds)}: ${errorText(e)}`);
  } finally {
    entry.lastUsed = Date.now();
    entry.inflight--;
    if (entry.stale && entry.inflight === 0) dispose(entry);
  }
  const out: Record<string, Tensor> = {};
  for (const o of outs) {
    const v = result[o] as ort.Tensor;
    out[o] = { type: v.type, data: v.data as Tensor['data'], dims: [...v.dims] };
  }
  return out;
}

function describeSession(s: ort.InferenceSession): ModelIO {
  const conv = (m: ort.InferenceSession.ValueMetadata): TensorInfo =>
    m.isTensor
      ? { name: m.name, type: m.type, shape: m.shape.map((d) => (typeof d === 'number' ? (d < 0 ? -1 : d) : d === '' ? -1 : d)) }
      : { name: m.name, type: 'non-tensor', shape: [] };
  return { inputs: s.inputMetadata.map(conv), outputs: s.outputMetadata.map(conv) };
}

/** `name: type[dims]` list, the form error messages use. */
export function listIO(list: readonly TensorInfo[]): string {
  return list.map((t) => `${t.name}: ${t.type}[${t.shape.join(',')}]`).join(', ');
}

function describeFeeds(feeds: Readonly<Record<string, Tensor>>): string {
  return Object.entries(feeds).map(([k, t]) => `${k}: ${t.type}[${t.dims.join(',')}]`).join(', ');
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `folder/file.onnx`: enough to tell a model folder's parts apart in messages. */
function shortName(abs: string): string {
  return `${path.basename(path.dirname(abs))}/${path.basename(abs)}`;
}
