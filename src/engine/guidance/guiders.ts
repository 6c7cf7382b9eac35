/**
 * GUIDER blocks: a model with its conditioning and guidance bound in, seen by the solvers as one denoiser
 * D(x, σ) → x̂0 (STYLE rule 6: guidance wraps the denoiser).
 *
 * - `guider.basic`: the model under one conditioning (no guidance).
 * - `guider.cfg`: classifier-free guidance (Ho & Salimans 2022) with the refinements that only change the
 *   scale or post-process the guided prediction, all composable: a scale schedule over steps, a guidance
 *   interval in σ (Kynkäänniemi et al. 2024), CFG rescale φ (Lin et al. 2023). Negative conditioning is its
 *   `negative` input. APG and CFG++ change the combination rule itself and are their own blocks
 *   (`apg.ts`, `cfgpp.ts`); dynamic thresholding wraps any guider (`threshold.ts`).
 *
 * Convention: guidance is combined on the data prediction, D = D_u + w·(D_c − D_u). Because
 * D = x − σ·ε̂ is affine in ε̂ with the same x for both branches, this equals the ε-space rule of diffusers'
 * pipelines (`noise_pred_uncond + guidance_scale·(noise_pred_text − noise_pred_uncond)`) exactly; w = 1 is the
 * conditional model alone, w = 0 the unconditional one.
 */
import type { EvalRequest, Latent } from '../core/types';
import type { CondValue, GuidedOutput, GuiderValue, ModelValue } from '../registry/types';
import { defineBlock, type NodeType } from '../registry/node';
import { combine } from '../core/latent';
import { DpipeError } from '../core/errors';
import { fromSpace, itemStd, perItem, toSpace, type PredSpace } from './math';
import { defineParam, defineParams } from '../registry/params';

/** `guider.basic`: D(x, σ) = the model's prediction under one conditioning. */
export function basicGuider(model: ModelValue, cond: CondValue): GuiderValue {
  return {
    model,
    conds: [cond],
    branches: [],
    async denoise(x: Latent, sigma: number, _req: EvalRequest, signal?: AbortSignal): Promise<GuidedOutput> {
      const [denoised] = await model.denoise(x, sigma, [cond], signal);
      return { denoised };
    },
  };
}

/** Plain CFG on data predictions: D_u + w·(D_c − D_u). */
export function cfgCombine(cond: Latent, uncond: Latent, scale: number): Latent {
  return combine(cond, [[1 - scale, uncond], [scale, cond]]);
}

/**
 * CFG rescale (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", §3.4, Alg. 2):
 * in prediction space p, p_cfg ← φ·p_cfg·std(p_c)/std(p_cfg) + (1 − φ)·p_cfg, std per batch item.
 */
export function rescaleCfg(x: Latent, sigma: number, guided: Latent, cond: Latent, phi: number, space: PredSpace): Latent {
  if (phi === 0) return guided;
  const pg = toSpace(space, x, sigma, guided);
  const pc = toSpace(space, x, sigma, cond);
  const sg = itemStd(pg);
  const sc = itemStd(pc);
  const n = perItem(pg);
  const out = new Float64Array(pg.data.length);
  for (let k = 0; k < pg.shape[0]; k++) {
    const f = phi * (sg[k] > 0 ? sc[k] / sg[k] : 1) + (1 - phi);
    for (let i = k * n; i < (k + 1) * n; i++) out[i] = pg.data[i] * f;
  }
  return fromSpace(space, x, sigma, { shape: pg.shape, data: out });
}

export type ScaleSchedule = 'constant' | 'linear' | 'cosine';

/**
 * The guidance scale at a step: constant w, or from w (first step) to w_end (last step) linearly or along a
 * half cosine, w_end + (w − w_end)(1 + cos πp)/2 with progress p = step/(N − 1) over the run's N steps.
 */
export function scheduledScale(schedule: ScaleSchedule, scale: number, scaleEnd: number, req: EvalRequest, who: string): number {
  if (schedule === 'constant') return scale;
  if (!req.sigmas) {
    throw new DpipeError('E_COMPOSE', `${who}: a ${schedule} guidance-scale schedule needs the run's σ schedule, which the Sample node passes with each evaluation; this caller did not.`);
  }
  const steps = req.sigmas.length - 1;
  const p = steps <= 1 ? 0 : Math.min(1, Math.max(0, req.step / (steps - 1)));
  return schedule === 'linear' ? scale + (scaleEnd - scale) * p : scaleEnd + ((scale - scaleEnd) * (1 + Math.cos(Math.PI * p))) / 2;
}

/** Guidance interval (Kynkäänniemi et al. 2024): guidance is on for σ_lo < σ ≤ σ_hi; [] = always. */
export function inInterval(interval: readonly number[], sigma: number): boolean {
  return interval.length === 0 || (sigma > interval[0] && sigma <= interval[1]);
}

export interface CfgOptions {
  /** Guidance scale w (diffusers' `guidance_scale`): D = D_u + w·(D_c − D_u). Default 7.5. */
  readonly scale: number;
  /** How w changes over the steps (default constant). */
  readonly scaleSchedule?: ScaleSchedule;
  /** w at the last step for linear/cosine schedules. */
  readonly scaleEnd?: number;
  /** [σ_lo, σ_hi]: guidance only for σ_lo < σ ≤ σ_hi (elsewhere w = 1 and the unconditional branch is skipped). */
  readonly interval?: readonly number[];
  /** CFG rescale φ ∈ [0, 1] (0 = off). */
  readonly rescale?: number;
  /** Prediction space of the rescale (default 'v', as ComfyUI's RescaleCFG and the paper's v-prediction model). */
  readonly rescaleSpace?: PredSpace;
}

/**
 * `guider.cfg`: classifier-free guidance. The conditional and unconditional predictions are requested in
 * one `ModelValue.denoise` call (one ONNX call when the model's batch dimension is dynamic); the pair counts
 * as one model evaluation. Where the effective scale is 1 the unconditional branch is not evaluated.
 */
export function cfgGuider(model: ModelValue, positive: CondValue, negative: CondValue, opts: CfgOptions): GuiderValue {
  const interval = opts.interval ?? [];
  return {
    model,
    conds: [positive, negative],
    branches: ['cond', 'uncond'],
    async denoise(x: Latent, sigma: number, req: EvalRequest, signal?: AbortSignal): Promise<GuidedOutput> {
      const w = inInterval(interval, sigma) ? scheduledScale(opts.scaleSchedule ?? 'constant', opts.scale, opts.scaleEnd ?? opts.scale, req, 'guider.cfg') : 1;
      if (w === 1) {
        const [cond] = await model.denoise(x, sigma, [positive], signal);
        return { denoised: cond, branches: { cond } };
      }
      const [cond, uncond] = await model.denoise(x, sigma, [positive, negative], signal);
      const guided = rescaleCfg(x, sigma, cfgCombine(cond, uncond, w), cond, opts.rescale ?? 0, opts.rescaleSpace ?? 'v');
      return { denoised: guided, branches: { cond, uncond } };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Node types

export function checkInterval(block: string, interval: readonly number[]): void {
  if (interval.length !== 0 && (interval.length !== 2 || !(interval[0] < interval[1]))) {
    throw new DpipeError('E_PARAM_VALUE', `${block}: interval must be empty (always guide) or [σ_lo, σ_hi] with σ_lo < σ_hi; got [${interval.join(', ')}].`);
  }
}

export const MODEL_IN = { name: 'model', type: 'MODEL', doc: 'The model to guide.' } as const;
export const POSITIVE_IN = { name: 'positive', type: 'CONDITIONING', doc: 'The conditioning to guide towards (D_c).' } as const;
export const NEGATIVE_IN = { name: 'negative', type: 'CONDITIONING', optional: true, doc: 'The conditioning to guide away from (D_u): negative conditioning. Default: the model\'s unconditional value.' } as const;
export const GUIDER_OUT = [{ name: 'guider', type: 'GUIDER', doc: 'The model with conditioning and guidance bound in.' }] as const;

export const SCALE_PARAM = defineParam({
  name: 'scale', type: 'number', default: 7.5, min: 0, max: 100, step: 0.1,
  doc: 'Guidance scale w: D = D_u + w·(D_c − D_u) (diffusers\' guidance_scale, default 7.5; Imagen\'s w + 1). 1 = conditional only (one branch evaluated), 0 = unconditional.',
});

export const INTERVAL_PARAM = defineParam({
  name: 'interval', type: 'numberList', default: [], min: 0,
  doc: 'Guidance interval [σ_lo, σ_hi] (Kynkäänniemi et al. 2024): guide only for σ_lo < σ ≤ σ_hi; elsewhere w = 1 and the unconditional branch is not evaluated. Empty = guide at every σ.',
});

const CFG_PARAMS = defineParams(
  SCALE_PARAM,
  {
    name: 'scaleSchedule', type: 'enum', default: 'constant', options: ['constant', 'linear', 'cosine'],
    optionDocs: {
      constant: 'w at every step.',
      linear: 'From w at the first step to scaleEnd at the last, linear in the step index.',
      cosine: 'From w to scaleEnd along a half cosine: scaleEnd + (w − scaleEnd)(1 + cos πp)/2, p = step/(N − 1).',
    },
    doc: 'Guidance-scale schedule over the steps of the run.',
  },
  { name: 'scaleEnd', type: 'number', default: 7.5, min: 0, max: 100, step: 0.1, doc: 'Scale at the last step for the linear and cosine schedules.' },
  INTERVAL_PARAM,
  { name: 'rescale', type: 'number', default: 0, min: 0, max: 1, step: 0.05, doc: 'CFG rescale φ (Lin et al. 2023, §3.4): blend of the guided prediction rescaled to the conditional prediction\'s std (per item) and the plain guided one. 0 = off; the paper uses 0.7.' },
  {
    name: 'rescaleSpace', type: 'enum', default: 'v', options: ['v', 'eps', 'x0'], advanced: true,
    optionDocs: {
      v: 'v-prediction space (ComfyUI RescaleCFG; the paper\'s v-prediction models).',
      eps: 'ε space (diffusers\' rescale_noise_cfg on an ε-prediction model).',
      x0: 'Data-prediction space.',
    },
    doc: 'Space in which the standard deviations of the rescale are taken.',
  },
);

export const GUIDER_BASIC: NodeType = {
  type: 'guider.basic',
  category: 'Guidance',
  title: 'Basic guider',
  doc: 'The model under one conditioning, without guidance. With no conditioning connected it uses the model\'s unconditional value (unconditional sampling).',
  inputs: [
    MODEL_IN,
    { name: 'cond', type: 'CONDITIONING', optional: true, doc: 'Conditioning; default: the model\'s unconditional value.' },
  ],
  outputs: GUIDER_OUT,
  params: [],
  async evaluate(_ctx, inputs) {
    const model = inputs.model as ModelValue;
    const cond = (inputs.cond as CondValue | undefined) ?? model.unconditional;
    return { guider: basicGuider(model, cond) };
  },
};

export const GUIDER_CFG = defineBlock({
  type: 'guider.cfg',
  category: 'Guidance',
  title: 'Classifier-free guidance',
  doc: 'Classifier-free guidance D = D_u + w·(D_c − D_u), conditional and unconditional predictions in one batched model call (one NFE). Options compose: a scale schedule over steps, a guidance interval in σ, CFG rescale φ. The negative input replaces the unconditional branch (negative conditioning). A linear/cosine schedule needs the Sample node to pass the run\'s σs.',
  paper: 'Ho & Salimans 2022, "Classifier-Free Diffusion Guidance", Eq. 6 (ε form; identical on x̂0); Kynkäänniemi et al. 2024, "Applying Guidance in a Limited Interval Improves Sample and Distribution Quality in Diffusion Models" (interval); Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", §3.4 and Alg. 2 (rescale).',
  inputs: [MODEL_IN, POSITIVE_IN, NEGATIVE_IN],
  outputs: GUIDER_OUT,
  params: CFG_PARAMS,
  async evaluate(_ctx, inputs, o) {
    const model = inputs.model as ModelValue;
    const positive = inputs.positive as CondValue;
    const negative = (inputs.negative as CondValue | undefined) ?? model.unconditional;
    checkInterval('guider.cfg', o.interval);
    return { guider: cfgGuider(model, positive, negative, o) };
  },
});
