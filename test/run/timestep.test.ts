/**
 * The model's time input per evaluation, from the model wrapper (`ModelValue.timeOf`) through the Sample node's
 * evaluation report into the trajectory (index.json, optional `timestep`), the reader, and the inspector's
 * `init` message. Checked against the timesteps diffusers fed the golden VP model (df_euler_n10).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TrajectoryReader } from '../../src/engine/inspect/reader';
import { releaseAll } from '../../src/engine/model/onnx';
import { loadModel } from '../../src/engine/model/wrap';
import { runPipeline } from '../../src/engine/run/index';
import { TRAJECTORY_INDEX } from '../../src/engine/run/trajectory';
import { validateToInspector } from '../../src/protocol/inspector';
import { check } from '../../src/protocol/validate';
import { runInfoOf } from '../../extension/inspector/session';
import { GOLDEN } from '../helpers/fixtures';
import { runMeta } from '../helpers/golden';
import { gaussModel, gaussPipeline } from './helpers';
import { gaussOptions, loadDoc, tmpDir } from '../inspect/helpers';

const MODELS = path.join(GOLDEN, 'models');
const VP = { prediction: 'epsilon', time: 'discrete', betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, numTrainTimesteps: 1000 };

describe('run/timestep: the model time input per evaluation', function () {
  this.timeout(60_000);
  after(() => releaseAll());

  it('timeOf gives the timesteps diffusers fed the golden VP model; integers when rounded; null for the EDM σ-input model and at σ = 0', async () => {
    const vp = await loadModel(VP, path.join(MODELS, 'gmm_eps_vp.onnx'), { sidecar: null });
    const vpRound = await loadModel({ ...VP, roundTimesteps: true }, path.join(MODELS, 'gmm_eps_vp.onnx'), { sidecar: null });
    const edm = await loadModel({ prediction: 'edm', time: 'sigma', inputScaling: 'none' }, path.join(MODELS, 'gmm_edm.onnx'), { sidecar: null });
    const meta = runMeta('df_euler_n10') as unknown as { sigmas: number[]; model_calls_timestep: number[] };
    const calls = meta.model_calls_timestep;
    assert.equal(calls.length, 10);
    for (let k = 0; k < calls.length; k++) {
      const t = vp.timeOf!(meta.sigmas[k]);
      assert.ok(t !== null && Math.abs(t - calls[k]) < 2e-3, `σ = ${meta.sigmas[k]}: t ${t}, diffusers fed ${calls[k]}`);
      assert.equal(t, Math.fround(t), 'a float32 time input is reported as the float32 it received');
      assert.equal(vpRound.timeOf!(meta.sigmas[k]), calls[k]);
    }
    assert.equal(vp.timeOf!(0), null);
    assert.equal(edm.timeOf!(1.5), null);
  });

  it('the Sample node reports it; the trajectory, its index.json, the reader and the inspector init carry it', async () => {
    const dir = tmpDir('timestep');
    const vp = await loadModel(VP, path.join(MODELS, 'gmm_eps_vp.onnx'), { sidecar: null });
    const doc = loadDoc(gaussPipeline({ steps: 4, batch: 1 }), dir);
    const out = path.join(dir, 'vp');
    const r = await runPipeline(doc, gaussOptions(dir, { outDir: out, loadModel: async () => vp }));
    const evals = r.trajectory.evals;
    assert.equal(evals.length, 4);
    const want = evals.map((e) => vp.timeOf!(e.sigma));
    assert.deepEqual(evals.map((e) => e.timestep), want);
    // karras σ from 10 down: discrete timesteps fall, the first near the top of the 1000-step range
    for (let k = 1; k < want.length; k++) assert.ok(want[k]! < want[k - 1]!, `timesteps do not fall: ${want.join(', ')}`);
    assert.ok(want[0]! > 900 && want[0]! < 999, `t(σ = 10) = ${want[0]}`);
    const onDisk = JSON.parse(fs.readFileSync(path.join(out, 'trajectory', TRAJECTORY_INDEX), 'utf8')) as { version: number; evals: { timestep?: number | null }[] };
    assert.equal(onDisk.version, 1, 'the optional field keeps trajectory version 1');
    assert.deepEqual(onDisk.evals.map((e) => e.timestep), want);
    const info = runInfoOf(TrajectoryReader.open(out));
    assert.deepEqual(info.evals.map((e) => e.timestep), want);
    assert.ok(check(validateToInspector, { type: 'init', runs: [info], align: 'nearest' }).ok);

    // A model that does not say (no timeOf): no field at all, as in files written before it existed.
    const plain = path.join(dir, 'plain');
    await runPipeline(doc, gaussOptions(dir, { outDir: plain }));
    const old = JSON.parse(fs.readFileSync(path.join(plain, 'trajectory', TRAJECTORY_INDEX), 'utf8')) as { evals: object[] };
    assert.ok(old.evals.every((e) => !('timestep' in e)), 'timestep written for a model without timeOf');
    const oldInfo = runInfoOf(TrajectoryReader.open(plain));
    assert.ok(oldInfo.evals.every((e) => !('timestep' in e)));
    assert.ok(check(validateToInspector, { type: 'init', runs: [oldInfo], align: 'nearest' }).ok);

    // σ-input models record null.
    const edmRun = path.join(dir, 'edm');
    await runPipeline(doc, gaussOptions(dir, { outDir: edmRun, loadModel: async () => ({ ...gaussModel(), timeOf: () => null }) }));
    assert.ok(runInfoOf(TrajectoryReader.open(edmRun)).evals.every((e) => e.timestep === null));
    const bad = check(validateToInspector, { type: 'init', runs: [{ ...info, evals: [{ ...info.evals[0], timestep: 'late' }] }], align: 'nearest' });
    assert.equal(bad.ok, false);
  });
});
