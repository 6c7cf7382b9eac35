/**
 * CFG++ (Chung et al. 2024, "CFG++: Manifold-constrained Classifier Free Guidance for Diffusion Models",
 * Alg. 1 for DDIM): guidance with a scale λ ∈ [0, 1] in which the renoising step uses the *unconditional*
 * noise prediction: x_{t−1} = √ᾱ_{t−1}·x̂0_λ + √(1 − ᾱ_{t−1})·ε̂_∅, x̂0_λ from ε̂_λ = ε̂_∅ + λ(ε̂_c − ε̂_∅).
 * In VE coordinates (and for ComfyUI's `sample_euler_cfg_pp`): x_next = D_λ + σ_next·(x − D_u)/σ.
 *
 * How it composes: CFG++ changes the solver's update, not only the prediction. For a first-order step
 * σ → σ_next that evaluates the model at σ (Euler = deterministic DDIM, `solver.euler` without churn and
 * `solver.ddim_eta` with η = 0) it is exactly an ordinary step on the effective prediction
 *   D′ = (D_λ − r·D_u)/(1 − r),  r = σ_next/σ,
 * because D′ + r(x − D′) = D_λ + r(x − D_u). This guider returns D′, so those solvers run CFG++ unchanged.
 * It needs the run's σs (the Sample node passes them) and refuses evaluations off the schedule's σs
 * (intermediate stages of Heun/DPM-Solver-2/… and churned σ̂), where CFG++ has no defined meaning; with
 * multistep solvers (which do evaluate at the schedule's σs) it runs but is not the paper's method.
 * The inspector sees D′ as x̂0 and D_λ as the branch `cfgpp`.
 */
import type { EvalRequest, Latent } from '../core/types';
import { combine } from '../core/latent';
import { DpipeError } from '../core/errors';
import type { CondValue, GuidedOutput, GuiderValue, ModelValue } from '../registry/types';
import { defineBlock } from '../registry/node';
import { defineParams } from '../registry/params';
import { GUIDER_OUT, MODEL_IN, NEGATIVE_IN, POSITIVE_IN } from './guiders';

export interface CfgppOptions {
  /** λ ∈ [0, 1]: D_λ = D_u + λ(D_c − D_u). */
  readonly lambda: number;
}

export function cfgppGuider(model: ModelValue, positive: CondValue, negative: CondValue, opts: CfgppOptions): GuiderValue {
  return {
    model,
    conds: [positive, negative],
    branches: ['cond', 'uncond', 'cfgpp'],
    async denoise(x: Latent, sigma: number, req: EvalRequest, signal?: AbortSignal): Promise<GuidedOutput> {
      const sig = req.sigmas;
      if (!sig) {
        throw new DpipeError('E_COMPOSE', 'guider.cfgpp needs the run\'s σ schedule with each evaluation (the Sample node passes it); this caller did not.');
      }
      const s = sig[req.step];
      const sn = sig[req.step + 1];
      if (!(Math.abs(sigma - s) <= 1e-12 * s) || sn === undefined || !(sn < s)) {
        throw new DpipeError(
          'E_COMPOSE',
          `guider.cfgpp (CFG++) is defined for first-order steps that evaluate the model at the schedule's σ (solver.euler without churn, solver.ddim_eta with η = 0); this solver evaluated at σ = ${+sigma.toPrecision(6)} in step ${req.step + 1} (schedule σ = ${+s.toPrecision(6)} → ${sn === undefined ? 'end' : +sn.toPrecision(6)}).`,
        );
      }
      const [cond, uncond] = await model.denoise(x, sigma, [positive, negative], signal);
      const guided = combine(cond, [[1 - opts.lambda, uncond], [opts.lambda, cond]]);
      const r = sn / s;
      const effective = combine(cond, [[1 / (1 - r), guided], [-r / (1 - r), uncond]]);
      return { denoised: effective, branches: { cond, uncond, cfgpp: guided } };
    },
  };
}

const P_CFGPP = defineParams(
  { name: 'lambda', type: 'number', default: 0.6, min: 0, max: 1, step: 0.05, doc: 'CFG++ guidance λ ∈ [0, 1] (the paper\'s range; 0 = unconditional, 1 = conditional prediction with unconditional renoising).' },
);

export const GUIDER_CFGPP = defineBlock({
  type: 'guider.cfgpp',
  category: 'Guidance',
  title: 'CFG++',
  doc: 'CFG++: guided prediction D_λ = D_u + λ(D_c − D_u) with renoising by the unconditional prediction. Exact with first-order solvers stepping along the schedule (solver.euler without churn, solver.ddim_eta η = 0), which it drives through the equivalent prediction (D_λ − r·D_u)/(1 − r), r = σ_next/σ. Multi-stage solvers and churn are refused. One batched model call (one NFE) per evaluation.',
  paper: 'Chung et al. 2024, "CFG++: Manifold-constrained Classifier Free Guidance for Diffusion Models", Alg. 1 (DDIM); ComfyUI sample_euler_cfg_pp.',
  inputs: [MODEL_IN, POSITIVE_IN, NEGATIVE_IN],
  outputs: GUIDER_OUT,
  params: P_CFGPP,
  async evaluate(_ctx, inputs, o) {
    const model = inputs.model as ModelValue;
    return { guider: cfgppGuider(model, inputs.positive as CondValue, (inputs.negative as CondValue | undefined) ?? model.unconditional, o) };
  },
});
