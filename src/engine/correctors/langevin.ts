/**
 * Langevin correction of the predictor–corrector samplers of Song et al. 2021 ("Score-Based Generative Modeling
 * through Stochastic Differential Equations", ICLR 2021, Alg. 4 (VE) and §4.2): after the predictor reached
 * x at σ, M steps of Langevin MCMC targeting p_σ with the step size set by a target signal-to-noise ratio r:
 *   g = ∇log p_σ(x) = (D(x; σ) − x)/σ²,  z ~ N(0, I),
 *   ε = 2·(r·‖z‖/‖g‖)²  (norms per item, averaged over the batch, as the reference code),
 *   x ← x + ε·g + √(2ε)·z.
 * In the engine's VE coordinates this is the VE corrector; for VP models the paper's Alg. 5 multiplies ε by
 * α_i = 1 − β_i ≈ 1, which is left out. Costs M model evaluations per step; no correction at σ = 0.
 * Needs i.i.d. per-step noise: a Brownian-tree source has no fresh noise for a corrector at a fixed σ (its draw
 * over a zero-length interval is 0), which is reported as an error.
 */
import { DpipeError } from '../core/errors';
import type { CorrectorArgs, CorrectorHook, Latent } from '../core/types';
import { defineCorrector } from '../registry/node';
import type { Params } from '../registry/types';
import { defineParams, readParams, type OptionsOf } from '../registry/params';

const P_LANGEVIN = defineParams(
  { name: 'snr', type: 'number', default: 0.16, min: 0, exclusiveMin: true, max: 10, step: 0.01, doc: 'Target signal-to-noise ratio r of each Langevin step (Song et al.\'s CIFAR-10 configs: 0.16).' },
  { name: 'steps', type: 'integer', default: 1, min: 1, max: 100, doc: 'M: Langevin steps per solver step (reference configs: 1).' },
);

/** Mean over the batch of the per-item Euclidean norms. */
function meanNorm(v: Float64Array, batch: number): number {
  const n = v.length / batch;
  let acc = 0;
  for (let k = 0; k < batch; k++) {
    let s = 0;
    for (let i = k * n; i < (k + 1) * n; i++) s += v[i] * v[i];
    acc += Math.sqrt(s);
  }
  return acc / batch;
}

/** One Langevin step at σ given x and D(x; σ); `z` is the standard-normal draw. */
export function langevinStep(x: Latent, denoised: Latent, sigma: number, z: Float64Array, snr: number): Latent {
  const b = x.shape[0];
  const g = x.data.map((v, i) => (denoised.data[i] - v) / (sigma * sigma));
  const gn = meanNorm(g, b);
  const zn = meanNorm(z, b);
  const eps = gn > 0 ? 2 * ((snr * zn) / gn) ** 2 : 0;
  const c = Math.sqrt(2 * eps);
  return { shape: x.shape, data: x.data.map((v, i) => v + eps * g[i] + c * z[i]) };
}

/** The hook on raw options (defaults filled in, checked). */
export const makeLangevin = (params: Params): CorrectorHook => langevinHook(readParams('corrector.langevin', P_LANGEVIN, params));

function langevinHook(o: OptionsOf<typeof P_LANGEVIN>): CorrectorHook {
  return {
    id: 'corrector.langevin',
    async correct(a: CorrectorArgs): Promise<Latent> {
      const sigma = a.sigmas[a.step + 1];
      if (!(sigma > 0)) return a.xNext;
      let x = a.xNext;
      for (let j = 0; j < o.steps; j++) {
        const d = await a.model(x, sigma, { step: a.step, role: 'corrector' });
        const z = a.noise(sigma, sigma);
        if (z.every((v) => v === 0)) {
          throw new DpipeError('E_COMPOSE', 'corrector.langevin needs fresh noise at a fixed σ; the per-step noise is a Brownian-tree path (noise.brownian), which has none. Use seeded (i.i.d.) noise.');
        }
        x = langevinStep(x, d, sigma, z, o.snr);
      }
      return x;
    },
  };
}

export const LANGEVIN_CORRECTOR_NODE = defineCorrector({
  type: 'corrector.langevin',
  title: 'Langevin corrector',
  doc: 'Score-SDE predictor–corrector: after each solver step, M Langevin MCMC steps at the new σ with step size from a target SNR r. Follows any predictor that accepts correctors (the paper pairs it with reverse-diffusion / ancestral predictors: solver.ddpm, solver.ddim_eta, Euler ancestral). M model evaluations per step; needs seeded (i.i.d.) noise.',
  paper: 'Song et al. 2021, "Score-Based Generative Modeling through Stochastic Differential Equations" (ICLR), Alg. 4 (PC sampling, VE) and Alg. 5 (VP).',
  params: P_LANGEVIN,
  output: 'Langevin correction, to attach to a solver.',
  follows: 'any',
  iidNoise: true,
  nfePerStep: (o) => o.steps,
  make: langevinHook,
});
