/**
 * Test harness for the stochastic solvers: the exact Gaussian-mixture denoiser of the golden runs
 * (../shared/golden/README.md, copied fixtures in test/fixtures/golden-sde/), file noise consumed in
 * order, and a denoiser that counts and records its calls.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseNpy } from '../../src/engine/core/npy';
import type { Denoiser, Latent, NoiseSampler } from '../../src/engine/core/types';

export const FIX = path.join(__dirname, '..', 'fixtures', 'golden-sde');

export function readNpy(name: string): Latent {
  const a = parseNpy(new Uint8Array(fs.readFileSync(path.join(FIX, name))), name);
  return { shape: a.shape, data: Float64Array.from(a.data as ArrayLike<number>) };
}

export interface GoldenRun {
  readonly sigmas?: number[];
  readonly timesteps?: number[];
  readonly model_calls: number[];
  readonly nfe: number;
  readonly noise_draws: number;
  readonly x_T: string;
  readonly truth: { x_ve0_scale: number; sigma_start: number; sigma_end: number; output_space: 've' | 'vp' };
  readonly function_kwargs?: Record<string, unknown>;
  readonly step_kwargs?: Record<string, unknown>;
}

export const RUNS: Record<string, GoldenRun> = JSON.parse(fs.readFileSync(path.join(FIX, 'runs.json'), 'utf8'));

// The mixture: 8 isotropic Gaussians in [3,8,8], s = 0.2, mu_k[c,i,j] = 0.9 sin(2π((k+1)i + (k%3+1)j)/16 + 2πc/3 + 0.7k).
const K = 8;
const S2 = 0.04;
export const PER = 3 * 8 * 8;
export const MU: Float64Array[] = [];
for (let k = 0; k < K; k++) {
  const m = new Float64Array(PER);
  for (let c = 0; c < 3; c++) for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) {
    m[c * 64 + i * 8 + j] = 0.9 * Math.sin((2 * Math.PI * ((k + 1) * i + ((k % 3) + 1) * j)) / 16 + (2 * Math.PI * c) / 3 + 0.7 * k);
  }
  MU.push(m);
}

/** The ideal denoiser D(x; σ) of the mixture, float64, per batch item. */
export function gmmDenoise(x: Latent, sigma: number): Latent {
  const n = x.data.length / PER;
  const out = new Float64Array(x.data.length);
  const v = S2 + sigma * sigma;
  const shrink = S2 / v;
  const logits = new Float64Array(K);
  for (let b = 0; b < n; b++) {
    const xb = x.data.subarray(b * PER, (b + 1) * PER);
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      let d2 = 0;
      for (let p = 0; p < PER; p++) { const d = xb[p] - MU[k][p]; d2 += d * d; }
      logits[k] = -d2 / (2 * v);
      mx = Math.max(mx, logits[k]);
    }
    let z = 0;
    for (let k = 0; k < K; k++) { logits[k] = Math.exp(logits[k] - mx); z += logits[k]; }
    const ob = out.subarray(b * PER, (b + 1) * PER);
    for (let k = 0; k < K; k++) {
      const r = logits[k] / z;
      for (let p = 0; p < PER; p++) ob[p] += r * (MU[k][p] + shrink * (xb[p] - MU[k][p]));
    }
  }
  return { shape: x.shape, data: out };
}

export interface Recorder {
  readonly denoiser: Denoiser;
  readonly sigmas: number[];
  readonly roles: string[];
}

/** A denoiser over `fn` that records the σ and role of every call. */
export function recording(fn: (x: Latent, sigma: number) => Latent = gmmDenoise): Recorder {
  const sigmas: number[] = [];
  const roles: string[] = [];
  return {
    sigmas,
    roles,
    denoiser: async (x, sigma, req) => {
      sigmas.push(sigma);
      roles.push(req.role ?? 'predictor');
      return fn(x, sigma);
    },
  };
}

/** Per-step noise from the golden steps.npy: draw k is steps[k]; records the (σ, σ_next) of each request. */
export function fileNoise(): NoiseSampler & { calls: [number, number][] } {
  const steps = readNpy('steps.npy');
  const per = steps.data.length / steps.shape[0];
  const calls: [number, number][] = [];
  const f = ((s: number, sn: number) => {
    const k = calls.length;
    calls.push([s, sn]);
    if (k >= steps.shape[0]) throw new Error(`fixture has ${steps.shape[0]} draws`);
    return steps.data.slice(k * per, (k + 1) * per);
  }) as NoiseSampler & { calls: [number, number][] };
  f.calls = calls;
  return f;
}

/** diffusers' scaled_linear schedule for SD1: σ_t = √((1−ᾱ_t)/ᾱ_t), t = 0..999 (float64). */
export function sdSigmas(): Float64Array {
  const out = new Float64Array(1000);
  let ab = 1;
  const a = Math.sqrt(0.00085);
  const b = Math.sqrt(0.012);
  for (let t = 0; t < 1000; t++) {
    const beta = (a + ((b - a) * t) / 999) ** 2;
    ab *= 1 - beta;
    out[t] = Math.sqrt((1 - ab) / ab);
  }
  return out;
}

/** The start state in VE coordinates for a golden run (x_T as its JSON says). */
export function startState(run: GoldenRun): Latent {
  const z = readNpy('z.npy');
  return { shape: z.shape, data: z.data.map((v) => v * run.truth.x_ve0_scale) };
}

/** Final state in the run's output space (VP runs divide by √(σ_end²+1)). */
export function toOutputSpace(run: GoldenRun, x: Latent, sigmaEnd: number): Float64Array {
  if (run.truth.output_space === 've') return x.data;
  const c = 1 / Math.sqrt(sigmaEnd * sigmaEnd + 1);
  return x.data.map((v) => v * c);
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
