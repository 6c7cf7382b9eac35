/**
 * Parity with the golden reference runs THROUGH THE REAL ONNX PATH: the golden float32 ONNX mixture models
 * (copied into test/fixtures/golden/models) loaded with dpipe's `loadModel`, wrapped into the EDM denoiser,
 * and run with dpipe's schedules and solvers. Within 1e-4 max-abs of the float64 reference outputs.
 */
import { strict as assert } from 'assert';
import * as path from 'path';
import type { Denoiser } from '../../src/engine/core/types';
import { loadModel } from '../../src/engine/model/wrap';
import type { ModelValue } from '../../src/engine/registry/types';
import { counted, ctxWith } from '../helpers/gmm';
import { fileNoise } from '../../src/engine/noise/file';
import type { NoiseSampler } from '../../src/engine/core/types';
import { goldenSteps, goldenZ, runFinal, runMeta, startVE, toOutput } from '../helpers/golden';
import { PARITY_CASES, PARITY_CASES_2, PARITY_CASES_3, PARITY_CASES_KDVP, type RepoCase, solverOf } from '../helpers/cases';
import { GOLDEN, maxAbs } from '../helpers/fixtures';

const MODELS = path.join(GOLDEN, 'models');

export async function goldenModels(): Promise<{ edm: ModelValue; vp: ModelValue; vpRound: ModelValue; vpLogAlpha: ModelValue }> {
  const edm = await loadModel({ prediction: 'edm', time: 'sigma', inputScaling: 'none' }, path.join(MODELS, 'gmm_edm.onnx'), { sidecar: null });
  const vpParams = { prediction: 'epsilon', time: 'discrete', betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, numTrainTimesteps: 1000 };
  const vp = await loadModel(vpParams, path.join(MODELS, 'gmm_eps_vp.onnx'), { sidecar: null });
  const vpRound = await loadModel({ ...vpParams, roundTimesteps: true }, path.join(MODELS, 'gmm_eps_vp.onnx'), { sidecar: null });
  // The dpm-solver/UniPC repositories' σ → t map (log α linear in t ∈ [1/N, 1], t_input = 1000(t − 1/N)).
  const vpLogAlpha = await loadModel({ ...vpParams, timeInterpolation: 'log_alpha' }, path.join(MODELS, 'gmm_eps_vp.onnx'), { sidecar: null });
  return { edm, vp, vpRound, vpLogAlpha };
}

export const asDenoiser = (m: ModelValue): Denoiser => async (x, sigma) => (await m.denoise(x, sigma, [m.unconditional]))[0];

describe('solvers: golden parity through the ONNX models (loadModel)', function () {
  this.timeout(120000);
  let models: Awaited<ReturnType<typeof goldenModels>>;
  before(async () => {
    models = await goldenModels();
  });
  const z = goldenZ();
  const steps = goldenSteps();
  for (const c of [...PARITY_CASES, ...PARITY_CASES_2, ...PARITY_CASES_KDVP, ...PARITY_CASES_3] as RepoCase[]) {
    it(`${c.block} ${JSON.stringify(c.params)} reproduces ${c.run} within 1e-4`, async () => {
      const meta = runMeta(c.run);
      const sigmas = c.sigmas();
      const mv = c.run.startsWith('kd_edm') ? models.edm : c.roundTimesteps ? models.vpRound : c.timeInterpolation === 'log_alpha' ? models.vpLogAlpha : models.vp;
      const { model, calls } = counted(asDenoiser(mv));
      // The real noise.npy source over the golden per-step draws (counted).
      const src = fileNoise({ steps, stepsName: 'steps24.npy', seed: 0 }).stepSampler([4, 3, 8, 8], sigmas);
      let draws = 0;
      const noise: NoiseSampler = (a, b) => (draws++, src(a, b));
      const x = await solverOf(c.block)(model, startVE(z, sigmas[0], c.start), sigmas, c.params, ctxWith(c.stochastic ? noise : undefined));
      const err = maxAbs(toOutput(x, sigmas[sigmas.length - 1], meta.output_space), runFinal(c.run).data);
      assert.ok(err < 1e-4, `${c.run}: max-abs ${err}`);
      assert.equal(calls.length, meta.nfe, 'NFE');
      if (c.stochastic) assert.equal(draws, c.run.startsWith('df_') ? 10 : 9, 'noise draws');
    });
  }
});
