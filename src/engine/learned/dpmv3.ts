/**
 * DPM-Solver-v3 and its empirical model statistics (EMS).
 *
 * Zheng, Lu, Chen & Zhu 2023, "DPM-Solver-v3: Improved Diffusion ODE Solver with Empirical Model Statistics"
 * (NeurIPS 2023), §3 (eqs. 9–14), §3.3 (multistep predictor, pseudo-order, corrector), Appendix C.1.1 (EMS
 * estimation). Reference: thu-ml/DPM-Solver-v3 `dpm_solver_v3.py` (sampler) and `codebases/edm/sample.py` (the
 * defaults reproduced here: order 3, pseudo-order predictor when steps ≤ 5, corrector when steps ≤ 6, corrector
 * of the same order, lower-order final steps). That repository does not publish its EMS computation; ours follows
 * Appendix C.1.1 with finite differences in place of autograd (an ONNX model has no JVP), see {@link computeEms}.
 *
 * In the engine's EDM coordinates (α = 1, σ = e^{−λ}) the probability-flow ODE is dx/dλ = −(x − D(x;σ)). With
 * per-dimension statistics l_λ, s_λ, b_λ ∈ ℝ^D it is rewritten as dx/dλ = −l_λ⊙x − f(x,λ), f = (x − D) − l_λ⊙x
 * (= σε − l x of the paper), and g(x,λ) = e^{−∫_{λs}^{λ} s} f − ∫_{λs}^{λ} e^{−∫_{λs}^{r} s} b_r dr is expanded
 * in Taylor series around λ_s (eq. 12). The optimal EMS (eqs. 9–10):
 *   l_λ = E[diag(σ∂ε/∂x)] = 1 − E[diag(∂D/∂x)],  (s_λ, b_λ) = argmin E‖f⁽¹⁾ − s_λ f − b_λ‖²  (per dimension),
 * where f⁽¹⁾ = df(x_λ, λ)/dλ along the ODE trajectory.
 *
 * Integrals of the EMS are taken by the trapezoid rule on the statistics' λ-uniform grid (as the reference),
 * and the solver's σ values are rounded to that grid (reference `convert_to_indexes`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../core/errors';
import { like } from '../core/latent';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { normalDraw } from '../noise/seeded';
import { defineSolver, type NodeType } from '../registry/node';
import { defineParams, type OptionsOf } from '../registry/params';
import { checkAbort, emit, solveLinear } from '../solvers/common';
import { dpmpp2m } from '../solvers/dpmpp';

/** Empirical model statistics on a λ-uniform grid of `steps` intervals from σ_max to σ_min. */
export interface Ems {
  readonly sigmaMax: number;
  readonly sigmaMin: number;
  readonly steps: number;
  /** Per-item shape the statistics are for (e.g. [C, H, W]). */
  readonly shape: readonly number[];
  /** (steps + 1) × D values each, grid point major. */
  readonly l: Float64Array;
  readonly s: Float64Array;
  readonly b: Float64Array;
  /** Provenance. */
  readonly samples?: number;
  readonly model?: { readonly path?: string; readonly sha256?: string };
}

export const EMS_FORMAT = 'dpipe-ems';

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** λ at grid point k. */
function gridLambda(e: Pick<Ems, 'sigmaMax' | 'sigmaMin' | 'steps'>, k: number): number {
  const lT = -Math.log(e.sigmaMax);
  const l0 = -Math.log(e.sigmaMin);
  return lT + ((l0 - lT) * k) / e.steps;
}

/** EMS with l = 1, s = b = 0: DPM-Solver-v3 then degenerates to DPM-Solver++ (paper, Appendix A.2). */
export function degenerateEms(sigmaMax: number, sigmaMin: number, steps: number, shape: readonly number[]): Ems {
  const n = (steps + 1) * size(shape);
  return { sigmaMax, sigmaMin, steps, shape, l: new Float64Array(n).fill(1), s: new Float64Array(n), b: new Float64Array(n) };
}

// ---------------------------------------------------------------------------------------------
// Estimation (Appendix C.1.1).

export interface EmsOptions {
  readonly sigmaMax: number;
  readonly sigmaMin: number;
  /** λ-grid intervals N (the reference uses 1200 for < 10 steps, 120 otherwise). */
  readonly steps: number;
  /** Finite-difference step for the Jacobian diagonal, relative to σ (central differences); default 0.01. */
  readonly relDelta?: number;
  /** Seed of the Rademacher probes; default 0. */
  readonly probeSeed?: number;
  readonly signal?: AbortSignal;
}

/** Running per-dimension sums over batches, so samples can be processed in chunks. */
export class EmsAccumulator {
  readonly D: number;
  readonly n: number;
  private count = 0;
  private diag: Float64Array;
  private sf: Float64Array;
  private sf1: Float64Array;
  private sff: Float64Array;
  private sff1: Float64Array;
  private sf1f1: Float64Array;
  private l?: Float64Array;
  private countF = 0;

  constructor(readonly o: EmsOptions, readonly shape: readonly number[]) {
    this.D = size(shape);
    this.n = (o.steps + 1) * this.D;
    this.diag = new Float64Array(this.n);
    this.sf = new Float64Array(this.n);
    this.sf1 = new Float64Array(this.n);
    this.sff = new Float64Array(this.n);
    this.sff1 = new Float64Array(this.n);
    this.sf1f1 = new Float64Array(this.n);
  }

  private grid(): Float64Array {
    return Float64Array.from({ length: this.o.steps + 1 }, (_, k) => Math.exp(-gridLambda(this.o, k)));
  }

  /**
   * Pass 1 on a batch of start states at σ_max: follows each trajectory on the λ grid (DPM-Solver++(2M)) and
   * accumulates the Hutchinson estimate v⊙(D(x+δv) − D(x−δv))/(2δ) of diag(∂D/∂x) (Rademacher v). 3 model
   * evaluations per grid point per batch.
   */
  async jacobianPass(model: Denoiser, x: Latent, batchIndex = 0): Promise<void> {
    const sig = this.grid();
    const B = x.data.length / this.D;
    const rel = this.o.relDelta ?? 0.01;
    const seed = this.o.probeSeed ?? 0;
    const draw = new Float64Array(this.D);
    const probe = async (xk: Latent, k: number) => {
      const v = new Float64Array(xk.data.length);
      for (let b = 0; b < B; b++) {
        normalDraw(seed + batchIndex * 1_000_003 + b, 7, k, draw);
        for (let i = 0; i < this.D; i++) v[b * this.D + i] = draw[i] >= 0 ? 1 : -1;
      }
      const d = rel * sig[k];
      const plus = await model(like(xk, xk.data.map((q, i) => q + d * v[i])), sig[k], { step: k, role: 'stage' });
      const minus = await model(like(xk, xk.data.map((q, i) => q - d * v[i])), sig[k], { step: k, role: 'stage' });
      const off = k * this.D;
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < this.D; i++) {
          const q = b * this.D + i;
          this.diag[off + i] += (v[q] * (plus.data[q] - minus.data[q])) / (2 * d);
        }
      }
    };
    let k = 0;
    const wrapped: Denoiser = async (xk, sigma, req) => {
      if (this.o.signal?.aborted) throw new DpipeError('E_ABORTED', 'The fit was stopped.');
      await probe(xk, k);
      k++;
      return model(xk, sigma, req);
    };
    const end = await dpmpp2m(wrapped, x, sig, { lowerOrderFinal: 'off' }, { noise: () => new Float64Array(0) });
    await probe(end, this.o.steps);
    this.count += B;
  }

  /** l on the grid (after every {@link jacobianPass}). */
  lValues(): Float64Array {
    if (this.count === 0) throw new DpipeError('E_INTERNAL', 'EMS: no Jacobian samples');
    return (this.l ??= this.diag.map((v) => 1 - v / this.count));
  }

  /**
   * Pass 2 on the same (or other) start states: f = (x − D) − l⊙x along each trajectory, f⁽¹⁾ by central
   * differences in λ along it (one-sided at the ends), and the per-dimension sums for the regression of f⁽¹⁾ on f.
   * 1 model evaluation per grid point per batch.
   */
  async regressionPass(model: Denoiser, x: Latent): Promise<void> {
    const l = this.lValues();
    const sig = this.grid();
    const N = this.o.steps;
    const B = x.data.length / this.D;
    const fs_: Float64Array[] = [];
    const dl = gridLambda(this.o, 1) - gridLambda(this.o, 0);
    const f = (xk: Latent, den: Latent, k: number) => {
      const out = new Float64Array(xk.data.length);
      for (let b = 0; b < B; b++) for (let i = 0; i < this.D; i++) {
        const q = b * this.D + i;
        out[q] = xk.data[q] - den.data[q] - l[k * this.D + i] * xk.data[q];
      }
      return out;
    };
    const add = (k: number, f1: Float64Array) => {
      const fk = fs_[k];
      const off = k * this.D;
      for (let b = 0; b < B; b++) for (let i = 0; i < this.D; i++) {
        const q = b * this.D + i;
        this.sf[off + i] += fk[q];
        this.sf1[off + i] += f1[q];
        this.sff[off + i] += fk[q] * fk[q];
        this.sff1[off + i] += fk[q] * f1[q];
        this.sf1f1[off + i] += f1[q] * f1[q];
      }
    };
    const diff = (a: Float64Array, c: Float64Array, h: number) => a.map((v, q) => (c[q] - v) / h);
    const flush = (k: number) => {
      // f⁽¹⁾ at k once f at k+1 is known (and at the last point from k−1, k).
      if (k === 0) add(0, diff(fs_[0], fs_[1], dl));
      else if (k === N) add(N, diff(fs_[N - 1], fs_[N], dl));
      else add(k, diff(fs_[k - 1], fs_[k + 1], 2 * dl));
      if (k >= 1) fs_[k - 1] = new Float64Array(0); // free what is no longer needed
    };
    let k = 0;
    const wrapped: Denoiser = async (xk, sigma, req) => {
      if (this.o.signal?.aborted) throw new DpipeError('E_ABORTED', 'The fit was stopped.');
      const den = await model(xk, sigma, req);
      fs_[k] = f(xk, den, k);
      if (k >= 1) flush(k - 1);
      k++;
      return den;
    };
    const end = await dpmpp2m(wrapped, x, sig, { lowerOrderFinal: 'off' }, { noise: () => new Float64Array(0) });
    fs_[N] = f(end, await model(end, sig[N], { step: N, role: 'final' }), N);
    flush(N - 1);
    flush(N);
    this.countF += B;
  }

  /** The EMS from the accumulated sums. A dimension whose f does not vary over the samples gets s = 0. */
  result(): Ems {
    const l = this.lValues();
    const n = this.countF;
    if (n === 0) throw new DpipeError('E_INTERNAL', 'EMS: no regression samples');
    const s = new Float64Array(this.n);
    const b = new Float64Array(this.n);
    for (let q = 0; q < this.n; q++) {
      const mf = this.sf[q] / n;
      const mf1 = this.sf1[q] / n;
      const varF = this.sff[q] / n - mf * mf;
      const cov = this.sff1[q] / n - mf * mf1;
      const sq = varF > 1e-10 * (this.sff[q] / n) && varF > 1e-300 ? cov / varF : 0;
      s[q] = sq;
      b[q] = mf1 - sq * mf;
    }
    return { sigmaMax: this.o.sigmaMax, sigmaMin: this.o.sigmaMin, steps: this.o.steps, shape: [...this.shape], l: Float64Array.from(l), s, b, samples: n };
  }
}

/** EMS from one batch of start states x at σ_max (both passes on the same trajectories). */
export async function computeEms(model: Denoiser, x: Latent, o: EmsOptions): Promise<Ems> {
  if (!(o.sigmaMin > 0 && o.sigmaMax > o.sigmaMin)) throw new DpipeError('E_PARAM_VALUE', `EMS: needs 0 < σ_min < σ_max; got ${o.sigmaMin}, ${o.sigmaMax}`);
  if (!(Number.isInteger(o.steps) && o.steps >= 2)) throw new DpipeError('E_PARAM_VALUE', `EMS: the λ grid needs at least 2 intervals; got ${o.steps}`);
  const acc = new EmsAccumulator(o, x.shape.slice(1));
  await acc.jacobianPass(model, x);
  await acc.regressionPass(model, x);
  return acc.result();
}

// ---------------------------------------------------------------------------------------------
// File format: one JSON file, arrays as base64 of little-endian float64.

function b64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}
function unb64(s: unknown, n: number, what: string, file: string): Float64Array {
  if (typeof s !== 'string') throw new DpipeError('E_FORMAT', `${file}: "${what}" is missing`);
  const buf = Buffer.from(s, 'base64');
  if (buf.length !== n * 8) throw new DpipeError('E_FORMAT', `${file}: "${what}" holds ${buf.length / 8} values; ${n} expected`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = buf.readDoubleLE(i * 8);
  return out;
}

export function emsToJson(e: Ems): string {
  return JSON.stringify({
    format: EMS_FORMAT,
    version: 1,
    paper: 'Zheng, Lu, Chen & Zhu 2023, DPM-Solver-v3 (NeurIPS), eqs. 9-10',
    sigmaMax: e.sigmaMax,
    sigmaMin: e.sigmaMin,
    steps: e.steps,
    shape: e.shape,
    samples: e.samples ?? null,
    model: e.model ?? null,
    encoding: 'float64le-base64, (steps+1) x prod(shape), grid point major; grid: lambda = -log(sigma) uniform from sigmaMax to sigmaMin',
    l: b64(e.l),
    s: b64(e.s),
    b: b64(e.b),
  }) + '\n';
}

export function emsFromJson(text: string, file = 'EMS file'): Ems {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new DpipeError('E_JSON', `${file}: not JSON (${(err as Error).message})`);
  }
  if (o.format !== EMS_FORMAT) throw new DpipeError('E_FORMAT', `${file}: not a DPM-Solver-v3 statistics file (format "${String(o.format)}"); make one with \`dpipe fit dpmv3\``);
  const { sigmaMax, sigmaMin, steps, shape } = o as { sigmaMax: number; sigmaMin: number; steps: number; shape: number[] };
  if (!(typeof sigmaMin === 'number' && sigmaMin > 0 && typeof sigmaMax === 'number' && sigmaMax > sigmaMin && Number.isInteger(steps) && steps >= 2 && Array.isArray(shape))) {
    throw new DpipeError('E_FORMAT', `${file}: bad header (sigmaMax ${sigmaMax}, sigmaMin ${sigmaMin}, steps ${steps})`);
  }
  const n = (steps + 1) * size(shape);
  return { sigmaMax, sigmaMin, steps, shape, l: unb64(o.l, n, 'l', file), s: unb64(o.s, n, 's', file), b: unb64(o.b, n, 'b', file), samples: (o.samples as number) ?? undefined };
}

// ---------------------------------------------------------------------------------------------
// The solver.

/** Cumulative integrals of the EMS on the grid (trapezoid rule), per dimension: L, S, I, B, C of the reference. */
interface Tables {
  readonly e: Ems;
  readonly D: number;
  readonly lam: Float64Array;
  readonly L: Float64Array;
  readonly S: Float64Array;
  readonly I: Float64Array;
  readonly B: Float64Array;
  readonly C: Float64Array;
  readonly coeffCache: Map<string, Float64Array>;
}

function tables(e: Ems): Tables {
  const D = size(e.shape);
  const N = e.steps;
  const lam = Float64Array.from({ length: N + 1 }, (_, k) => gridLambda(e, k));
  const n = (N + 1) * D;
  const L = new Float64Array(n);
  const S = new Float64Array(n);
  const I = new Float64Array(n);
  const B = new Float64Array(n);
  const C = new Float64Array(n);
  for (let k = 1; k <= N; k++) {
    const h = 0.5 * (lam[k] - lam[k - 1]);
    for (let i = 0; i < D; i++) {
      const p = (k - 1) * D + i;
      const q = k * D + i;
      L[q] = L[p] + h * (e.l[p] + e.l[q]);
      S[q] = S[p] + h * (e.s[p] + e.s[q]);
      I[q] = I[p] + h * (Math.exp(L[p] + S[p]) + Math.exp(L[q] + S[q]));
      B[q] = B[p] + h * (Math.exp(-S[p]) * e.b[p] + Math.exp(-S[q]) * e.b[q]);
      C[q] = C[p] + h * (Math.exp(L[p] + S[p]) * B[p] + Math.exp(L[q] + S[q]) * B[q]);
    }
  }
  return { e, D, lam, L, S, I, B, C, coeffCache: new Map() };
}

/** ∫_{λs}^{λt} e^{(L+S)(λ) − (L+S)(λs)} (λ − λs)^k / k! dλ per dimension (trapezoid on the grid). */
function highOrderCoeff(T: Tables, is: number, it: number, k: number): Float64Array {
  const key = `${is},${it},${k}`;
  const hit = T.coeffCache.get(key);
  if (hit) return hit;
  const { D, lam, L, S } = T;
  let fact = 1;
  for (let j = 2; j <= k; j++) fact *= j;
  const out = new Float64Array(D);
  for (let r = is + 1; r <= it; r++) {
    const h = 0.5 * (lam[r] - lam[r - 1]);
    const wa = (lam[r - 1] - lam[is]) ** k / fact;
    const wb = (lam[r] - lam[is]) ** k / fact;
    for (let i = 0; i < D; i++) {
      const base = L[is * D + i] + S[is * D + i];
      out[i] += h * (wa * Math.exp(L[(r - 1) * D + i] + S[(r - 1) * D + i] - base) + wb * Math.exp(L[r * D + i] + S[r * D + i] - base));
    }
  }
  T.coeffCache.set(key, out);
  return out;
}

/** One history point: grid index, state and f = (x − D) − l⊙x there. */
interface Point {
  readonly k: number;
  readonly x: Latent;
  readonly f: Float64Array;
}

/**
 * The update of eq. 14 from points[0] (= s) to grid index `it`, using points[1..n] for the derivative estimates of
 * g (order n + 1). `pseudo`: divided differences (pseudo-order, §3.3) instead of the Taylor-matching solve.
 */
function update(T: Tables, points: readonly Point[], it: number, pseudo: boolean): Latent {
  const { D, lam, L, S, I, B, C, e } = T;
  const s = points[0];
  const is = s.k;
  const n = points.length - 1;
  const total = s.x.data.length;
  const batch = total / D;
  // g_j = e^{S_s − S_j} f_j − e^{S_s}(B_j − B_s)
  const gs = points.map((p) => {
    const g = new Float64Array(total);
    for (let bb = 0; bb < batch; bb++) for (let i = 0; i < D; i++) {
      const q = bb * D + i;
      const sS = S[is * D + i];
      g[q] = Math.exp(sS - S[p.k * D + i]) * p.f[q] - Math.exp(sS) * (B[p.k * D + i] - B[is * D + i]);
    }
    return g;
  });
  const out = new Float64Array(total);
  for (let bb = 0; bb < batch; bb++) for (let i = 0; i < D; i++) {
    const q = bb * D + i;
    const a = is * D + i;
    const t = it * D + i;
    out[q] =
      Math.exp(L[a] - L[t]) * s.x.data[q] -
      Math.exp(-L[t] - S[a]) * (I[t] - I[a]) * gs[0][q] -
      Math.exp(-L[t]) * (C[t] - C[a] - B[a] * (I[t] - I[a]));
  }
  if (n >= 1) {
    const lams = points.map((p) => lam[p.k]);
    const derivs = pseudo ? dividedDerivatives(lams, gs) : taylorDerivatives(lams, gs);
    for (let j = 1; j <= n; j++) {
      const coef = highOrderCoeff(T, is, it, j);
      const gd = derivs[j - 1];
      for (let bb = 0; bb < batch; bb++) for (let i = 0; i < D; i++) {
        const q = bb * D + i;
        out[q] -= Math.exp(L[is * D + i] - L[it * D + i]) * coef[i] * gd[q];
      }
    }
  }
  void e;
  return { shape: s.x.shape, data: out };
}

/** g⁽ʲ⁾(λ_0), j = 1..n: the derivatives at λ_0 of the polynomial through (λ_i, g_i) (Taylor matching). */
function taylorDerivatives(lams: readonly number[], gs: readonly Float64Array[]): Float64Array[] {
  const n = lams.length - 1;
  const R = Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => (lams[r + 1] - lams[0]) ** (c + 1)));
  // Inverse of R by columns, then c = R⁻¹(g_r − g_0), derivative j = j!·c_j.
  const inv = Array.from({ length: n }, (_, c) => solveLinear(R, Array.from({ length: n }, (_, r) => (r === c ? 1 : 0))));
  const out: Float64Array[] = [];
  let fact = 1;
  for (let j = 0; j < n; j++) {
    fact *= j + 1;
    const d = new Float64Array(gs[0].length);
    for (let c = 0; c < n; c++) {
      const w = inv[c][j] * fact;
      if (w === 0) continue;
      for (let q = 0; q < d.length; q++) d[q] += w * (gs[c + 1][q] - gs[0][q]);
    }
    out.push(d);
  }
  return out;
}

/** Pseudo-order: j!·g[λ_0, …, λ_j] (Newton divided differences) in place of the derivatives. */
function dividedDerivatives(lams: readonly number[], gs: readonly Float64Array[]): Float64Array[] {
  const n = lams.length - 1;
  let prev = gs.map((g) => g);
  const out: Float64Array[] = [];
  let fact = 1;
  for (let i = 1; i <= n; i++) {
    const next: Float64Array[] = [];
    for (let j = 0; j + i <= n; j++) {
      const h = lams[j] - lams[i + j];
      next.push(prev[j].map((v, q) => (v - prev[j + 1][q]) / h));
    }
    fact *= i;
    out.push(next[0].map((v) => v * fact));
    prev = next;
  }
  return out;
}

export const AUTO_ON_OFF = ['auto', 'on', 'off'] as const;
export type AutoOnOff = (typeof AUTO_ON_OFF)[number];

export const DPMV3_PARAMS = defineParams(
  { name: 'file', type: 'file', default: '', extensions: ['.json'], doc: 'The EMS file (l, s, b) computed on this model by `dpipe fit dpmv3`, relative to the .dpipe file.' },
  { name: 'order', type: 'integer', default: 3, min: 1, max: 3, doc: 'Order of the multistep predictor (the reference recommends 3 unconditional, 2 guided).' },
  {
    name: 'predictorPseudo', type: 'enum', default: 'auto', options: AUTO_ON_OFF,
    optionDocs: { auto: 'on when the run has ≤ 5 steps (the reference\'s EDM/CIFAR-10 setting p_pseudo = steps ≤ 5)', on: 'always', off: 'never' },
    doc: 'Pseudo-order predictor: divided differences instead of Taylor-matched derivatives (§3.3).',
  },
  {
    name: 'corrector', type: 'enum', default: 'auto', options: AUTO_ON_OFF,
    optionDocs: { auto: 'on when the run has ≤ 6 steps (reference use_corrector = steps ≤ 6)', on: 'always', off: 'never' },
    doc: 'Multistep corrector (§3.3, UniPC-style): re-solves the last step with the new model evaluation; no extra evaluation.',
  },
  { name: 'correctorPseudo', type: 'boolean', default: false, advanced: true, doc: 'Pseudo-order corrector of order + 1 (reference c_pseudo; its EDM script uses false).' },
  { name: 'lowerOrderFinal', type: 'boolean', default: true, advanced: true, doc: 'Step k of n uses order min(order, n − k) (reference lower_order_final=True).' },
);
export type Dpmv3Options = Omit<OptionsOf<typeof DPMV3_PARAMS>, 'file'>;

/** Grid index of σ on the statistics' grid; an error naming the range when σ is outside it. */
function gridIndex(e: Ems, sigma: number): number {
  const lT = -Math.log(e.sigmaMax);
  const l0 = -Math.log(e.sigmaMin);
  const u = (e.steps * (-Math.log(sigma) - lT)) / (l0 - lT);
  if (u < -0.5 - 1e-6 || u > e.steps + 0.5 + 1e-6) {
    throw new DpipeError('E_COMPOSE', `solver.dpm_solver_v3: σ = ${sigma} is outside the range of its statistics (σ from ${e.sigmaMax} down to ${e.sigmaMin}); fit them over this range (dpipe fit dpmv3 --sigma-min/--sigma-max) or change the schedule`);
  }
  return Math.min(e.steps, Math.max(0, Math.round(u)));
}

/**
 * DPM-Solver-v3 multistep sampling (reference `DPM_Solver_v3.sample`) over `sigmas`, each rounded to the EMS grid.
 * A final σ = 0 is reached by the data prediction at the last positive σ, which reuses that step's evaluation.
 */
export async function dpmSolverV3(model: Denoiser, x: Latent, sigmas: Float64Array, ems: Ems, o: Dpmv3Options, ctx: SolverContext): Promise<Latent> {
  const block = 'solver.dpm_solver_v3';
  const D = size(ems.shape);
  if (x.data.length % D !== 0 || x.shape.slice(1).join(',') !== ems.shape.join(',')) {
    throw new DpipeError('E_SHAPE', `${block}: the statistics are for items of shape [${ems.shape.join(', ')}]; the latent is [${x.shape.join(', ')}]`);
  }
  const toZero = sigmas[sigmas.length - 1] === 0;
  const pos = toZero ? sigmas.subarray(0, sigmas.length - 1) : sigmas;
  const idx = [...pos].map((s) => gridIndex(ems, s));
  for (let i = 0; i + 1 < idx.length; i++) {
    if (!(idx[i + 1] > idx[i])) throw new DpipeError('E_COMPOSE', `${block}: σ[${i}] = ${pos[i]} and σ[${i + 1}] = ${pos[i + 1]} fall on the same or reversed points of the statistics' grid (${ems.steps} intervals); use fewer steps or statistics on a finer grid`);
  }
  const T = tables(ems);
  const gs = Float64Array.from({ length: ems.steps + 1 }, (_, k) => Math.exp(-T.lam[k]));
  const steps = idx.length - 1; // v3 steps between positive σ
  const totalSteps = sigmas.length - 1;
  const pPseudo = o.predictorPseudo === 'on' || (o.predictorPseudo === 'auto' && steps <= 5);
  const useCorr = o.corrector === 'on' || (o.corrector === 'auto' && steps <= 6);
  const l = ems.l;
  const fOf = (xx: Latent, den: Latent, k: number) => {
    const out = new Float64Array(xx.data.length);
    for (let q = 0; q < out.length; q++) out[q] = xx.data[q] - den.data[q] - l[k * D + (q % D)] * xx.data[q];
    return out;
  };
  const hist: Point[] = [];
  let pOrder = 0;
  const evalAt = async (i: number) => {
    checkAbort(ctx, i, totalSteps);
    const k = idx[i];
    const den = await model(x, gs[k], { step: i, role: 'predictor' });
    hist.push({ k, x, f: fOf(x, den, k) });
    if (hist.length > Math.max(o.order, 2) + 1) hist.shift();
    const cOrder = pOrder + (o.correctorPseudo ? 1 : 0);
    if (useCorr && cOrder > 1) {
      // Corrector: from the point before, with the new point's value (indexes −2, −1, −3, … of the reference).
      const H = hist.length;
      const pts = [hist[H - 2], hist[H - 1], ...hist.slice(Math.max(0, H - cOrder - 0), H - 2).reverse()].slice(0, cOrder);
      const xc = update(T, pts, k, o.correctorPseudo);
      // f = N is unchanged by the correction (the reference keeps σε − l x fixed): only the state moves.
      hist[H - 1] = { k, x: xc, f: hist[H - 1].f };
      x = xc;
    }
    return den;
  };
  for (let step = 1; step <= steps; step++) {
    const den = await evalAt(step - 1);
    pOrder = Math.min(step, o.order);
    if (o.lowerOrderFinal) pOrder = Math.min(pOrder, steps + 1 - step);
    const H = hist.length;
    const pts = hist.slice(H - pOrder).reverse(); // most recent first
    x = update(T, pts, idx[step], pPseudo);
    emit(ctx, step - 1, sigmas, x, den);
  }
  if (toZero) {
    await evalAt(steps);
    const last = hist[hist.length - 1];
    // D at the (possibly corrected) state: x − σε = (1 − l)x − f.
    const out = new Float64Array(x.data.length);
    for (let q = 0; q < out.length; q++) out[q] = (1 - l[last.k * D + (q % D)]) * last.x.data[q] - last.f[q];
    x = like(x, out);
    emit(ctx, totalSteps - 1, sigmas, x);
  }
  return x;
}

const cache = new Map<string, { mtimeMs: number; ems: Ems }>();

/** Reads an EMS file (cached by path and modification time). */
export function readEmsFile(abs: string, shownAs = abs): Ems {
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new DpipeError('E_FILE_MISSING', `solver.dpm_solver_v3: statistics file ${shownAs} not found; compute it on your model with \`dpipe fit dpmv3 FILE.dpipe --out ${shownAs}\``);
  }
  const hit = cache.get(abs);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.ems;
  const ems = emsFromJson(fs.readFileSync(abs, 'utf8'), shownAs);
  cache.set(abs, { mtimeMs: st.mtimeMs, ems });
  return ems;
}

export const DPMV3_NODE: NodeType = defineSolver({
  type: 'solver.dpm_solver_v3',
  title: 'DPM-Solver-v3 (fitted EMS)',
  doc:
    'Multistep ODE solver with empirical model statistics (l, s, b) computed on your model by `dpipe fit dpmv3` and saved in a file ' +
    'beside it; best at 5–10 steps. The schedule\'s σ values are rounded to the statistics\' λ grid; a final σ = 0 uses the last ' +
    'evaluation\'s data prediction. Defaults reproduce thu-ml/DPM-Solver-v3 on EDM (order 3, pseudo-order predictor ≤ 5 steps, ' +
    'corrector ≤ 6 steps). 1 model evaluation per step.',
  paper: 'Zheng, Lu, Chen & Zhu 2023, "DPM-Solver-v3: Improved Diffusion ODE Solver with Empirical Model Statistics" (NeurIPS), eqs. 9–14, §3.3, Appendix C.1.1.',
  params: DPMV3_PARAMS,
  order: 3,
  nfePerStep: 1,
  stochastic: false,
  load(o, baseDir) {
    if (!o.file) throw new DpipeError('E_PARAM_VALUE', 'solver.dpm_solver_v3: "file" is empty; compute the statistics with `dpipe fit dpmv3 FILE.dpipe --out stats.json` (it sets this parameter)');
    return readEmsFile(path.resolve(baseDir, o.file), o.file);
  },
  solve: (model, x, sigmas, o, ctx, ems) => dpmSolverV3(model, x, sigmas, ems, o, ctx),
  tests: {
    orderTestedElsewhere: 'its statistics are fitted on a model: test/learned/dpmv3.test.ts checks it exact to ~1e-6 on Gaussian data with the closed-form statistics, and DPM-Solver++ with degenerate ones',
    noGolden: 'no golden run of thu-ml/DPM-Solver-v3 (its statistics come from a trained model); test/learned/dpmv3.test.ts checks the closed forms',
  },
});
