/** The dpm-solver/UniPC repositories' time map around a denoiser (see `repoTime`). */
import type { Denoiser } from '../../src/engine/core/types';
import { tToSigma } from '../../src/engine/model/schedule';
import { DiscreteVP } from '../../src/engine/schedules/dpmSolver';
import { SD_TABLE } from './golden';

/**
 * The golden VP model as the dpm-solver/UniPC repositories drive it: σ → λ → continuous t by their log-α
 * interpolation → t_input = 1000(t − 1/N), which the model reads with log-σ interpolation (σ_m); ε comes back
 * and x̂0 = x − σ·ε with the repositories' own σ.
 */
const VP = new DiscreteVP(SD_TABLE);
export function repoTime(d: Denoiser): Denoiser {
  return async (x, sigma, req) => {
    const t = VP.inverseLambda(-Math.log(sigma));
    const sm = tToSigma(1000 * (t - 1 / 1000), SD_TABLE);
    const c = Math.sqrt(1 + sm * sm) / Math.sqrt(1 + sigma * sigma);
    const xin = { shape: x.shape, data: x.data.map((v) => v * c) };
    const dm = await d(xin, sm, req);
    return { shape: x.shape, data: x.data.map((v, i) => v - (sigma * (xin.data[i] - dm.data[i])) / sm) };
  };
}
