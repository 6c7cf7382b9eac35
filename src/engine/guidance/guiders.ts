/**
 * GUIDER blocks: a model with its conditioning and guidance bound in, seen by the solvers as one denoiser
 * D(x, σ) → x̂0 (STYLE rule 6: guidance wraps the denoiser).
 *
 * - `guider.basic`: the model under one conditioning (no guidance).
 * - `guider.cfg`: classifier-free guidance (Ho & Salimans 2022) with its refinements as options.
 *
 * Convention: guidance is combined on the data prediction, D = D_u + w·(D_c − D_u). Because
 * D = x − σ·ε̂ is affine in ε̂ with the same x for both branches, this equals the ε-space rule of diffusers'
 * pipelines (`noise_pred_uncond + guidance_scale·(noise_pred_text − noise_pred_uncond)`) exactly; w = 1 is the
 * conditional model alone, w = 0 the unconditional one.
 */
import type { EvalRequest, Latent } from '../core/types';
import type { CondValue, GuidedOutput, GuiderValue, ModelValue, Params, ParamSpec } from '../registry/types';
import type { NodeType } from '../registry/node';
import { combine } from '../core/latent';

/** `guider.basic`: D(x, σ) = the model's prediction under one conditioning. */
export function basicGuider(model: ModelValue, cond: CondValue): GuiderValue {
  return {
    model,
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

export interface CfgOptions {
  /** Guidance scale w (diffusers' `guidance_scale`): D = D_u + w·(D_c − D_u). Default 7.5. */
  readonly scale: number;
}

/**
 * `guider.cfg`: classifier-free guidance. The conditional and unconditional predictions are requested in
 * one `ModelValue.denoise` call (one ONNX call when the model's batch dimension is dynamic); the pair counts
 * as one model evaluation. With w = 1 the unconditional branch is not evaluated.
 */
export function cfgGuider(model: ModelValue, positive: CondValue, negative: CondValue, opts: CfgOptions): GuiderValue {
  return {
    model,
    async denoise(x: Latent, sigma: number, _req: EvalRequest, signal?: AbortSignal): Promise<GuidedOutput> {
      if (opts.scale === 1) {
        const [cond] = await model.denoise(x, sigma, [positive], signal);
        return { denoised: cond, branches: { cond } };
      }
      const [cond, uncond] = await model.denoise(x, sigma, [positive, negative], signal);
      return { denoised: cfgCombine(cond, uncond, opts.scale), branches: { cond, uncond } };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Node types

/** A numeric parameter, falling back to its documented default when the loader did not fill it. */
function num(params: Params, name: string, fallback: number): number {
  const v = params[name];
  return typeof v === 'number' ? v : fallback;
}

const MODEL_IN = { name: 'model', type: 'MODEL', doc: 'The model to guide.' } as const;
const GUIDER_OUT = [{ name: 'guider', type: 'GUIDER', doc: 'The model with conditioning and guidance bound in.' }] as const;

const CFG_PARAMS: readonly ParamSpec[] = [
  {
    name: 'scale', type: 'number', default: 7.5, min: 0, max: 100, step: 0.1,
    doc: 'Guidance scale w: D = D_u + w·(D_c − D_u) (diffusers\' guidance_scale; Imagen\'s w+1). 1 = conditional only (one branch evaluated), 0 = unconditional.',
  },
];

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

export const GUIDER_CFG: NodeType = {
  type: 'guider.cfg',
  category: 'Guidance',
  title: 'Classifier-free guidance',
  doc: 'Classifier-free guidance: D = D_u + w·(D_c − D_u), the conditional and unconditional predictions evaluated in one batched model call (one NFE). The negative input replaces the unconditional branch (negative conditioning); without it the model\'s unconditional value is used.',
  paper: 'Ho & Salimans 2022, "Classifier-Free Diffusion Guidance", Eq. 6 (in ε form; identical on x̂0).',
  inputs: [
    MODEL_IN,
    { name: 'positive', type: 'CONDITIONING', doc: 'The conditioning to guide towards (D_c).' },
    { name: 'negative', type: 'CONDITIONING', optional: true, doc: 'The conditioning to guide away from (D_u); default: the model\'s unconditional value.' },
  ],
  outputs: GUIDER_OUT,
  params: CFG_PARAMS,
  async evaluate(_ctx, inputs, params: Params) {
    const model = inputs.model as ModelValue;
    const positive = inputs.positive as CondValue;
    const negative = (inputs.negative as CondValue | undefined) ?? model.unconditional;
    return { guider: cfgGuider(model, positive, negative, { scale: num(params, 'scale', 7.5) }) };
  },
};
