/**
 * Adaptive projected guidance, APG (Sadat, Hilliges & Weber 2024, "Eliminating Oversaturation and Artifacts of
 * High Guidance Scales in Diffusion Models", ICLR 2025, Alg. 1), on data predictions:
 *   Δ = D_c − D_u;  with momentum β: Δ̄ ← Δ + β·Δ̄ (reverse momentum for β < 0), Δ = Δ̄;
 *   norm threshold r: Δ ← Δ·min(1, r/‖Δ‖) per item;
 *   Δ∥ = ⟨Δ, D̂_c⟩·D̂_c (D̂_c = D_c/‖D_c‖ per item), Δ⊥ = Δ − Δ∥;
 *   D = D_c + (w − 1)·(Δ⊥ + η·Δ∥)   (formulation "paper"),  or  D_u + w·(Δ⊥ + η·Δ∥)  ("diffusers", the default
 *   of diffusers' AdaptiveProjectedGuidance with use_original_formulation=False).
 * With η = 1, β = 0, r = 0 both are plain CFG. The momentum buffer lives for one run: it starts from 0 at the
 * run's first evaluation and is updated at every guided evaluation (as the reference code, which updates on
 * each guided model call).
 */
import type { EvalRequest, Latent } from '../core/types';
import type { CondValue, GuidedOutput, GuiderValue, ModelValue } from '../registry/types';
import { defineBlock } from '../registry/node';
import { defineParams } from '../registry/params';
import { GUIDER_OUT, MODEL_IN, NEGATIVE_IN, POSITIVE_IN, SCALE_PARAM } from './guiders';
import { itemNorm } from './math';

export interface ApgOptions {
  readonly scale: number;
  readonly eta: number;
  readonly momentum: number;
  readonly normThreshold: number;
  readonly formulation: 'paper' | 'diffusers';
}

/** One APG combination; `avg` is the momentum buffer (updated in place when momentum ≠ 0). */
export function apgCombine(cond: Latent, uncond: Latent, o: ApgOptions, avg?: Float64Array): Latent {
  const b = cond.shape[0];
  const n = cond.data.length / b;
  let diff = cond.data.map((v, i) => v - uncond.data[i]);
  if (avg) {
    for (let i = 0; i < diff.length; i++) avg[i] = diff[i] + o.momentum * avg[i];
    diff = Float64Array.from(avg);
  }
  if (o.normThreshold > 0) {
    const norms = itemNorm(diff, b);
    for (let k = 0; k < b; k++) {
      const f = Math.min(1, o.normThreshold / norms[k]);
      for (let i = k * n; i < (k + 1) * n; i++) diff[i] *= f;
    }
  }
  const cn = itemNorm(cond, b);
  const out = new Float64Array(cond.data.length);
  const base = o.formulation === 'paper' ? cond.data : uncond.data;
  const w = o.formulation === 'paper' ? o.scale - 1 : o.scale;
  for (let k = 0; k < b; k++) {
    const inv = 1 / Math.max(cn[k], 1e-12); // torch.nn.functional.normalize's eps
    let dot = 0;
    for (let i = k * n; i < (k + 1) * n; i++) dot += diff[i] * cond.data[i] * inv;
    for (let i = k * n; i < (k + 1) * n; i++) {
      const par = dot * cond.data[i] * inv;
      out[i] = base[i] + w * (diff[i] - par + o.eta * par);
    }
  }
  return { shape: cond.shape, data: out };
}

export function apgGuider(model: ModelValue, positive: CondValue, negative: CondValue, o: ApgOptions): GuiderValue {
  let avg: Float64Array | undefined;
  let lastStep = -1;
  let lastSigma = Infinity;
  return {
    model,
    conds: [positive, negative],
    branches: ['cond', 'uncond'],
    async denoise(x: Latent, sigma: number, req: EvalRequest, signal?: AbortSignal): Promise<GuidedOutput> {
      // A new run: the step index went back, or a one-step run restarted from a higher σ.
      if (req.step < lastStep || (req.step === 0 && lastStep === 0 && sigma > lastSigma) || !avg || avg.length !== x.data.length) {
        avg = new Float64Array(x.data.length);
      }
      lastStep = req.step;
      lastSigma = sigma;
      const [cond, uncond] = await model.denoise(x, sigma, [positive, negative], signal);
      return { denoised: apgCombine(cond, uncond, o, o.momentum !== 0 ? avg : undefined), branches: { cond, uncond } };
    },
  };
}

const P_APG = defineParams(
  SCALE_PARAM,
  { name: 'eta', type: 'number', default: 0, min: -10, max: 10, step: 0.05, doc: 'η: weight of the update\'s component parallel to D_c (the part that oversaturates). 0 = the paper\'s choice (orthogonal part only), 1 = CFG.' },
  { name: 'momentum', type: 'number', default: 0, min: -1, max: 1, step: 0.05, doc: 'β of the running average Δ̄ ← Δ + β·Δ̄; the paper uses negative values (reverse momentum, e.g. −0.5). 0 = off.' },
  { name: 'normThreshold', type: 'number', default: 15, min: 0, max: 1000, step: 0.5, doc: 'r: the update\'s norm (per item, in x̂0 units) is capped at r; 0 = off. Default 15 as diffusers\' adaptive_projected_guidance_rescale.' },
  {
    name: 'formulation', type: 'enum', default: 'paper', options: ['paper', 'diffusers'],
    optionDocs: { paper: 'D = D_c + (w − 1)·update (Alg. 1 of the paper).', diffusers: 'D = D_u + w·update (diffusers\' default formulation).' },
    advanced: true,
    doc: 'Which prediction the update is added to; the two agree for η = 1.',
  },
);

export const GUIDER_APG = defineBlock({
  type: 'guider.apg',
  category: 'Guidance',
  title: 'Adaptive projected guidance (APG)',
  doc: 'CFG with the guidance update split into parts parallel and orthogonal to the conditional prediction, the parallel part down-weighted by η, its norm capped and an optional (reverse) momentum over the run. Lets high scales work without oversaturation. One batched model call per evaluation.',
  paper: 'Sadat, Hilliges & Weber 2024, "Eliminating Oversaturation and Artifacts of High Guidance Scales in Diffusion Models" (ICLR 2025), Alg. 1.',
  inputs: [MODEL_IN, POSITIVE_IN, NEGATIVE_IN],
  outputs: GUIDER_OUT,
  params: P_APG,
  async evaluate(_ctx, inputs, o) {
    const model = inputs.model as ModelValue;
    return { guider: apgGuider(model, inputs.positive as CondValue, (inputs.negative as CondValue | undefined) ?? model.unconditional, o) };
  },
});
