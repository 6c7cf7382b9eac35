/**
 * Thresholding of the data prediction, wrapping any guider (GUIDER → GUIDER):
 * - dynamic (Saharia et al. 2022, "Photorealistic Text-to-Image Diffusion Models with Deep Language
 *   Understanding" (Imagen), §2.3; Lu et al. 2022, DPM-Solver++ §4, data-prediction thresholding):
 *   per item s = quantile(|x̂0|, p), s ← max(s, s_min), optionally s ← min(s, s_max); x̂0 ← clip(x̂0, −s, s)/s.
 *   Imagen: s_min = 1, no s_max. DPM-Solver's `thresholding_max_val` is s_min; diffusers'
 *   `_threshold_sample` clamps s to [1, sample_max_value], i.e. s_min = 1, s_max = sample_max_value.
 * - static: x̂0 ← clip(x̂0, −1, 1) (Ho et al. 2020's clipping; diffusers `clip_sample`).
 * Meaningful for models whose data lie in [−1, 1] (pixel space).
 */
import type { EvalRequest, Latent } from '../core/types';
import type { GuidedOutput, GuiderValue } from '../registry/types';
import { defineBlock } from '../registry/node';
import { defineParams } from '../registry/params';
import { GUIDER_OUT } from './guiders';
import { quantile } from './math';

export interface ThresholdOptions {
  readonly mode: 'dynamic' | 'static';
  readonly percentile: number;
  readonly sMin: number;
  /** 0 = no upper bound. */
  readonly sMax: number;
}

export function threshold(x0: Latent, o: ThresholdOptions): Latent {
  const b = x0.shape[0];
  const n = x0.data.length / b;
  const out = new Float64Array(x0.data.length);
  for (let k = 0; k < b; k++) {
    const item = x0.data.subarray(k * n, (k + 1) * n);
    let s = 1;
    if (o.mode === 'dynamic') {
      s = Math.max(quantile(item.map(Math.abs), o.percentile), o.sMin);
      if (o.sMax > 0) s = Math.min(s, o.sMax);
    }
    for (let i = 0; i < n; i++) out[k * n + i] = Math.min(s, Math.max(-s, item[i])) / s;
  }
  return { shape: x0.shape, data: out };
}

export function thresholdGuider(inner: GuiderValue, o: ThresholdOptions): GuiderValue {
  return {
    model: inner.model,
    conds: inner.conds,
    branches: inner.branches && [...inner.branches, 'unthresholded'],
    async denoise(x: Latent, sigma: number, req: EvalRequest, signal?: AbortSignal): Promise<GuidedOutput> {
      const out = await inner.denoise(x, sigma, req, signal);
      return { denoised: threshold(out.denoised, o), branches: { ...out.branches, unthresholded: out.denoised } };
    },
  };
}

const P_THR = defineParams(
  {
    name: 'mode', type: 'enum', default: 'dynamic', options: ['dynamic', 'static'],
    optionDocs: { dynamic: 'Imagen / DPM-Solver++ dynamic thresholding at a percentile.', static: 'Clip x̂0 to [−1, 1].' },
    doc: 'Thresholding rule.',
  },
  { name: 'percentile', type: 'number', default: 0.995, min: 0, max: 1, step: 0.001, doc: 'p: the quantile of |x̂0| per item (Imagen, DPM-Solver++ and diffusers default 0.995).' },
  { name: 'sMin', type: 'number', default: 1, min: 0, exclusiveMin: true, doc: 'Lower bound of s (Imagen 1; DPM-Solver\'s thresholding_max_val).' },
  { name: 'sMax', type: 'number', default: 0, min: 0, doc: 'Upper bound of s; 0 = none (Imagen). diffusers\' sample_max_value.' },
);

export const GUIDER_THRESHOLD = defineBlock({
  type: 'guider.threshold',
  category: 'Guidance',
  title: 'Dynamic thresholding',
  doc: 'Thresholds the data prediction x̂0 of any guider: dynamic (per-item percentile s of |x̂0|, clip to [−s, s] and divide by s) or static (clip to [−1, 1]). For pixel-space models with data in [−1, 1], typically with large guidance scales. No extra model evaluation.',
  paper: 'Saharia et al. 2022, "Photorealistic Text-to-Image Diffusion Models with Deep Language Understanding" (Imagen), §2.3; Lu et al. 2022, "DPM-Solver++", §4 (thresholding with data prediction).',
  inputs: [{ name: 'guider', type: 'GUIDER', doc: 'The guider whose prediction is thresholded.' }],
  outputs: GUIDER_OUT,
  params: P_THR,
  async evaluate(_ctx, inputs, o) {
    return { guider: thresholdGuider(inputs.guider as GuiderValue, o) };
  },
});

