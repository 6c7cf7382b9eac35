/**
 * `runPipeline`: evaluates a loaded pipeline and writes what a run produces — output files (PNGs stamped with
 * the pipeline), the trajectory (`trajectory.ts`) and the run record (`record.ts`).
 *
 * No console output and no process-global state: progress goes through callbacks, cancellation through an
 * AbortSignal, so the CLI and the extension's runner process use it alike. A stopped run resolves with status
 * `aborted` after saving what it had (trajectory, record, files already written); any other failure writes the
 * record with status `failed` and rethrows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { version as DPIPE_VERSION } from '../../../package.json';
import { DpipeError, isAbort } from '../core/errors';
import { parseNpy } from '../core/npy';
import type { Latent, StepEvent } from '../core/types';
import { serializePipeline } from '../format/index';
import { paramsWithDefaults } from '../format/registry';
import type { PipelineDoc } from '../format/types';
import { loadModel as loadOnnxModel } from '../model/wrap';
import { onnxruntimeVersion, type ExecutionProvider } from '../model/onnx';
import { nodeTypes } from '../registry/index';
import type { EvalEvent, NodeType, RunServices } from '../registry/node';
import type { ModelValue, NoiseValue, Params, SamplerValue } from '../registry/types';
import { planRun } from './graph';
import { applyOverrides, type Overrides } from './overrides';
import { DEFAULT_BUDGET, type RunBudget } from '../core/budget';
import { RunFolder, isIoError, ioReason, type OutMode } from './files';
import { preflight } from './validate';
import { PIPELINE_KEYWORD, addPngText } from './png';
import { RUN_RECORD_FILE, RUN_RECORD_VERSION, type RunRecord, type SampleRecord } from './record';
import { Trajectory, type TrajectoryOptions } from './trajectory';

export interface RunTrajectoryOptions extends TrajectoryOptions {
  /** Record the trajectory at all (default true). */
  readonly record?: boolean;
}

export interface RunOptions extends Overrides {
  /** Folder of the .dpipe file; relative paths in the pipeline resolve against it. */
  readonly baseDir: string;
  /** The .dpipe file, for the record. */
  readonly file?: string;
  /**
   * Folder to write into (created). Without it nothing is written: outputs stay in memory
   * ({@link RunOutput.bytes}) and trajectory frames past the memory budget go to a temporary folder.
   */
  readonly outDir?: string;
  /**
   * How the output folder is used (see {@link OutMode}): `new` (default) — created, or an existing empty folder;
   * `unique` — a fresh folder (`NAME-2`, … when the name is taken), so two runs never share one; `force` — files of
   * the same name are replaced. Inputs of the run are never written, whatever the mode.
   */
  readonly outMode?: OutMode;
  readonly signal?: AbortSignal;
  /**
   * Trajectory recording. Defaults: 256 MiB in memory; folder `OUT/trajectory`; `persist` (write every frame and
   * the index) when there is an output folder.
   */
  readonly trajectory?: RunTrajectoryOptions;
  /** Opens a model (default: the ONNX model layer). Tests inject closed-form models here. */
  readonly loadModel?: RunServices['loadModel'];
  /** Reads a .npy file (default: from disk). */
  readonly readNpy?: RunServices['readNpy'];
  /** Runtime version for the record when `loadModel` is injected. */
  readonly runtimeVersion?: string;
  /** Node types to run with (default: the engine's registry). */
  readonly nodeTypes?: ReadonlyMap<string, NodeType>;
  /**
   * Memory the run may take (defaults in `core/budget.ts`); a pipeline beyond it is refused before it starts, with
   * the numbers. The trajectory budget applies only when the trajectory is recorded.
   */
  readonly budget?: Partial<RunBudget>;
  // Progress, all optional and synchronous.
  readonly onNodeStart?: (nodeId: string, type: string) => void;
  readonly onSampleStart?: RunServices['onSampleStart'];
  readonly onEval?: (nodeId: string, ev: EvalEvent) => void;
  readonly onStep?: (nodeId: string, ev: StepEvent) => void;
  readonly onOutput?: (out: RunOutput) => void;
  /** A model block produced its model (any kind: model.onnx, model.folder, …). */
  readonly onModel?: (nodeId: string, model: ModelValue) => void;
  /** A note that does not stop the run (also in run.json `warnings`). */
  readonly onWarning?: (nodeId: string, message: string) => void;
  /** Defaults for model blocks left at "auto" (execution provider, CPU fallback, threads). */
  readonly modelDefaults?: RunServices['modelDefaults'];
  /**
   * The initial noise of every Sample block that adds noise, instead of its NOISE input's draw: a standard-normal
   * array of the latent's shape (e.g. another tool's start, read from a .npy file; CLI `--noise`).
   */
  readonly initialNoise?: Latent;
}

export interface RunOutput {
  readonly node: string;
  readonly kind: 'png' | 'npy';
  /** File name inside the output folder. */
  readonly file: string;
  /** Absolute path, when written to disk. */
  readonly path?: string;
  /** The bytes, when the run has no output folder. */
  readonly bytes?: Uint8Array;
}

export interface RunResult {
  readonly status: 'completed' | 'aborted';
  readonly record: RunRecord;
  readonly outDir?: string;
  /** Path of run.json, when written. */
  readonly recordPath?: string;
  readonly outputs: readonly RunOutput[];
  readonly trajectory: Trajectory;
  /** Output values of every evaluated node (e.g. `values.get('sample').latent`). */
  readonly values: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** The E_ABORTED error when stopped. */
  readonly error?: DpipeError;
}

const now = () => performance.now();

async function readNpyFile(absPath: string): Promise<Latent> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.promises.readFile(absPath);
  } catch (e) {
    throw new DpipeError('E_FILE_MISSING', `${absPath} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const a = parseNpy(bytes, absPath);
  return { shape: a.shape, data: a.data };
}

/** The .dpipe text of a pipeline, as the format's stable serializer writes it. */
export function pipelineText(doc: PipelineDoc, types: ReadonlyMap<string, NodeType> = nodeTypes()): string {
  return serializePipeline(doc, { registry: types });
}

/**
 * A copy of `doc` whose relative file parameters resolve from `toDir` as they did from `fromDir`, so the
 * pipeline stored in an image works from the image's folder.
 */
export function rebaseFiles(doc: PipelineDoc, types: ReadonlyMap<string, NodeType>, fromDir: string, toDir: string): PipelineDoc {
  const nodes = doc.nodes.map((n) => {
    const info = types.get(n.type);
    if (!info) return n;
    const params = { ...n.params };
    for (const spec of info.params) {
      const v = params[spec.name];
      if (spec.type !== 'file' || typeof v !== 'string' || v === '' || path.isAbsolute(v)) continue;
      params[spec.name] = path.relative(toDir, path.resolve(fromDir, v)).split(path.sep).join('/');
    }
    return { ...n, params };
  });
  return { ...doc, nodes };
}

interface SampleState {
  rec: SampleRecord;
  start: number;
  evalMark: number;
  stepMark: number;
  stepModelMs: number;
  stepNfe: number;
}

/** Runs a pipeline. See the module comment for what it writes and how it ends. */
export async function runPipeline(doc: PipelineDoc, opts: RunOptions): Promise<RunResult> {
  const types = opts.nodeTypes ?? nodeTypes();
  const baseDir = path.resolve(opts.baseDir);
  const { doc: effective, applied } = applyOverrides(doc, types, opts, baseDir);
  let plan: ReturnType<typeof planRun>;
  try {
    plan = planRun(effective, types);
  } catch (e) {
    if (!(e instanceof DpipeError) || e.problems.length) throw e;
    throw new DpipeError(e.code, e.message, [{ code: e.code, message: e.message, severity: 'error', pointer: effective.nodes.length ? '/nodes' : '' }]);
  }
  const tOpts = opts.trajectory ?? {};
  const recordTrajectory = tOpts.record !== false;
  const budget: RunBudget = {
    memoryBytes: opts.budget?.memoryBytes ?? DEFAULT_BUDGET.memoryBytes,
    trajectoryBytes: recordTrajectory ? (opts.budget?.trajectoryBytes ?? DEFAULT_BUDGET.trajectoryBytes) : 0,
  };
  let usedOnnx = false;
  const loadModel = opts.loadModel ?? (async (params: Params, abs: string) => {
    usedOnnx = true;
    const d = opts.modelDefaults ?? {};
    const auto = params.provider === undefined || params.provider === 'auto';
    return loadOnnxModel(params, abs, {
      threads: d.threads || undefined,
      provider: auto ? (d.provider as ExecutionProvider | undefined) : undefined,
      fallbackToCpu: params.fallbackToCpu === true || d.fallbackToCpu === true,
    });
  });
  const readNpy = opts.readNpy ?? readNpyFile;

  // Everything a run meets before its first model evaluation, before anything is written.
  const kept = { values: new Map<string, Record<string, unknown>>(), ms: new Map<string, number>(), warnings: [] as { node: string; message: string }[] };
  const found = await preflight(effective, {
    baseDir, nodeTypes: types, loadModel, readNpy, batch: opts.batch, seed: opts.seed, budget, signal: opts.signal, modelDefaults: opts.modelDefaults, keep: kept,
  });
  if (found.length) {
    throw new DpipeError(found[0].code, `${found.length === 1 ? found[0].message : `${found.length} problems; first: ${found[0].message}`}`, found);
  }

  const folder = opts.outDir
    ? RunFolder.create(opts.outDir, { mode: opts.outMode ?? 'new', inputs: runInputs(effective, types, baseDir, opts.file) })
    : undefined;
  const outDir = folder?.dir;

  const ownTrajectory = folder !== undefined && tOpts.dir === undefined;
  const trajectory = new Trajectory({
    memoryBytes: tOpts.memoryBytes,
    dir: tOpts.dir ?? (folder ? folder.pathOf(TRAJECTORY_DIR) : undefined),
    persist: recordTrajectory && (tOpts.persist ?? outDir !== undefined),
    write: ownTrajectory ? (name, bytes) => void folder.writeSync(`${TRAJECTORY_DIR}/${name}`, bytes) : undefined,
  });

  const pngDoc = outDir ? rebaseFiles(effective, types, baseDir, outDir) : effective;
  const pngText = { [PIPELINE_KEYWORD]: pipelineText(pngDoc, types) };
  const t0 = now();
  const record: RunRecord = {
    dpipeRunRecord: RUN_RECORD_VERSION,
    dpipeVersion: DPIPE_VERSION,
    status: 'completed',
    file: opts.file ? path.resolve(opts.file) : null,
    baseDir,
    pipeline: effective,
    overrides: applied,
    seeds: [],
    noise: [],
    batch: opts.batch ?? null,
    nfe: 0,
    samples: [],
    models: [],
    warnings: [],
    onnxruntime: null,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    timings: { totalMs: 0, loadMs: 0, sampleMs: 0, modelMs: 0, engineMs: 0, trajectoryMs: 0, outputMs: 0 },
    outputs: [],
    trajectory: null,
    platform: { node: process.version, os: `${os.platform()} ${os.release()}`, arch: os.arch() },
  };

  const outputs: RunOutput[] = [];
  const usedNames = new Set<string>();
  const samples = new Map<string, SampleState>();
  const noise: { node: string; value: NoiseValue }[] = [];

  const services: RunServices = {
    signal: opts.signal,
    batch: opts.batch,
    seed: opts.seed,
    modelDefaults: opts.modelDefaults,
    initialNoise: opts.initialNoise,
    warn(nodeId, message) {
      record.warnings!.push({ node: nodeId, message });
      opts.onWarning?.(nodeId, message);
    },
    budget,
    loadModel,
    readNpy,
    onSampleStart(nodeId, info) {
      const t = now();
      samples.set(nodeId, {
        rec: {
          node: nodeId, sampler: '', shape: [...info.shape], sigmas: Array.from(info.sigmas), steps: info.sigmas.length - 1,
          nfe: 0, expectedNfe: info.nfe, modelMs: 0, engineMs: 0, wallMs: 0, evals: [], stepTimes: [],
        },
        start: t, evalMark: t, stepMark: t, stepModelMs: 0, stepNfe: 0,
      });
      if (recordTrajectory) trajectory.startSample(nodeId, info.shape, info.sigmas);
      opts.onSampleStart?.(nodeId, info);
    },
    onEval(nodeId, ev) {
      const t = now();
      const s = samples.get(nodeId);
      if (!s) throw new DpipeError('E_INTERNAL', `evaluation reported by ${nodeId} before its start`);
      const engineMs = Math.max(0, t - s.evalMark - ev.modelMs);
      s.evalMark = t;
      s.rec.evals.push({ i: record.nfe, step: ev.step, sigma: ev.sigma, role: ev.role, modelMs: ev.modelMs, engineMs });
      s.rec.nfe++;
      s.rec.modelMs += ev.modelMs;
      s.stepModelMs += ev.modelMs;
      s.stepNfe++;
      record.nfe++;
      if (recordTrajectory) {
        const r0 = now();
        trajectory.add(nodeId, ev, engineMs);
        record.timings.trajectoryMs += now() - r0;
      }
      opts.onEval?.(nodeId, ev);
    },
    onStep(nodeId, ev) {
      const t = now();
      const s = samples.get(nodeId);
      if (s) {
        const wallMs = t - s.stepMark;
        s.rec.stepTimes.push({ step: ev.step, sigma: ev.sigma, sigmaNext: ev.sigmaNext, nfe: s.stepNfe, wallMs, modelMs: s.stepModelMs, engineMs: Math.max(0, wallMs - s.stepModelMs) });
        s.stepMark = t;
        s.stepModelMs = 0;
        s.stepNfe = 0;
      }
      opts.onStep?.(nodeId, ev);
    },
    async writeOutput(nodeId, kind, name, data) {
      let file = `${name}.${kind}`;
      if (usedNames.has(file)) file = `${nodeId}-${name}.${kind}`;
      for (let k = 2; usedNames.has(file); k++) file = `${nodeId}-${name}-${k}.${kind}`;
      usedNames.add(file);
      const bytes = kind === 'png' ? addPngText(data, pngText) : data;
      let out: RunOutput;
      if (folder) {
        const abs = await folder.write(file, bytes);
        out = { node: nodeId, kind, file, path: abs };
      } else {
        out = { node: nodeId, kind, file, bytes };
      }
      outputs.push(out);
      record.outputs.push({ node: nodeId, kind, file });
      opts.onOutput?.(out);
      return out.path ?? file;
    },
  };

  const values = new Map<string, Record<string, unknown>>();
  let status: RunResult['status'] = 'completed';
  let abortError: DpipeError | undefined;
  let failure: unknown;
  try {
    for (const step of plan.order) {
      const { node, info } = step;
      if (opts.signal?.aborted) throw new DpipeError('E_ABORTED', `The run was stopped before node "${node.id}".`);
      const type = types.get(node.type)!;
      const inputs: Record<string, unknown> = {};
      for (const [port, src] of step.inputs) {
        const v = values.get(src.node)?.[src.port];
        if (v === undefined) throw new DpipeError('E_INTERNAL', `node "${src.node}" (${byIdType(plan, src.node)}) produced no "${src.port}" for ${node.id}.${port}`);
        inputs[port] = v;
      }
      opts.onNodeStart?.(node.id, node.type);
      const params = paramsWithDefaults(info, node.params);
      const n0 = now();
      let out: Record<string, unknown>;
      let ms: number;
      const pre = kept.values.get(node.id);
      if (pre) {
        // Evaluated by the preflight (no model evaluation, no file written): the same values, not a second encoding.
        out = pre;
        ms = kept.ms.get(node.id) ?? 0;
        for (const w of kept.warnings) if (w.node === node.id) services.warn!(w.node, w.message);
      } else {
        try {
          out = await type.evaluate({ nodeId: node.id, baseDir, services }, inputs, params);
        } catch (e) {
          throw atNode(e, effective, node.id, node.type);
        }
        ms = now() - n0;
      }
      values.set(node.id, out);
      noteNode(record, node.id, info.category, info.outputs, out, inputs, ms, samples, noise, recordTrajectory ? trajectory : undefined);
      for (const port of info.outputs) if (port.type === 'MODEL' && out[port.name]) opts.onModel?.(node.id, out[port.name] as ModelValue);
    }
  } catch (e) {
    if (isAbort(e)) {
      status = 'aborted';
      abortError = e instanceof DpipeError ? e : new DpipeError('E_ABORTED', 'The run was stopped.');
    } else failure = e;
  }

  // Bookkeeping, also for stopped and failed runs.
  for (const s of samples.values()) {
    if (s.rec.wallMs === 0) s.rec.wallMs = now() - s.start;
    s.rec.engineMs = Math.max(0, s.rec.wallMs - s.rec.modelMs);
    if (!record.samples.includes(s.rec)) record.samples.push(s.rec);
  }
  const tm = record.timings;
  tm.sampleMs = record.samples.reduce((a, s) => a + s.wallMs, 0);
  tm.modelMs = record.samples.reduce((a, s) => a + s.modelMs, 0);
  tm.engineMs = Math.max(0, tm.sampleMs - tm.modelMs);
  tm.totalMs = now() - t0;
  for (const n of noise) record.noise.push({ node: n.node, seeds: [...n.value.seeds], describe: n.value.describe });
  record.seeds = record.noise.flatMap((n) => [...n.seeds]);
  record.batch = record.samples[0]?.shape[0] ?? opts.batch ?? null;
  if (usedOnnx || record.models.some((m) => m.provider !== undefined)) record.onnxruntime = onnxruntimeVersion();
  else if (opts.runtimeVersion) record.onnxruntime = opts.runtimeVersion;
  record.finishedAt = new Date().toISOString();
  if (failure !== undefined) {
    record.status = 'failed';
    record.error = failure instanceof DpipeError ? { code: failure.code, message: failure.message } : { code: 'E_INTERNAL', message: String((failure as Error)?.message ?? failure) };
  } else if (status === 'aborted') {
    record.status = 'aborted';
    record.error = { code: 'E_ABORTED', message: abortError!.message };
  }
  let recordPath: string | undefined;
  try {
    if (recordTrajectory) {
      trajectory.close();
      const dir = trajectory.dir;
      record.trajectory = {
        dir: dir ? (outDir && isInside(outDir, dir) ? path.relative(outDir, dir).split(path.sep).join('/') : dir) : null,
        evals: trajectory.evals.length,
        framesInMemory: trajectory.framesInMemory,
        framesOnDisk: trajectory.framesOnDisk,
      };
    }
    if (folder) recordPath = folder.writeSync(RUN_RECORD_FILE, JSON.stringify(record, null, 1) + '\n');
  } catch (e) {
    if (failure === undefined) failure = e;
  }
  if (failure !== undefined) throw folder ? explainWriteFailure(failure, folder, recordPath !== undefined) : failure;
  return { status, record, outDir, recordPath, outputs, trajectory, values, error: abortError };
}

/**
 * A block's run-time error with the block it came from: its id and type in the message, and a problem pointing at
 * the block in the file (the CLI shows its line and column). Stops and errors already placed pass unchanged.
 */
function atNode(e: unknown, doc: PipelineDoc, nodeId: string, type: string): unknown {
  if (!(e instanceof DpipeError) || isAbort(e) || e.problems.length) return e;
  const k = doc.nodes.findIndex((n) => n.id === nodeId);
  const message = e.message.includes(`"${nodeId}"`) ? e.message : `node "${nodeId}" (${type}): ${e.message}`;
  return new DpipeError(e.code, message, [{ code: e.code, message, severity: 'error', nodeId, ...(k >= 0 ? { pointer: `/nodes/${k}` } : {}) }]);
}

/** Name of the trajectory folder inside a run folder. */
const TRAJECTORY_DIR = 'trajectory';

/** The files a run reads: the pipeline, every file parameter, and each model's sidecar (never written by the run). */
export function runInputs(doc: PipelineDoc, types: ReadonlyMap<string, NodeType>, baseDir: string, file?: string): string[] {
  const out = file ? [path.resolve(file)] : [];
  for (const n of doc.nodes) {
    for (const spec of types.get(n.type)?.params ?? []) {
      const v = n.params[spec.name];
      if (spec.type !== 'file' || typeof v !== 'string' || v === '') continue;
      const abs = path.resolve(baseDir, v);
      out.push(abs, `${abs}.json`);
    }
  }
  return out;
}

/**
 * A failed write (full disk, permissions, a file in the way) as one clear E_WRITE error saying what the run
 * wrote and what it did not; other failures unchanged.
 */
function explainWriteFailure(e: unknown, folder: RunFolder, recordWritten: boolean): unknown {
  const write = e instanceof DpipeError && e.code === 'E_WRITE';
  if (!write && !isIoError(e)) return e;
  const what = write ? (e as DpipeError).message : `a file of the run could not be written: ${ioReason(e)}`;
  const missing = recordWritten ? 'that file and any output after it' : `that file, any output after it, and ${RUN_RECORD_FILE}`;
  return new DpipeError('E_WRITE', `${what}. Written in ${folder.dir}: ${folder.summary()}; not written: ${missing}.`);
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function byIdType(plan: ReturnType<typeof planRun>, id: string): string {
  return plan.order.find((p) => p.node.id === id)?.node.type ?? '?';
}

/** Notes what a node produced that the record wants: models, seeds, sample results and timings. */
function noteNode(
  record: RunRecord,
  nodeId: string,
  category: string,
  outPorts: readonly { name: string; type: string }[],
  out: Record<string, unknown>,
  inputs: Record<string, unknown>,
  ms: number,
  samples: Map<string, SampleState>,
  noise: { node: string; value: NoiseValue }[],
  trajectory: Trajectory | undefined,
): void {
  for (const port of outPorts) {
    const v = out[port.name];
    if (port.type === 'MODEL' && v) {
      const m = v as ModelValue;
      record.models.push({
        node: nodeId, path: m.info.path, sha256: m.info.sha256, prediction: m.info.prediction, time: m.info.time,
        ...(m.info.provider ? { provider: m.info.provider } : {}),
        ...(m.info.providerNote ? { providerNote: m.info.providerNote } : {}),
        ...(m.info.folder ? { folder: m.info.folder } : {}),
        ...(m.preview ? { preview: { projection: [...m.preview.projection], bias: [...m.preview.bias], source: m.preview.source } } : {}),
      });
      record.timings.loadMs += ms;
    } else if (port.type === 'NOISE' && v) {
      noise.push({ node: nodeId, value: v as NoiseValue });
    }
  }
  if (category === 'Output') record.timings.outputMs += ms;
  if (category === 'Sample') {
    const s = samples.get(nodeId);
    if (s) {
      s.rec.wallMs = ms;
      s.rec.sampler = (inputs.sampler as SamplerValue | undefined)?.type ?? '';
      record.samples.push(s.rec);
    }
    const x = out.latent as Latent | undefined;
    if (x && trajectory) trajectory.finishSample(nodeId, x);
  }
}
