/** Helpers for the model tests: deterministic random numbers and generated mixture models in a temp dir. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildGmmOnnx, type Interface, type Mixture } from '../../tools/gmm/gmm';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'models');

/** A small deterministic generator (Park–Miller + Box–Muller); tests only. */
export function rng(seed: number): { uniform(): number; normal(): number } {
  let s = seed % 2147483647 || 1;
  const uniform = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return { uniform, normal: () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) };
}

let dir: string | undefined;
export function tmpDir(): string {
  return (dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-model-')));
}

/** Writes a generated mixture model (and an optional sidecar) under the temp dir; returns its path. */
export function writeModel(name: string, m: Mixture, itf: Interface, sidecar?: Record<string, unknown>): string {
  const p = path.join(tmpDir(), name);
  fs.writeFileSync(p, buildGmmOnnx(m, itf));
  if (sidecar) fs.writeFileSync(`${p}.json`, JSON.stringify(sidecar));
  return p;
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** x = μ_k + s·z + σ·ε for random components: inputs where the denoiser is in its interesting regime. */
export function noisyBatch(m: Mixture, sigma: number, batch: number, seed: number): Float64Array {
  const r = rng(seed);
  const D = m.mu.length / m.k;
  const x = new Float64Array(batch * D);
  for (let b = 0; b < batch; b++) {
    const k = Math.floor(r.uniform() * m.k) % m.k;
    for (let i = 0; i < D; i++) x[b * D + i] = m.mu[k * D + i] + m.s * r.normal() + sigma * r.normal();
  }
  return x;
}
