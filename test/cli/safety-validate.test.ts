/**
 * Issue 14, "exit 70 must mean a bug" and "validate: ok must mean the pipeline can run": each finding through the
 * real `dpipe validate` and `dpipe run` (dist/cli.js) on the mixture model. Every bad input is an error at its line
 * and column with exit 1 — never a stack trace and exit 70 — and what validates starts.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../src/engine/core/npy';
import { addPngText, encodePng, PIPELINE_KEYWORD } from '../../src/engine/run/png';

const ROOT = path.resolve(__dirname, '../..');
/** DPIPE_TEST_CLI runs these tests against another build (e.g. an older one, to see each finding reproduce). */
const CLI = process.env.DPIPE_TEST_CLI ?? path.join(ROOT, 'dist', 'cli.js');

interface Ran {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

function dpipe(args: string[], cwd: string): Ran {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
}

type Doc = { dpipe: number; nodes: { id: string; type: string; params: Record<string, unknown> }[]; edges: { from: string; to: string }[] };

/** A folder with the mixture model and the euler-karras example (10 classes, 20 steps). */
function workspace(): { dir: string; base: () => Doc; write: (name: string, d: Doc | string) => string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-valid-'));
  for (const f of ['mnist_gmm.onnx', 'mnist_gmm.onnx.json']) fs.copyFileSync(path.join(ROOT, 'models', f), path.join(dir, f));
  const text = fs.readFileSync(path.join(ROOT, 'examples', 'euler-karras.dpipe'), 'utf8').replace('../models/mnist_gmm.onnx', 'mnist_gmm.onnx');
  return {
    dir,
    base: () => JSON.parse(text) as Doc,
    write: (name, d) => {
      fs.writeFileSync(path.join(dir, name), typeof d === 'string' ? d : JSON.stringify(d, null, 2));
      return name;
    },
  };
}

const node = (d: Doc, id: string) => d.nodes.find((n) => n.id === id)!;

/** Exit 1 with a located problem (FILE:LINE:COL: error[CODE]) and no stack trace, from validate and from run. */
function assertLocated(ws: ReturnType<typeof workspace>, file: string, code: string, what: RegExp): void {
  for (const cmd of [['validate', file], ['run', file, '--out', `out-${path.basename(file)}`, '-q']]) {
    const r = dpipe(cmd, ws.dir);
    assert.equal(r.code, 1, `dpipe ${cmd.join(' ')}: exit ${r.code}\n${r.err}${r.out}`);
    const text = r.out + r.err;
    assert.doesNotMatch(text, /internal error|\n\s+at .+:\d+:\d+/, `a stack trace:\n${text}`);
    assert.match(text, new RegExp(`${file.replace(/\./g, '\\.')}:\\d+:\\d+: error\\[${code}\\]: `), `not located:\n${text}`);
    assert.match(text, what);
  }
  assert.ok(!fs.existsSync(path.join(ws.dir, `out-${path.basename(file)}`)), 'the refused run wrote a folder');
}

describe('safety: bad input is a located error, and what validates runs (issue 14)', function () {
  this.timeout(300_000);

  before(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
  });

  it('a .npy with a negative or fractional dimension: E_NPY at the file parameter (was exit 70 / accepted)', () => {
    const ws = workspace();
    const npy = (name: string, shape: string) => {
      const good = Buffer.from(encodeNpy([1, 1, 32, 32], new Float32Array(1024)));
      const text = good.toString('latin1').replace("'shape': (1, 1, 32, 32)", `'shape': (${shape})`.padEnd("'shape': (1, 1, 32, 32)".length, ' '));
      fs.writeFileSync(path.join(ws.dir, name), Buffer.from(text, 'latin1'));
    };
    npy('neg.npy', '1, -1, 32, 32');
    npy('frac.npy', '1,1.5,32,32');
    for (const f of ['neg', 'frac']) {
      const d = ws.base();
      node(d, 'latent').type = 'latent.npy';
      node(d, 'latent').params = { file: `${f}.npy`, batch: 1 };
      d.edges = d.edges.filter((e) => e.to !== 'latent.model');
      assertLocated(ws, ws.write(`${f}.dpipe`, d), 'E_NPY', /dimensions are integers ≥ 0/);
    }
  });

  it('a sidecar sampleShape of [1, 1e9, 1e9] and latent.empty at its own maximum sizes: E_BUDGET with the numbers', () => {
    const ws = workspace();
    fs.mkdirSync(path.join(ws.dir, 'huge'));
    fs.copyFileSync(path.join(ws.dir, 'mnist_gmm.onnx'), path.join(ws.dir, 'huge', 'm.onnx'));
    const side = JSON.parse(fs.readFileSync(path.join(ws.dir, 'mnist_gmm.onnx.json'), 'utf8'));
    fs.writeFileSync(path.join(ws.dir, 'huge', 'm.onnx.json'), JSON.stringify({ ...side, sampleShape: [1, 1e9, 1e9] }));
    const d = ws.base();
    node(d, 'model').params.path = 'huge/m.onnx';
    assertLocated(ws, ws.write('sidecar.dpipe', d), 'E_BUDGET', /shape \[10, 1, 1000000000, 1000000000\] is 10,000,000,000,000,000,000 values/);
    const m = ws.base();
    node(m, 'latent').params = { batch: 4096, channels: 4096, height: 16384, width: 16384 };
    assertLocated(ws, ws.write('max.dpipe', m), 'E_BUDGET', /\[4096, 4096, 16384, 16384\]/);
  });

  it('linearSteps: 1e308 is out of range, and more linear steps than steps is refused (was ten million steps)', () => {
    const ws = workspace();
    for (const [name, ls, want] of [['ls-huge', 1e308, /"linearSteps" must be an integer in \[0, 9999\]/], ['ls-many', 50, /linearSteps \(50\) must be fewer than steps \(10\)/]] as const) {
      const d = ws.base();
      node(d, 'sched').type = 'schedule.linear_quadratic';
      node(d, 'sched').params = { steps: 10, linearSteps: ls };
      assertLocated(ws, ws.write(`${name}.dpipe`, d), 'E_PARAM_VALUE', want);
    }
  });

  it('a node id of 245 characters: E_NODE_ID (was ENAMETOOLONG after the run, run.json lost)', () => {
    const ws = workspace();
    const d = ws.base();
    const id = 's'.repeat(245);
    node(d, 'sample').id = id;
    d.edges = d.edges.map((e) => ({ from: e.from.replace(/^sample\./, `${id}.`), to: e.to.replace(/^sample\./, `${id}.`) }));
    assertLocated(ws, ws.write('long.dpipe', d), 'E_NODE_ID', /has 245 characters; an id has at most 64/);
  });

  it('JSON nested 5,000 deep, in a file and in a PNG\'s pipeline chunk: E_JSON (was a stack overflow, exit 70)', () => {
    const ws = workspace();
    const deep = `{"dpipe": 1, "metadata": {"x": ${'['.repeat(5000)}${']'.repeat(5000)}}, "nodes": [], "edges": []}`;
    assertLocated(ws, ws.write('deep.dpipe', deep), 'E_JSON', /nested more than 64 levels/);
    const png = addPngText(encodePng({ width: 1, height: 1, channels: 1, data: new Uint8Array(1) }), { [PIPELINE_KEYWORD]: deep });
    fs.writeFileSync(path.join(ws.dir, 'deep.png'), png);
    assertLocated(ws, 'deep.png', 'E_JSON', /nested more than 64 levels/);
  });

  it('an empty pipeline does not validate (it cannot run)', () => {
    const ws = workspace();
    assertLocated(ws, ws.write('empty.dpipe', '{ "dpipe": 1, "nodes": [], "edges": [] }\n'), 'E_COMPOSE', /nothing to run/);
  });

  it('validate opens the models: broken model files and sidecars are located at the model\'s path', () => {
    const ws = workspace();
    const cases: [string, (dir: string) => void, string, RegExp][] = [
      ['garbage', (f) => fs.writeFileSync(f, 'not an onnx model'), 'E_MODEL', /Cannot load .* with onnxruntime/],
      ['truncated', (f) => fs.writeFileSync(f, fs.readFileSync(path.join(ws.dir, 'mnist_gmm.onnx')).subarray(0, 2000)), 'E_MODEL', /Cannot load/],
      ['classifier', (f) => fs.copyFileSync(path.join(ROOT, 'models', 'mnist_classifier.onnx'), f), 'E_MODEL', /cannot tell|is not an input|needs/],
      ['badsidecar', (f) => {
        fs.copyFileSync(path.join(ws.dir, 'mnist_gmm.onnx'), f);
        fs.writeFileSync(`${f}.json`, JSON.stringify({ prediction: 'bogus' }));
      }, 'E_MODEL', /"prediction" must be one of/],
      ['wrongio', (f) => {
        fs.copyFileSync(path.join(ws.dir, 'mnist_gmm.onnx'), f);
        fs.writeFileSync(`${f}.json`, JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(ws.dir, 'mnist_gmm.onnx.json'), 'utf8')), timeInput: 'no_such_input' }));
      }, 'E_MODEL', /timeInput "no_such_input"/],
    ];
    for (const [name, make, code, want] of cases) {
      make(path.join(ws.dir, `${name}.onnx`));
      const d = ws.base();
      node(d, 'model').params.path = `${name}.onnx`;
      const file = ws.write(`${name}.dpipe`, d);
      assertLocated(ws, file, code, want);
      const v = dpipe(['validate', file], ws.dir);
      assert.match(v.out, new RegExp(`${name}\\.dpipe:\\d+:\\d+: error\\[${code}\\]: .*\\(at /nodes/0/params/path\\)`), v.out);
      // --static checks the text only, as before.
      assert.equal(dpipe(['validate', '--static', file], ws.dir).code, 0);
    }
  });

  it('an output name is checked at validation, not after every model evaluation', () => {
    const ws = workspace();
    const d = ws.base();
    node(d, 'sched').params.steps = 500;
    node(d, 'image').params.name = '../escape';
    assertLocated(ws, ws.write('name.dpipe', d), 'E_PARAM_VALUE', /name "\.\.\/escape" must be 1–100 letters/);
  });

  it('a seed that run would refuse for this batch does not validate', () => {
    const ws = workspace();
    const d = ws.base();
    node(d, 'noise').params.seed = Number.MAX_SAFE_INTEGER;
    assertLocated(ws, ws.write('seed.dpipe', d), 'E_PARAM_VALUE', /seed must be an integer from 0 to 9007199254740982/);
    // The largest seed the batch of 10 allows validates and runs.
    node(d, 'noise').params.seed = Number.MAX_SAFE_INTEGER - 9;
    node(d, 'sched').params.steps = 2;
    const f = ws.write('seed-ok.dpipe', d);
    assert.equal(dpipe(['validate', f], ws.dir).code, 0);
    assert.equal(dpipe(['run', f, '--out', 'seed-ok', '-q'], ws.dir).code, 0);
  });

  it('a class label the model does not have is refused at validation, before any model evaluation', () => {
    const ws = workspace();
    const d = ws.base();
    node(d, 'label').params.labels = [0, 57];
    assertLocated(ws, ws.write('label.dpipe', d), 'E_MODEL', /class label 57 is not allowed; use 0\.\.9/);
  });

  it('memory budget: a trajectory of 10,000 steps × batch 64 and a huge batch are refused before the run, with the numbers', () => {
    const ws = workspace();
    const d = ws.base();
    node(d, 'sched').params.steps = 10000;
    node(d, 'latent').params.batch = 64;
    const f = ws.write('big.dpipe', d);
    assertLocated(ws, f, 'E_BUDGET', /10,000 model evaluations × 2 planes \(x_t, x̂0\) × \[64, 1, 32, 32\] float32 = 5\.2 GB, above the trajectory budget of 2\.0 GB/);
    // Raising the budget or not recording lets it start (validated here; the run itself would take minutes).
    const r = dpipe(['run', f, '--max-trajectory', '1', '--no-trajectory', '--set', 'sched.steps=3', '-q', '--out', 'small'], ws.dir);
    assert.equal(r.code, 0, r.err);
    const m = dpipe(['run', f, '--max-memory', '1', '--set', 'sched.steps=3', '-q', '--out', 'mem'], ws.dir);
    assert.equal(m.code, 1);
    assert.match(m.err, /latent\.empty "latent" \(sizes from the model's sample shape\): a latent of shape \[64, 1, 32, 32\] is 65,536 values; a run keeps about 16 float64 copies of it \(8\.4 MB\), and the memory budget is 1\.0 MB/);
  });

  it('a damaged run record is a clear error for `dpipe reference` (was a TypeError, exit 70)', () => {
    const ws = workspace();
    const d = ws.base();
    node(d, 'sched').params.steps = 2;
    const f = ws.write('rec.dpipe', d);
    assert.equal(dpipe(['run', f, '--out', 'rec', '-q'], ws.dir).code, 0);
    const rec = path.join(ws.dir, 'rec', 'run.json');
    for (const [text, want] of [['{}', /is not a dpipe run record/], ['{"pipeline": 5, "baseDir": "."}', /is not a dpipe run record/], ['{"pipeline": {"dpipe": 1, "nodes": 5}, "baseDir": "."}', /the pipeline it records is not valid/]] as const) {
      fs.writeFileSync(rec, text);
      const r = dpipe(['reference', 'rec'], ws.dir);
      assert.equal(r.code, 1, r.err);
      assert.doesNotMatch(r.err, /internal error|\n\s+at /);
      assert.match(r.err, want);
    }
  });

  it('a run-time error names its node and the line:column of that node in the file', () => {
    const ws = workspace();
    // Per-step noise for one draw only: the ancestral solver runs out at its second step.
    fs.writeFileSync(path.join(ws.dir, 'steps.npy'), encodeNpy([1, 10, 1, 32, 32], new Float32Array(10240)));
    const d = ws.base();
    node(d, 'solver').type = 'solver.euler_ancestral';
    node(d, 'noise').type = 'noise.npy';
    node(d, 'noise').params = { steps: 'steps.npy' };
    const f = ws.write('runtime.dpipe', d);
    assert.equal(dpipe(['validate', f], ws.dir).code, 0);
    const r = dpipe(['run', f, '-q', '--out', 'rt'], ws.dir);
    assert.equal(r.code, 1, r.err);
    const line = fs.readFileSync(path.join(ws.dir, f), 'utf8').split('\n').findIndex((l) => l.includes('"id": "sample"')) + 1;
    assert.match(r.err, new RegExp(`runtime\\.dpipe:${line - 1}:\\d+: error\\[E_NOISE_EXHAUSTED\\]: node "sample" \\(sample\\): `));
  });
});
