/**
 * The runner's logic, apart from the process plumbing in `main.ts`: runs one pipeline at a time with the engine's
 * `runPipeline`, turns its per-evaluation hook into throttled `progress` messages and credit-limited `preview`
 * messages (at most one unacknowledged preview; newer evaluations replace the waiting one, so previews never
 * queue), stops at the next model evaluation on `stop`, and always ends a run with exactly one `runFinished`.
 * Model sessions stay cached in the engine's onnxruntime adapter between runs, so later runs start warm.
 */
import * as path from 'node:path';
import { DpipeError, isAbort } from '../../src/engine/core/errors';
import type { Latent } from '../../src/engine/core/types';
import { hasErrors, loadPipeline } from '../../src/engine/format';
import { gridRgba, renderItem, rgbaToRgb, type ViewOptions } from '../../src/engine/inspect/render';
import { releaseIdle } from '../../src/engine/model/onnx';
import { decodePreview } from '../../src/engine/vae/preview';
import type { EvalEvent } from '../../src/engine/registry/node';
import type { LatentPreview, ModelValue } from '../../src/engine/registry/types';
import { runPipeline } from '../../src/engine/run';
import { isIoError } from '../../src/engine/run/files';
import { encodePng, type Image8 } from '../../src/engine/run/png';
import type { FromRunner, RunFinished, RunnerOutput, RunRequest, ToRunner } from '../../src/protocol';

/** Largest preview side, pixels; bigger grids are subsampled (the preview is a glance, not the output). */
const MAX_PREVIEW_SIDE = 512;
const DEFAULT_PROGRESS_INTERVAL_MS = 50;
const DEFAULT_VALUE_RANGE: readonly [number, number] = [-1, 1];

interface Active {
  readonly req: RunRequest;
  readonly abort: AbortController;
  nfeDone: number;
  nfePlannedBefore: number;
  nfeCurrentSample: number;
  nfeAtStop?: number;
  lastProgressAt: number;
  lastPreviewAt: number;
  previewSeq: number;
  awaitingAck: number | undefined;
  pending: { nodeId: string; ev: PreviewSource } | undefined;
  valueRange: readonly [number, number] | undefined;
  preview?: Pick<LatentPreview, 'projection' | 'bias'>;
  /** A model's small preview decoder (TAESD-style): previews are decoded images instead of projected latents. */
  previewDecoder?: NonNullable<ModelValue['previewDecoder']>;
}

interface PreviewSource {
  readonly index: number;
  readonly step: number;
  readonly sigma: number;
  readonly denoised: Latent;
}

export class RunnerCore {
  private active: Active | undefined;

  constructor(private readonly send: (m: FromRunner) => void) {}

  get busy(): boolean {
    return this.active !== undefined;
  }

  handle(msg: ToRunner): void {
    switch (msg.type) {
      case 'run':
        if (this.active) {
          this.send({ type: 'log', level: 'error', message: `run ${msg.runId} refused: run ${this.active.req.runId} is in progress` });
          this.send(failed(msg, 'E_INTERNAL', `another run (${this.active.req.runId}) is in progress`));
          return;
        }
        void this.run(msg);
        return;
      case 'stop':
        if (this.active && this.active.req.runId === msg.runId && !this.active.abort.signal.aborted) {
          this.active.nfeAtStop = this.active.nfeDone;
          this.active.abort.abort();
        }
        return;
      case 'previewAck': {
        const a = this.active;
        if (!a || a.req.runId !== msg.runId || a.awaitingAck !== msg.seq) return;
        a.awaitingAck = undefined;
        if (a.pending && Date.now() - a.lastPreviewAt >= a.req.previewIntervalMs) this.flushPreview(a);
        return;
      }
      case 'ping':
        this.send({ type: 'pong', id: msg.id, busy: this.busy });
        return;
      case 'shutdown':
        return; // main.ts exits
    }
  }

  /** Stops the active run (host went away); resolves when it has ended. */
  abortActive(): void {
    this.active?.abort.abort();
  }

  private async run(req: RunRequest): Promise<void> {
    const a: Active = {
      req,
      abort: new AbortController(),
      nfeDone: 0,
      nfePlannedBefore: 0,
      nfeCurrentSample: 0,
      lastProgressAt: 0,
      lastPreviewAt: 0,
      previewSeq: 0,
      awaitingAck: undefined,
      pending: undefined,
      valueRange: undefined,
    };
    this.active = a;
    const t0 = Date.now();
    const progressEvery = req.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    let result: RunFinished;
    try {
      const baseDir = path.dirname(req.file);
      const loaded = loadPipeline(req.text, { file: req.file, baseDir });
      if (!loaded.doc || hasErrors(loaded.problems)) {
        const errors = loaded.problems.filter((p) => p.severity === 'error');
        const first = errors[0];
        throw new DpipeError(first?.code ?? 'E_FORMAT', `${errors.length} problem${errors.length === 1 ? '' : 's'} in the pipeline${first ? `; first: ${first.message}` : ''}`);
      }
      this.send({ type: 'runStarted', runId: req.runId, nfeTotal: 0 });
      const r = await runPipeline(loaded.doc, {
        baseDir,
        file: req.file,
        outDir: req.outDir,
        outMode: 'unique',
        seed: req.seed,
        batch: req.batch,
        set: req.set,
        signal: a.abort.signal,
        trajectory: req.trajectoryMemoryMB > 0 ? { memoryBytes: req.trajectoryMemoryMB * 1024 * 1024 } : { record: false },
        modelDefaults: { threads: req.threads > 0 ? req.threads : undefined, provider: req.provider, fallbackToCpu: req.fallbackToCpu },
        onWarning: (nodeId, message) => this.send({ type: 'log', level: 'warn', message: `${nodeId}: ${message}` }),
        onModel: (_nodeId, m) => {
          a.valueRange ??= m.valueRange;
          a.preview ??= m.preview;
          a.previewDecoder ??= m.previewDecoder;
        },
        onSampleStart: (_nodeId, info) => {
          a.nfePlannedBefore += a.nfeCurrentSample;
          a.nfeCurrentSample = info.nfe;
        },
        onEval: (nodeId, ev) => this.onEval(a, nodeId, ev, progressEvery),
      });
      if (a.pending) this.flushPreview(a, true);
      const outputs: RunnerOutput[] = r.outputs.filter((o) => o.path).map((o) => ({ nodeId: o.node, kind: o.kind, path: o.path! }));
      if (r.recordPath) outputs.push({ nodeId: '', kind: 'json', path: r.recordPath });
      const stopped = r.status === 'aborted';
      result = { type: 'runFinished', runId: req.runId, ok: !stopped, stopped, outputs, nfe: r.record.nfe, ms: Date.now() - t0, outDir: r.outDir ?? req.outDir, nfeAtStop: stopped ? a.nfeAtStop : undefined };
    } catch (e) {
      const stopped = isAbort(e);
      // A file the system would not write (full disk, permissions) is the environment, not a bug.
      const code = e instanceof DpipeError ? e.code : isIoError(e) ? 'E_WRITE' : 'E_INTERNAL';
      const message = e instanceof Error ? e.message : String(e);
      if (!(e instanceof DpipeError) && !stopped) this.send({ type: 'log', level: 'error', message: `run ${req.runId}: ${(e as Error)?.stack ?? message}` });
      result = {
        ...failed(req, code, message),
        stopped,
        error: stopped ? undefined : { code, message },
        nfe: a.nfeDone,
        ms: Date.now() - t0,
        nfeAtStop: stopped ? a.nfeAtStop : undefined,
      };
    }
    this.active = undefined;
    this.send(result);
    this.scheduleRelease(req.releaseAfterSeconds ?? 0);
  }

  private releaseTimer: NodeJS.Timeout | undefined;

  /** After `seconds` without a run, release every model session (their memory goes back to the system). */
  private scheduleRelease(seconds: number): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    if (!(seconds > 0)) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      if (this.active) return;
      const n = releaseIdle(seconds * 1000);
      if (n) this.send({ type: 'log', level: 'info', message: `released ${n} idle model session${n === 1 ? '' : 's'} after ${seconds} s` });
    }, seconds * 1000 + 50);
    this.releaseTimer.unref();
  }

  private onEval(a: Active, nodeId: string, ev: EvalEvent, progressEvery: number): void {
    a.nfeDone++;
    const now = Date.now();
    const lastOfSample = ev.index + 1 >= a.nfeCurrentSample;
    if (progressEvery <= 0 || lastOfSample || now - a.lastProgressAt >= progressEvery) {
      a.lastProgressAt = now;
      this.send({
        type: 'progress',
        runId: a.req.runId,
        nodeId,
        index: ev.index,
        step: ev.step,
        sigma: ev.sigma,
        nfeDone: a.nfeDone,
        nfeTotal: Math.max(a.nfeDone, a.nfePlannedBefore + a.nfeCurrentSample),
      });
    }
    if (a.req.previewIntervalMs <= 0) return;
    // Keep a reference only (no copy, no encoding): most of these are replaced before they are sent.
    a.pending = { nodeId, ev: { index: ev.index, step: ev.step, sigma: ev.sigma, denoised: ev.denoised } };
    if (a.awaitingAck === undefined && (now - a.lastPreviewAt >= a.req.previewIntervalMs || lastOfSample)) this.flushPreview(a);
  }

  /** Encodes and sends the waiting preview (unless one is unacknowledged, or `force`). */
  private flushPreview(a: Active, force = false): void {
    const p = a.pending;
    if (!p || (a.awaitingAck !== undefined && !force)) return;
    a.pending = undefined;
    if (a.previewDecoder) {
      // Decoded through the model's preview decoder: asynchronous, counted as unacknowledged until sent.
      const seq = ++a.previewSeq;
      a.awaitingAck = seq;
      a.lastPreviewAt = Date.now();
      void decodePreview(a.previewDecoder, p.ev.denoised, a.abort.signal).then(
        (img) => this.sendPreview(a, p, seq, previewImage(img, [-1, 1])),
        (e: unknown) => {
          this.send({ type: 'log', level: 'debug', message: `no preview: ${(e as Error).message}` });
          if (a.awaitingAck === seq) a.awaitingAck = undefined;
        },
      );
      return;
    }
    let img: Image8 | undefined;
    try {
      img = previewImage(p.ev.denoised, a.valueRange ?? DEFAULT_VALUE_RANGE, a.preview);
    } catch (e) {
      this.send({ type: 'log', level: 'debug', message: `no preview: ${(e as Error).message}` });
    }
    if (!img) return;
    const seq = ++a.previewSeq;
    a.awaitingAck = seq;
    a.lastPreviewAt = Date.now();
    this.sendPreview(a, p, seq, img);
  }

  private sendPreview(a: Active, p: { nodeId: string; ev: PreviewSource }, seq: number, img: Image8 | undefined): void {
    if (!img) {
      if (a.awaitingAck === seq) a.awaitingAck = undefined;
      return;
    }
    const png = encodePng(img);
    this.send({
      type: 'preview',
      runId: a.req.runId,
      seq,
      nodeId: p.nodeId,
      index: p.ev.index,
      step: p.ev.step,
      sigma: p.ev.sigma,
      width: img.width,
      height: img.height,
      image: `data:image/png;base64,${Buffer.from(png).toString('base64')}`,
    });
  }
}

/**
 * x̂0 of a [B, C, H, W] batch as one row of images, drawn by the inspector's renderer (`renderItem`, channels
 * "auto"): 1 or 3 channels as gray/RGB, other channel counts through the model's latent → RGB view when it has one
 * (a model folder's fitted projection), else their first three channels — exactly as the Latent Inspector shows the
 * same latent. Undefined for latents that are not image-shaped.
 */
export function previewImage(x: Latent, valueRange: readonly [number, number], preview?: Pick<LatentPreview, 'projection' | 'bias'>): Image8 | undefined {
  if (x.shape.length !== 4) return undefined;
  const view: ViewOptions = { channels: 'auto', projection: preview?.projection, bias: preview?.bias, range: { mode: 'fixed', lo: valueRange[0], hi: valueRange[1] } };
  const B = x.shape[0];
  const row = gridRgba(Array.from({ length: B }, (_, b) => renderItem(x.data, x.shape, b, view)), B, B > 1 ? 2 : 0);
  const grid: Image8 = { width: row.width, height: row.height, channels: 3, data: rgbaToRgb(row) };
  return shrink(grid, MAX_PREVIEW_SIDE);
}

/** Nearest-neighbour subsampling so that neither side exceeds `max`. */
export function shrink(img: Image8, max: number): Image8 {
  const f = Math.ceil(Math.max(img.width, img.height) / max);
  if (f <= 1) return img;
  const w = Math.floor(img.width / f);
  const h = Math.floor(img.height / f);
  const c = img.channels;
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = ((y * f) * img.width + x * f) * c;
      const dst = (y * w + x) * c;
      for (let k = 0; k < c; k++) data[dst + k] = img.data[src + k];
    }
  }
  return { width: w, height: h, channels: c, data };
}

function failed(req: RunRequest, code: string, message: string): RunFinished {
  return { type: 'runFinished', runId: req.runId, ok: false, stopped: false, outputs: [], nfe: 0, ms: 0, outDir: req.outDir, error: { code, message } };
}
