/** The onnxruntime adapter: inspection, generic runs, and the session cache. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DpipeError } from '../../src/engine/core/errors';
import { float32, inspect, int64, onnxruntimeVersion, openSession, releaseAll, releaseSession, run, sessionStats, toFloat64 } from '../../src/engine/model/onnx';
import { loadModel } from '../../src/engine/model/wrap';
import { buildGmmOnnx, EDM_NAMES, goldenMixture } from '../../tools/gmm/gmm';
import { GraphBuilder } from '../../tools/gmm/onnx-graph';
import { FIXTURES, tmpDir } from './util';

const isErr = (code: string, re?: RegExp) => (e: unknown) => e instanceof DpipeError && e.code === code && (!re || re.test(e.message));

describe('model/onnx: the onnxruntime adapter', () => {
  afterEach(() => releaseAll());

  it('inspect lists names, element types and shapes with symbolic dimensions as strings', async () => {
    const io = await inspect(path.join(FIXTURES, 'gmm_edm.onnx'));
    assert.deepEqual(io, {
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 3, 8, 8] }, { name: 'sigma', type: 'float32', shape: ['batch'] }],
      outputs: [{ name: 'denoised', type: 'float32', shape: ['batch', 3, 8, 8] }],
    });
    assert.match(onnxruntimeVersion(), /^onnxruntime-node 1\.30\.0$/);
  });

  it('runs any model with float32 and int64 tensors (a classifier-like graph: Gather over int64 labels)', async () => {
    const g = new GraphBuilder('c');
    const labels = g.input('labels', 'int64', ['n']);
    const scale = g.input('scale', 'float32', ['n']);
    g.op('Mul', [g.op('Gather', [g.constF([10, 20, 30], [3]), labels], { axis: { int: 0 } }), scale], {}, 'out');
    g.output('out', 'float32', ['n']);
    const file = path.join(tmpDir(), 'gather.onnx');
    fs.writeFileSync(file, g.build({ producer: 'test' }));
    const io = await inspect(file);
    assert.deepEqual(io.inputs.map((i) => i.type), ['int64', 'float32']);
    const out = await run(file, { labels: int64([2, 0, 1], [3]), scale: float32(Float32Array.from([1, 2, 0.5]), [3]) });
    assert.deepEqual([...toFloat64(out.out)], [30, 20, 10]);
    await assert.rejects(run(file, { labels: int64([0], [1]) }), isErr('E_MODEL', /needs input\(s\) "scale"; its inputs are labels: int64\[n\], scale: float32\[n\]/));
    await assert.rejects(run(file, { labels: int64([0], [1]), scale: float32(new Float32Array(1), [1]), extra: float32(new Float32Array(1), [1]) }), isErr('E_MODEL', /no input "extra"/));
    await assert.rejects(run(file, { labels: int64([0], [1]), scale: float32(new Float32Array(1), [1]) }, ['nope']), isErr('E_MODEL', /no output "nope"; its outputs are out: float32\[n\]/));
  });

  it('one session per file, reused by every open and run; a different thread count gets its own session', async () => {
    const file = path.join(FIXTURES, 'gmm_edm.onnx');
    const a = await openSession(file);
    const b = await openSession(file);
    await loadModel({}, file);
    await run(file, { x: float32(new Float32Array(192), [1, 3, 8, 8]), sigma: float32(Float32Array.from([1]), [1]) });
    const c = await openSession(file);
    assert.equal(a.sessionId, b.sessionId);
    assert.equal(a.sessionId, c.sessionId);
    assert.equal(sessionStats().cached, 1);
    const t1 = await openSession(file, { threads: 1 });
    assert.notEqual(t1.sessionId, a.sessionId);
    assert.equal(sessionStats().cached, 2);
    assert.equal((await openSession(file, { threads: 1 })).sessionId, t1.sessionId);
    await assert.rejects(openSession(file, { threads: -2 }), isErr('E_MODEL', /threads must be a non-negative integer/));
    // The node's `threads` reaches the session: loadModel with threads 2 creates one, which a later open reuses.
    const created = sessionStats().created;
    await loadModel({ threads: 2 }, file);
    assert.equal(sessionStats().created, created + 1);
    await openSession(file, { threads: 2 });
    assert.equal(sessionStats().created, created + 1);
    assert.equal(sessionStats().cached, 3);
  });

  it('reloads when the file changes (mtime/size); a session held from the old file then fails with a clear E_MODEL', async () => {
    const file = path.join(tmpDir(), 'changing.onnx');
    const mix = goldenMixture();
    fs.writeFileSync(file, buildGmmOnnx(mix, { prediction: 'edm', time: 'sigma', names: EDM_NAMES }));
    const feeds = { x: float32(new Float32Array(192).fill(0.3), [1, 3, 8, 8]), sigma: float32(Float32Array.from([0.5]), [1]) };
    const old = await openSession(file);
    const before = (await old.run(feeds)).denoised.data[0];
    // Same interface, different mixture (4 components → a different size) and a different answer.
    fs.writeFileSync(file, buildGmmOnnx({ ...mix, k: 4, mu: mix.mu.slice(0, 4 * 192) }, { prediction: 'edm', time: 'sigma', names: EDM_NAMES }));
    const fresh = await openSession(file);
    assert.notEqual(fresh.sessionId, old.sessionId);
    const after = (await fresh.run(feeds)).denoised.data[0];
    assert.notEqual(after, before);
    await assert.rejects(old.run(feeds), isErr('E_MODEL', /changed on disk/));
    // Same size, new mtime: also reloaded.
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(file, t, t);
    assert.notEqual((await openSession(file)).sessionId, fresh.sessionId);
    releaseSession(file);
    assert.equal(sessionStats().cached, 0);
  });

  it('a run while the model is in use is not disturbed by a reload elsewhere', async () => {
    const file = path.join(tmpDir(), 'busy.onnx');
    fs.writeFileSync(file, fs.readFileSync(path.join(FIXTURES, 'gmm_edm.onnx')));
    const s = await openSession(file);
    const feeds = { x: float32(new Float32Array(64 * 192), [64, 3, 8, 8]), sigma: float32(new Float32Array(64).fill(1), [64]) };
    const pending = s.run(feeds);
    const t = new Date(Date.now() + 10000);
    fs.utimesSync(file, t, t);
    await openSession(file);
    const out = await pending;
    assert.equal(out.denoised.dims[0], 64);
  });
});
