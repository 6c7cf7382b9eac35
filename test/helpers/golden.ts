/**
 * The golden reference runs (copied from /work/shared/golden into test/fixtures/golden/runs): final states
 * (`<name>.npy`, float64) and the configuration parts the tests use (`meta.json`). Helpers put a run's start
 * state into EDM/VE coordinates and map a VE result into the run's output space.
 */
import type { Latent } from '../../src/engine/core/types';
import { DEFAULT_DISCRETE, discreteSigmas } from '../../src/engine/model/schedule';
import { readJson, readNpy } from './fixtures';

export interface RunMeta {
  readonly nfe: number;
  readonly x_T: string;
  readonly output_space: 've' | 'vp';
  readonly sigmas?: number[];
  readonly timesteps?: number[];
  readonly model_calls_sigma?: number[];
  readonly model_calls_timestep?: number[];
  readonly truth: { sigma_start: number; sigma_end: number; x_ve0_scale: number };
  readonly scheduler_config?: Record<string, unknown>;
  readonly sample_kwargs?: Record<string, unknown>;
  readonly function_kwargs?: Record<string, unknown>;
}

let metaCache: Record<string, RunMeta> | undefined;
export function runMeta(name: string): RunMeta {
  metaCache ??= readJson<Record<string, RunMeta>>('runs/meta.json');
  const m = metaCache[name];
  if (!m) throw new Error(`no golden run ${name}`);
  return m;
}

export function runFinal(name: string): Latent {
  return readNpy(`runs/${name}.npy`);
}

/** z [4,3,8,8] and the per-step draws [24,4,3,8,8] of the golden runs. */
export const goldenZ = (): Latent => readNpy('noise/z.npy');
export const goldenSteps = (): Latent => readNpy('noise/steps24.npy');

/** The SD v1 scaled_linear training σs in float64 (the golden VP model's table). */
export const SD_TABLE = discreteSigmas(DEFAULT_DISCRETE);

/** Start state in VE coordinates: `ve` = z·σ0 (k-diffusion, diffusers σ-space), `vp` = z·√(1+σ0²). */
export function startVE(z: Latent, sigma0: number, kind: 've' | 'vp'): Latent {
  const c = kind === 'vp' ? Math.sqrt(1 + sigma0 * sigma0) : sigma0;
  return { shape: z.shape, data: z.data.map((v) => v * c) };
}

/** A VE state at σ in the run's output space. */
export function toOutput(x: Latent, sigmaEnd: number, space: 've' | 'vp'): Float64Array {
  if (space === 've') return x.data;
  const c = 1 / Math.sqrt(1 + sigmaEnd * sigmaEnd);
  return x.data.map((v) => v * c);
}
