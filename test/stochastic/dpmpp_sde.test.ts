import { strict as assert } from 'assert';
import { dpmpp2mSde, dpmpp2sAncestral, dpmpp3mSde, dpmppSde } from '../../src/engine/solvers/stochastic/dpmpp_sde';
import type { SolverFn } from '../../src/engine/core/types';
import type { Params } from '../../src/engine/registry/types';
import { RUNS, fileNoise, maxAbs, readNpy, recording, startState, toOutputSpace } from './gmm';

/** Runs a golden configuration with the closed-form mixture denoiser and the golden per-step noise. */
export async function runGolden(name: string, solver: SolverFn<Params>, options: Params, sigmasOverride?: number[]) {
  const run = RUNS[name];
  const sigmas = Float64Array.from(sigmasOverride ?? run.sigmas!);
  const rec = recording();
  const noise = fileNoise();
  const x = await solver(rec.denoiser, startState(run), sigmas, options, { noise });
  const out = toOutputSpace(run, x, sigmas[sigmas.length - 1]);
  const err = maxAbs(out, readNpy(`${name}.x_final.npy`).data);
  return { err, rec, noise, run };
}

const CASES: [string, SolverFn<Params>, Params][] = [];
for (const sch of ['karras', 'exponential', 'polyexponential']) {
  CASES.push([`kd_edm_dpmpp_sde_${sch}_n10`, dpmppSde, { eta: 1, sNoise: 1, r: 0.5 }]);
  CASES.push([`kd_edm_dpmpp_2m_sde_${sch}_n10`, dpmpp2mSde, { eta: 1, sNoise: 1, solverType: 'midpoint' }]);
  CASES.push([`kd_edm_dpmpp_3m_sde_${sch}_n10`, dpmpp3mSde, { eta: 1, sNoise: 1 }]);
  CASES.push([`kd_edm_dpmpp_2s_ancestral_${sch}_n10`, dpmpp2sAncestral, { eta: 1, sNoise: 1 }]);
}
for (const sch of ['karras', 'tuniform']) {
  CASES.push([`kdvp_dpmpp_2m_sde_${sch}_n10`, dpmpp2mSde, {}]);
  CASES.push([`kdvp_dpmpp_3m_sde_${sch}_n10`, dpmpp3mSde, {}]);
}
CASES.push(['df_sde_dpmpp_2m_n10', dpmpp2mSde, {}]);
CASES.push(['df_sde_dpmpp_2m_trailing_n10', dpmpp2mSde, {}]);

describe('stochastic DPM-Solver++ family: golden runs (closed-form mixture, golden noise)', () => {
  for (const [name, solver, opts] of CASES) {
    it(`${name} within 1e-4, same model-call σs and noise draws`, async () => {
      const { err, rec, noise, run } = await runGolden(name, solver, opts);
      assert.ok(err < (name.startsWith("df") ? 1e-4 : 1e-9), `max-abs ${err}`);
      assert.equal(rec.sigmas.length, run.nfe);
      if (name.startsWith('kd')) {
        for (let i = 0; i < run.nfe; i++) assert.ok(Math.abs(rec.sigmas[i] - run.model_calls[i]) <= 1e-9 * run.model_calls[i], `call ${i}`);
        assert.equal(noise.calls.length, run.noise_draws);
      }
    });
  }
});
