/**
 * ER-SDE-Solver (Cui et al. 2023, "Elucidating the Solution Space of Extended Reverse-Time SDE for Diffusion
 * Models", arXiv:2309.06169): exact solution of the linear part of the extended reverse-time SDE (ER-SDE) in
 * VE form, with a free noise scale function φ(σ); orders 1–3 by Taylor expansion of x̂0 in σ (the paper's
 * ER-SDE-Solver-1/2/3, Alg. 1–3, VE case). Written in the engine's VE coordinates, which also covers VP models
 * (the VP solver of the paper is the VE one on λ = σ_vp/α, our σ).
 *
 *   r = φ(σ_t)/φ(σ_s)
 *   x_t = r·x_s + (1 − r)·x̂0_s
 *       + (σ_t − σ_s + φ(σ_t)·∫_{σ_t}^{σ_s} dσ/φ(σ))·x̂0′            (order ≥ 2)
 *       + ((σ_t − σ_s)²/2 + φ(σ_t)·∫_{σ_t}^{σ_s} (σ − σ_s)/φ(σ) dσ)·x̂0″ (order 3)
 *       + √(σ_t² − σ_s²·r²)·z
 * with backward differences x̂0′ = (x̂0_s − x̂0_{s−1})/(σ_s − σ_{s−1}), x̂0″ = 2(x̂0′_s − x̂0′_{s−1})/(σ_s − σ_{s−2}).
 * The integrals use the reference code's left Riemann sum over `integrationPoints` points from σ_t upward
 * (QinpengCui/ER-SDE-Solver `er_sde_solver.py`: 100 points; ComfyUI's `sample_er_sde`: 200).
 * φ(σ) = σ is the probability-flow ODE (DDIM at order 1), φ(σ) = σ² the original reverse SDE (DDPM posterior).
 */
import type { Denoiser, Latent, SolverContext } from '../../core/types';
import { combine } from '../../core/latent';
import { defineSolver, type NodeType } from '../../registry/node';
import { defineParams, type OptionsOf } from '../../registry/params';
import { S_NOISE_PARAM, WEAK_STEPS, addNoise, runSteps } from './util';

/** The noise scale functions of the reference code (`customized_func`, func_type 1–7; paper App. A.8). */
export const NOISE_SCALES = {
  ode: (x: number) => x,
  sde: (x: number) => x * x,
  sde1: (x: number) => x * (Math.exp(-1 / x) + 10),
  sde2: (x: number) => x ** 1.5,
  sde3: (x: number) => x ** 2.5,
  sde4: (x: number) => x ** 0.9 * Math.log10(1 + 100 * x ** 1.5),
  sde5: (x: number) => x * (Math.exp(x ** 0.3) + 10),
} as const;
export type NoiseScaleName = keyof typeof NOISE_SCALES;

const P_ER = defineParams(
  { name: 'order', type: 'integer', default: 3, min: 1, max: 3, doc: 'ER-SDE-Solver-1, -2 or -3 (Taylor order in σ; the first steps use lower orders until the history exists).' },
  {
    name: 'noiseScale', type: 'enum', default: 'sde5', options: Object.keys(NOISE_SCALES) as NoiseScaleName[],
    optionDocs: {
      ode: 'φ(σ) = σ: the probability-flow ODE (no noise).',
      sde: 'φ(σ) = σ²: the original reverse-time SDE.',
      sde1: 'φ(σ) = σ·(e^{−1/σ} + 10).',
      sde2: 'φ(σ) = σ^1.5.',
      sde3: 'φ(σ) = σ^2.5.',
      sde4: 'φ(σ) = σ^0.9·log₁₀(1 + 100σ^1.5).',
      sde5: 'φ(σ) = σ·(e^{σ^0.3} + 10): the paper\'s recommended choice (reference code and ComfyUI default).',
    },
    doc: 'The noise scale function φ of the ER-SDE (reference code `customized_func`).',
  },
  { name: 'integrationPoints', type: 'integer', default: 100, min: 2, max: 100000, doc: 'Points of the Riemann sums for the order-2/3 integrals (reference code 100, ComfyUI 200).' },
  S_NOISE_PARAM,
);

/**
 * Left Riemann sums over N points from σ_t upward of ∫_{σ_t}^{σ_s} dσ/φ(σ) and ∫_{σ_t}^{σ_s} (σ − σ_s)/φ(σ) dσ,
 * as the reference code computes them.
 */
export function erIntegrals(phi: (x: number) => number, s: number, sn: number, N: number): [number, number] {
  const step = (s - sn) / N;
  let sInt = 0;
  let sdInt = 0;
  for (let k = 0; k < N; k++) {
    const p = sn + k * step;
    const f = phi(p);
    sInt += step / f;
    sdInt += ((p - s) * step) / f;
  }
  return [sInt, sdInt];
}

const solveErSde = async (model: Denoiser, x0: Latent, sigmas: Float64Array, o: OptionsOf<typeof P_ER>, ctx: SolverContext): Promise<Latent> => {
  const phi = NOISE_SCALES[o.noiseScale];
  const N = o.integrationPoints;
  let old: Latent | undefined;
  let oldD1: Latent | undefined;
  return runSteps(model, x0, sigmas, ctx, true, (x, denoised, i, s, sn) => {
    let d1: Latent | undefined;
    if (sn === 0) {
      x = denoised;
    } else {
      const r = phi(sn) / phi(s);
      const terms: [number, Latent][] = [[r, x], [1 - r, denoised]];
      const stage = Math.min(o.order, i + 1);
      if (stage >= 2 && old) {
        const dt = sn - s;
        const [sInt, sdInt] = erIntegrals(phi, s, sn, N);
        const c1 = dt + sInt * phi(sn);
        const k1 = 1 / (s - sigmas[i - 1]);
        d1 = combine(denoised, [[k1, denoised], [-k1, old]]);
        terms.push([c1, d1]);
        if (stage >= 3 && oldD1) {
          const c2 = (dt * dt) / 2 + sdInt * phi(sn);
          const k2 = 2 / (s - sigmas[i - 2]);
          terms.push([c2 * k2, d1], [-c2 * k2, oldD1]);
        }
      }
      x = combine(x, terms);
      const v = sn * sn - s * s * r * r;
      if (o.sNoise > 0) x = addNoise(x, ctx.noise, s, sn, o.sNoise * Math.sqrt(Math.max(0, v)));
    }
    old = denoised;
    if (d1) oldD1 = d1;
    return x;
  });
};

export const ER_SDE = defineSolver({
  type: 'solver.er_sde',
  title: 'ER-SDE-Solver',
  doc: 'Extended reverse-time SDE solver of order 1–3 with a choice of noise scale function φ (φ(σ)=σ is the ODE, σ² the reverse SDE; the default σ(e^{σ^0.3}+10) is the paper\'s). One model evaluation per step; the step to σ = 0 returns x̂0. Follows the reference code (QinpengCui/ER-SDE-Solver, VE solvers) and ComfyUI\'s `sample_er_sde` (integrationPoints 200).',
  paper: 'Cui et al. 2023, "Elucidating the Solution Space of Extended Reverse-Time SDE for Diffusion Models" (arXiv:2309.06169), ER-SDE-Solver-1/2/3 (Alg. 1–3, VE).',
  params: P_ER,
  order: 3,
  nfePerStep: 1,
  stochastic: true,
  acceptsCorrector: true,
  solve: solveErSde,
  tests: {
    weakOrder: [
      { steps: WEAK_STEPS, params: { order: 1 }, order: 1, note: 'Euler–Maruyama type' },
      { steps: WEAK_STEPS, params: { order: 2, integrationPoints: 20000 }, order: 2 },
      { steps: WEAK_STEPS, params: { order: 3, integrationPoints: 20000 }, order: 2, note: 'the first- and second-order warm-up bounds it by 2 on a uniform-in-λ grid' },
    ],
    noGolden: 'no golden run of the reference code; test/stochastic/er_sde.test.ts checks it against the paper\'s closed forms and ComfyUI\'s sample_er_sde written out',
  },
});
export const erSde = ER_SDE.solverEntry.run;

export const ER_SDE_NODES: NodeType[] = [ER_SDE];
