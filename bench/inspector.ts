/**
 * Latent Inspector benchmark (runs when imported by bench/index.ts, or alone: `node --import tsx bench/inspector.ts`).
 * A synthetic run of 1,000 model evaluations on 4×64×64 latents (batch 1, planes x and x̂0, so 128 KiB per frame,
 * 128 MiB in all) is written in the trajectory format with the engine's recorder, then read back as the inspector
 * does while scrubbing: random-access single-plane reads (cold: cache bypassed; warm: through the LRU), the frame
 * answer the host sends (read + base64), PNG encodes of what the panel shows (4 channels projected to RGB, zoom 4),
 * the stats pass, and the process's memory. Synchronous from start to end.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { f32ToBase64 } from '../extension/inspector/session';
import { computeStats, stepPng, TrajectoryReader, type ViewOptions } from '../src/engine/inspect/index';
import { Trajectory } from '../src/engine/run/index';

const N = Number(process.env.DPIPE_BENCH_INSPECTOR_EVALS ?? 1000);
const SHAPE = [1, 4, 64, 64];

function mib(b: number): string {
  return `${(b / 1048576).toFixed(1)} MiB`;
}

/** A deterministic pseudo-random sequence (the bench must not depend on Math.random either). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function timeIt(label: string, count: number, fn: (k: number) => void): number {
  const t0 = performance.now();
  for (let k = 0; k < count; k++) fn(k);
  const ms = performance.now() - t0;
  const rate = (count / ms) * 1000;
  console.log(`  ${label.padEnd(52)} ${rate.toFixed(0).padStart(7)} /s   (${(ms / count).toFixed(2)} ms each, ${count} samples)`);
  return rate;
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-bench-inspector-'));
  const n = SHAPE.reduce((a, b) => a * b, 1);
  console.log(`Latent Inspector: ${N} evaluations of [${SHAPE.join(', ')}] (planes x, x̂0) in ${dir}`);
  const rss0 = process.memoryUsage().rss;
  let t0 = performance.now();
  const t = new Trajectory({ dir: path.join(dir, 'trajectory'), persist: true, memoryBytes: 0 });
  const sigmas = Array.from({ length: N + 1 }, (_, k) => (k === N ? 0 : 80 * Math.pow(0.002 / 80, k / (N - 1))));
  t.startSample('sample', SHAPE, sigmas);
  const rnd = lcg(1);
  const x = new Float64Array(n);
  const d = new Float64Array(n);
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < n; k++) {
      d[k] = Math.sin(k * 0.01 + i * 0.001);
      x[k] = d[k] + sigmas[i] * (rnd() * 2 - 1);
    }
    t.add('sample', { index: i, step: i, sigma: sigmas[i], role: 'predictor', x: { shape: SHAPE, data: x }, denoised: { shape: SHAPE, data: d }, modelMs: 0 }, 0);
  }
  t.close();
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ dpipeRunRecord: 1, trajectory: { dir: 'trajectory' } }));
  console.log(`  wrote the trajectory in ${((performance.now() - t0) / 1000).toFixed(2)} s`);

  const reader = TrajectoryReader.open(dir, { cacheBytes: 64 * 1024 * 1024 });
  const order = Array.from({ length: 2000 }, () => Math.floor(rnd() * N));
  timeIt('random-access plane reads, cold (cache bypassed)', order.length, (k) => reader.plane(order[k], 'denoised', { cache: false }));
  timeIt('frame answers: read x̂0 + base64 (host side, cold)', order.length, (k) => f32ToBase64(reader.plane(order[k], 'denoised', { cache: false })));
  // Scrubbing back and forth over a window of 100 evaluations: the LRU serves repeats.
  timeIt('scrubbing a 100-evaluation window (LRU, warm)', 2000, (k) => reader.plane(400 + (k % 200 < 100 ? k % 100 : 199 - (k % 200)), 'eps'));
  console.log(`  plane cache: ${mib(reader.cachedBytes)} (bound 64 MiB), ${reader.stats.hits} hits, ${reader.stats.reads} disk reads`);
  const view: ViewOptions = { channels: 'auto', range: { mode: 'fixed', lo: -1.5, hi: 1.5 } };
  timeIt('PNG encodes of x̂0 (4 ch → RGB, zoom 4 = 256×256)', 200, (k) => stepPng(reader, order[k], { plane: 'denoised', item: 0, view, zoom: 4 }));
  t0 = performance.now();
  const st = computeStats(reader);
  console.log(`  stats pass over ${st.xNorm.length} evaluations (x and x̂0 read once): ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  const mem = process.memoryUsage();
  console.log(`  memory: rss ${mib(mem.rss)} (+${mib(mem.rss - rss0)} since start), heap used ${mib(mem.heapUsed)}, external ${mib(mem.external)}; trajectory on disk ${mib(N * 2 * n * 4)}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main();
