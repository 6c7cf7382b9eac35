import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../../src/engine/core/errors';
import { ByteLru, computeStats, locateRun, logSigmaSteps, scheduleLogSteps, TrajectoryReader } from '../../src/engine/inspect/index';
import { close, tmpDir, writeHandTrajectory, type HandEval } from './helpers';

// 5 evaluations of a [2, 2, 2, 2] latent (16 values): x_i(k) = i + k/100, x̂0_i(k) = (k − 8)/10 · (1 + i)/5.
const SHAPE = [2, 2, 2, 2];
const SIGMAS = [4, 2, 1, 0.5, 0];
const EVALS: HandEval[] = SIGMAS.map((sigma, i) => ({
  sigma,
  step: i,
  x: (k) => i + k / 100,
  denoised: (k) => ((k - 8) / 10) * ((1 + i) / 5),
  branches: i === 1 ? { cond: (k) => k, uncond: (k) => 2 * k } : undefined,
}));

describe('inspect/TrajectoryReader', () => {
  let dir: string;
  before(() => {
    dir = tmpDir();
    writeHandTrajectory(dir, SHAPE, EVALS, { final: (k) => -k });
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ dpipeRunRecord: 1, trajectory: { dir: 'trajectory' }, pipeline: {}, baseDir: dir }));
  });

  it('opens a run folder, its run.json or the trajectory folder, and finds the same files', () => {
    for (const target of [dir, path.join(dir, 'run.json'), path.join(dir, 'trajectory'), path.join(dir, 'trajectory', 'index.json')]) {
      const loc = locateRun(target);
      assert.equal(loc.trajectoryDir, path.join(dir, 'trajectory'), target);
      assert.equal(loc.runDir, dir, target);
    }
    const r = TrajectoryReader.open(dir);
    assert.equal(r.length, 5);
    assert.deepEqual(r.shapeOf(3), SHAPE);
    assert.deepEqual(r.planesOf(1), ['x', 'denoised', 'cond', 'uncond', 'eps', 'diff']);
    assert.deepEqual(r.planesOf(0), ['x', 'denoised', 'eps']);
    assert.ok(r.record);
  });

  it('reads one plane by byte offset: exact float32 values, ε̂ = (x − x̂0)/σ, cond − uncond, final state', () => {
    const r = TrajectoryReader.open(dir);
    const x3 = r.plane(3, 'x');
    assert.equal(x3.length, 16);
    for (let k = 0; k < 16; k++) assert.equal(x3[k], Math.fround(3 + k / 100));
    const d2 = r.plane(2, 'denoised');
    assert.equal(d2[15], Math.fround((7 / 10) * (3 / 5)));
    const e2 = r.plane(2, 'eps'); // σ = 1
    assert.equal(e2[5], Math.fround(Math.fround(2.05) - Math.fround((-3 / 10) * (3 / 5))));
    const e1 = r.plane(1, 'eps'); // σ = 2
    close(e1[0], (1 - (-0.8 * 0.4)) / 2, 1e-6, 'eps at σ=2');
    assert.deepEqual([...r.plane(4, 'eps')], new Array(16).fill(0), 'ε̂ at σ = 0 is 0');
    const diff = r.plane(1, 'diff');
    assert.deepEqual([...diff].map((v) => v + 0), Array.from({ length: 16 }, (_, k) => -k + 0));
    assert.deepEqual([...r.finalOf('s')!].map((v) => v + 0), Array.from({ length: 16 }, (_, k) => -k + 0));
    assert.throws(() => r.plane(0, 'cond'), (e: DpipeError) => e.code === 'E_PARAM_VALUE' && /has no plane "cond"/.test(e.message));
    assert.throws(() => r.plane(9, 'x'), (e: DpipeError) => e.code === 'E_PARAM_VALUE' && /0–4/.test(e.message));
  });

  it('pages through an LRU cache bounded in bytes: hits, evictions, and reads around the cache', () => {
    const r = TrajectoryReader.open(dir, { cacheBytes: 3 * 64 }); // three 16-value float32 planes
    r.plane(0, 'x');
    r.plane(1, 'x');
    r.plane(2, 'x');
    assert.deepEqual([r.stats.reads, r.stats.hits, r.cachedBytes], [3, 0, 192]);
    r.plane(0, 'x'); // hit; 0 becomes most recent
    r.plane(3, 'x'); // evicts 1
    assert.deepEqual([r.stats.reads, r.stats.hits, r.cachedBytes], [4, 1, 192]);
    r.plane(1, 'x'); // miss again
    r.plane(0, 'x'); // still cached
    assert.deepEqual([r.stats.reads, r.stats.hits], [5, 2]);
    r.plane(4, 'denoised', { cache: false });
    r.plane(4, 'denoised', { cache: false });
    assert.deepEqual([r.stats.reads, r.stats.hits, r.cachedBytes], [7, 2, 192]);
    // each read touches only its plane: 64 bytes of data (+ one header per file)
    const before = r.stats.bytesRead;
    r.plane(4, 'x', { cache: false });
    assert.equal(r.stats.bytesRead - before, 64);
  });

  it('ByteLru evicts least recently used entries and refuses entries larger than its capacity', () => {
    const c = new ByteLru<string>(10);
    c.set('a', 'A', 4);
    c.set('b', 'B', 4);
    c.get('a');
    c.set('c', 'C', 4);
    assert.deepEqual([c.get('a'), c.get('b'), c.get('c'), c.bytes], ['A', undefined, 'C', 8]);
    c.set('big', 'X', 11);
    assert.equal(c.get('big'), undefined);
  });

  it('computes per-evaluation stats with exact numbers', () => {
    const r = TrajectoryReader.open(dir);
    const st = computeStats(r);
    const rmsOf = (f: (k: number) => number) => Math.sqrt(Array.from({ length: 16 }, (_, k) => Math.fround(f(k)) ** 2).reduce((a, b) => a + b) / 16);
    for (let i = 0; i < 5; i++) close(st.xNorm[i]!, rmsOf(EVALS[i].x), 1e-6, `‖x_${i}‖`);
    close(st.denoisedNorm[2]!, rmsOf(EVALS[2].denoised), 1e-6, '‖x̂0_2‖');
    assert.equal(st.dDenoised[0], null);
    // x̂0_i − x̂0_{i−1} = (k − 8)/10 · 1/5
    for (let i = 1; i < 5; i++) close(st.dDenoised[i]!, rmsOf((k) => ((k - 8) / 10) / 5), 1e-6, `‖Δx̂0_${i}‖`);
    assert.deepEqual(st.dLogSigma.map((v) => (v === null ? null : +v.toFixed(12))), [null, +Math.log(2).toFixed(12), +Math.log(2).toFixed(12), +Math.log(2).toFixed(12), null]);
    assert.equal(r.cachedBytes, 0, 'a stats pass does not fill the cache');
    assert.deepEqual(scheduleLogSteps([4, 2, 1, 0]).map((v) => v && +v.toFixed(12)), [+Math.log(2).toFixed(12), +Math.log(2).toFixed(12), null]);
    assert.deepEqual(logSigmaSteps(r.evals), st.dLogSigma);
  });

  it('says what is missing when a folder has no trajectory', () => {
    const empty = tmpDir();
    assert.throws(() => TrajectoryReader.open(empty), (e: DpipeError) => e.code === 'E_FILE_MISSING' && /has no trajectory/.test(e.message));
    assert.throws(() => TrajectoryReader.open(path.join(empty, 'nope')), (e: DpipeError) => e.code === 'E_FILE_MISSING');
  });
});
