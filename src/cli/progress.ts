/**
 * Run progress on stderr: a one-line bar redrawn in place on a terminal (steps, it/s, ETA, NFE), plain lines
 * otherwise (every step for short runs, about every 5% for long ones).
 */
import type { StepEvent } from '../engine/core/types';
import type { CliIO } from './command';

interface Bar {
  readonly node: string;
  readonly steps: number;
  readonly start: number;
  done: number;
  nfe: number;
  lastDraw: number;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.max(0, Math.round(s));
  const m = Math.floor(t / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}` : `${m}:${String(t % 60).padStart(2, '0')}`;
}

export class Progress {
  private bar: Bar | undefined;
  private open = false;

  constructor(private readonly io: CliIO, private readonly now: () => number = () => performance.now()) {}

  sampleStart(node: string, info: { sigmas: Float64Array; nfe: number }): void {
    this.finishLine();
    this.bar = { node, steps: info.sigmas.length - 1, start: this.now(), done: 0, nfe: 0, lastDraw: -Infinity };
    if (this.io.isTTY) this.draw(true);
    else this.io.err(`${node}: ${this.bar.steps} steps, about ${info.nfe} model evaluations\n`);
  }

  eval(): void {
    if (this.bar) this.bar.nfe++;
  }

  step(node: string, ev: StepEvent): void {
    const b = this.bar;
    if (!b || b.node !== node) return;
    b.done = ev.step + 1;
    if (this.io.isTTY) {
      this.draw(b.done === b.steps);
      if (b.done === b.steps) this.finishLine();
      return;
    }
    const every = b.steps <= 50 ? 1 : Math.ceil(b.steps / 20);
    if (b.done % every === 0 || b.done === b.steps) {
      const { rate, eta } = this.speed(b);
      this.io.err(`${node}: step ${b.done}/${b.steps}  σ ${fmt(ev.sigmaNext)}  ${rate.toFixed(2)} it/s  ETA ${formatDuration(eta)}\n`);
    }
  }

  /** Ends an in-place line (before other output). */
  finishLine(): void {
    if (this.open) {
      this.io.err('\n');
      this.open = false;
    }
  }

  private speed(b: Bar): { rate: number; eta: number } {
    const elapsed = (this.now() - b.start) / 1000;
    const rate = elapsed > 0 ? b.done / elapsed : 0;
    return { rate, eta: rate > 0 ? (b.steps - b.done) / rate : Infinity };
  }

  private draw(force: boolean): void {
    const b = this.bar!;
    const t = this.now();
    if (!force && t - b.lastDraw < 100) return;
    b.lastDraw = t;
    const { rate, eta } = this.speed(b);
    const tail = ` ${b.done}/${b.steps} steps · ${rate.toFixed(2)} it/s · ETA ${b.done === b.steps ? '0:00' : formatDuration(eta)} · NFE ${b.nfe}`;
    const width = Math.max(10, Math.min(40, this.io.columns - b.node.length - tail.length - 4));
    const filled = b.steps > 0 ? Math.round((width * b.done) / b.steps) : width;
    this.io.err(`\r\x1b[K${b.node} ▕${'█'.repeat(filled)}${'░'.repeat(width - filled)}▏${tail}`);
    this.open = true;
  }
}

function fmt(s: number): string {
  return String(+s.toPrecision(4));
}
