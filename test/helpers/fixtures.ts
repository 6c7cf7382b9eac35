/** Test helpers: reading the golden fixtures copied into test/fixtures/golden. */
import * as fs from 'fs';
import * as path from 'path';
import { parseNpy } from '../../src/engine/core/npy';
import type { Latent } from '../../src/engine/core/types';

export const GOLDEN = path.join(__dirname, '..', 'fixtures', 'golden');

export function readNpy(rel: string): Latent {
  const p = path.isAbsolute(rel) ? rel : path.join(GOLDEN, rel);
  const a = parseNpy(fs.readFileSync(p), p);
  return { shape: a.shape, data: a.data };
}

export function readJson<T = unknown>(rel: string): T {
  return JSON.parse(fs.readFileSync(path.join(GOLDEN, rel), 'utf8')) as T;
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
