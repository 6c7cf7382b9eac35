/**
 * Batching model calls across runs that share a process: the cells of a grid (`engine/grid`) run side by side,
 * each in a *lane*, and their model calls meet here. All lanes use the one warm onnxruntime session per model file
 * that `onnx.ts` caches; while every open lane is waiting for the model, the calls pending on the same session
 * whose inputs have the same item shape are concatenated along the batch axis into one call, and its outputs are
 * split back to the lanes, row for row.
 *
 * A call joins a batch only when the model's batch is dynamic: every input and every output is declared with a
 * symbolic or unknown first dimension, every tensor fed has rank ≥ 1 with the same first dimension, and the lanes
 * ask for the same outputs. Anything else (a fixed batch, a scalar time input) runs as its own call, unchanged.
 *
 * Rounds: a flush happens when each open lane has a call pending, so lanes advance together, one model call each
 * per round (a lane that finishes its work closes and stops being waited for). Cells with different step counts
 * share calls while both run. Results do not depend on how calls were grouped as long as the runtime computes each
 * batch item independently of the others, which onnxruntime's CPU kernels do (convolutions loop over images;
 * matrix products split rows and columns across threads, never the reduction), so a batched cell is bit for bit
 * the cell run alone; `test/grid/batch.test.ts` checks exactly that on the demo UNet.
 */
import { DpipeError } from '../core/errors';
import type { OnnxSession, Tensor } from './onnx';

/** Counters of one batcher: model calls made, lane requests they served, and batch rows. */
export interface BatchStats {
  /** Calls sent to onnxruntime. */
  readonly calls: number;
  /** Lane requests served (calls the lanes made). */
  readonly requests: number;
  /** Calls that combined more than one lane request. */
  readonly batchedCalls: number;
  /** Most lane requests combined into one call. */
  readonly maxRequestsPerCall: number;
}

interface Request {
  readonly lane: number;
  readonly session: OnnxSession;
  readonly feeds: Readonly<Record<string, Tensor>>;
  readonly outputs: readonly string[];
  readonly signal?: AbortSignal;
  readonly resolve: (out: Record<string, Tensor>) => void;
  readonly reject: (e: unknown) => void;
}

/** One run's access to the batcher: route its sessions through {@link Lane.session}, and close it when done. */
export interface Lane {
  readonly id: number;
  /** The session as this lane sees it: same model, calls batched with the other lanes'. */
  session(s: OnnxSession): OnnxSession;
  /** Ends the lane (idempotent); the other lanes stop waiting for it. */
  close(): void;
}

type TypedArray = Tensor['data'];

function concat(parts: readonly TypedArray[]): TypedArray {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const Ctor = parts[0].constructor as new (n: number) => TypedArray;
  const out = new Ctor(total);
  let off = 0;
  for (const p of parts) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p as ArrayLike<unknown>, off);
    off += p.length;
  }
  return out;
}

/** The batch rows of a request, or undefined when its feeds cannot join a batch. */
function rowsOf(r: Request): number | undefined {
  let rows: number | undefined;
  for (const [name, t] of Object.entries(r.feeds)) {
    const info = r.session.io.inputs.find((i) => i.name === name);
    const d0 = info?.shape[0];
    if (!info || info.shape.length === 0 || !(typeof d0 === 'string' || d0 === -1)) return undefined;
    if (t.dims.length === 0) return undefined;
    if (rows === undefined) rows = t.dims[0];
    else if (t.dims[0] !== rows) return undefined;
  }
  for (const o of r.outputs) {
    const info = r.session.io.outputs.find((i) => i.name === o);
    const d0 = info?.shape[0];
    if (!info || !(typeof d0 === 'string' || d0 === -1)) return undefined;
  }
  return rows;
}

/** Requests with equal keys may share a call: same session, same outputs, same item shapes and element types. */
function keyOf(r: Request): string {
  const feeds = Object.keys(r.feeds).sort().map((k) => `${k}:${r.feeds[k].type}[${r.feeds[k].dims.slice(1).join(',')}]`);
  return `${r.session.path}|${r.session.sessionId}|${r.outputs.join(',')}|${feeds.join(';')}`;
}

export class CallBatcher {
  private nextLane = 0;
  private readonly open = new Set<number>();
  private readonly pending: Request[] = [];
  private readonly pendingByLane = new Map<number, number>();
  private flushing = false;
  private counters = { calls: 0, requests: 0, batchedCalls: 0, maxRequestsPerCall: 0 };

  /** Opens a lane; every lane that is open and has no call pending holds back the next round. */
  lane(): Lane {
    const id = this.nextLane++;
    this.open.add(id);
    return {
      id,
      session: (s) => ({
        path: s.path,
        io: s.io,
        fileStamp: s.fileStamp,
        sessionId: s.sessionId,
        provider: s.provider,
        providerNote: s.providerNote,
        run: (feeds, outputNames, signal) => this.request(id, s, feeds, outputNames ?? s.io.outputs.map((o) => o.name), signal),
      }),
      close: () => {
        if (this.open.delete(id)) this.maybeFlush();
      },
    };
  }

  stats(): BatchStats {
    return { ...this.counters };
  }

  private request(lane: number, session: OnnxSession, feeds: Readonly<Record<string, Tensor>>, outputs: readonly string[], signal?: AbortSignal): Promise<Record<string, Tensor>> {
    if (signal?.aborted) return Promise.reject(new DpipeError('E_ABORTED', 'The run was stopped.'));
    if (!this.open.has(lane)) return Promise.reject(new DpipeError('E_INTERNAL', `model call on closed batch lane ${lane}`));
    return new Promise((resolve, reject) => {
      this.pending.push({ lane, session, feeds, outputs, signal, resolve, reject });
      this.pendingByLane.set(lane, (this.pendingByLane.get(lane) ?? 0) + 1);
      this.maybeFlush();
    });
  }

  private maybeFlush(): void {
    if (this.flushing || this.pending.length === 0) return;
    for (const id of this.open) if (!this.pendingByLane.get(id)) return;
    const round = this.pending.splice(0);
    this.flushing = true;
    void this.runRound(round).finally(() => {
      this.flushing = false;
      this.maybeFlush();
    });
  }

  private settle(r: Request, ok: boolean, value: unknown): void {
    this.pendingByLane.set(r.lane, (this.pendingByLane.get(r.lane) ?? 1) - 1);
    this.counters.requests++;
    if (ok) r.resolve(value as Record<string, Tensor>);
    else r.reject(value);
  }

  private async runAlone(r: Request): Promise<void> {
    try {
      this.counters.calls++;
      this.settle(r, true, await r.session.run(r.feeds, r.outputs, r.signal));
    } catch (e) {
      this.settle(r, false, e);
    }
  }

  /** One round: groups of compatible requests become one call each; groups run one after another. */
  private async runRound(round: Request[]): Promise<void> {
    const groups = new Map<string, { req: Request; rows: number }[]>();
    const alone: Request[] = [];
    for (const r of round) {
      const rows = rowsOf(r);
      if (rows === undefined) {
        alone.push(r);
        continue;
      }
      const k = keyOf(r);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push({ req: r, rows });
    }
    for (const r of alone) await this.runAlone(r);
    for (const g of groups.values()) {
      if (g.length === 1) {
        await this.runAlone(g[0].req);
        continue;
      }
      const first = g[0].req;
      const total = g.reduce((a, x) => a + x.rows, 0);
      const feeds: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(first.feeds)) {
        feeds[name] = { type: t.type, dims: [total, ...t.dims.slice(1)], data: concat(g.map((x) => x.req.feeds[name].data)) };
      }
      let out: Record<string, Tensor>;
      try {
        this.counters.calls++;
        out = await first.session.run(feeds, first.outputs);
      } catch {
        // Attribute the failure: each request again on its own, so each lane gets its own result or error.
        this.counters.calls--;
        for (const x of g) await this.runAlone(x.req);
        continue;
      }
      this.counters.batchedCalls++;
      this.counters.maxRequestsPerCall = Math.max(this.counters.maxRequestsPerCall, g.length);
      let split: Record<string, Tensor>[];
      try {
        let row = 0;
        split = g.map((x) => {
          const part: Record<string, Tensor> = {};
          for (const name of first.outputs) {
            const t = out[name];
            if (t.dims[0] !== total) throw new DpipeError('E_SHAPE', `${first.session.path}: output "${name}" has ${t.dims[0]} rows for a batch of ${total}`);
            const per = t.data.length / total;
            part[name] = { type: t.type, dims: [x.rows, ...t.dims.slice(1)], data: t.data.slice(row * per, (row + x.rows) * per) };
          }
          row += x.rows;
          return part;
        });
      } catch (e) {
        for (const x of g) this.settle(x.req, false, e);
        continue;
      }
      g.forEach((x, i) => this.settle(x.req, true, split[i]));
    }
  }
}
