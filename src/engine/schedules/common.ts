/**
 * Shared pieces of the schedule family: how a schedule ends (final 0, σ_min or nothing), the σ range
 * taken from parameters or from the connected model, the model's discrete training σs, and numpy-like
 * `linspace`. Every schedule returns σ descending, as a Float64Array, ending where the run ends.
 */
import { DpipeError } from '../core/errors';
import type { ModelSchedule } from '../core/types';
import { defineParam, defineParams } from '../registry/params';

export const FINAL_MODES = ['zero', 'sigma_min', 'none'] as const;
export type FinalMode = (typeof FINAL_MODES)[number];

export function finalParam(def: FinalMode, doc = 'How the schedule ends.') {
  return defineParam({
    name: 'final',
    type: 'enum',
    default: def,
    options: FINAL_MODES,
    optionDocs: {
      zero: 'append σ = 0: the last step lands on the clean sample (k-diffusion, ComfyUI, diffusers final_sigmas_type="zero").',
      sigma_min: 'append σ_min (the model\'s smallest training σ when a model is connected): diffusers final_sigmas_type="sigma_min", DDIM with set_alpha_to_one=false, the dpm-solver/UniPC repositories\' end time 1/N.',
      none: 'append nothing: the run ends at the last computed σ.',
    },
    doc,
  });
}

export function stepsParam(def = 20, doc = 'Number of solver steps.') {
  return defineParam({ name: 'steps', type: 'integer', default: def, min: 1, max: 10000, doc });
}

export function sigmaRangeParams(defMin: number, defMax: number) {
  return defineParams(
    { name: 'sigmaMin', type: 'number', default: defMin, min: 0, doc: `Smallest σ (default ${defMin}); 0 = the connected model's σ_min.` },
    { name: 'sigmaMax', type: 'number', default: defMax, min: 0, doc: `Largest σ (default ${defMax}); 0 = the connected model's σ_max.` },
  );
}

/** σ_min/σ_max from parameters, 0 meaning "from the model". */
export function sigmaRange(block: string, sigmaMin: number, sigmaMax: number, model: ModelSchedule | undefined): [number, number] {
  const need = (what: string) => {
    if (!model) throw new DpipeError('E_INPUT_MISSING', `${block}: ${what} is 0 ("from the model") but no model is connected; connect the model or set a value.`);
    return model;
  };
  const lo = sigmaMin > 0 ? sigmaMin : need('sigmaMin').sigmaMin;
  const hi = sigmaMax > 0 ? sigmaMax : need('sigmaMax').sigmaMax;
  if (!(lo > 0 && hi > lo)) throw new DpipeError('E_PARAM_VALUE', `${block}: needs 0 < sigmaMin < sigmaMax; got ${lo}, ${hi}.`);
  return [lo, hi];
}

/**
 * The `sigmas` of a schedule over a σ range: the range from the block's sigmaMin/sigmaMax (0 = the connected model's),
 * `values` on it, then the end chosen by `final` (σ_min being the range's low end).
 */
export function overRange<O extends { readonly sigmaMin: number; readonly sigmaMax: number; readonly final: FinalMode }>(
  block: string,
  values: (o: O, lo: number, hi: number) => ArrayLike<number>,
): (o: O, model: ModelSchedule | undefined) => Float64Array {
  return (o, model) => {
    const [lo, hi] = sigmaRange(block, o.sigmaMin, o.sigmaMax, model);
    return finish(values(o, lo, hi), o.final, lo);
  };
}

/** The model's σ at each training timestep (ascending); an error naming the block when it has none. */
export function trainingSigmas(block: string, model: ModelSchedule | undefined): Float64Array {
  if (!model) throw new DpipeError('E_INPUT_MISSING', `${block}: needs the model connected (it uses the model's training timesteps).`);
  if (!model.discreteSigmas) {
    throw new DpipeError('E_COMPOSE', `${block}: works on discrete-time (DDPM) models only; this model is "${model.kind}". Use a σ-based schedule (karras, exponential, …) instead.`);
  }
  return model.discreteSigmas;
}

/** Appends the end of the run. `sigmaMin` is used for "sigma_min". */
export function finish(values: ArrayLike<number>, final: FinalMode, sigmaMin: number): Float64Array {
  const n = values.length;
  const extra = final === 'none' ? 0 : 1;
  const out = new Float64Array(n + extra);
  for (let i = 0; i < n; i++) out[i] = values[i];
  if (final === 'zero') out[n] = 0;
  else if (final === 'sigma_min') out[n] = sigmaMin;
  return out;
}

/**
 * numpy.linspace(a, b, n) (endpoint included): a + i·step, with the last value exactly b. numpy computes
 * step = (b − a)/(n − 1) and a + i·step; torch.linspace differs in the last bits only.
 */
export function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = a;
    return out;
  }
  const step = (b - a) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = a + i * step;
  out[n - 1] = b;
  return out;
}

/** numpy.interp on an increasing integer grid 0..N−1 (clamped at the ends). */
export function interpIndex(t: number, table: Float64Array): number {
  const n = table.length;
  if (t <= 0) return table[0];
  if (t >= n - 1) return table[n - 1];
  const i = Math.floor(t);
  const w = t - i;
  return w === 0 ? table[i] : table[i] + (table[i + 1] - table[i]) * w;
}

export function checkDescending(block: string, s: Float64Array): Float64Array {
  for (let i = 0; i < s.length; i++) {
    if (!Number.isFinite(s[i]) || s[i] < 0) throw new DpipeError('E_PARAM_VALUE', `${block}: σ[${i}] = ${s[i]}; σ values must be finite and ≥ 0.`);
  }
  return s;
}
