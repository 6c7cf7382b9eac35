/**
 * The host side of one Latent Inspector panel, without vscode: it owns the panel's {@link TrajectoryReader}s and
 * answers the webview's messages (protocol: src/protocol/inspector.ts). The VS Code panel (`panel.ts`) and the
 * browser tests both drive this same class through {@link SessionIO}, so what the tests check is what the
 * extension does.
 *
 * Work that reads the whole run (stats, compare distances) runs in slices of a few dozen evaluations with a
 * `setImmediate` between them, so the extension host's thread is never held for long and frame requests made
 * meanwhile are answered between slices; partial stats are posted as they come.
 */
import * as path from 'node:path';
import { alignBySigma, alignedDistances, type AlignMode } from '../../src/engine/inspect/align';
import { readReferenceFile } from '../../src/engine/inspect/error';
import { contactSheet, runGif, stepNpy, stepPng } from '../../src/engine/inspect/export';
import type { TrajectoryReader } from '../../src/engine/inspect/reader';
import { logSigmaSteps, rmsDiff, type EvalStats } from '../../src/engine/inspect/stats';
import type { SweepResult } from '../../src/engine/inspect/sweep';
import {
  validateFromInspector,
  type ExportParams,
  type ExportResult,
  type FrameParams,
  type FrameResult,
  type GridView,
  type InspectorCommand,
  type RunInfo,
  type ToInspector,
} from '../../src/protocol/inspector';
import { check } from '../../src/protocol/validate';

export interface SessionIO {
  post(msg: ToInspector): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  /** Writes exported bytes (asking the user where, in VS Code); resolves to the path, or null when cancelled. */
  save(suggestedName: string, bytes: Uint8Array): Promise<string | null>;
  /** Commands the webview asks for (compute reference, sweep, open a file). */
  command?(command: InspectorCommand, run: readonly TrajectoryReader[], filePath?: string): void;
  /** Grid view: open cells (one) or compare them (two). */
  gridCells?(action: 'open' | 'compare', cells: readonly number[]): void;
}

export interface SessionOptions {
  readonly align?: AlignMode;
  /** Evaluations per slice of background work (default 32). */
  readonly slice?: number;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** float32 array → base64 of its little-endian bytes. */
export function f32ToBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function runInfoOf(r: TrajectoryReader): RunInfo {
  const rec = r.record;
  let valueRange: number[] = [-1, 1];
  const img = rec?.pipeline?.nodes?.find((n) => n.type === 'output.image' && Array.isArray(n.params?.valueRange) && (n.params.valueRange as number[]).length === 2);
  if (img) valueRange = [...(img.params.valueRange as number[])];
  const title = rec?.pipeline?.metadata?.title;
  const C = r.samples[0]?.shape[1];
  const pv = rec?.models?.find((m) => m.preview && m.preview.projection.length === 3 * (C ?? 0))?.preview;
  return {
    ...(pv ? { preview: { projection: [...pv.projection], bias: [...pv.bias] } } : {}),
    name: r.name,
    path: r.location.runDir ?? r.location.trajectoryDir,
    title: typeof title === 'string' ? title : undefined,
    samples: r.samples.map((s) => ({ node: s.node, shape: [...s.shape], sigmas: [...s.sigmas], sampler: rec?.samples?.find((x) => x.node === s.node)?.sampler || undefined })),
    evals: r.evals.map((m) => ({
      i: m.i, node: m.node, step: m.step, sigma: m.sigma, ...(m.timestep !== undefined ? { timestep: m.timestep } : {}), role: m.role, planes: r.planesOf(m.i),
    })),
    valueRange,
  };
}

export class InspectorSession {
  private disposed = false;
  private align: AlignMode;
  private readonly slice: number;
  private compareToken = 0;
  private started = false;
  private sweepResult: SweepResult | undefined;
  private gridView: GridView | undefined;

  constructor(
    readonly readers: readonly TrajectoryReader[],
    private readonly io: SessionIO,
    opts: SessionOptions = {},
  ) {
    this.align = opts.align ?? 'nearest';
    this.slice = opts.slice ?? 32;
  }

  dispose(): void {
    this.disposed = true;
    for (const r of this.readers) r.clearCache();
  }

  private post(msg: ToInspector): void {
    if (!this.disposed) this.io.post(msg);
  }

  /** Validates and handles one message from the webview. */
  async receive(raw: unknown): Promise<void> {
    const r = check(validateFromInspector, raw, 'message');
    if (!r.ok) {
      this.io.log('warn', `inspector: dropped an invalid message from the webview: ${r.error}`);
      return;
    }
    const msg = r.value;
    switch (msg.type) {
      case 'ready':
        this.start();
        return;
      case 'log':
        this.io.log(msg.level, `inspector webview: ${msg.message}`);
        return;
      case 'setAlign':
        this.align = msg.mode;
        void this.sendCompare();
        return;
      case 'command':
        this.io.command?.(msg.command, this.readers, msg.path);
        return;
      case 'gridCells': {
        const need = msg.action === 'open' ? 1 : 2;
        const n = this.gridView?.cells.length ?? 0;
        if (msg.cells.length !== need || msg.cells.some((c) => c >= n) || new Set(msg.cells).size !== msg.cells.length) {
          this.io.log('warn', `inspector: dropped gridCells ${msg.action} of cells [${msg.cells.join(', ')}]: ${msg.action} takes ${need} distinct cell${need > 1 ? 's' : ''} of the ${n}`);
          return;
        }
        this.io.gridCells?.(msg.action, msg.cells);
        return;
      }
      case 'request':
        try {
          const result = msg.method === 'frame' ? this.frame(msg.params) : await this.export(msg.params);
          this.post({ type: 'response', id: msg.id, ok: true, result });
        } catch (e) {
          this.post({ type: 'response', id: msg.id, ok: false, error: (e as Error).message });
        }
        return;
    }
  }

  /** Sends init, then stats, compare and reference data as they become available. */
  private start(): void {
    this.started = true;
    this.post({ type: 'init', runs: this.readers.map(runInfoOf), align: this.align });
    if (this.sweepResult) this.post({ type: 'sweep', result: this.sweepResult });
    if (this.gridView) this.post({ type: 'grid', grid: this.gridView });
    this.sendReferences();
    void (async () => {
      for (let k = 0; k < this.readers.length; k++) await this.sendStats(k);
      await this.sendCompare();
    })().catch((e) => this.io.log('error', `inspector: ${(e as Error).message}`));
  }

  /** Shows a sweep result (a sweep panel has no runs). */
  postSweep(result: SweepResult): void {
    this.sweepResult = result;
    if (this.started) this.post({ type: 'sweep', result });
  }

  /** Shows a grid (a grid panel has no runs; its cells open in panels of their own). */
  postGrid(view: GridView): void {
    this.gridView = view;
    if (this.started) this.post({ type: 'grid', grid: view });
  }

  /** Posts reference.json errors of each run folder that has one. */
  sendReferences(): void {
    this.readers.forEach((r, run) => {
      const dir = r.location.runDir;
      const file = dir ? readReferenceFile(dir) : undefined;
      if (file) this.post({ type: 'reference', run, errors: file.errors });
    });
  }

  private async sendStats(run: number): Promise<void> {
    const r = this.readers[run];
    const n = r.length;
    const st: EvalStats = { xNorm: [], denoisedNorm: [], dDenoised: [], dLogSigma: logSigmaSteps(r.evals) };
    let prev: Float32Array | undefined;
    let lastPost = 0;
    for (let i = 0; i < n; i++) {
      if (this.disposed) return;
      const m = r.evals[i];
      const x = r.plane(i, 'x', { cache: false });
      const d = r.plane(i, 'denoised', { cache: false });
      st.xNorm.push(rmsDiff(x));
      st.denoisedNorm.push(rmsDiff(d));
      st.dDenoised.push(prev && r.evals[i - 1].node === m.node ? rmsDiff(d, prev) : null);
      prev = d;
      if ((i + 1) % this.slice === 0 && i + 1 < n) {
        if (i + 1 - lastPost >= 8 * this.slice) {
          this.post({ type: 'stats', run, stats: st, done: i + 1 });
          lastPost = i + 1;
        }
        await tick();
      }
    }
    this.post({ type: 'stats', run, stats: st, done: n });
  }

  private async sendCompare(): Promise<void> {
    if (this.readers.length < 2) return;
    const token = ++this.compareToken;
    const [A, B] = this.readers;
    const pairs = alignBySigma(A.evals.map((m) => m.sigma), B.evals.map((m) => m.sigma), this.align);
    const distance: (number | null)[] = [];
    for (let k = 0; k < pairs.length; k += this.slice) {
      if (this.disposed || token !== this.compareToken) return;
      const part = pairs.slice(k, k + this.slice);
      try {
        distance.push(...alignedDistances(part, (i) => A.plane(i, 'denoised', { cache: false }), (j) => B.plane(j, 'denoised', { cache: false })));
      } catch (e) {
        this.post({ type: 'notice', level: 'error', text: `Cannot compare: ${(e as Error).message}` });
        return;
      }
      await tick();
    }
    this.post({ type: 'compare', mode: this.align, pairs, distance });
  }

  private frame(p: FrameParams): FrameResult {
    const r = this.reader(p.run);
    const planes: Record<string, string> = {};
    for (const name of p.planes) planes[name] = f32ToBase64(r.plane(p.i, name));
    return { run: p.run, i: p.i, shape: [...r.shapeOf(p.i)], planes };
  }

  private async export(p: ExportParams): Promise<ExportResult> {
    const r = this.reader(p.run);
    const base = r.name.replace(/[^A-Za-z0-9._-]+/g, '_');
    const opts = { plane: p.plane, item: p.item, view: p.view, zoom: p.zoom };
    const need = (): number => {
      if (p.i === undefined) throw new Error(`export ${p.kind} needs an evaluation number`);
      return p.i;
    };
    let name: string;
    let bytes: Uint8Array;
    switch (p.kind) {
      case 'png':
        name = `${base}-e${need()}-${p.plane}.png`;
        bytes = stepPng(r, need(), opts);
        break;
      case 'npy':
        name = `${base}-e${need()}-${p.plane}.npy`;
        bytes = stepNpy(r, need(), p.plane);
        break;
      case 'gif':
        name = `${base}-${p.plane}.gif`;
        bytes = runGif(r, opts);
        break;
      case 'contact':
        name = `${base}-${p.plane}-sheet.png`;
        bytes = contactSheet(r, opts);
        break;
    }
    const written = await this.io.save(path.basename(name), bytes);
    if (written) this.io.log('info', `inspector: exported ${written}`);
    return { path: written };
  }

  private reader(run: number): TrajectoryReader {
    const r = this.readers[run];
    if (!r) throw new Error(`run ${run} is not open in this panel (it has ${this.readers.length})`);
    return r;
  }
}
