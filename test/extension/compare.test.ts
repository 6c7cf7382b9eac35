/**
 * "Run and compare with…" without VS Code: the parameter choices, the shared seed, the override check, the order
 * of work with stand-in runs, and — with the real runner core on a tiny exact ONNX mixture — two runs of one
 * pipeline at two settings, same seed, compared by the inspector's alignment.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOverride, looksLikeOverride, paramChoices, runBothAndCompare, sharedSeed, valueText, type CompareSide } from '../../extension/compare';
import { RunnerCore } from '../../extension/runner/core';
import { runInfoOf } from '../../extension/inspector/session';
import { loadPipeline } from '../../src/engine/format';
import { alignBySigma, TrajectoryReader } from '../../src/engine/inspect/index';
import { nodeTypes } from '../../src/engine/registry';
import type { RunFinished, RunRequest } from '../../src/protocol';
import { EDITOR_COMMANDS, validateToHost, validateToRunner } from '../../src/protocol';
import { check } from '../../src/protocol/validate';
import { makeWorkspace, pipelineText } from './runnerFixture';

const types = nodeTypes();
const docOf = (text: string, dir: string) => {
  const r = loadPipeline(text, { baseDir: dir, checkFiles: false });
  assert.ok(r.doc, JSON.stringify(r.problems));
  return r.doc;
};
const finished = (outDir: string, over: Partial<RunFinished> = {}): RunFinished => ({ type: 'runFinished', runId: 'r', ok: true, stopped: false, outputs: [], nfe: 1, ms: 1, outDir, ...over });

describe('run and compare with… (host logic)', function () {
  this.timeout(60_000);
  let ws: ReturnType<typeof makeWorkspace>;
  before(() => (ws = makeWorkspace({ seed: 7, steps: 5 })));
  after(() => ws.cleanup());

  it('offers every parameter as NODE.PARAM with the value A runs with (file, else default), seeds last', () => {
    const doc = docOf(ws.text, ws.dir);
    const c = paramChoices(doc, types);
    const steps = c.find((x) => x.label === 'sched.steps')!;
    assert.equal(steps.current, 5);
    const rho = c.find((x) => x.label === 'sched.rho')!;
    assert.equal(rho.current, types.get('schedule.karras')!.params.find((p) => p.name === 'rho')!.default);
    assert.equal(c.at(-1)!.label, 'noise.seed');
    assert.equal(c.filter((x) => x.spec.type === 'seed').length, 1);
    assert.deepEqual(c.slice(0, 1).map((x) => x.label), ['model.path']);
    assert.equal(valueText([1, 2.5]), '1, 2.5');
  });

  it('shares A’s seed (its first seeded block), or none when A has no seeded block', () => {
    assert.equal(sharedSeed(docOf(ws.text, ws.dir), types), 7);
    const noSeed = JSON.parse(ws.text);
    noSeed.nodes = noSeed.nodes.map((n: { type: string }) => (n.type === 'noise.seeded' ? { ...n, type: 'noise.file', params: { path: 'z.npy' } } : n));
    assert.equal(sharedSeed(docOf(JSON.stringify(noSeed), ws.dir), types), undefined);
  });

  it('checks an override as the run applies it, naming what is allowed', () => {
    const doc = docOf(ws.text, ws.dir);
    assert.deepEqual(checkOverride(doc, types, ' sched.steps=8 ', ws.dir), { ok: true, set: 'sched.steps=8', applied: 'sched.steps=8' });
    const badNode = checkOverride(doc, types, 'schd.steps=8', ws.dir);
    assert.ok(!badNode.ok && /no node "schd" \(did you mean "sched"\?\)/.test(badNode.error), JSON.stringify(badNode));
    const badValue = checkOverride(doc, types, 'sched.steps=0', ws.dir);
    assert.ok(!badValue.ok && /^sched\.steps: steps must be an integer in \[1, /.test(badValue.error), JSON.stringify(badValue));
    const badSyntax = checkOverride(doc, types, 'steps 8', ws.dir);
    assert.ok(!badSyntax.ok && /expected NODE\.PARAM=VALUE/.test(badSyntax.error));
    assert.equal(looksLikeOverride('sched.steps=4'), true);
    assert.equal(looksLikeOverride('sched.steps'), false);
  });

  it('runs A, then B, with the same seed, then opens the two run folders; stops at the first run that fails', async () => {
    const log: string[] = [];
    let running = 0;
    const side = (label: string, result: (seed: number) => RunFinished | undefined): CompareSide => ({
      label,
      run: async (seed) => {
        assert.equal(running, 0, 'two runs at once');
        running++;
        log.push(`${label} seed ${seed}`);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return result(seed);
      },
    });
    const opened: string[][] = [];
    const ok = await runBothAndCompare(side('A', () => finished('/o/a')), side('B', () => finished('/o/b')), 42, (a, b) => opened.push([a, b]), () => true);
    assert.deepEqual(ok, { kind: 'compared', a: '/o/a', b: '/o/b' });
    assert.deepEqual(log, ['A seed 42', 'B seed 42']);
    assert.deepEqual(opened, [['/o/a', '/o/b']]);

    log.length = 0;
    const failedA = await runBothAndCompare(side('A', () => finished('/o/a', { ok: false, error: { code: 'E_NAN', message: 'NaN at step 3' } })), side('B', () => finished('/o/b')), 1, () => assert.fail('opened'), () => true);
    assert.deepEqual(failedA, { kind: 'stopped', reason: 'run A (A) failed: NaN at step 3' });
    assert.deepEqual(log, ['A seed 1'], 'B ran after A failed');
    const refusedB = await runBothAndCompare(side('A', () => finished('/o/a')), side('B', () => undefined), 1, () => assert.fail('opened'), () => true);
    assert.deepEqual(refusedB, { kind: 'stopped', reason: 'run B (B) did not start' });
    const stoppedB = await runBothAndCompare(side('A', () => finished('/o/a')), side('B', () => finished('/o/b', { ok: false, stopped: true })), 1, () => assert.fail('opened'), () => true);
    assert.deepEqual(stoppedB, { kind: 'stopped', reason: 'run B (B) was stopped' });
    const noTraj = await runBothAndCompare(side('A', () => finished('/o/a')), side('B', () => finished('/o/b')), 1, () => assert.fail('opened'), () => false);
    assert.equal(noTraj.kind, 'stopped');
    assert.match((noTraj as { reason: string }).reason, /run A \(A\) kept no trajectory to compare \(the setting dpipe\.trajectoryMemoryMB is 0\)/);
  });

  it('protocol: the runner takes `set` overrides; the editor has a runAndCompare command', () => {
    const req: RunRequest = { type: 'run', runId: 'x', text: '{}', file: '/a.dpipe', outDir: '/o', set: ['sched.steps=3'], threads: 0, previewIntervalMs: 0, trajectoryMemoryMB: 1 };
    assert.ok(check(validateToRunner, req).ok);
    const bad = check(validateToRunner, { ...req, set: [3] });
    assert.ok(!bad.ok && /message\.set\[0\]: expected a string/.test(bad.error), JSON.stringify(bad));
    assert.ok(EDITOR_COMMANDS.includes('runAndCompare'));
    assert.ok(check(validateToHost, { type: 'command', command: 'runAndCompare' }).ok);
  });

  it('end to end with the runner core: one pipeline at two settings, same seed, aligned by σ for the compare view', async () => {
    const run = (runId: string, out: string, set?: string[]) =>
      (seed: number) =>
        new Promise<RunFinished>((resolve) => {
          const core = new RunnerCore((m) => m.type === 'runFinished' && resolve(m));
          core.handle({ type: 'run', runId, text: pipelineText({ steps: 5, seed: 7 }), file: ws.file, outDir: path.join(ws.dir, out), seed, set, threads: 1, previewIntervalMs: 0, trajectoryMemoryMB: 16 });
        });
    let opened: string[] = [];
    const outcome = await runBothAndCompare({ label: 'A', run: run('a', 'runA') }, { label: 'B', run: run('b', 'runB', ['sched.steps=9']) }, 7, (a, b) => (opened = [a, b]));
    assert.equal(outcome.kind, 'compared', JSON.stringify(outcome));
    const [A, B] = opened.map((d) => TrajectoryReader.open(d));
    assert.deepEqual([A.length, B.length], [5, 9]);
    const recB = JSON.parse(fs.readFileSync(path.join(opened[1], 'run.json'), 'utf8')) as { overrides: string[]; seeds: number[] };
    assert.ok(recB.overrides.includes('sched.steps=9'), recB.overrides.join(' '));
    assert.equal(recB.seeds[0], 7);
    // Same seed, same σ_max: both start from the same x_T, so the first frames' x planes are identical.
    assert.deepEqual(Array.from(A.plane(0, 'x')), Array.from(B.plane(0, 'x')));
    assert.ok(Array.from(A.plane(1, 'x')).some((v, k) => v !== B.plane(1, 'x')[k]), 'the second evaluations should differ (different σ grids)');
    const pairs = alignBySigma(A.evals.map((e) => e.sigma), B.evals.map((e) => e.sigma), 'nearest');
    assert.equal(pairs.length, 5);
    assert.deepEqual([pairs[0].b0, pairs[4].b0], [0, 8]);
    assert.equal(runInfoOf(B).evals.length, 9);
  });
});
