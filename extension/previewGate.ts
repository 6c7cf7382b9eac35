/**
 * Keeps previews from queueing in front of a slow webview: at most one preview in flight; a preview that arrives
 * while one is in flight replaces the waiting one (the older is dropped). The in-flight slot frees on `ack`, or
 * after `staleMs` (a hidden or reloading webview never acks). Pure; the editor session owns one per webview.
 */
export class PreviewGate<P extends { readonly runId: string; readonly seq: number }> {
  private inFlight: { runId: string; seq: number; at: number } | undefined;
  private waiting: P | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Previews replaced before they were sent. */
  dropped = 0;
  sent = 0;

  constructor(
    private readonly send: (p: P) => void,
    private readonly staleMs = 2000,
  ) {}

  offer(p: P): void {
    if (this.inFlight) {
      if (this.waiting) this.dropped++;
      this.waiting = p;
      return;
    }
    this.dispatch(p);
  }

  ack(runId: string, seq: number): void {
    if (!this.inFlight || this.inFlight.runId !== runId || this.inFlight.seq !== seq) return;
    this.release();
  }

  /** Forgets everything (new run, webview reloaded). */
  reset(): void {
    this.inFlight = undefined;
    this.waiting = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.reset();
  }

  private dispatch(p: P): void {
    this.inFlight = { runId: p.runId, seq: p.seq, at: Date.now() };
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.release(), this.staleMs);
    this.sent++;
    this.send(p);
  }

  private release(): void {
    this.inFlight = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.waiting;
    this.waiting = undefined;
    if (next) this.dispatch(next);
  }
}
