/**
 * Run state for the graph: phase and progress, the latest x̂0 preview per Sample node, the outputs per Output
 * node. Kept outside React's tree state so a preview re-renders only the node that shows it. Only the newest
 * preview is kept; it is acknowledged to the host after the browser has painted it (two animation frames), so
 * the host, which sends the next preview only after an ack, never gets ahead of what the webview can draw.
 */
import { useSyncExternalStore } from 'react';
import type { PreviewMessage, RunFinishedMessage, RunOutput, RunPhase, RunStateMessage } from '../../src/protocol/editor';

export interface PreviewView {
  readonly runId: string;
  readonly seq: number;
  readonly index: number;
  readonly step: number;
  readonly sigma: number;
  readonly image: string;
  readonly width: number;
  readonly height: number;
}

export interface OutputsView {
  readonly runId: string;
  readonly files: readonly RunOutput[];
  readonly nfe: number;
  readonly ms: number;
}

export interface RunView {
  readonly phase: RunPhase;
  readonly runId?: string;
  readonly nodeId?: string;
  readonly nfeDone?: number;
  readonly nfeTotal?: number;
  readonly step?: number;
  readonly sigma?: number;
  readonly message?: string;
  readonly previews: Readonly<Record<string, PreviewView>>;
  readonly outputs: Readonly<Record<string, OutputsView>>;
  readonly lastResult?: { readonly ok: boolean; readonly stopped: boolean; readonly nfe: number; readonly ms: number; readonly error?: string; readonly outDir?: string };
}

export type Ack = (runId: string, seq: number) => void;
type Scheduler = (fn: () => void) => void;

const twoFrames: Scheduler = (fn) => requestAnimationFrame(() => requestAnimationFrame(fn));

export class RunStore {
  private view: RunView = { phase: 'idle', previews: {}, outputs: {} };
  private readonly subs = new Set<() => void>();
  private ackPending = false;
  private latest?: PreviewMessage;

  constructor(
    private readonly ack: Ack,
    private readonly schedule: Scheduler = twoFrames,
  ) {}

  get = (): RunView => this.view;

  subscribe = (fn: () => void): (() => void) => {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  };

  private set(v: RunView): void {
    this.view = v;
    for (const fn of this.subs) fn();
  }

  runState(m: RunStateMessage): void {
    const starting = m.phase === 'starting' || (m.phase === 'running' && m.runId !== this.view.runId);
    this.set({
      ...this.view,
      phase: m.phase,
      runId: m.runId ?? this.view.runId,
      nodeId: m.nodeId,
      nfeDone: m.nfeDone,
      nfeTotal: m.nfeTotal,
      step: m.step,
      sigma: m.sigma,
      message: m.message,
      // A new run clears the previous run's pictures.
      previews: starting ? {} : this.view.previews,
      outputs: starting ? {} : this.view.outputs,
      lastResult: starting ? undefined : this.view.lastResult,
    });
  }

  /** Keeps only the newest preview; acknowledges it once painted. */
  preview(m: PreviewMessage): void {
    this.latest = m;
    const p: PreviewView = { runId: m.runId, seq: m.seq, index: m.index, step: m.step, sigma: m.sigma, image: m.image, width: m.width, height: m.height };
    this.set({ ...this.view, runId: m.runId, previews: { ...this.view.previews, [m.nodeId]: p } });
    if (this.ackPending) return;
    this.ackPending = true;
    this.schedule(() => {
      this.ackPending = false;
      const l = this.latest;
      if (l) this.ack(l.runId, l.seq);
    });
  }

  finished(m: RunFinishedMessage): void {
    const outputs: Record<string, OutputsView> = {};
    for (const f of m.outputs) {
      const o = outputs[f.nodeId];
      outputs[f.nodeId] = { runId: m.runId, files: [...(o?.files ?? []), f], nfe: m.nfe, ms: m.ms };
    }
    this.set({
      ...this.view,
      phase: m.ok ? 'done' : m.stopped ? 'stopped' : 'failed',
      outputs,
      lastResult: { ok: m.ok, stopped: m.stopped, nfe: m.nfe, ms: m.ms, error: m.error ? `${m.error.code}: ${m.error.message}` : undefined, outDir: m.outDir },
    });
  }
}

export function useRun<T>(store: RunStore, select: (v: RunView) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.get()));
}

export function isActive(phase: RunPhase): boolean {
  return phase === 'starting' || phase === 'running' || phase === 'stopping';
}
