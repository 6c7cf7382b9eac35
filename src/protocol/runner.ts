/**
 * The messages between the extension host and the runner process (`dist/runner.js`, started with
 * `child_process.fork`, talking over Node's IPC channel). onnxruntime-node's `run()` blocks the thread it runs on,
 * so models never run on the extension host thread; the runner is long-lived and keeps model sessions warm.
 * Both sides validate every message on arrival with {@link validateToRunner} / {@link validateFromRunner}.
 *
 * One run at a time: `run` starts one, `stop` aborts it at the next model evaluation, and the runner always ends a
 * run with exactly one `runFinished`. Previews use a credit of one: after sending `preview` seq n the runner sends
 * no other preview until `previewAck` n arrives, keeping only the newest one meanwhile (older ones are dropped).
 */
import { array, bool, errorInfo, int, literal, logMessage, num, object, optional, previewMessage, str, tagged, type Validator } from './validate';

// ---------------------------------------------------------------------------------------------
// Host → runner

/** Run a pipeline. `text` is the current document text (unsaved edits included). */
export interface RunRequest {
  readonly type: 'run';
  readonly runId: string;
  readonly text: string;
  /** Absolute path of the .dpipe (relative paths inside it resolve against its folder). */
  readonly file: string;
  /** Folder to write into (created; `dpipe-out/<timestamp>/`). */
  readonly outDir: string;
  /** Seed override for this run. */
  readonly seed?: number;
  /** Batch-size override. */
  readonly batch?: number;
  /** Parameter overrides `NODE.PARAM=VALUE` for this run only (recorded in run.json, like the CLI's --set). */
  readonly set?: readonly string[];
  /** onnxruntime intra-op threads (0 = onnxruntime's default). */
  readonly threads: number;
  /** Execution provider for model blocks left at "auto" (`dpipe.executionProvider`); absent: cpu. */
  readonly provider?: string;
  /** Run on the CPU when that provider is not available (`dpipe.executionProviderFallback`). */
  readonly fallbackToCpu?: boolean;
  /** Release the runner's models after this many idle seconds once the run ends (0 or absent: keep them). */
  readonly releaseAfterSeconds?: number;
  /** Least time between previews, ms (0 = no previews). */
  readonly previewIntervalMs: number;
  /** Least time between `progress` messages, ms (default 50; 0 reports every model evaluation). */
  readonly progressIntervalMs?: number;
  /** Memory budget for the kept trajectory (Latent Inspector), MB; 0 keeps none. */
  readonly trajectoryMemoryMB: number;
}

/** Stop run `runId` (ignored when another or no run is active). */
export interface StopRequest {
  readonly type: 'stop';
  readonly runId: string;
}

/** The host has handled preview `seq`; the runner may send the next one. */
export interface RunnerPreviewAck {
  readonly type: 'previewAck';
  readonly runId: string;
  readonly seq: number;
}

/** Health check; the runner answers `pong` with the same id. */
export interface PingRequest {
  readonly type: 'ping';
  readonly id: string;
}

/** Finish the current run's bookkeeping and exit(0). */
export interface ShutdownRequest {
  readonly type: 'shutdown';
}

export type ToRunner = RunRequest | StopRequest | RunnerPreviewAck | PingRequest | ShutdownRequest;

// ---------------------------------------------------------------------------------------------
// Runner → host

/** Sent once after start: the runner is listening. */
export interface RunnerReady {
  readonly type: 'ready';
  readonly pid: number;
  readonly node: string;
}

export interface RunnerPong {
  readonly type: 'pong';
  readonly id: string;
  /** Whether a run is active. */
  readonly busy: boolean;
}

/** The pipeline loaded and the run began; `nfeTotal` is the planned number of model evaluations (0 if unknown). */
export interface RunStarted {
  readonly type: 'runStarted';
  readonly runId: string;
  readonly nfeTotal: number;
}

/** One model evaluation done (throttled by `progressIntervalMs`; the last of each Sample node is always sent). */
export interface RunProgress {
  readonly type: 'progress';
  readonly runId: string;
  readonly nodeId: string;
  readonly index: number;
  readonly step: number;
  readonly sigma: number;
  readonly nfeDone: number;
  readonly nfeTotal: number;
}

/** Predicted x̂0 of a Sample node as a PNG data URI (batch items tiled in a row). */
export interface RunPreview {
  readonly type: 'preview';
  readonly runId: string;
  readonly seq: number;
  readonly nodeId: string;
  readonly index: number;
  readonly step: number;
  readonly sigma: number;
  readonly width: number;
  readonly height: number;
  readonly image: string;
}

export interface RunnerOutput {
  readonly nodeId: string;
  readonly kind: 'png' | 'npy' | 'json';
  readonly path: string;
}

/** The run ended (ok, stopped, or failed). Exactly one per `run`. */
export interface RunFinished {
  readonly type: 'runFinished';
  readonly runId: string;
  readonly ok: boolean;
  readonly stopped: boolean;
  readonly outputs: readonly RunnerOutput[];
  readonly nfe: number;
  readonly ms: number;
  readonly outDir: string;
  /** Error catalog code and message when `ok` is false and not stopped. */
  readonly error?: { readonly code: string; readonly message: string };
  /** When stopped: model evaluations done when the stop request arrived (`nfe` − this ≤ 1 by design). */
  readonly nfeAtStop?: number;
}

/** A line for the host's Output channel. */
export interface RunnerLog {
  readonly type: 'log';
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
}

export type FromRunner = RunnerReady | RunnerPong | RunStarted | RunProgress | RunPreview | RunFinished | RunnerLog;

// ---------------------------------------------------------------------------------------------
// Validators

export const validateToRunner: Validator<ToRunner> = tagged<ToRunner>({
  run: object<RunRequest>({
    type: literal('run'),
    runId: str,
    text: str,
    file: str,
    outDir: str,
    seed: optional(int),
    batch: optional(int),
    set: optional(array(str, 64)),
    threads: int,
    provider: optional(str),
    fallbackToCpu: optional(bool),
    releaseAfterSeconds: optional(num),
    previewIntervalMs: num,
    progressIntervalMs: optional(num),
    trajectoryMemoryMB: num,
  }),
  stop: object<StopRequest>({ type: literal('stop'), runId: str }),
  previewAck: object<RunnerPreviewAck>({ type: literal('previewAck'), runId: str, seq: int }),
  ping: object<PingRequest>({ type: literal('ping'), id: str }),
  shutdown: object<ShutdownRequest>({ type: literal('shutdown') }),
});

export const validateFromRunner: Validator<FromRunner> = tagged<FromRunner>({
  ready: object<RunnerReady>({ type: literal('ready'), pid: int, node: str }),
  pong: object<RunnerPong>({ type: literal('pong'), id: str, busy: bool }),
  runStarted: object<RunStarted>({ type: literal('runStarted'), runId: str, nfeTotal: int }),
  progress: object<RunProgress>({ type: literal('progress'), runId: str, nodeId: str, index: int, step: int, sigma: num, nfeDone: int, nfeTotal: int }),
  preview: previewMessage,
  runFinished: object<RunFinished>({
    type: literal('runFinished'),
    runId: str,
    ok: bool,
    stopped: bool,
    outputs: array(object<RunnerOutput>({ nodeId: str, kind: literal('png', 'npy', 'json'), path: str })),
    nfe: int,
    ms: num,
    outDir: str,
    error: optional(errorInfo),
    nfeAtStop: optional(int),
  }),
  log: logMessage,
});
