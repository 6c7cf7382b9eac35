import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseNpy } from '../../src/engine/core/npy';
import { errorPlotBySigma } from '../../src/engine/inspect/errorseries';
import { dopri5, errorAgainstReference, readReferenceFile, referenceForRun, referenceTrajectory, stateAt, sweep, TrajectoryReader, type ReferenceStates } from '../../src/engine/inspect/index';
import { runPipeline } from '../../src/engine/run/index';
import { eulerGaussFinal, gaussPipeline } from '../run/helpers';
import { close, exactGauss, gaussOptions, gaussServices, gaussRun, loadDoc, rms, tmpDir, writeHandTrajectory } from './helpers';

describe('inspect/dopri5', () => {
  it('solves dx/ds = −x through every stop to the tolerance, with fewer evaluations at looser tolerance', async () => {
    const stops = [0, -0.5, -1, -3];
    const runs = [];
    for (const tol of [1e-4, 1e-8]) {
      const r = await dopri5(async (_s, x) => Float64Array.from(x, (v) => -v), Float64Array.of(1, 2), stops, { rtol: tol, atol: tol });
      stops.forEach((s, k) => {
        close(r.states[k][0], Math.exp(-(s - 0)), 20 * tol, `x(${s}) at tol ${tol}`);
        close(r.states[k][1], 2 * Math.exp(-(s - 0)), 40 * tol, `x(${s}) at tol ${tol}`);
      });
      assert.equal(r.nfe, 1 + 6 * (r.accepted + r.rejected), 'FSAL: 6 new evaluations per attempted step');
      runs.push(r);
    }
    assert.ok(runs[0].nfe < runs[1].nfe);
  });
});

describe('inspect/reference on the closed-form Gaussian', () => {
  it('dopri5 through the pipeline matches the exact PF-ODE solution at every σ the run evaluated, and at σ = 0', async () => {
    const dir = tmpDir();
    const run = await gaussRun(dir, { steps: 8, seed: 5, batch: 2 });
    const reader = TrajectoryReader.open(run.outDir!);
    const xT = reader.plane(0, 'x');
    const sigmaT = reader.evals[0].sigma;
    const stops = new Map([['sample', reader.evals.map((m) => m.sigma)]]);
    const refs = await referenceTrajectory(run.record.pipeline, { ...gaussServices(dir), stops, rtol: 1e-8, atol: 1e-8 });
    const ref = refs.get('sample')!;
    assert.equal(ref.sigmas[0], sigmaT);
    assert.equal(ref.sigmas[ref.sigmas.length - 1], 0);
    for (const m of reader.evals) {
      const exact = exactGauss(xT, sigmaT, m.sigma);
      assert.ok(rms(stateAt(ref, m.sigma), exact) < 1e-6, `σ=${m.sigma}: ${rms(stateAt(ref, m.sigma), exact)}`);
    }
    assert.ok(rms(stateAt(ref, 0), exactGauss(xT, sigmaT, 0)) < 1e-6);
    assert.ok(ref.nfe > 10 && ref.nfe < 2000, `nfe ${ref.nfe}`);
    // The run's errors: x_t of Euler vs the exact solution (float32 trajectory: ~1e-7 of the values).
    const err = errorAgainstReference(reader, ref);
    reader.evals.forEach((m, i) => close(err.perEval[i]!, rms(reader.plane(i, 'x'), exactGauss(xT, sigmaT, m.sigma)), 1e-5, `error at ${i}`));
    close(err.perEval[0]!, 0, 1e-6, 'no error at the start');
    const eulerFinal = eulerGaussFinal(xT, run.record.samples[0].sigmas, 0.25, 0.5);
    close(err.final!, rms(eulerFinal, exactGauss(xT, sigmaT, 0)), 1e-5, 'final error');
  });

  it('referenceForRun writes reference.json with per-evaluation errors; "pipeline" method converges to the same', async () => {
    const dir = tmpDir();
    const run = await gaussRun(dir, { steps: 4, seed: 1, batch: 1 });
    const reader = TrajectoryReader.open(run.outDir!);
    const file = await referenceForRun(reader, { ...gaussServices(dir), write: true, rtol: 1e-7, atol: 1e-7 });
    const back = readReferenceFile(run.outDir!)!;
    assert.deepEqual(back.errors, JSON.parse(JSON.stringify(file.errors)));
    assert.equal(back.errors[0].perEval.length, reader.length);
    const fin = parseNpy(fs.readFileSync(path.join(run.outDir!, 'reference-final-sample.npy')));
    const xT = reader.plane(0, 'x');
    assert.ok(rms(fin.data, exactGauss(xT, reader.evals[0].sigma, 0)) < 1e-6);
    // A pipeline reference (the run's Euler at 2000 steps) is first-order close to the exact one.
    const piped = await referenceTrajectory(run.record.pipeline, { ...gaussServices(dir), method: 'pipeline', steps: 2000 });
    const p = piped.get('sample')!;
    assert.equal(p.nfe, 2000);
    assert.ok(rms(stateAt(p, 0), exactGauss(xT, reader.evals[0].sigma, 0)) < 2e-3);
  });

  it('errorAgainstReference on a hand-made trajectory: exact numbers, null for other nodes', () => {
    const dir = tmpDir();
    writeHandTrajectory(dir, [1, 1, 1, 2], [
      { sigma: 4, step: 0, x: (k) => k, denoised: () => 0 },
      { sigma: 2, step: 1, x: (k) => 2 * k, denoised: () => 0 },
      { sigma: 1, step: 2, x: () => 3, denoised: () => 0 },
    ], { final: () => 1, sigmas: [4, 2, 1, 0] });
    const reader = TrajectoryReader.open(path.join(dir, 'trajectory'));
    const ref: ReferenceStates = { node: 's', method: 'hand', shape: [1, 1, 1, 2], sigmas: [4, 1, 0], states: [Float64Array.of(0, 1), Float64Array.of(3, 5), Float64Array.of(1, -1)], nfe: 3 };
    const e = errorAgainstReference(reader, ref);
    assert.equal(e.perEval[0], 0);
    // σ = 2 is halfway between 4 and 1 in log σ: reference (1.5, 3); x = (0, 2) → RMS of (1.5, 1) = √(3.25/2)
    close(e.perEval[1]!, Math.sqrt(3.25 / 2), 1e-12, 'interpolated');
    close(e.perEval[2]!, Math.sqrt((0 + 4) / 2), 1e-12, 'exact σ');
    close(e.final!, Math.sqrt((0 + 4) / 2), 1e-12, 'final');
  });

  it('two runs, each against its own reference, on one σ axis (errorPlotBySigma): exact numbers', () => {
    // Run A: Heun-like, evaluates σ = 1 twice (stage, then next step) — the last one is plotted.
    const dirA = tmpDir();
    writeHandTrajectory(dirA, [1, 1, 1, 2], [
      { sigma: 4, step: 0, x: () => 0, denoised: () => 0 },
      { sigma: 1, step: 0, role: 'stage', x: () => 1, denoised: () => 0 },
      { sigma: 1, step: 1, x: () => 2, denoised: () => 0 },
    ], { final: () => 4, sigmas: [4, 1, 0] });
    // Run B: other σs (2 lies halfway between 4 and 1 in log σ), and a different x_T, so its own reference.
    const dirB = tmpDir();
    writeHandTrajectory(dirB, [1, 1, 1, 2], [
      { sigma: 4, step: 0, x: (k) => k, denoised: () => 0 },
      { sigma: 2, step: 1, x: () => 1, denoised: () => 0 },
    ], { final: () => 1, sigmas: [4, 2, 0] });
    const A = TrajectoryReader.open(path.join(dirA, 'trajectory'));
    const B = TrajectoryReader.open(path.join(dirB, 'trajectory'));
    const refA: ReferenceStates = { node: 's', method: 'hand', shape: [1, 1, 1, 2], sigmas: [4, 1, 0], states: [Float64Array.of(0, 0), Float64Array.of(1, 1), Float64Array.of(2, 2)], nfe: 3 };
    const refB: ReferenceStates = { node: 's', method: 'hand', shape: [1, 1, 1, 2], sigmas: [4, 1, 0], states: [Float64Array.of(0, 1), Float64Array.of(2, 3), Float64Array.of(1, 1)], nfe: 5 };
    const eA = errorAgainstReference(A, refA);
    const eB = errorAgainstReference(B, refB);
    assert.deepEqual(eA.perEval, [0, 0, 1]); // x − ref: (0,0), (0,0), (1,1)
    assert.equal(eA.final, 2); // (4,4) − (2,2)
    // B at σ = 2: reference (1, 2); x = (1, 1) → RMS of (0, 1) = √(1/2); final (1,1) − (1,1) = 0
    assert.deepEqual([eB.perEval[0], eB.final], [0, 0]);
    close(eB.perEval[1]!, Math.sqrt(0.5), 1e-12, 'B at σ=2');
    const plot = errorPlotBySigma([{ name: 'A', sigmas: A.evals.map((m) => m.sigma), errors: [eA] }, { name: 'B', sigmas: B.evals.map((m) => m.sigma), errors: [eB] }]);
    assert.deepEqual(plot.sigmas, [1, 2, 4]);
    assert.deepEqual(plot.series.map((s) => [s.run, s.name, s.node, s.referenceNfe, s.final]), [[0, 'A', 's', 3, 2], [1, 'B', 's', 5, 0]]);
    assert.deepEqual(plot.series[0].values, [1, null, 0]);
    assert.deepEqual(plot.series[1].values, [null, eB.perEval[1], 0]);
  });
});

describe('inspect/sweep on the closed-form Gaussian', () => {
  it('final error vs NFE equals the closed-form Euler error, with slope −1', async function () {
    this.timeout(60_000);
    const dir = tmpDir();
    const doc = loadDoc(gaussPipeline({ seed: 2, batch: 1 }), dir);
    const doc2 = loadDoc(gaussPipeline({ seed: 2, batch: 1, solver: 'solver.heun' }), dir);
    const steps = [4, 8, 16, 32];
    const progress: string[] = [];
    const res = await sweep([{ label: 'euler', doc, baseDir: dir }, { label: 'heun', doc: doc2, baseDir: dir }], {
      ...gaussServices(dir),
      steps,
      rtol: 1e-9,
      atol: 1e-9,
      onProgress: (l, s, done, total) => progress.push(`${l}:${s}:${done}/${total}`),
    });
    assert.equal(progress.length, 10);
    assert.equal(progress[9], 'heun:32:10/10');
    const [eu, he] = res.series;
    assert.deepEqual(eu.points.map((p) => p.nfe), steps);
    for (const p of eu.points) {
      // Closed form: run once to get x_T and the schedule, then Euler's product formula vs the exact solution.
      const r = await runPipeline(doc, gaussOptions(dir, { set: [{ node: 'sched', param: 'steps', value: p.steps }] }));
      const xT = r.trajectory.frame(0).x;
      const sig = r.record.samples[0].sigmas;
      const expected = rms(eulerGaussFinal(xT, sig, 0.25, 0.5), exactGauss(xT, sig[0], 0));
      close(p.error, expected, 1e-6 * Math.max(1, expected) + 1e-7, `euler ${p.steps} steps`);
    }
    assert.ok(eu.slope! < -0.8 && eu.slope! > -1.3, `Euler slope ${eu.slope}`);
    assert.ok(he.slope! < -1.6, `Heun slope ${he.slope}`);
    assert.ok(he.points[0].nfe > steps[0], 'Heun costs more than one evaluation per step');
  });
});
