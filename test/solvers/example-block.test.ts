/**
 * The example of CONTRIBUTING.md ("How to add a block") is real: the text the document shows is the file
 * test/fixtures/blocks/midpoint.ts (type-checked by `npm test`), and that one entry is a working solver block once
 * it is in a registry — loaded and run through the runner with the exact NFE its entry declares, its declared
 * convergence order measured, its options checked by the codec, and at α = 1 it is solver.heun number for number.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DpipeError } from '../../src/engine/core/errors';
import type { Latent } from '../../src/engine/core/types';
import { hasErrors, loadPipeline } from '../../src/engine/format/index';
import { nodeTypes } from '../../src/engine/registry/index';
import type { Params } from '../../src/engine/registry/types';
import { runPipeline } from '../../src/engine/run/index';
import { heun } from '../../src/engine/solvers/heun';
import { EXAMPLE_MIDPOINT, midpoint } from '../fixtures/blocks/midpoint';
import { ctxWith, gaussianDenoiser } from '../helpers/gmm';
import { GAUSS, grid, measuredOrder, startPoint } from '../helpers/convergence';
import { gaussModel } from '../run/helpers';

const ROOT = path.join(__dirname, '..', '..');
const FILE = path.join(ROOT, 'test', 'fixtures', 'blocks', 'midpoint.ts');

describe('CONTRIBUTING.md: the example block', () => {
  it('the document shows the example file exactly', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'CONTRIBUTING.md'), 'utf8');
    const m = /## How to add a block[\s\S]*?```ts\n([\s\S]*?)```/.exec(doc);
    assert.ok(m, 'CONTRIBUTING.md has a TypeScript example under "How to add a block"');
    assert.equal(m[1], fs.readFileSync(FILE, 'utf8'));
  });

  it('in a registry it loads, runs through the runner and makes the NFE its entry declares', async () => {
    const types = new Map(nodeTypes()).set(EXAMPLE_MIDPOINT.type, EXAMPLE_MIDPOINT);
    const text = JSON.stringify({
      dpipe: 1,
      nodes: [
        { id: 'model', type: 'model.onnx', params: { path: 'gauss.onnx' } },
        { id: 'guider', type: 'guider.basic', params: {} },
        { id: 'sched', type: 'schedule.karras', params: { steps: 6, sigmaMin: 0.01, sigmaMax: 10, final: 'zero' } },
        { id: 'solver', type: 'solver.example_midpoint', params: { alpha: 0.5 } },
        { id: 'noise', type: 'noise.seeded', params: { seed: 3 } },
        { id: 'latent', type: 'latent.empty', params: {} },
        { id: 'sample', type: 'sample', params: {} },
        { id: 'out', type: 'output.latent', params: {} },
      ],
      edges: [
        ['model.model', 'guider.model'], ['model.model', 'latent.model'], ['guider.guider', 'sample.guider'], ['solver.sampler', 'sample.sampler'],
        ['sched.sigmas', 'sample.sigmas'], ['noise.noise', 'sample.noise'], ['latent.latent', 'sample.latent'], ['sample.latent', 'out.latent'],
      ].map(([from, to]) => ({ from, to })),
    });
    const r = loadPipeline(text, { registry: types, checkFiles: false });
    assert.ok(r.doc && !hasErrors(r.problems), JSON.stringify(r.problems));
    let calls = 0;
    const base = gaussModel({ mu: 0.25, s: 0.5 });
    const res = await runPipeline(r.doc, {
      baseDir: ROOT,
      nodeTypes: types,
      loadModel: async () => ({ ...base, denoise: (x, sigma, conds, signal) => (calls++, base.denoise(x, sigma, conds, signal)) }),
      runtimeVersion: 'test',
      trajectory: { record: false },
    });
    assert.equal(res.status, 'completed');
    assert.equal(calls, 2 * 6 - 1, 'two evaluations per step, one on the step to σ = 0');
    assert.equal(res.record.samples[0].expectedNfe, calls);

    const bad = loadPipeline(text.replace('"alpha":0.5', '"alpha":0'), { registry: types, checkFiles: false });
    assert.ok(bad.problems.some((p) => p.code === 'E_PARAM_VALUE' && p.message.includes('must be a number in (0, 1], got 0')), JSON.stringify(bad.problems));
  });

  it('measures the convergence order its entry declares', async () => {
    const cases = EXAMPLE_MIDPOINT.solverEntry.tests.convergence ?? [];
    assert.equal(cases.length, 2);
    for (const c of cases) {
      const r = await measuredOrder(midpoint, (c.params ?? {}) as Params, c.steps, c.grid ?? 'exponential');
      assert.ok(Math.abs(r.order - (c.order ?? EXAMPLE_MIDPOINT.solver!.order)) <= 0.3, `measured ${r.order}`);
    }
  });

  it('α = 1 is solver.heun; α outside (0, 1] is E_PARAM_VALUE naming the block', async () => {
    const x0 = startPoint();
    const start = (): Latent => ({ shape: [1, x0.length], data: Float64Array.from(x0) });
    const model = gaussianDenoiser(GAUSS.m, GAUSS.s);
    const s = grid(12, 'exponential');
    const a = await midpoint(model, start(), s, { alpha: 1 }, ctxWith());
    const b = await heun(model, start(), s, {}, ctxWith());
    assert.ok(a.data.every((v, i) => Math.abs(v - b.data[i]) <= 1e-12));
    const c = await midpoint(model, start(), s, {}, ctxWith());
    assert.ok(c.data.some((v, i) => Math.abs(v - b.data[i]) > 1e-9), 'α = ½ is another method');
    await assert.rejects(midpoint(model, start(), s, { alpha: 2 }, ctxWith()), (e: unknown) => e instanceof DpipeError && e.code === 'E_PARAM_VALUE' && e.message === 'solver.example_midpoint: parameter "alpha" must be a number in (0, 1], got 2');
  });
});
