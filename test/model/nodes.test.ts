/** The model and conditioning blocks. */
import { strict as assert } from 'assert';
import * as path from 'path';
import { DpipeError } from '../../src/engine/core/errors';
import type { Latent } from '../../src/engine/core/types';
import type { EvalContext, RunServices } from '../../src/engine/registry/node';
import type { CondValue, ModelValue, Params } from '../../src/engine/registry/types';
import { MODEL_NODES } from '../../src/engine/model/nodes';
import { releaseAll } from '../../src/engine/model/onnx';
import { loadModel } from '../../src/engine/model/wrap';
import { FIXTURES } from './util';

const node = (type: string) => {
  const n = MODEL_NODES.find((x) => x.type === type);
  if (!n) throw new Error(`no ${type}`);
  return n;
};
const defaults = (type: string): Record<string, Params[string]> => Object.fromEntries(node(type).params.map((p) => [p.name, p.default]));

function ctx(baseDir: string, calls: { params: Params; path: string }[] = [], npy?: Latent): EvalContext {
  const services: RunServices = {
    async loadModel(params, absPath) {
      calls.push({ params, path: absPath });
      return loadModel(params, absPath);
    },
    async readNpy(absPath) {
      calls.push({ params: {}, path: absPath });
      if (!npy) throw new Error('no npy');
      return npy;
    },
  };
  return { nodeId: 'n1', baseDir, services };
}

describe('model/nodes: blocks', () => {
  after(() => releaseAll());

  it('every parameter has a doc and a default; enums list auto first; numbers have ranges', () => {
    for (const n of MODEL_NODES) {
      assert.ok(n.doc.length > 40, n.type);
      for (const p of n.params) {
        assert.ok(p.doc.length > 10, `${n.type}.${p.name} doc`);
        assert.ok('default' in p, `${n.type}.${p.name} default`);
        if (p.type === 'number' || p.type === 'integer') assert.ok(p.min !== undefined, `${n.type}.${p.name} min`);
      }
    }
    const m = node('model.onnx');
    const names = m.params.map((p) => p.name);
    for (const k of ['path', 'prediction', 'time', 'betaSchedule', 'betaStart', 'betaEnd', 'numTrainTimesteps', 'alphasCumprod', 'roundTimesteps', 'sampleInput', 'timeInput', 'output', 'classInput', 'threads']) {
      assert.ok(names.includes(k), k);
    }
    const pred = m.params.find((p) => p.name === 'prediction');
    assert.ok(pred?.type === 'enum' && pred.options.join() === 'auto,epsilon,v_prediction,sample,flow,edm');
    const time = m.params.find((p) => p.name === 'time');
    assert.ok(time?.type === 'enum' && time.options.join() === 'auto,discrete,sigma,edm_cnoise,flow,flow1000');
    assert.deepEqual(m.outputs.map((o) => [o.name, o.type]), [['model', 'MODEL']]);
  });

  it('model.onnx resolves its path against the .dpipe directory and loads through services.loadModel', async () => {
    const calls: { params: Params; path: string }[] = [];
    const params = { ...defaults('model.onnx'), path: 'gmm_eps_vp.onnx' };
    const out = await node('model.onnx').evaluate(ctx(FIXTURES, calls), {}, params);
    const model = out.model as ModelValue;
    assert.equal(calls[0].path, path.join(FIXTURES, 'gmm_eps_vp.onnx'));
    assert.equal(calls[0].params, params);
    assert.deepEqual([model.info.prediction, model.info.time, model.schedule.kind], ['epsilon', 'discrete', 'discrete']);
    await assert.rejects(node('model.onnx').evaluate(ctx(FIXTURES), {}, defaults('model.onnx')), (e) => e instanceof DpipeError && e.code === 'E_PARAM_VALUE');
  });

  it('cond.class gives one label, or a list cycled over the batch', async () => {
    const one = (await node('cond.class').evaluate(ctx('/'), {}, { label: 3, labels: [] })).conditioning as CondValue;
    assert.deepEqual(one, { kind: 'class', label: 3 });
    const many = (await node('cond.class').evaluate(ctx('/'), {}, { label: 0, labels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] })).conditioning as CondValue;
    assert.deepEqual(many, { kind: 'class', label: 0, labels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    await assert.rejects(node('cond.class').evaluate(ctx('/'), {}, { label: 0, labels: [1, 2.5] }), (e) => e instanceof DpipeError && e.code === 'E_PARAM_VALUE' && /2\.5/.test(e.message));
  });

  it('cond.tensor reads its .npy relative to the .dpipe file and names the input', async () => {
    const calls: { params: Params; path: string }[] = [];
    const npy: Latent = { shape: [2, 3], data: Float64Array.from([1, 2, 3, 4, 5, 6]) };
    const c = (await node('cond.tensor').evaluate(ctx('/work/p', calls, npy), {}, { path: 'emb/pos.npy', input: 'encoder_hidden_states' })).conditioning as CondValue;
    assert.equal(calls[0].path, path.join('/work/p', 'emb/pos.npy'));
    assert.ok(c.kind === 'tensor');
    assert.deepEqual([c.input, c.shape, [...c.data]], ['encoder_hidden_states', [2, 3], [1, 2, 3, 4, 5, 6]]);
    assert.ok(c.data instanceof Float32Array);
  });
});
