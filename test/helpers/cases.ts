/**
 * The golden runs this family reproduces, each with the dpipe blocks and preset that reproduce it:
 * solver + parameters, schedule (built with dpipe's own schedule functions), start convention, noise, and
 * whether the model is fed rounded timesteps (diffusers' Karras-σ multistep schedulers).
 * Shared by the float64 closed-form parity test and the ONNX parity test.
 */
import type { SolverFn } from '../../src/engine/core/types';
import { getNodeType } from '../../src/engine/registry/index';
import type { Params } from '../../src/engine/registry/types';
import { exponentialSigmas, karrasSigmas, polyexponentialSigmas } from '../../src/engine/schedules/kdiffusion';
import { timeUniformSigmas, type Convention, type Spacing } from '../../src/engine/schedules/timeUniform';
import { finish, type FinalMode } from '../../src/engine/schedules/common';
import { SD_TABLE } from './golden';

export interface ParityCase {
  readonly run: string;
  /** The solver block; the test runs its registry entry (`solverOf`). */
  readonly block: string;
  readonly params: Params;
  readonly sigmas: () => Float64Array;
  /** Start: z·σ0 (`ve`) or z·√(1+σ0²) (`vp`). */
  readonly start: 've' | 'vp';
  /** Per-step noise from steps.npy. */
  readonly stochastic?: boolean;
  /** The model is fed round(t(σ)) (diffusers' multistep schedulers with Karras σs). */
  readonly roundTimesteps?: boolean;
}

/** The solver of a block, on raw options (its registry entry). */
export function solverOf(block: string): SolverFn<Params> {
  const run = getNodeType(block)?.solverEntry?.run;
  if (!run) throw new Error(`${block} is not a solver block`);
  return run;
}

const kd = (kind: 'karras' | 'exponential' | 'polyexponential') => () => {
  const s = kind === 'karras' ? karrasSigmas(10, 0.002, 80, 7) : kind === 'exponential' ? exponentialSigmas(10, 0.002, 80) : polyexponentialSigmas(10, 0.002, 80, 1);
  return finish(s, 'zero', 0.002);
};
const tu = (spacing: Spacing, convention: Convention, final: FinalMode) => () => timeUniformSigmas(10, SD_TABLE, spacing, convention, 1, final);
const dfKarras = () => finish(karrasSigmas(10, SD_TABLE[0], SD_TABLE[999], 7), 'zero', 0);

const KD_SOLVERS: [string, string, Params, boolean][] = [
  ['euler', 'solver.euler', {}, false],
  ['heun', 'solver.heun', {}, false],
  ['dpmpp_2m', 'solver.dpmpp_2m', { lowerOrderFinal: 'off' }, false],
  ['euler_ancestral', 'solver.euler_ancestral', { eta: 1, sNoise: 1, noiseDraws: 'k-diffusion' }, true],
];

export const PARITY_CASES: ParityCase[] = [
  ...KD_SOLVERS.flatMap(([name, block, params, stochastic]) =>
    (['karras', 'exponential', 'polyexponential'] as const).map((kind) => ({ run: `kd_edm_${name}_${kind}_n10`, block, params, sigmas: kd(kind), start: 've' as const, stochastic })),
  ),
  { run: 'df_euler_n10', block: 'solver.euler', params: {}, sigmas: tu('linspace', 'euler', 'zero'), start: 've' },
  { run: 'df_euler_karras_n10', block: 'solver.euler', params: {}, sigmas: dfKarras, start: 've' },
  { run: 'df_heun_n10', block: 'solver.heun', params: {}, sigmas: tu('linspace', 'euler', 'zero'), start: 've' },
  { run: 'df_euler_a_n10', block: 'solver.euler_ancestral', params: { noiseDraws: 'diffusers' }, sigmas: tu('linspace', 'euler', 'zero'), start: 've', stochastic: true },
  { run: 'df_ddim_n10', block: 'solver.euler', params: {}, sigmas: tu('leading', 'ddim', 'sigma_min'), start: 'vp' },
  { run: 'df_ddim_trailing_n10', block: 'solver.euler', params: {}, sigmas: tu('trailing', 'ddim', 'sigma_min'), start: 'vp' },
  { run: 'df_dpmpp_2m_n10', block: 'solver.dpmpp_2m', params: { lowerOrderFinal: 'below15' }, sigmas: tu('linspace', 'multistep', 'zero'), start: 'vp' },
  { run: 'df_dpmpp_2m_sigmamin_n10', block: 'solver.dpmpp_2m', params: { lowerOrderFinal: 'below15' }, sigmas: tu('linspace', 'multistep', 'sigma_min'), start: 'vp' },
  { run: 'df_dpmpp_2m_trailing_n10', block: 'solver.dpmpp_2m', params: { lowerOrderFinal: 'below15' }, sigmas: tu('trailing', 'multistep', 'zero'), start: 'vp' },
  { run: 'df_dpmpp_2m_karras_n10', block: 'solver.dpmpp_2m', params: { lowerOrderFinal: 'below15' }, sigmas: dfKarras, start: 'vp', roundTimesteps: true },
  { run: 'df_dpmpp_3m_n10', block: 'solver.dpmpp_3m', params: { lowerOrderFinal: 'below15' }, sigmas: tu('linspace', 'multistep', 'zero'), start: 'vp' },
  { run: 'df_dpmpp_3m_sigmamin_n10', block: 'solver.dpmpp_3m', params: { lowerOrderFinal: 'below15' }, sigmas: tu('linspace', 'multistep', 'sigma_min'), start: 'vp' },
  { run: 'df_dpmpp_3m_trailing_n10', block: 'solver.dpmpp_3m', params: { lowerOrderFinal: 'below15' }, sigmas: tu('trailing', 'multistep', 'zero'), start: 'vp' },
  { run: 'df_dpm_2m_n10', block: 'solver.dpm_multistep', params: { order: 2, lowerOrderFinal: 'below15' }, sigmas: tu('linspace', 'multistep', 'sigma_min'), start: 'vp' },
  { run: 'df_dpm_2m_trailing_n10', block: 'solver.dpm_multistep', params: { order: 2, lowerOrderFinal: 'below15' }, sigmas: tu('trailing', 'multistep', 'sigma_min'), start: 'vp' },
];

// ---- issue 4 blocks -----------------------------------------------------------------------------
import { dpmSolverSigmas, type SkipType } from '../../src/engine/schedules/dpmSolver';
import { makeModelSchedule } from '../../src/engine/model/schedule';

const SD_MODEL = makeModelSchedule({ kind: 'discrete', discreteSigmas: SD_TABLE });
const dpms = (skip: SkipType, singlestepOrder = 0) => () => dpmSolverSigmas(SD_MODEL, 10, skip, singlestepOrder, 1, 0);

/**
 * Cases whose reference fed the model the dpm-solver/UniPC repositories' continuous time: the model node's
 * `timeInterpolation: 'log_alpha'` (log α linear in t ∈ [1/N, 1], t_input = 1000(t − 1/N)).
 */
export interface RepoCase extends ParityCase {
  readonly timeInterpolation?: 'log_alpha';
}

export const PARITY_CASES_2: RepoCase[] = [
  ...(['karras', 'exponential', 'polyexponential'] as const).flatMap((kind): RepoCase[] => [
    { run: `kd_edm_lms_${kind}_n10`, block: 'solver.lms', params: {}, sigmas: kd(kind), start: 've' as const },
    { run: `kd_edm_dpm_2_${kind}_n10`, block: 'solver.dpm_2', params: {}, sigmas: kd(kind), start: 've' as const },
  ]),
  { run: 'df_lms_n10', block: 'solver.lms', params: {}, sigmas: tu('linspace', 'euler', 'zero'), start: 've' },
  { run: 'df_dpm_single_2_n10', block: 'solver.dpm_singlestep', params: { order: 2, prediction: 'data', stages: 'diffusers' }, sigmas: tu('linspace', 'multistep', 'zero'), start: 'vp' },
  ...(['logSNR', 'time_uniform'] as const).flatMap((skip): RepoCase[] => [
    { run: `dpms_dpmpp_multistep_o2_${skip}_n10`, block: 'solver.dpmpp_2m', params: { lowerOrderFinal: 'below10' }, sigmas: dpms(skip), start: 'vp' as const, timeInterpolation: 'log_alpha' as const },
    { run: `dpms_dpmpp_multistep_o3_${skip}_n10`, block: 'solver.dpmpp_3m', params: { lowerOrderFinal: 'below10' }, sigmas: dpms(skip), start: 'vp' as const, timeInterpolation: 'log_alpha' as const },
    { run: `dpms_dpm_singlestep_o3_${skip}_n10`, block: 'solver.dpm_singlestep', params: { order: 3, prediction: 'noise', stages: 'dpm-solver' }, sigmas: dpms(skip, 3), start: 'vp' as const, timeInterpolation: 'log_alpha' as const },
    { run: `unipc_bh1_o3_${skip}_n10`, block: 'solver.unipc', params: { order: 3, variant: 'bh1' }, sigmas: dpms(skip), start: 'vp' as const, timeInterpolation: 'log_alpha' as const },
    { run: `unipc_bh2_o3_${skip}_n10`, block: 'solver.unipc', params: { order: 3, variant: 'bh2' }, sigmas: dpms(skip), start: 'vp' as const, timeInterpolation: 'log_alpha' as const },
  ]),
  ...([
    ['df_unipc_bh2_o2_n10', 2, 'bh2', 'zero'],
    ['df_unipc_bh2_o3_n10', 3, 'bh2', 'zero'],
    ['df_unipc_bh2_o3_sigmamin_n10', 3, 'bh2', 'sigma_min'],
    ['df_unipc_bh1_o3_sigmamin_n10', 3, 'bh1', 'sigma_min'],
  ] as const).map(([run, order, variant, final]): RepoCase => ({ run, block: 'solver.unipc', params: { order, variant }, sigmas: tu('linspace', 'multistep', final), start: 'vp' })),
];

// ---- k-diffusion's discrete-ε wrapper on the VP model (kdvp_*) --------------------------------------
import { normalSigmas } from '../../src/engine/schedules/comfy';

const kdvpSchedule = (kind: 'karras' | 'tuniform') => () => (kind === 'karras' ? finish(karrasSigmas(10, SD_TABLE[0], SD_TABLE[999], 7), 'zero', 0) : normalSigmas(SD_MODEL, 10, false));

export const PARITY_CASES_KDVP: RepoCase[] = (['karras', 'tuniform'] as const).flatMap((kind): RepoCase[] => [
  { run: `kdvp_euler_${kind}_n10`, block: 'solver.euler', params: {}, sigmas: kdvpSchedule(kind), start: 've' },
  { run: `kdvp_heun_${kind}_n10`, block: 'solver.heun', params: {}, sigmas: kdvpSchedule(kind), start: 've' },
  { run: `kdvp_lms_${kind}_n10`, block: 'solver.lms', params: {}, sigmas: kdvpSchedule(kind), start: 've' },
  { run: `kdvp_dpmpp_2m_${kind}_n10`, block: 'solver.dpmpp_2m', params: {}, sigmas: kdvpSchedule(kind), start: 'vp' },
  { run: `kdvp_euler_ancestral_${kind}_n10`, block: 'solver.euler_ancestral', params: {}, sigmas: kdvpSchedule(kind), start: 've', stochastic: true },
]);

// ---- DEIS, PNDM ------------------------------------------------------------------------------------

export const PARITY_CASES_3: RepoCase[] = [
  { run: 'df_deis_3_n10', block: 'solver.deis', params: { order: 3, basis: 'logrho', lowerOrderFinal: 'below15' }, sigmas: tu('linspace', 'multistep', 'sigma_min'), start: 'vp' },
  { run: 'df_pndm_n10', block: 'solver.pndm', params: { warmup: 'plms' }, sigmas: tu('leading', 'ddim', 'sigma_min'), start: 'vp' },
];
