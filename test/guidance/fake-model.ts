/** A ModelValue whose predictions are fixed arrays per conditioning, recording every call. */
import type { Latent } from '../../src/engine/core/types';
import type { CondValue, ModelValue } from '../../src/engine/registry/types';

export interface FakeModel extends ModelValue {
  readonly calls: { sigma: number; conds: CondValue[] }[];
}

/** `table(cond)` gives the x̂0 data for a conditioning (same for every x and σ unless it uses them). */
export function fakeModel(table: (cond: CondValue, x: Latent, sigma: number) => Float64Array, batchable = true): FakeModel {
  const calls: { sigma: number; conds: CondValue[] }[] = [];
  return {
    calls,
    schedule: { sigmaMin: 0.002, sigmaMax: 80, kind: 'edm' },
    unconditional: { kind: 'class', label: 10 },
    batchable,
    info: { path: 'fake', sha256: '', prediction: 'edm', time: 'sigma' },
    async denoise(x, sigma, conds) {
      calls.push({ sigma, conds: [...conds] });
      return conds.map((c) => ({ shape: x.shape, data: table(c, x, sigma) }));
    },
  };
}

export const cls = (label: number): CondValue => ({ kind: 'class', label });
