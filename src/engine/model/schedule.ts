/**
 * A model's own noise schedule and time input, in σ (VE / EDM) terms.
 *
 * Discrete-time (DDPM) models — Ho et al. 2020, "Denoising Diffusion Probabilistic Models" — follow diffusers'
 * `DDPMScheduler` conventions: ᾱ_t = Π_{s≤t}(1 − β_s), σ_t = √((1 − ᾱ_t)/ᾱ_t), t = 0..N−1. Fractional time
 * is log-σ interpolation between integer timesteps, as k-diffusion's `DiscreteSchedule.sigma_to_t` /
 * `t_to_sigma` do (crowsonkb/k-diffusion, `k_diffusion/external.py`); diffusers instead rounds the result to an
 * integer in its multistep schedulers (`_sigma_to_t(...).round()`), which `roundTimesteps` reproduces.
 *
 * The DPM-Solver and UniPC reference code (LuChengTHU/dpm-solver `dpm_solver_pytorch.py`, `NoiseScheduleVP`
 * with schedule 'discrete' and `model_wrapper.get_model_input_time`; wl-zhao/UniPC `uni_pc.py`, the same code)
 * use a different map, the `log_alpha` time interpolation: training step i sits at continuous time
 * t_i = (i+1)/N, log α(t) = ½·log ᾱ is piecewise linear in t between those points (extended linearly beyond
 * them, their `interpolate_fn`), σ → t inverts that line, and the network gets t_input = 1000·(t − 1/N) —
 * the training index for N = 1000; the factor is 1000 whatever N is, as in the repositories. Between integer
 * timesteps this feeds a slightly different fractional t than log-σ interpolation does (the golden
 * `dpms_*` / `unipc_*` runs of /work/shared/golden/README.md were made this way).
 *
 * Continuous conventions: σ itself; EDM's c_noise = ¼·ln σ (Karras et al. 2022, "Elucidating the Design Space
 * of Diffusion-Based Generative Models", Table 1); rectified-flow time t = σ/(1+σ) ∈ [0,1) (Liu et al. 2022,
 * "Flow Straight and Fast"; Lipman et al. 2022, "Flow Matching for Generative Modeling"), optionally ×1000 as
 * Stable Diffusion 3 exports take it.
 */
import { DpipeError } from '../core/errors';
import type { ModelSchedule } from '../core/types';

export const BETA_SCHEDULES = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'explicit'] as const;
export type BetaSchedule = (typeof BETA_SCHEDULES)[number];

export const TIME_KINDS = ['discrete', 'sigma', 'edm_cnoise', 'flow', 'flow1000'] as const;
export type TimeKind = (typeof TIME_KINDS)[number];

/**
 * How a discrete model's fractional timestep is derived from σ: `log_sigma` (k-diffusion / ComfyUI: log σ
 * linear between integer timesteps) or `log_alpha` (DPM-Solver / UniPC repositories: log α linear in the
 * continuous t ∈ [1/N, 1], t_input = 1000·(t − 1/N)).
 */
export const TIME_INTERPOLATIONS = ['log_sigma', 'log_alpha'] as const;
export type TimeInterpolation = (typeof TIME_INTERPOLATIONS)[number];

/**
 * The σ that stands for σ = ∞ (ᾱ = 0: a zero-terminal-SNR model's last training step; flow time t = 1): 2⁴⁰. It is
 * large enough that what a model sees is exact in float32 (x/√(1+σ²) rounds to the noise itself, 1000·σ/(1+σ) to
 * 1000) and small enough that float64 arithmetic on x = x0 + σ·ε keeps about 1e-12 relative precision, so every
 * solver runs from "pure noise" in VE coordinates with no special case.
 */
export const SIGMA_INFINITY = 2 ** 40;

export interface DiscreteOptions {
  readonly betaSchedule: BetaSchedule;
  /** β_1 and β_N for linear / scaled_linear (diffusers' `beta_start`, `beta_end`). */
  readonly betaStart: number;
  readonly betaEnd: number;
  /** N, diffusers' `num_train_timesteps`. */
  readonly numTrainTimesteps: number;
  /** ᾱ_0..ᾱ_{N−1} for `explicit` (decreasing, in (0, 1]). */
  readonly alphasCumprod?: readonly number[];
  /**
   * Zero terminal SNR (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Alg. 1;
   * diffusers `rescale_betas_zero_snr`): √ᾱ is shifted and scaled so that ᾱ_{N−1} = 0 while ᾱ_0 keeps its value.
   * The last step's σ is then ∞: `exact` keeps ᾱ_{N−1} = 0 (σ = {@link SIGMA_INFINITY}, diffusers' DDIM and DDPM
   * schedulers), `clamped` sets ᾱ_{N−1} = 2⁻²⁴ (σ ≈ 4096, what diffusers' Euler, DPM-Solver, UniPC and other σ-based
   * schedulers do "so the first sigma is not inf"). Undefined: no rescaling.
   */
  readonly zeroTerminalSnr?: 'exact' | 'clamped';
}

/** Stable Diffusion v1's schedule, the defaults when neither the node nor the sidecar sets one. */
export const DEFAULT_DISCRETE: DiscreteOptions = { betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, numTrainTimesteps: 1000 };

/** β_1..β_N as diffusers' `DDPMScheduler.__init__` computes them (in float64 here). */
export function betas(o: DiscreteOptions): Float64Array {
  const n = o.numTrainTimesteps;
  if (!Number.isInteger(n) || n < 2) throw new DpipeError('E_MODEL', `numTrainTimesteps must be an integer ≥ 2; got ${n}.`);
  const out = new Float64Array(n);
  switch (o.betaSchedule) {
    case 'linear':
    case 'scaled_linear': {
      checkBetaRange(o);
      const sq = o.betaSchedule === 'scaled_linear';
      const a = sq ? Math.sqrt(o.betaStart) : o.betaStart;
      const b = sq ? Math.sqrt(o.betaEnd) : o.betaEnd;
      for (let i = 0; i < n; i++) {
        const v = a + ((b - a) * i) / (n - 1);
        out[i] = sq ? v * v : v;
      }
      return out;
    }
    case 'squaredcos_cap_v2': {
      // Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models", eq. 17; β capped at 0.999.
      const abar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      for (let i = 0; i < n; i++) out[i] = Math.min(1 - abar((i + 1) / n) / abar(i / n), 0.999);
      return out;
    }
    case 'explicit': {
      const ac = checkedAlphasCumprod(o);
      for (let i = 0; i < n; i++) out[i] = 1 - ac[i] / (i === 0 ? 1 : ac[i - 1]);
      return out;
    }
    default:
      throw new DpipeError('E_MODEL', `betaSchedule "${String(o.betaSchedule)}" is not one of ${BETA_SCHEDULES.join(', ')}.`);
  }
}

/** ᾱ_t = Π_{s≤t}(1 − β_s), t = 0..N−1 (rescaled to zero terminal SNR when the options say so). */
export function alphasCumprod(o: DiscreteOptions): Float64Array {
  if (o.betaSchedule === 'explicit') return Float64Array.from(checkedAlphasCumprod(o));
  const b = betas(o);
  const out = new Float64Array(b.length);
  let p = 1;
  for (let i = 0; i < b.length; i++) {
    p *= 1 - b[i];
    out[i] = p;
  }
  if (!o.zeroTerminalSnr) return out;
  // Lin et al. 2024, Alg. 1, on √ᾱ: shift so the last is 0, scale so the first keeps its value.
  const sq = out.map(Math.sqrt);
  const s0 = sq[0];
  const sT = sq[sq.length - 1];
  for (let i = 0; i < sq.length; i++) {
    const v = ((sq[i] - sT) * s0) / (s0 - sT);
    out[i] = v * v;
  }
  out[out.length - 1] = o.zeroTerminalSnr === 'clamped' ? 2 ** -24 : 0;
  return out;
}

/** σ_t = √((1 − ᾱ_t)/ᾱ_t) at each training timestep, ascending (length N); ᾱ = 0 gives {@link SIGMA_INFINITY}. */
export function discreteSigmas(o: DiscreteOptions): Float64Array {
  const ac = alphasCumprod(o);
  return ac.map((a) => (a > 0 ? Math.sqrt((1 - a) / a) : SIGMA_INFINITY));
}

/**
 * Fractional timestep for σ: log σ interpolated linearly between the two neighbouring training timesteps,
 * clamped to [0, N−1] (k-diffusion `DiscreteSchedule.sigma_to_t`, diffusers `_sigma_to_t`).
 * `sigmas` ascending.
 */
export function sigmaToT(sigma: number, sigmas: Float64Array): number {
  const n = sigmas.length;
  const ls = Math.log(sigma);
  if (!(ls > Math.log(sigmas[0]))) return 0;
  if (ls >= Math.log(sigmas[n - 1])) return n - 1;
  // Largest i with log σ_i ≤ log σ (binary search, σ ascending).
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (Math.log(sigmas[mid]) <= ls) lo = mid;
    else hi = mid;
  }
  const l0 = Math.log(sigmas[lo]);
  const l1 = Math.log(sigmas[lo + 1]);
  const w = Math.min(1, Math.max(0, (l0 - ls) / (l0 - l1)));
  return (1 - w) * lo + w * (lo + 1);
}

/** σ at fractional timestep t (log-σ interpolation, k-diffusion `DiscreteSchedule.t_to_sigma`); t clamped to [0, N−1]. */
export function tToSigma(t: number, sigmas: Float64Array): number {
  const n = sigmas.length;
  const tc = Math.min(n - 1, Math.max(0, t));
  const lo = Math.floor(tc);
  const hi = Math.min(n - 1, lo + 1);
  const w = tc - lo;
  return Math.exp((1 - w) * Math.log(sigmas[lo]) + w * Math.log(sigmas[hi]));
}

/** log α = −½·log(1 + σ²) of a VP model at VE noise level σ. */
const logAlphaOf = (sigma: number) => -0.5 * Math.log1p(sigma * sigma);

/**
 * Continuous time t of the DPM-Solver / UniPC repositories for σ (`NoiseScheduleVP('discrete').inverse_lambda`
 * at λ = −log σ): log α = −½·log(1 + σ²), then t on the piecewise-linear log α(t) through (t_i, ½·log ᾱ_i),
 * t_i = (i+1)/N, extended linearly beyond the first and last segment as their `interpolate_fn` does (no
 * clamping). `sigmas` ascending (the training σs).
 */
export function sigmaToContinuousT(sigma: number, sigmas: Float64Array): number {
  const n = sigmas.length;
  const la = logAlphaOf(sigma);
  // log α_i decreases with i; find the segment [i, i+1] holding la (the end segments extend outward).
  let lo = 0;
  let hi = n - 1;
  if (la >= logAlphaOf(sigmas[0])) hi = 1;
  else if (la <= logAlphaOf(sigmas[n - 1])) lo = n - 2;
  else {
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (logAlphaOf(sigmas[mid]) >= la) lo = mid;
      else hi = mid;
    }
  }
  const a0 = logAlphaOf(sigmas[lo]);
  const a1 = logAlphaOf(sigmas[lo + 1]);
  return (lo + 1 + (la - a0) / (a1 - a0)) / n;
}

/** σ at the repositories' continuous time t (`marginal_log_mean_coeff`, then σ = √(α⁻² − 1)); linear beyond the ends. */
export function continuousTToSigma(t: number, sigmas: Float64Array): number {
  const n = sigmas.length;
  const i = Math.max(0, Math.min(n - 2, Math.floor(t * n) - 1));
  const a0 = logAlphaOf(sigmas[i]);
  const a1 = logAlphaOf(sigmas[i + 1]);
  const la = a0 + (t * n - (i + 1)) * (a1 - a0);
  return Math.sqrt(Math.expm1(-2 * la));
}

/** The repositories' model time for σ: t_input = 1000·(t − 1/N) (`get_model_input_time`), t from {@link sigmaToContinuousT}. */
export function sigmaToRepoTimestep(sigma: number, sigmas: Float64Array): number {
  return 1000 * (sigmaToContinuousT(sigma, sigmas) - 1 / sigmas.length);
}

/** Inverse of {@link sigmaToRepoTimestep}: t = t_input/1000 + 1/N, then σ(t). */
export function repoTimestepToSigma(tInput: number, sigmas: Float64Array): number {
  return continuousTToSigma(tInput / 1000 + 1 / sigmas.length, sigmas);
}

/** numpy/torch `round`: halves to the even neighbour. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Flow time t = σ/(1+σ) (x_t = (1−t)·x0 + t·ε is x/(1+σ) in VE coordinates). */
export function flowT(sigma: number): number {
  return sigma / (1 + sigma);
}

/** σ at flow time t: t/(1−t), and {@link SIGMA_INFINITY} at t = 1 (pure noise). */
export function flowSigma(t: number): number {
  return t >= 1 ? SIGMA_INFINITY : t / (1 - t);
}

/**
 * The time shift of a flow model at time t ∈ [0, 1] (see `FlowShiftConfig`): static t' = s·t/(1 + (s−1)·t), or
 * with `mu` the resolution-dependent forms of diffusers' `time_shift` (exponential: e^μ/(e^μ + 1/t − 1); linear:
 * μ/(μ + 1/t − 1)). t = 0 stays 0 and t = 1 stays 1.
 */
export function shiftFlowT(t: number, o: { readonly shift?: number; readonly mu?: number; readonly timeShiftType?: 'exponential' | 'linear' }): number {
  if (t <= 0) return 0;
  if (t >= 1) return 1;
  if (o.mu !== undefined) {
    const m = o.timeShiftType === 'linear' ? o.mu : Math.exp(o.mu);
    return m / (m + (1 / t - 1));
  }
  const s = o.shift ?? 1;
  return (s * t) / (1 + (s - 1) * t);
}

/**
 * μ for a resolution-dependent shift: linear in the image's token count between (baseImageSeqLen, baseShift) and
 * (maxImageSeqLen, maxShift), as diffusers' `calculate_shift` (SD3.5 / Flux pipelines).
 */
export function flowShiftMu(seqLen: number, o: { baseImageSeqLen: number; maxImageSeqLen: number; baseShift: number; maxShift: number }): number {
  const m = (o.maxShift - o.baseShift) / (o.maxImageSeqLen - o.baseImageSeqLen);
  return seqLen * m + (o.baseShift - m * o.baseImageSeqLen);
}

export interface TimeOptions {
  readonly kind: TimeKind;
  /** Discrete models: σ at each training timestep, ascending. */
  readonly discreteSigmas?: Float64Array;
  /** Discrete models: feed round(t) instead of the fractional t. */
  readonly round?: boolean;
  /** Discrete models: how σ maps to a fractional timestep (default `log_sigma`). */
  readonly interpolation?: TimeInterpolation;
}

/** The model's time input for noise level σ. */
export function timeFromSigma(sigma: number, o: TimeOptions): number {
  switch (o.kind) {
    case 'discrete': {
      if (!o.discreteSigmas) throw new DpipeError('E_INTERNAL', 'discrete time without the training sigmas');
      const t = discreteT(sigma, o.discreteSigmas, o.interpolation);
      return o.round ? roundHalfEven(t) : t;
    }
    case 'sigma':
      return sigma;
    case 'edm_cnoise':
      return 0.25 * Math.log(sigma);
    case 'flow':
      return flowT(sigma);
    case 'flow1000':
      return 1000 * flowT(sigma);
    default:
      throw new DpipeError('E_MODEL', `time "${String(o.kind)}" is not one of ${TIME_KINDS.join(', ')}.`);
  }
}

function discreteT(sigma: number, sigmas: Float64Array, interpolation: TimeInterpolation = 'log_sigma'): number {
  switch (interpolation) {
    case 'log_sigma':
      return sigmaToT(sigma, sigmas);
    case 'log_alpha':
      return sigmaToRepoTimestep(sigma, sigmas);
    default:
      throw new DpipeError('E_MODEL', `timeInterpolation "${String(interpolation)}" is not one of ${TIME_INTERPOLATIONS.join(', ')}.`);
  }
}

/** Inverse of {@link timeFromSigma} (rounding ignored). */
export function sigmaFromTime(t: number, o: TimeOptions): number {
  switch (o.kind) {
    case 'discrete':
      if (!o.discreteSigmas) throw new DpipeError('E_INTERNAL', 'discrete time without the training sigmas');
      return (o.interpolation ?? 'log_sigma') === 'log_alpha' ? repoTimestepToSigma(t, o.discreteSigmas) : tToSigma(t, o.discreteSigmas);
    case 'sigma':
      return t;
    case 'edm_cnoise':
      return Math.exp(4 * t);
    case 'flow':
      return t / (1 - t);
    case 'flow1000':
      return t / 1000 / (1 - t / 1000);
    default:
      throw new DpipeError('E_MODEL', `time "${String(o.kind)}" is not one of ${TIME_KINDS.join(', ')}.`);
  }
}

/** σ range of continuous models when neither node nor sidecar sets one. */
export const DEFAULT_SIGMA_RANGE = {
  /** EDM's σ_min, σ_max (Karras et al. 2022, Table 1, "sampling"). */
  edm: [0.002, 80],
  /** Flow models: t ∈ [0.001, 0.999] ⇒ σ = t/(1−t). */
  flow: [0.001 / 0.999, 0.999 / 0.001],
} as const;

/** Builds the {@link ModelSchedule} the schedule blocks see. */
export function makeModelSchedule(args: {
  readonly kind: ModelSchedule['kind'];
  readonly discreteSigmas?: Float64Array;
  readonly sigmaMin?: number;
  readonly sigmaMax?: number;
  readonly flowShift?: ModelSchedule['flowShift'];
  readonly spacing?: ModelSchedule['spacing'];
}): ModelSchedule {
  const extra = { ...(args.flowShift ? { flowShift: args.flowShift } : {}), ...(args.spacing ? { spacing: args.spacing } : {}) };
  if (args.kind === 'discrete') {
    const s = args.discreteSigmas;
    if (!s || s.length < 2) throw new DpipeError('E_INTERNAL', 'discrete schedule without sigmas');
    return { kind: 'discrete', discreteSigmas: s, sigmaMin: args.sigmaMin || s[0], sigmaMax: args.sigmaMax || s[s.length - 1], ...extra };
  }
  const [dMin, dMax] = args.kind === 'flow' ? DEFAULT_SIGMA_RANGE.flow : DEFAULT_SIGMA_RANGE.edm;
  const sigmaMin = args.sigmaMin || dMin;
  const sigmaMax = args.sigmaMax || dMax;
  if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) throw new DpipeError('E_MODEL', `sigmaMin/sigmaMax must satisfy 0 < sigmaMin < sigmaMax; got ${sigmaMin}, ${sigmaMax}.`);
  return { kind: args.kind, sigmaMin, sigmaMax, ...extra };
}

function checkBetaRange(o: DiscreteOptions): void {
  if (!(o.betaStart > 0 && o.betaEnd > 0 && o.betaStart < 1 && o.betaEnd < 1)) {
    throw new DpipeError('E_MODEL', `betaStart and betaEnd must lie in (0, 1); got ${o.betaStart}, ${o.betaEnd}.`);
  }
}

function checkedAlphasCumprod(o: DiscreteOptions): readonly number[] {
  const ac = o.alphasCumprod ?? [];
  if (ac.length < 2) throw new DpipeError('E_MODEL', 'betaSchedule "explicit" needs alphasCumprod: ᾱ_0..ᾱ_{N−1}, at least 2 values.');
  if (o.numTrainTimesteps && ac.length !== o.numTrainTimesteps) {
    throw new DpipeError('E_MODEL', `alphasCumprod has ${ac.length} values but numTrainTimesteps is ${o.numTrainTimesteps}; they must agree.`);
  }
  for (let i = 0; i < ac.length; i++) {
    if (!(ac[i] > 0 && ac[i] <= 1) || (i > 0 && !(ac[i] < ac[i - 1]))) {
      throw new DpipeError('E_MODEL', `alphasCumprod must be strictly decreasing values in (0, 1]; value ${i} is ${ac[i]}.`);
    }
  }
  return ac;
}
