/**
 * Issue 14, "stop means stop": onnxruntime holds the thread it evaluates on, so the CLI runs its command in a worker
 * thread and the main thread always hears Ctrl-C. On a model whose one evaluation takes seconds (a chain of matrix
 * products that depends on the input, so nothing is folded away), the first Ctrl-C stops within that evaluation
 * and saves; a second one quits at once, keeping the files already written.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GraphBuilder } from '../../tools/gmm/onnx-graph';

const ROOT = path.resolve(__dirname, '../..');
/** DPIPE_TEST_CLI runs these tests against another build (e.g. an older one, to see each finding reproduce). */
const CLI = process.env.DPIPE_TEST_CLI ?? path.join(ROOT, 'dist', 'cli.js');
const N = 768;

/** D(x, σ) = x/2, after `k` products of an N×N matrix that depends on x (so each evaluation costs k·2N³ flops). */
function slowModel(file: string, k: number): void {
  const g = new GraphBuilder('slow');
  const x = g.input('x', 'float32', ['batch', 1, 8, 8]);
  g.input('sigma', 'float32', ['batch']);
  const zero = g.op('Mul', [g.op('ReduceSum', [x], { keepdims: { int: 0 } }), g.scalar(0)]);
  let m = g.op('Add', [g.op('ConstantOfShape', [g.constI([N, N], [2])], {}), zero]);
  m = g.op('Add', [m, g.scalar(1 / N)]);
  const base = m;
  for (let i = 0; i < k; i++) m = g.op('MatMul', [m, base]);
  const t = g.op('Mul', [g.op('ReduceSum', [m], { keepdims: { int: 0 } }), g.scalar(0)]);
  g.op('Add', [g.op('Mul', [x, g.scalar(0.5)]), t], {}, 'denoised');
  g.output('denoised', 'float32', ['batch', 1, 8, 8]);
  fs.writeFileSync(file, g.build({ producer: 'dpipe-test' }));
  fs.writeFileSync(`${file}.json`, JSON.stringify({ prediction: 'edm', time: 'sigma', sigmaMin: 0.01, sigmaMax: 10 }));
}

function pipeline(model: string): string {
  return JSON.stringify({
    dpipe: 1,
    nodes: [
      { id: 'model', type: 'model.onnx', params: { path: model } },
      { id: 'guider', type: 'guider.basic', params: {} },
      { id: 'sched', type: 'schedule.karras', params: { steps: 50 } },
      { id: 'solver', type: 'solver.euler', params: {} },
      { id: 'noise', type: 'noise.seeded', params: { seed: 1 } },
      { id: 'sample', type: 'sample', params: {} },
      { id: 'save', type: 'output.latent', params: { name: 'x' } },
    ],
    edges: [
      { from: 'model.model', to: 'guider.model' },
      { from: 'model.model', to: 'sched.model' },
      { from: 'guider.guider', to: 'sample.guider' },
      { from: 'solver.sampler', to: 'sample.sampler' },
      { from: 'sched.sigmas', to: 'sample.sigmas' },
      { from: 'noise.noise', to: 'sample.noise' },
      { from: 'sample.latent', to: 'save.latent' },
    ],
  }, null, 2);
}

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  err: string;
  /** ms from the first SIGINT to the exit. */
  afterFirst: number;
  /** ms from the second SIGINT (if sent) to the exit. */
  afterSecond: number;
}

/** Starts `dpipe run`, waits until the model is evaluating, sends SIGINT (twice when asked) and waits for the exit. */
function interrupt(dir: string, twice: boolean, evalMs: number): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', 'slow.dpipe', '--out', twice ? 'twice' : 'once'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let first = 0;
    let second = 0;
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      // "about N model evaluations" is printed at the Sample start: the first evaluation is under way.
      if (!first && /about \d+ model evaluations/.test(err)) {
        setTimeout(() => {
          first = Date.now();
          child.kill('SIGINT');
          if (twice) {
            setTimeout(() => {
              second = Date.now();
              child.kill('SIGINT');
            }, 200);
          }
        }, Math.min(500, evalMs / 4));
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const t = Date.now();
      resolve({ code, signal, err, afterFirst: t - first, afterSecond: second ? t - second : NaN });
    });
  });
}

describe('safety: Ctrl-C stops a run within one model evaluation, twice quits at once (issue 14)', function () {
  this.timeout(300_000);
  let dir: string;
  let evalMs = 0;

  before(async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-stop-'));
    // Calibrate through the CLI itself: enough products for one evaluation to take about 4 s on this machine.
    const k0 = 40;
    slowModel(path.join(dir, 'slow.onnx'), k0);
    fs.writeFileSync(path.join(dir, 'slow.dpipe'), pipeline('slow.onnx'));
    execFileSync(process.execPath, [CLI, 'run', 'slow.dpipe', '--set', 'sched.steps=2', '--no-trajectory', '-q', '--out', 'calibrate'], { cwd: dir, stdio: 'pipe' });
    const cal = JSON.parse(fs.readFileSync(path.join(dir, 'calibrate', 'run.json'), 'utf8')) as { samples: { evals: { modelMs: number }[] }[] };
    const per = Math.max(0.5, Math.min(...cal.samples[0].evals.map((e) => e.modelMs)) / k0);
    const k = Math.max(8, Math.ceil(4000 / per));
    slowModel(path.join(dir, 'slow.onnx'), k);
    evalMs = k * per;
    console.log(`      (one evaluation: ${k} products of ${N}×${N} matrices, about ${(evalMs / 1000).toFixed(1)} s)`);
  });

  it('the first Ctrl-C stops within the current evaluation and saves (exit 130, run.json "aborted")', async () => {
    const r = await interrupt(dir, false, evalMs);
    assert.equal(r.code, 130, r.err);
    assert.match(r.err, /stopping after the current model evaluation and saving/);
    assert.ok(r.afterFirst < evalMs * 1.5 + 3000, `stopped ${r.afterFirst} ms after Ctrl-C; one evaluation takes about ${Math.round(evalMs)} ms`);
    const rec = JSON.parse(fs.readFileSync(path.join(dir, 'once', 'run.json'), 'utf8')) as { status: string; nfe: number };
    assert.equal(rec.status, 'aborted');
    assert.ok(rec.nfe <= 1, `${rec.nfe} evaluations ran: the stop was heard only after the next one`);
  });

  it('a second Ctrl-C quits at once, in the middle of an evaluation, keeping what was written', async () => {
    const r = await interrupt(dir, true, evalMs);
    assert.ok(r.afterSecond < Math.min(1500, evalMs / 2), `quit ${r.afterSecond} ms after the second Ctrl-C, while one evaluation takes about ${Math.round(evalMs)} ms`);
    assert.ok(r.signal === 'SIGINT' || r.code === 130, `exit ${r.code} ${r.signal}\n${r.err}`);
    assert.match(r.err, /quit; files already written are kept/);
    assert.ok(fs.existsSync(path.join(dir, 'twice', 'trajectory')) || fs.existsSync(path.join(dir, 'twice')), 'the run folder is kept');
  });
});
