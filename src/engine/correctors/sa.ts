/**
 * The SA-Solver corrector as a CORRECTOR block (Xue et al. 2023, "SA-Solver: Stochastic Adams Solver for Fast
 * Sampling of Diffusion Models", Alg. 2 / Eq. 17, SA-Corrector in data-prediction form): after a predictor
 * reached x_t from x_s, evaluate D at x_t and redo the step with the stochastic Adams–Moulton formula over
 * D_t and the predictor's history D_s, D_{s−1}, …:
 *   x_t ← e^{−τ²h}(σ_t/σ_s)·x_s + (1+τ²)·σ_t·e^{−τ²λ_t}·Σ_k c_k·D_k + σ_t·√(1 − e^{−2τ²h})·ξ
 * (the same coefficients as `solver.sa_solver`, including diffusers' order-2 modification). With τ = 0
 * (default) it is a deterministic exponential Adams–Moulton corrector for ODE predictors (Euler, DPM-Solver++
 * multistep), raising their order by one; with τ > 0 it draws its own ξ. Costs one model evaluation per step;
 * inside `solver.sa_solver` the same corrector is free (it reuses the next step's evaluation and the
 * predictor's noise).
 */
import type { CorrectorArgs, CorrectorHook, Latent } from '../core/types';
import { defineCorrector } from '../registry/node';
import type { Params } from '../registry/types';
import { defineParams, readParams, type OptionsOf } from '../registry/params';
import { saStep } from '../solvers/stochastic/sa_solver';

const P_SAC = defineParams(
  { name: 'order', type: 'integer', default: 2, min: 1, max: 4, doc: 'Number of model outputs in the Adams–Moulton formula (D_t and order − 1 from the history; diffusers\' corrector_order default 2). Lower while the history is short.' },
  { name: 'tau', type: 'number', default: 0, min: 0, max: 2, step: 0.05, doc: 'Stochasticity τ: 0 = deterministic corrector (for ODE predictors); > 0 adds fresh noise σ_t·√(1 − e^{−2τ²h})·ξ.' },
);

/** The hook on raw options (defaults filled in, checked). */
export const makeSaCorrector = (params: Params): CorrectorHook => saCorrectorHook(readParams('corrector.sa', P_SAC, params));

function saCorrectorHook(o: OptionsOf<typeof P_SAC>): CorrectorHook {
  return {
    id: 'corrector.sa',
    async correct(a: CorrectorArgs): Promise<Latent> {
      const t = a.sigmas[a.step + 1];
      if (!(t > 0) || a.history.length === 0) return a.xNext;
      const hs = a.historySigmas;
      const s = hs[hs.length - 1];
      const dT = await a.model(a.xNext, t, { step: a.step, role: 'corrector' });
      const p = Math.min(o.order, a.history.length + 1);
      const outs = [dT, ...a.history.slice().reverse()].slice(0, p);
      const lams = [t, ...hs.slice().reverse()].slice(0, p).map((v) => -Math.log(v));
      const noise = o.tau > 0 ? a.noise(s, t) : new Float64Array(a.xNext.data.length);
      return saStep('corrector', a.x, s, t, outs, lams, undefined, o.tau, noise, 1);
    },
  };
}

export const SA_CORRECTOR_NODE = defineCorrector({
  type: 'corrector.sa',
  title: 'SA-Solver corrector',
  doc: 'Stochastic Adams–Moulton corrector of SA-Solver after any ODE predictor with a data-prediction history (Euler, DPM-Solver++ 2M/3M): evaluates D at the predicted state and recomputes the step with it. τ = 0 (default) is deterministic. 1 model evaluation per step.',
  paper: 'Xue et al. 2023, "SA-Solver: Stochastic Adams Solver for Fast Sampling of Diffusion Models" (NeurIPS), Alg. 2, Eq. 17; diffusers SASolverScheduler.stochastic_adams_moulton_update.',
  params: P_SAC,
  output: 'The SA corrector, to attach to a solver.',
  follows: 'deterministic',
  nfePerStep: 1,
  make: saCorrectorHook,
});
