/**
 * The golden stochastic runs reproduced THROUGH THE REAL ONNX PATH: the golden float32 mixture models (copied
 * into test/fixtures/golden-sde/models) opened with dpipe's `loadModel`, with the golden per-step noise.
 * Within 1e-4 max-abs of the float64 references.
 */
import { strict as assert } from 'assert';
import * as path from 'path';
import type { Denoiser, SolverFn } from '../../src/engine/core/types';
import { loadModel } from '../../src/engine/model/wrap';
import type { ModelValue, Params } from '../../src/engine/registry/types';
import * as S from '../../src/engine/solvers/stochastic/index';
import { FIX, RUNS, fileNoise, maxAbs, readNpy, sdSigmas, startState, toOutputSpace } from './gmm';

const SD = sdSigmas();
const CASES: [string, SolverFn<Params>, Params, number[]?][] = [];
for (const sch of ['karras', 'exponential', 'polyexponential']) {
  CASES.push([`kd_edm_dpmpp_sde_${sch}_n10`, S.dpmppSde, {}]);
  CASES.push([`kd_edm_dpmpp_2m_sde_${sch}_n10`, S.dpmpp2mSde, {}]);
  CASES.push([`kd_edm_dpmpp_3m_sde_${sch}_n10`, S.dpmpp3mSde, {}]);
  CASES.push([`kd_edm_dpmpp_2s_ancestral_${sch}_n10`, S.dpmpp2sAncestral, {}]);
}
for (const sch of ['karras', 'tuniform']) {
  CASES.push([`kdvp_dpmpp_2m_sde_${sch}_n10`, S.dpmpp2mSde, {}]);
  CASES.push([`kdvp_dpmpp_3m_sde_${sch}_n10`, S.dpmpp3mSde, {}]);
}
CASES.push(['df_sde_dpmpp_2m_n10', S.dpmpp2mSde, {}]);
CASES.push(['df_sde_dpmpp_2m_trailing_n10', S.dpmpp2mSde, {}]);
CASES.push(['df_sasolver_n10', S.saSolver, { tauSigmaRange: [0.5716, 5.1111] }]);
for (const name of ['df_ddim_n10', 'df_ddim_trailing_n10']) CASES.push([name, S.ddimEta, { eta: 0 }, [...RUNS[name].timesteps!.map((t) => SD[t]), SD[0]]]);

/** Max-abs error of each case, for the report (filled by the tests). */
export const ONNX_ERRORS: Record<string, number> = {};

describe('stochastic: golden parity through the ONNX models (loadModel)', function () {
  this.timeout(120000);
  let edm: ModelValue;
  let vp: ModelValue;
  before(async () => {
    edm = await loadModel({ prediction: 'edm', time: 'sigma', inputScaling: 'none' }, path.join(FIX, 'models', 'gmm_edm.onnx'), { sidecar: null });
    vp = await loadModel(
      { prediction: 'epsilon', time: 'discrete', betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, numTrainTimesteps: 1000 },
      path.join(FIX, 'models', 'gmm_eps_vp.onnx'),
      { sidecar: null },
    );
  });
  for (const [name, solver, opts, sig] of CASES) {
    it(`${name} within 1e-4`, async () => {
      const run = RUNS[name];
      const m = name.startsWith('kd_edm') ? edm : vp;
      let nfe = 0;
      const model: Denoiser = async (x, sigma) => { nfe++; return (await m.denoise(x, sigma, [m.unconditional]))[0]; };
      const sigmas = Float64Array.from(sig ?? run.sigmas!);
      const x = await solver(model, startState(run), sigmas, opts, { noise: fileNoise() });
      const err = maxAbs(toOutputSpace(run, x, sigmas[sigmas.length - 1]), readNpy(`${name}.x_final.npy`).data);
      ONNX_ERRORS[name] = err;
      assert.ok(err < 1e-4, `max-abs ${err}`);
      assert.equal(nfe, run.nfe);
    });
  }
  after(() => {
    if (process.env.DPIPE_REPORT) process.stdout.write(`${JSON.stringify(ONNX_ERRORS, null, 1)}\n`);
  });
});
