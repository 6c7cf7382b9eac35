/**
 * Request/response bookkeeping shared by every side of the protocol. A request gets a fresh id, a timer, and an
 * entry in a map; the entry leaves the map when the response arrives, when the timer fires (the promise rejects
 * with a {@link RequestTimeoutError}), or when the tracker is disposed (the webview/runner went away). Nothing is
 * ever left pending: `pendingCount` is 0 after every one of those paths, and tests assert it.
 */

export class RequestTimeoutError extends Error {
  constructor(readonly method: string, readonly ms: number) {
    super(`request ${method} got no answer within ${ms} ms`);
    this.name = 'RequestTimeoutError';
  }
}

export class RequestCancelledError extends Error {
  constructor(readonly method: string, reason: string) {
    super(`request ${method} cancelled: ${reason}`);
    this.name = 'RequestCancelledError';
  }
}

/** The answer to a request, as it travels (see `response` messages in editor.ts/runner.ts). */
export type ResponseBody = { readonly id: string; readonly ok: true; readonly result?: unknown } | { readonly id: string; readonly ok: false; readonly error: string };

interface Pending {
  readonly method: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export interface RequestTrackerOptions {
  /** Default timeout per request, ms. Default 30 000. */
  readonly timeoutMs?: number;
  /** Prefix of generated ids (to tell sides apart in logs). Default 'r'. */
  readonly idPrefix?: string;
}

export class RequestTracker {
  private readonly pending = new Map<string, Pending>();
  private next = 1;
  private disposed = false;
  private readonly timeoutMs: number;
  private readonly idPrefix: string;

  constructor(opts: RequestTrackerOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.idPrefix = opts.idPrefix ?? 'r';
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Starts a request: calls `send(id)` to put it on the wire and returns a promise of its result.
   * If `send` throws, the request is cleaned up and the promise rejects with that error.
   */
  start<R = unknown>(method: string, send: (id: string) => void, timeoutMs = this.timeoutMs): Promise<R> {
    if (this.disposed) return Promise.reject(new RequestCancelledError(method, 'the channel is closed'));
    const id = `${this.idPrefix}${this.next++}`;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new RequestTimeoutError(method, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        send(id);
      } catch (e) {
        this.settle(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Delivers a response. Returns false when no request with that id is pending (late or unknown answer). */
  resolve(res: ResponseBody): boolean {
    const p = this.settle(res.id);
    if (!p) return false;
    if (res.ok) p.resolve(res.result);
    else p.reject(new Error(res.error));
    return true;
  }

  /** Rejects every pending request (the other side went away) and refuses new ones. */
  dispose(reason = 'the channel closed'): void {
    this.disposed = true;
    this.cancelAll(reason);
  }

  /** Rejects every pending request but keeps accepting new ones (the other side restarted). */
  cancelAll(reason: string): void {
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      p.reject(new RequestCancelledError(p.method, reason));
    }
  }

  private settle(id: string): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(id);
    return p;
  }
}
