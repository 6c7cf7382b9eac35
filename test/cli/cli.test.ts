/**
 * The `dpipe` command end to end: builds dist/cli.js and spawns it as a user would, on the examples and the
 * demo model (models/mnist_gmm.onnx).
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { parseNpy } from '../../src/engine/core/npy';
import { loadPipeline } from '../../src/engine/format/index';
import { readPipelineFromPng } from '../../src/engine/run/png';
import type { RunRecord } from '../../src/engine/run/record';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const EXAMPLE = path.join(ROOT, 'examples', 'dpmpp-2m-karras.dpipe');

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

function dpipe(args: string[], cwd = ROOT, timeout = 60000): Ran {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-cli-test-'));
}

function noStack(r: Ran): void {
  assert.doesNotMatch(r.err, /\n\s+at .+\(.*:\d+:\d+\)/, `a stack trace was printed:\n${r.err}`);
}

describe('cli: dpipe end to end', function () {
  this.timeout(120000);

  before(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    assert.ok(fs.existsSync(CLI));
  });

  it('run: writes the images, latent, trajectory and run.json; the PNG carries the pipeline as it ran', () => {
    const out = path.join(tmp(), 'out');
    const r = dpipe(['run', EXAMPLE, '--out', out, '--seed', '5', '--batch', '2', '--set', 'sched.steps=4', '--set', 'image.scale=1']);
    assert.equal(r.code, 0, r.err);
    const files = fs.readdirSync(out).sort();
    assert.deepEqual(files, ['digits-0.png', 'digits-1.png', 'digits-grid.png', 'latent.npy', 'run.json', 'trajectory']);
    // stdout lists the files written, one per line.
    assert.deepEqual(r.out.trim().split('\n').map((l) => path.basename(l)).sort(), ['digits-0.png', 'digits-1.png', 'digits-grid.png', 'latent.npy']);
    // Plain progress lines (stderr is not a terminal) and the summary.
    assert.match(r.err, /sample: step 4\/4 {2}σ 0 {2}[\d.]+ it\/s {2}ETA 0:00/);
    assert.match(r.err, /run\.json: 4 model evaluations in [\d.]+ s \(model [\d.]+ s, engine [\d.]+ s/);

    const rec = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.status, 'completed');
    assert.equal(rec.nfe, 4);
    assert.deepEqual(rec.seeds, [5, 6]);
    assert.equal(rec.onnxruntime, 'onnxruntime-node 1.30.0');
    assert.match(rec.models[0].sha256, /^[0-9a-f]{64}$/);
    assert.equal(rec.models[0].path, path.join(ROOT, 'models', 'mnist_gmm.onnx'));
    assert.equal(rec.samples[0].sampler, 'solver.dpmpp_2m');
    assert.equal(rec.samples[0].evals.length, 4);
    assert.deepEqual(rec.overrides, ['sched.steps=4', 'image.scale=1', 'noise.seed=5', 'latent.batch=2']);

    const x = parseNpy(fs.readFileSync(path.join(out, 'latent.npy')));
    assert.deepEqual(x.shape, [2, 1, 32, 32]);
    assert.ok(x.data.every(Number.isFinite));
    const lo = Math.min(...x.data);
    const hi = Math.max(...x.data);
    assert.ok(lo > -1.6 && lo < -0.6 && hi > 0.6 && hi < 1.6, `digit values span [${lo}, ${hi}], expected about [-1, 1]`);

    const t = JSON.parse(fs.readFileSync(path.join(out, 'trajectory', 'index.json'), 'utf8'));
    assert.equal(t.format, 'dpipe-trajectory');
    assert.equal(t.evals.length, 4);
    assert.ok(fs.existsSync(path.join(out, 'trajectory', 'e000003.npy')));

    // The image's pipeline: the overrides applied, the model path rebased to the image's folder.
    const text = readPipelineFromPng(fs.readFileSync(path.join(out, 'digits-1.png')))!;
    const back = loadPipeline(text, { baseDir: out, file: 'digits-1.png' });
    assert.deepEqual(back.problems.filter((p) => p.severity === 'error'), []);
    const params = (id: string) => back.doc!.nodes.find((n) => n.id === id)!.params;
    assert.equal(params('sched').steps, 4);
    assert.equal(params('noise').seed, 5);
    assert.equal(path.resolve(out, params('model').path as string), path.join(ROOT, 'models', 'mnist_gmm.onnx'));
  });

  it('run IMAGE.png re-runs the pipeline the image carries, to the same latent', () => {
    const dir = tmp();
    const a = path.join(dir, 'a');
    assert.equal(dpipe(['run', EXAMPLE, '--out', a, '--set', 'sched.steps=3', '--batch', '1', '-q']).code, 0);
    const b = path.join(dir, 'b');
    const r = dpipe(['run', path.join(a, 'digits.png'), '--out', b, '-q']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(parseNpy(fs.readFileSync(path.join(b, 'latent.npy'))).data, parseNpy(fs.readFileSync(path.join(a, 'latent.npy'))).data);
  });

  it('validate: every problem as file:line:col: error[CODE]: message (at /pointer), exit 1', () => {
    const dir = tmp();
    const bad = path.join(dir, 'bad.dpipe');
    const text = fs.readFileSync(EXAMPLE, 'utf8')
      .replace('"steps": 10', '"steps": 0')
      .replace('"type": "solver.dpmpp_2m"', '"type": "solver.dpmpp_2n"');
    fs.writeFileSync(bad, text);
    const r = dpipe(['validate', 'bad.dpipe'], dir);
    assert.equal(r.code, 1);
    noStack(r);
    const lines = r.out.trim().split('\n');
    const stepsLine = text.split('\n').findIndex((l) => l.includes('"steps": 0')) + 1;
    assert.ok(lines.some((l) => new RegExp(`^bad\\.dpipe:${stepsLine}:\\d+: error\\[E_PARAM_VALUE\\]: .*steps.* \\(at /nodes/3/params/steps\\)$`).test(l)), r.out);
    assert.ok(lines.some((l) => /^bad\.dpipe:\d+:\d+: error\[E_NODE_TYPE\]: .*solver\.dpmpp_2n.*solver\.dpmpp_2m.* \(at \/nodes\/4\/type\)$/.test(l)), r.out);
    assert.match(r.err, /bad\.dpipe: \d+ errors/);

    const ok = dpipe(['validate', EXAMPLE]);
    assert.equal(ok.code, 0);
    assert.match(ok.err, /ok \(10 nodes, 12 edges\)/);
  });

  it('run on bad input: one clear message, no stack, non-zero exit', () => {
    const dir = tmp();
    const missing = dpipe(['run', 'nope.dpipe'], dir);
    assert.equal(missing.code, 1);
    assert.equal(missing.err.trim(), 'dpipe: error[E_FILE_MISSING]: nope.dpipe: no such file');

    const badSet = dpipe(['run', EXAMPLE, '--out', path.join(dir, 'o1'), '--set', 'sched.steps=zero']);
    assert.equal(badSet.code, 1);
    noStack(badSet);
    assert.match(badSet.err, /^dpipe: error\[E_PARAM_VALUE\]: --set sched\.steps: steps must be an integer in \[1, 10000\], got "zero"$/m);
    assert.ok(!fs.existsSync(path.join(dir, 'o1')), 'nothing is written for a bad --set');

    const noNode = dpipe(['run', EXAMPLE, '--set', 'shed.steps=3']);
    assert.equal(noNode.code, 1);
    assert.match(noNode.err, /no node "shed" \(did you mean "sched"\?\); its nodes are model, label, guider, sched/);

    const badFile = path.join(dir, 'broken.dpipe');
    fs.writeFileSync(badFile, '{ "dpipe": 1, "nodes": [ }');
    const broken = dpipe(['run', 'broken.dpipe'], dir);
    assert.equal(broken.code, 1);
    noStack(broken);
    assert.match(broken.err, /^broken\.dpipe:1:\d+: error\[E_JSON\]/m);
    assert.match(broken.err, /broken\.dpipe: \d+ errors?; fix/);

    const usage = dpipe(['run', EXAMPLE, '--seed=-3']);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--seed must be an integer ≥ 0; got "-3"/);
    assert.match(dpipe(['run', EXAMPLE, '--batch', '1.5']).err, /--batch must be an integer ≥ 1; got "1\.5"/);
    assert.equal(dpipe(['run', EXAMPLE, '--frobnicate']).code, 2);
    assert.equal(dpipe(['run']).code, 2);
    assert.equal(dpipe([]).code, 2);
    const unknown = dpipe(['rnu']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command "rnu"; did you mean run/);
  });

  it('blocks --json lists the registry; blocks prints parameters with defaults and ranges', () => {
    const j = dpipe(['blocks', '--json']);
    assert.equal(j.code, 0);
    const list = JSON.parse(j.out) as { type: string; params: { name: string; default: unknown }[] }[];
    const sample = list.find((b) => b.type === 'sample')!;
    assert.deepEqual(sample.params.map((p) => [p.name, p.default]), [['addNoise', true], ['noiseScale', 'sigma']]);
    assert.ok(list.some((b) => b.type === 'solver.euler'));
    const t = dpipe(['blocks', 'schedule.karras']);
    assert.equal(t.code, 0);
    assert.match(t.out, /steps\s+integer, default 20; an integer in \[1, 10000\]/);
    assert.equal(dpipe(['blocks', 'schedule.karas']).code, 1);
  });

  it('inspect shows the tensors and the detected convention of the demo model', () => {
    const r = dpipe(['inspect', 'models/mnist_gmm.onnx']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /sample\s+float32 \[batch, 1, 32, 32\]/);
    assert.match(r.out, /prediction\s+epsilon {2}\(sidecar\)/);
    assert.match(r.out, /schedule: discrete, σ from 0\.0291672 to 14\.6146, 1000 training timesteps/);
    const missing = dpipe(['inspect', 'models/none.onnx']);
    assert.equal(missing.code, 1);
    noStack(missing);
  });

  it('Ctrl-C stops between model evaluations, keeps what was written, exits 130', async () => {
    const out = path.join(tmp(), 'out');
    const child = spawn(process.execPath, [CLI, 'run', EXAMPLE, '--out', out, '--set', 'sched.steps=3000', '--batch', '2'], { cwd: ROOT });
    let err = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (!sent && /step \d+\/3000/.test(err)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.ok(sent, `no progress seen:\n${err}`);
    assert.equal(code, 130, err);
    assert.match(err, /stopping after the current model evaluation/);
    const rec = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.status, 'aborted');
    assert.ok(rec.nfe > 0 && rec.nfe < 3000, `nfe ${rec.nfe}`);
    const t = JSON.parse(fs.readFileSync(path.join(out, 'trajectory', 'index.json'), 'utf8'));
    assert.equal(t.evals.length, rec.nfe);
  });

  it('demo: the main job (trained UNet, one row per class) first, then every example; one grid per example', function () {
    this.timeout(360_000);
    const dir = tmp();
    const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.dpipe')).sort();
    const v = dpipe(['validate', ...files.map((f) => path.join('examples', f))]);
    assert.equal(v.code, 0, v.out + v.err);
    // Every example, the UNet first: well over a minute when the 2 cores are shared.
    const r = dpipe(['demo'], dir, 240_000);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    const others = files.filter((f) => f !== 'demo.dpipe').map((f) => f.replace('.dpipe', ''));
    assert.ok(others.length >= 8);
    assert.deepEqual(lines, [
      path.join('dpipe-out', 'demo', 'demo', 'classes-grid.png'),
      ...others.map((n) => path.join('dpipe-out', 'demo', n, 'digits-grid.png')),
    ]);
    // 100 samples of the 32×32 UNet at scale 2 in 10 columns with a 2-pixel border: one row per class.
    const main = decode(fs.readFileSync(path.join(dir, lines[0])));
    assert.deepEqual([main.width, main.height, main.channels], [10 * 64 + 11 * 2, 10 * 64 + 11 * 2, 1]);
    const rec = JSON.parse(fs.readFileSync(path.join(dir, 'dpipe-out', 'demo', 'demo', 'run.json'), 'utf8'));
    assert.equal(rec.nfe, 25);
    for (const l of lines.slice(1)) {
      const png = decode(fs.readFileSync(path.join(dir, l)));
      assert.deepEqual([png.width, png.height, png.channels], [10 * 64 + 11 * 2, 64 + 2 * 2, 1]);
    }
  });

});
