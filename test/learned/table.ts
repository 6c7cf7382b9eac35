/**
 * Error-vs-NFE tables of the fitted blocks on the exact 8-Gaussian mixture of the golden runs (closed-form
 * float64 denoiser, test/helpers/gmm.ts), σ from 80 to 0.002 (EDM range, no final 0). The error is the RMSE over
 * all elements of a batch of test paths against the exact probability-flow ODE solution (DPM-Solver++(3M),
 * Taylor third order, 1000 log-uniform steps; its own error is < 1e-6 here). Fits use other paths (other seeds).
 * Used by the tests (which assert the orderings) and by `npx tsx bench/learned.ts` (which prints them).
 */
import type { Latent } from '../../src/engine/core/types';
import { fitGits } from '../../src/engine/learned/gits';
import { seededBatch } from '../../src/engine/noise/seeded';
import { exponentialSigmas, karrasSigmas } from '../../src/engine/schedules/kdiffusion';
import { linspace } from '../../src/engine/schedules/common';
import { dpmpp2m, dpmpp3m } from '../../src/engine/solvers/dpmpp';
import { computeEms, dpmSolverV3 } from '../../src/engine/learned/dpmv3';
import { dcSolver, fitDcRatios } from '../../src/engine/learned/dcsolver';
import { unipc } from '../../src/engine/solvers/unipc';
import { euler } from '../../src/engine/solvers/euler';
import { ctxWith, gmmDenoiser, GMM_SHAPE } from '../helpers/gmm';

export const SIGMA_MAX = 80;
export const SIGMA_MIN = 0.002;

/** B start states x_T = 80·z from the seeded generator (seeds seed..seed+B−1). */
export function startBatch(seed: number, batch: number): Latent {
  const z = seededBatch(seed, [batch, ...GMM_SHAPE], 0, 0);
  return { shape: [batch, ...GMM_SHAPE], data: z.map((v) => v * SIGMA_MAX) };
}

const refCache = new Map<string, Latent>();
/** The exact ODE solution from `x` at 80 to 0.002. */
export async function reference(x: Latent, key: string): Promise<Latent> {
  let r = refCache.get(key);
  if (!r) {
    r = await dpmpp3m(gmmDenoiser, x, exponentialSigmas(1001, SIGMA_MIN, SIGMA_MAX), { thirdOrder: 'taylor', lowerOrderFinal: 'off' }, ctxWith());
    refCache.set(key, r);
  }
  return r;
}

export function rmse(a: Latent, b: Latent): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += (a.data[i] - b.data[i]) ** 2;
  return Math.sqrt(s / a.data.length);
}

export interface Row {
  readonly nfe: number;
  readonly errors: Readonly<Record<string, number>>;
}

export function formatTable(title: string, rows: readonly Row[]): string {
  const cols = Object.keys(rows[0].errors);
  const w = Math.max(12, ...cols.map((c) => c.length + 2));
  const head = 'NFE'.padEnd(5) + cols.map((c) => c.padStart(w)).join('');
  return [title, head, ...rows.map((r) => String(r.nfe).padEnd(5) + cols.map((c) => r.errors[c].toFixed(4).padStart(w)).join(''))].join('\n');
}

/** GITS (fitted on 16 paths, seeds 1..16) vs logSNR-uniform, Karras ρ=7 and time-uniform, Euler, on 16 test paths. */
export async function gitsTable(nfes: readonly number[], samples = 16): Promise<Row[]> {
  const xfit = startBatch(1, samples);
  const xtest = startBatch(1000, 16);
  const ref = await reference(xtest, 'test16');
  const rows: Row[] = [];
  for (const nfe of nfes) {
    const fit = await fitGits(gmmDenoiser, xfit, SIGMA_MAX, SIGMA_MIN, { steps: nfe });
    const schedules: Record<string, Float64Array> = {
      gits: Float64Array.from(fit.sigmas),
      'logSNR-uniform': exponentialSigmas(nfe + 1, SIGMA_MIN, SIGMA_MAX),
      'karras-7': karrasSigmas(nfe + 1, SIGMA_MIN, SIGMA_MAX, 7),
      'time-uniform': linspace(SIGMA_MAX, SIGMA_MIN, nfe + 1),
    };
    const errors: Record<string, number> = {};
    for (const [name, s] of Object.entries(schedules)) errors[name] = rmse(await euler(gmmDenoiser, xtest, s, {}, ctxWith()), ref);
    rows.push({ nfe, errors });
  }
  return rows;
}

/** DPM-Solver-v3 (EMS fitted on 64 paths, 1200 λ intervals) vs DPM-Solver++(2M)/(3M), logSNR-uniform steps. */
export async function dpmv3Table(nfes: readonly number[]): Promise<Row[]> {
  const ems = await computeEms(gmmDenoiser, startBatch(1, 64), { sigmaMax: SIGMA_MAX, sigmaMin: SIGMA_MIN, steps: 1200 });
  const xtest = startBatch(1000, 16);
  const ref = await reference(xtest, 'test16');
  const rows: Row[] = [];
  const o = { order: 3, predictorPseudo: 'auto', corrector: 'auto', correctorPseudo: false, lowerOrderFinal: true } as const;
  for (const nfe of nfes) {
    const s = exponentialSigmas(nfe + 1, SIGMA_MIN, SIGMA_MAX);
    rows.push({
      nfe,
      errors: {
        'dpm-solver-v3': rmse(await dpmSolverV3(gmmDenoiser, xtest, s, ems, o, ctxWith()), ref),
        'dpm-solver++2M': rmse(await dpmpp2m(gmmDenoiser, xtest, s, {}, ctxWith()), ref),
        'dpm-solver++3M': rmse(await dpmpp3m(gmmDenoiser, xtest, s, { lowerOrderFinal: 'below10' }, ctxWith()), ref),
      },
    });
  }
  return rows;
}

/** DC-Solver (ratios fitted on 16 paths) vs UniPC (same order 3 and B(h)), logSNR-uniform steps. */
export async function dcTable(nfes: readonly number[], variant: 'bh1' | 'bh2' = 'bh1'): Promise<Row[]> {
  const xfit = startBatch(1, 16);
  const xtest = startBatch(1000, 16);
  const ref = await reference(xtest, 'test16');
  const rows: Row[] = [];
  for (const nfe of nfes) {
    const s = exponentialSigmas(nfe + 1, SIGMA_MIN, SIGMA_MAX);
    const { ratios } = await fitDcRatios(gmmDenoiser, xfit, s, { order: 3, variant, dcOrder: 2 });
    rows.push({
      nfe,
      errors: {
        [`dc-solver (${variant})`]: rmse(await dcSolver(gmmDenoiser, xtest, s, { order: 3, variant, ratios, dcOrder: 2 }, ctxWith()), ref),
        [`unipc (${variant})`]: rmse(await unipc(gmmDenoiser, xtest, s, { order: 3, variant }, ctxWith()), ref),
      },
    });
  }
  return rows;
}
