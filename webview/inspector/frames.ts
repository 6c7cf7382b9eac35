/**
 * Frames on demand, with bounded memory: the webview asks for the evaluation the user is looking at; at most ONE
 * frame request per run is in flight. While it is, further wishes only replace the "wanted" frame — so when the
 * user scrubs fast, intermediate frames are never requested (stale wishes are dropped, not queued), and when the
 * answer comes the latest wish is requested next. Decoded frames live in a small LRU (default 48 frames).
 */
import { validateFrameResult, type FrameResult } from '../../src/protocol/inspector';
import { check } from '../../src/protocol/validate';

export interface Frame {
  readonly run: number;
  readonly i: number;
  readonly shape: readonly number[];
  readonly planes: Readonly<Record<string, Float32Array>>;
}

export type FetchFrame = (run: number, i: number, planes: readonly string[]) => Promise<FrameResult>;

export function base64ToF32(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
  return new Float32Array(bytes.buffer, 0, bytes.length >> 2);
}

interface Want {
  readonly i: number;
  readonly planes: readonly string[];
}

export class FrameStore {
  private readonly cache = new Map<string, Frame>();
  private readonly inFlight = new Map<number, boolean>();
  private readonly wanted = new Map<number, Want>();
  private readonly listeners = new Set<() => void>();
  /** Requests sent, for tests and the status line. */
  requests = 0;
  errors = 0;
  lastError: string | undefined;

  constructor(
    private readonly fetch: FetchFrame,
    readonly capacity = 48,
  ) {}

  private key(run: number, i: number): string {
    return `${run}/${i}`;
  }

  /** The frame if cached with every plane asked for. */
  get(run: number, i: number, planes: readonly string[]): Frame | undefined {
    const f = this.cache.get(this.key(run, i));
    if (!f || !planes.every((p) => f.planes[p])) return undefined;
    this.cache.delete(this.key(run, i));
    this.cache.set(this.key(run, i), f);
    return f;
  }

  get size(): number {
    return this.cache.size;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Asks for frame i of a run; returns it at once when cached. */
  want(run: number, i: number, planes: readonly string[]): Frame | undefined {
    const hit = this.get(run, i, planes);
    if (hit) return hit;
    this.wanted.set(run, { i, planes });
    if (!this.inFlight.get(run)) this.pump(run);
    return undefined;
  }

  private pump(run: number): void {
    const w = this.wanted.get(run);
    if (!w) return;
    this.wanted.delete(run);
    if (this.get(run, w.i, w.planes)) {
      this.emit();
      return;
    }
    this.inFlight.set(run, true);
    this.requests++;
    this.fetch(run, w.i, w.planes)
      .then((res) => {
        const ok = check(validateFrameResult, res, 'frame');
        if (!ok.ok) throw new Error(ok.error);
        const planes: Record<string, Float32Array> = { ...(this.cache.get(this.key(run, res.i))?.planes ?? {}) };
        for (const [name, b64] of Object.entries(res.planes)) planes[name] = base64ToF32(b64);
        this.cache.delete(this.key(run, res.i));
        this.cache.set(this.key(run, res.i), { run, i: res.i, shape: res.shape, planes });
        while (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
      })
      .catch((e: Error) => {
        this.errors++;
        this.lastError = e.message;
      })
      .finally(() => {
        this.inFlight.set(run, false);
        this.emit();
        this.pump(run);
      });
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }
}
