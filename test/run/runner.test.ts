import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { DpipeError } from '../../src/engine/core/errors';
import { encodeNpy, parseNpy } from '../../src/engine/core/npy';
import { loadPipeline } from '../../src/engine/format/index';
import type { PipelineDoc } from '../../src/engine/format/types';
import { seededBatch, STREAM_INITIAL } from '../../src/engine/noise/seeded';
import { epsilonOf, openTrajectory, readPipelineFromPng, runPipeline, type RunOptions } from '../../src/engine/run/index';
import type { RunRecord } from '../../src/engine/run/record';
import { eulerGaussFinal, gaussDenoise, gaussModel, gaussPipeline, testTypes, type GaussOptions } from './helpers';

const MU = 0.25;
const S = 0.5;

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-run-test-'));
}

function load(text: string, baseDir: string): PipelineDoc {
  const r = loadPipeline(text, { registry: testTypes(), baseDir, checkFiles: false });
  const errors = r.problems.filter((p) => p.severity === 'error');
  assert.deepEqual(errors, []);
  return r.doc!;
}

function options(dir: string, extra: Partial<RunOptions> = {}, model: GaussOptions = {}): RunOptions {
  return {
    baseDir: dir,
    file: path.join(dir, 'p.dpipe'),
    nodeTypes: testTypes(),
    loadModel: async () => gaussModel({ mu: MU, s: S, ...model }),
    runtimeVersion: 'test-runtime 0.0',
    ...extra,
  };
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('run/runPipeline on a closed-form Gaussian model', () => {
  it('runs Euler to the closed-form result and writes latent, PNGs, trajectory and run.json', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    const doc = load(gaussPipeline({ steps: 6, seed: 3, batch: 2 }), dir);
    const res = await runPipeline(doc, options(dir, { outDir: out }));
    assert.equal(res.status, 'completed');

    // Start: x_T = σ0·z with z the seeded generator's draw for seeds 3, 4.
    const sigmas = res.record.samples[0].sigmas;
    assert.equal(sigmas.length, 7);
    assert.ok(Math.abs(sigmas[0] - 10) < 1e-12);
    assert.equal(sigmas[6], 0);
    const z = seededBatch(3, [2, 1, 4, 4], STREAM_INITIAL, 0);
    const expected = eulerGaussFinal(z.map((v) => sigmas[0] * v), sigmas, MU, S);
    const final = res.values.get('sample')!.latent as { data: Float64Array; shape: number[] };
    assert.deepEqual(final.shape, [2, 1, 4, 4]);
    assert.ok(maxAbs(final.data, expected) < 1e-12, `final latent off by ${maxAbs(final.data, expected)}`);

    // final.npy: float32 of the same values.
    const npy = parseNpy(fs.readFileSync(path.join(out, 'final.npy')));
    assert.deepEqual(npy.shape, [2, 1, 4, 4]);
    assert.ok(maxAbs(npy.data, expected) < 1e-6);

    // PNGs: one per item and a grid; 4×4 latent at scale 2 → 8×8 gray; values map [-1, 1] → 0..255.
    const names = res.outputs.map((o) => o.file).sort();
    assert.deepEqual(names, ['final.npy', 'img-0.png', 'img-1.png', 'img-grid.png']);
    const png = decode(fs.readFileSync(path.join(out, 'img-1.png')));
    assert.equal(png.width, 8);
    assert.equal(png.channels, 1);
    const v = expected[16 + 5]; // item 1, pixel (1, 1) → png pixel (2, 2)
    assert.equal(png.data[2 * 8 + 2], Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255));
    const grid = decode(fs.readFileSync(path.join(out, 'img-grid.png')));
    assert.deepEqual([grid.width, grid.height], [2 * 8 + 3 * 2, 8 + 2 * 2]);

    // The PNG carries the pipeline as it ran (loads without errors, same nodes).
    const text = readPipelineFromPng(fs.readFileSync(path.join(out, 'img-0.png')))!;
    assert.ok(text);
    const back = loadPipeline(text, { registry: testTypes(), baseDir: out, checkFiles: false });
    assert.deepEqual(back.problems.filter((p) => p.severity === 'error'), []);
    assert.deepEqual(back.doc!.nodes.map((n) => n.id), doc.nodes.map((n) => n.id));
    assert.equal(back.doc!.metadata.title, 'gauss test — σ');
    // File params are rebased so they resolve from the image's folder.
    assert.equal(back.doc!.nodes.find((n) => n.id === 'model')!.params.path, '../gauss.onnx');

    // Run record.
    const rec = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.status, 'completed');
    assert.equal(rec.nfe, 6);
    assert.deepEqual(rec.seeds, [3, 4]);
    assert.equal(rec.batch, 2);
    assert.equal(rec.models[0].sha256, 'ab'.repeat(32));
    assert.equal(rec.onnxruntime, 'test-runtime 0.0');
    assert.match(rec.dpipeVersion, /^\d+\.\d+\.\d+/);
    assert.equal(rec.file, path.join(dir, 'p.dpipe'));
    assert.equal(rec.samples[0].sampler, 'test.euler');
    assert.equal(rec.samples[0].expectedNfe, 6);
    assert.equal(rec.samples[0].evals.length, 6);
    assert.equal(rec.samples[0].stepTimes.length, 6);
    assert.deepEqual(rec.samples[0].evals.map((e) => e.step), [0, 1, 2, 3, 4, 5]);
    for (const e of rec.samples[0].evals) assert.ok(e.modelMs >= 0 && e.engineMs >= 0);
    assert.ok(rec.timings.totalMs >= rec.timings.sampleMs);
    assert.ok(Math.abs(rec.timings.sampleMs - rec.timings.modelMs - rec.timings.engineMs) < 1e-6);
    assert.deepEqual(rec.outputs.map((o) => o.file).sort(), names);
    assert.equal(rec.trajectory!.dir, 'trajectory');
    assert.equal(rec.trajectory!.evals, 6);
    assert.equal(rec.pipeline.nodes.length, doc.nodes.length);
  });

  it('records σ, x_t and x̂0 per evaluation; ε̂ = (x − x̂0)/σ matches the closed form', async () => {
    const dir = tmp();
    const res = await runPipeline(load(gaussPipeline({ steps: 4, batch: 1 }), dir), options(dir));
    assert.equal(res.trajectory.evals.length, 4);
    for (let i = 0; i < 4; i++) {
      const f = res.trajectory.frame(i);
      assert.equal(f.meta.sigma, res.record.samples[0].sigmas[i]);
      const d = gaussDenoise(f.x, f.meta.sigma, MU, S);
      assert.ok(maxAbs(f.denoised, d) < 1e-5);
      const eps = epsilonOf(f);
      const k = f.meta.sigma / (S * S + f.meta.sigma ** 2);
      assert.ok(maxAbs(eps, Array.from(f.x, (x) => (x - MU) * k)) < 1e-4);
    }
    // No output folder: nothing on disk, outputs in memory.
    assert.equal(res.recordPath, undefined);
    assert.ok(res.outputs.every((o) => o.bytes && !o.path));
    assert.equal(res.trajectory.framesOnDisk, 0);
  });

  it('spills trajectory frames past the memory budget to disk and reads them back', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    // A frame here is 2 planes × 2 items × 16 values × 4 bytes = 256 bytes: a 600-byte budget keeps 2 frames.
    const res = await runPipeline(load(gaussPipeline({ steps: 5, batch: 2 }), dir), options(dir, { outDir: out, trajectory: { memoryBytes: 600, persist: false } }));
    assert.equal(res.trajectory.framesInMemory, 2);
    assert.equal(res.trajectory.framesOnDisk, 3);
    const tdir = path.join(out, 'trajectory');
    assert.deepEqual(fs.readdirSync(tdir).sort(), ['e000002.npy', 'e000003.npy', 'e000004.npy', 'index.json']);
    const onDisk = openTrajectory(tdir);
    assert.equal(onDisk.evals.length, 5);
    for (const i of [2, 4]) {
      const a = res.trajectory.frame(i);
      const b = onDisk.frame(i);
      assert.deepEqual(Array.from(a.x), Array.from(b.x));
      assert.deepEqual(b.shape, [2, 1, 4, 4]);
      const npy = parseNpy(fs.readFileSync(path.join(tdir, `e00000${i}.npy`)));
      assert.deepEqual(npy.shape, [2, 2, 1, 4, 4]);
    }
  });

  it('persists every frame and the final state when there is an output folder', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    const res = await runPipeline(load(gaussPipeline({ steps: 3, batch: 1 }), dir), options(dir, { outDir: out }));
    const t = openTrajectory(path.join(out, 'trajectory'));
    assert.equal(t.evals.length, 3);
    assert.deepEqual(t.samples[0].sigmas, res.record.samples[0].sigmas);
    const fin = parseNpy(fs.readFileSync(path.join(out, 'trajectory', t.samples[0].final!)));
    const x = res.values.get('sample')!.latent as { data: Float64Array };
    assert.ok(maxAbs(fin.data, x.data) < 1e-6);
    for (let i = 0; i < 3; i++) assert.deepEqual(Array.from(t.frame(i).denoised), Array.from(res.trajectory.frame(i).denoised));
  });

  it('stops within one model evaluation of an abort and keeps what was written', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    const ctl = new AbortController();
    const res = await runPipeline(load(gaussPipeline({ steps: 10, batch: 1 }), dir), options(dir, {
      outDir: out,
      signal: ctl.signal,
      onEval: (_n, ev) => {
        if (ev.index === 3) ctl.abort();
      },
    }));
    assert.equal(res.status, 'aborted');
    assert.equal(res.error?.code, 'E_ABORTED');
    assert.equal(res.record.nfe, 4);
    const rec = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.status, 'aborted');
    assert.equal(rec.nfe, 4);
    assert.equal(rec.error?.code, 'E_ABORTED');
    assert.equal(openTrajectory(path.join(out, 'trajectory')).evals.length, 4);
    assert.ok(!fs.existsSync(path.join(out, 'final.npy')), 'outputs after the Sample block are not written');
  });

  it('an abort from outside during a slow model call stops before the next call', async () => {
    const dir = tmp();
    const calls = { n: 0 };
    const ctl = new AbortController();
    let callsAtAbort = -1;
    setTimeout(() => {
      callsAtAbort = calls.n;
      ctl.abort();
    }, 60);
    const res = await runPipeline(load(gaussPipeline({ steps: 40, batch: 1 }), dir), options(dir, { signal: ctl.signal }, { delayMs: 15, calls }));
    assert.equal(res.status, 'aborted');
    assert.ok(callsAtAbort >= 1);
    assert.ok(calls.n <= callsAtAbort + 1, `model called ${calls.n} times, ${callsAtAbort} at the abort`);
    assert.equal(res.record.nfe, calls.n);
  });

  it('applies --set, --seed and --batch to the pipeline it runs and records', async () => {
    const dir = tmp();
    const res = await runPipeline(load(gaussPipeline({ steps: 6, seed: 3, batch: 1 }), dir), options(dir, {
      set: ['sched.steps=3', 'img.valueRange=0,1'],
      seed: 11,
      batch: 3,
    }));
    assert.equal(res.record.nfe, 3);
    assert.deepEqual(res.record.seeds, [11, 12, 13]);
    assert.deepEqual(res.record.samples[0].shape, [3, 1, 4, 4]);
    const p = (id: string) => res.record.pipeline.nodes.find((n) => n.id === id)!.params;
    assert.equal(p('sched').steps, 3);
    assert.deepEqual(p('img').valueRange, [0, 1]);
    assert.equal(p('noise').seed, 11);
    assert.equal(p('latent').batch, 3);
    assert.deepEqual(res.record.overrides, ['sched.steps=3', 'img.valueRange=[0, 1]', 'noise.seed=11', 'latent.batch=3']);
  });

  it('rejects bad overrides with a DpipeError naming what is allowed', async () => {
    const dir = tmp();
    const doc = load(gaussPipeline(), dir);
    const run = (set: string[]) => runPipeline(doc, options(dir, { set }));
    await assert.rejects(run(['sched.steps=0']), (e: DpipeError) => e.code === 'E_PARAM_VALUE' && /steps must be an integer in \[1, /.test(e.message));
    await assert.rejects(run(['sched.stepz=3']), (e: DpipeError) => e.code === 'E_PARAM' && /its parameters are steps, sigmaMin/.test(e.message));
    await assert.rejects(run(['shed.steps=3']), (e: DpipeError) => e.code === 'E_NODE_ID' && /did you mean "sched"/.test(e.message));
    await assert.rejects(run(['sched.steps']), (e: DpipeError) => e.code === 'E_USAGE' && /NODE\.PARAM=VALUE/.test(e.message));
    await assert.rejects(run(['sample.noiseScale=ve']), (e: DpipeError) => e.code === 'E_PARAM_VALUE' && /one of "sigma", "vp"/.test(e.message));
  });

  it('noise from a file: x_T = σ0·z (noiseScale sigma) or √(σ0²+1)·z (vp)', async () => {
    const dir = tmp();
    const z = Float64Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    fs.writeFileSync(path.join(dir, 'z.npy'), encodeNpy([1, 1, 4, 4], z, '<f8'));
    const text = gaussPipeline({ steps: 2, batch: 1, noise: { id: 'noise', type: 'noise.npy', params: { initial: 'z.npy' } } });
    for (const scale of ['sigma', 'vp'] as const) {
      const res = await runPipeline(load(text, dir), options(dir, { set: [`sample.noiseScale=${scale}`] }));
      const c = scale === 'vp' ? Math.sqrt(101) : 10;
      assert.ok(maxAbs(res.trajectory.frame(0).x, Array.from(z, (v) => c * v)) < 1e-5);
    }
  });

  it('stops with E_NAN naming the step and σ when the model returns NaN', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    const bad = gaussModel({ mu: MU, s: S });
    const nanModel = { ...bad, async denoise(x: never, sigma: number, conds: never[]) {
      const r = await bad.denoise(x, sigma, conds);
      if (sigma < 2) r[0].data[5] = NaN;
      return r;
    } };
    await assert.rejects(
      runPipeline(load(gaussPipeline({ steps: 6, batch: 1 }), dir), options(dir, { outDir: out, loadModel: async () => nanModel })),
      (e: DpipeError) => e.code === 'E_NAN' && /step \d of 6 \(σ = [0-9.]+, element 5\)/.test(e.message),
    );
    const rec = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.status, 'failed');
    assert.equal(rec.error?.code, 'E_NAN');
  });

  it('value range comes from the model when the block leaves it empty', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    const text = gaussPipeline({ steps: 2, batch: 1, extraEdges: [{ from: 'model.model', to: 'img.model' }] });
    await runPipeline(load(text, dir), options(dir, { outDir: out }, { valueRange: [0, 100] }));
    const x = parseNpy(fs.readFileSync(path.join(out, 'final.npy'))).data;
    const png = decode(fs.readFileSync(path.join(out, 'img.png')));
    assert.equal(png.data[0], Math.round(Math.min(1, Math.max(0, x[0] / 100)) * 255));
  });

  it('runs the library solvers: solver.euler equals the closed-form Euler, solver.heun makes 2n − 1 evaluations', async () => {
    const dir = tmp();
    const euler = await runPipeline(load(gaussPipeline({ steps: 5, batch: 1, solver: 'solver.euler' }), dir), options(dir));
    const own = await runPipeline(load(gaussPipeline({ steps: 5, batch: 1 }), dir), options(dir));
    const a = (euler.values.get('sample')!.latent as { data: Float64Array }).data;
    const b = (own.values.get('sample')!.latent as { data: Float64Array }).data;
    assert.ok(maxAbs(a, b) < 1e-12);
    const heun = await runPipeline(load(gaussPipeline({ steps: 5, batch: 1, solver: 'solver.heun' }), dir), options(dir));
    assert.equal(heun.record.nfe, 9);
    assert.equal(heun.record.samples[0].expectedNfe, 9); // exact: the step to σ = 0 takes one evaluation
    assert.deepEqual(heun.record.samples[0].stepTimes.map((s) => s.nfe), [2, 2, 2, 2, 1]);
    assert.deepEqual(heun.trajectory.evals.map((e) => e.step), [0, 0, 1, 1, 2, 2, 3, 3, 4]);
  });

  it('run.json expectedNfe: the exact count where the solver fixes its steps (Heun to σ = 0: 2n − 1, not nfePerStep × n), the nominal nfePerStep × steps for an adaptive solver', async () => {
    const dir = tmp();
    let runs = 0;
    const recordOf = async (text: string) => {
      const out = path.join(dir, `out-${runs++}`);
      const res = await runPipeline(load(text, dir), options(dir, { outDir: out }));
      const rec = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunRecord;
      return { rec, made: res.record.nfe };
    };
    const heun = await recordOf(gaussPipeline({ steps: 6, batch: 1, solver: 'solver.heun' }));
    assert.equal(heun.rec.samples[0].expectedNfe, 11); // 2·6 − 1: the step to σ = 0 is one Euler evaluation
    assert.equal(heun.rec.samples[0].nfe, heun.made);
    assert.equal(heun.made, 11);
    // Gotta Go Fast picks its own steps on [σ_max, σ_min]: one nominal step of 2 evaluations, far fewer than it makes.
    const doc = JSON.parse(gaussPipeline({ batch: 1, solver: 'solver.gotta_go_fast' })) as { nodes: { id: string; type: string; params: object }[] };
    doc.nodes = doc.nodes.map((n) => (n.id === 'sched' ? { id: 'sched', type: 'schedule.explicit', params: { values: [10, 0.01], final: 'none' } } : n));
    const ggf = await recordOf(JSON.stringify(doc));
    assert.equal(ggf.rec.samples[0].expectedNfe, 2);
    assert.ok(ggf.made > 10, `adaptive run made ${ggf.made} evaluations`);
    assert.equal(ggf.rec.samples[0].nfe, ggf.made);
  });
});
