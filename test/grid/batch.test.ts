/**
 * Batching model calls across grid cells (`engine/model/batch.ts`): the batcher's rules on a scripted session,
 * then the real thing — a grid on the trained demo UNet (dynamic batch, CFG), run with its cells batched together
 * and one cell at a time, must give the same cells bit for bit (every latent, trajectory frame and PNG), with one
 * warm onnxruntime session for the model.
 *
 * Why bit for bit and not "within float32 tolerance": each cell's solver, guidance and scaling arithmetic is its own
 * (float64, per cell), and onnxruntime's CPU kernels compute every batch item independently of the other items
 * (convolutions loop over images; matrix products split rows and columns across threads but never the sum), so a
 * cell's rows in a joined call are the same floats as in a call of its own. The test would catch a runtime for
 * which that stops being true.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DpipeError } from '../../src/engine/core/errors';
import { CallBatcher } from '../../src/engine/model/batch';
import { sessionStats, type OnnxSession, type Tensor } from '../../src/engine/model/onnx';
import type { GridFile } from '../../src/engine/grid/result';
import { ROOT, assertSameFolder, dpipeIn } from './helpers';

/** A session computing out = 2·x + t per row, logging the batch size of every call. */
function fakeSession(calls: number[], opts: { fixed?: boolean; failOn?: number } = {}): OnnxSession {
  const d0 = opts.fixed ? 2 : 'batch';
  return {
    path: '/m.onnx',
    fileStamp: '1:1',
    sessionId: 1,
    provider: 'cpu',
    io: {
      inputs: [{ name: 'x', type: 'float32', shape: [d0, 2] }, { name: 't', type: 'float32', shape: [d0] }],
      outputs: [{ name: 'y', type: 'float32', shape: [d0, 2] }],
    },
    async run(feeds) {
      const x = feeds.x.data as Float32Array;
      const t = feeds.t.data as Float32Array;
      calls.push(feeds.x.dims[0]);
      if (opts.failOn !== undefined && t.includes(opts.failOn)) throw new DpipeError('E_MODEL', `bad t ${opts.failOn}`);
      const y = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = 2 * x[i] + t[Math.floor(i / 2)];
      return { y: { type: 'float32', data: y, dims: [...feeds.x.dims] } };
    },
  };
}

const feed = (rows: number, t: number, base: number): Record<string, Tensor> => ({
  x: { type: 'float32', data: Float32Array.from({ length: rows * 2 }, (_, i) => base + i), dims: [rows, 2] },
  t: { type: 'float32', data: new Float32Array(rows).fill(t), dims: [rows] },
});

describe('grid: batching model calls across cells', function () {
  this.timeout(300000);

  it('joins one call per lane into one batch once every open lane waits, and splits the rows back', async () => {
    const calls: number[] = [];
    const b = new CallBatcher();
    const s = fakeSession(calls);
    const lanes = [b.lane(), b.lane(), b.lane()];
    const p0 = lanes[0].session(s).run(feed(1, 10, 0));
    const p1 = lanes[1].session(s).run(feed(2, 20, 100));
    assert.deepEqual(calls, [], 'waits for the third lane');
    const p2 = lanes[2].session(s).run(feed(1, 30, 200));
    const [r0, r1, r2] = await Promise.all([p0, p1, p2]);
    assert.deepEqual(calls, [4]);
    assert.deepEqual([...r0.y.data], [10, 12]);
    assert.deepEqual(r1.y.dims, [2, 2]);
    assert.deepEqual([...r1.y.data], [220, 222, 224, 226]);
    assert.deepEqual([...r2.y.data], [430, 432]);
    // A closed lane is no longer waited for.
    lanes[2].close();
    const q = await Promise.all([lanes[0].session(s).run(feed(1, 1, 0)), lanes[1].session(s).run(feed(1, 2, 0))]);
    assert.deepEqual(calls, [4, 2]);
    assert.deepEqual([...q[1].y.data], [2, 4]);
    lanes[1].close();
    await lanes[0].session(s).run(feed(1, 1, 0));
    assert.deepEqual(calls, [4, 2, 1]);
    assert.deepEqual(b.stats(), { calls: 3, requests: 6, batchedCalls: 2, maxRequestsPerCall: 3 });
  });

  it('runs calls on their own when the model batch is fixed, and gives each lane its own error when a joined call fails', async () => {
    const calls: number[] = [];
    const b = new CallBatcher();
    const fixed = fakeSession(calls, { fixed: true });
    const [a, c] = [b.lane(), b.lane()];
    await Promise.all([a.session(fixed).run(feed(2, 1, 0)), c.session(fixed).run(feed(2, 2, 0))]);
    assert.deepEqual(calls, [2, 2]);
    calls.length = 0;
    const failing = fakeSession(calls, { failOn: 7 });
    const ok = a.session(failing).run(feed(1, 1, 0));
    const bad = c.session(failing).run(feed(1, 7, 0));
    assert.deepEqual([...(await ok).y.data], [1, 3]);
    await assert.rejects(bad, /bad t 7/);
    assert.deepEqual(calls, [2, 1, 1], 'the joined call, then each request alone');
  });

  it('a UNet grid with batched cells equals the same grid one cell at a time, bit for bit, on one warm session', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-batch-'));
    try {
      const args = ['grid', path.join(ROOT, 'examples', 'demo.dpipe'), '--axis', 'solver=solver.euler,solver.dpmpp_2m,solver.unipc', '--axis', 'sched.steps=3,5', '--seeds', '0-1', '--set', 'image.gridColumns=2', '-q', '--json'];
      const before = sessionStats().created;
      const batched = await dpipeIn([...args, '--out', path.join(tmp, 'batched'), '--lanes', '6']);
      assert.equal(batched.code, 0, batched.err);
      assert.ok(sessionStats().created - before <= 1, 'one onnxruntime session for all cells of the model');
      const alone = await dpipeIn([...args, '--out', path.join(tmp, 'alone'), '--lanes', '1']);
      assert.equal(alone.code, 0, alone.err);
      const g = JSON.parse(batched.out) as GridFile;
      const g1 = JSON.parse(alone.out) as GridFile;
      // Batched: fewer onnxruntime calls than the cells asked for, several cells per call.
      assert.ok(g.batching.batchedCalls > 0 && g.batching.maxRequestsPerCall >= 3 && g.batching.calls < g.batching.requests, JSON.stringify(g.batching));
      assert.equal(g1.batching.batchedCalls, 0);
      assert.equal(g1.batching.calls, g1.batching.requests);
      assert.deepEqual(g.cells.map((c) => c.nfe), [3, 3, 3, 5, 5, 5]);
      const n = assertSameFolder(path.join(tmp, 'alone'), path.join(tmp, 'batched'));
      assert.ok(n > 6 * 8, `compared ${n} files`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
