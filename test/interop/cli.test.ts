/**
 * `dpipe import` and `dpipe export` as a user runs them (dist/cli.js): files written through a temporary file and never
 * over an existing one without --force, located errors with exit 1 and nothing written, exports to stdout or files;
 * and, where the tiny Stable Diffusion folders are present (test/fixtures/sd, or DPIPE_SD_FIXTURES), an imported
 * ComfyUI workflow and A1111 infotext run end to end with `dpipe run`.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPipeline } from '../../src/engine/format/index';
import type { RunRecord } from '../../src/engine/run/record';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const FIX = path.join(ROOT, 'test', 'fixtures', 'interop');
const SD = process.env.DPIPE_SD_FIXTURES ?? path.join(ROOT, 'test', 'fixtures', 'sd');

function dpipe(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cli: dpipe import / dpipe export', function () {
  this.timeout(180000);
  let dir: string;

  before(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-interop-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('import writes a pipeline that loads; an existing file is kept unless --force; no temporary file is left', () => {
    const r = dpipe(['import', path.join(FIX, 'comfyui-default-api.json'), '--out', 'p.dpipe'], dir);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), 'p.dpipe');
    assert.match(r.err, /warning\[W_IMPORT\]: the model folder path is empty/);
    const text = fs.readFileSync(path.join(dir, 'p.dpipe'), 'utf8');
    const loaded = loadPipeline(text, { file: 'p.dpipe', checkFiles: false });
    assert.deepEqual(loaded.problems.filter((p) => p.severity === 'error'), []);
    assert.ok(text.includes('"sampler": "euler"') || /"type": "solver.euler"/.test(text));
    fs.writeFileSync(path.join(dir, 'p.dpipe'), 'mine');
    const again = dpipe(['import', path.join(FIX, 'comfyui-default-api.json'), '--out', 'p.dpipe'], dir);
    assert.equal(again.code, 1, 'E_WRITE, as dpipe new and dpipe export: the file is in the way');
    assert.match(again.err, /error\[E_WRITE\]: .*p\.dpipe exists; choose another name or pass --force/);
    assert.equal(fs.readFileSync(path.join(dir, 'p.dpipe'), 'utf8'), 'mine');
    assert.equal(dpipe(['import', path.join(FIX, 'comfyui-default-api.json'), '--out', 'p.dpipe', '--force'], dir).code, 0);
    assert.notEqual(fs.readFileSync(path.join(dir, 'p.dpipe'), 'utf8'), 'mine');
    assert.deepEqual(fs.readdirSync(dir), ['p.dpipe']);
  });

  it('import refuses what it cannot reproduce: located errors, exit 1, nothing written', () => {
    const r = dpipe(['import', path.join(FIX, 'comfyui-unsupported-api.json'), '--out', 'x.dpipe'], dir);
    assert.equal(r.code, 1);
    assert.match(r.err, /comfyui-unsupported-api\.json:4:57: error\[E_IMPORT\]: sampler "dpm_2_ancestral": DPM-Solver-2 with ancestral noise \(sample_dpm_2_ancestral\) has no dpipe block \(at \/3\/inputs\/sampler_name\)/);
    assert.match(r.err, /comfyui-unsupported-api\.json:10:\d+: error\[E_IMPORT\]: LoraLoader \(node 10\)/);
    assert.match(r.err, /nothing was written/);
    assert.doesNotMatch(r.err, /\n\s+at .+:\d+:\d+\)/);
    assert.deepEqual(fs.readdirSync(dir), []);
    const a = dpipe(['import', path.join(FIX, 'a1111-unsupported.txt'), '--out', 'y.dpipe'], dir);
    assert.equal(a.code, 1);
    assert.match(a.err, /a1111-unsupported\.txt:3:21: error\[E_IMPORT\]: sampler "DPM2 a"/);
  });

  it('export: comfyui-api and a1111 to standard output, diffusers-python to files; an unexportable block names itself', () => {
    assert.equal(dpipe(['import', path.join(FIX, 'comfyui-default-workflow-v04.json'), '--out', 'c.dpipe'], dir).code, 0);
    const api = dpipe(['export', 'c.dpipe', '--to', 'comfyui-api'], dir);
    assert.equal(api.code, 0, api.err);
    const prompt = JSON.parse(api.out) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    const k = Object.values(prompt).find((n) => n.class_type === 'KSampler')!;
    assert.deepEqual([k.inputs.seed, k.inputs.steps, k.inputs.cfg, k.inputs.sampler_name, k.inputs.scheduler], [8566257, 28, 6.5, 'dpmpp_2m', 'karras']);
    const a1111 = dpipe(['export', 'c.dpipe', '--to', 'a1111'], dir);
    assert.equal(a1111.code, 1);
    assert.match(a1111.err, /c\.dpipe:\d+:\d+: error\[E_EXPORT\]: noise\.torch "noise": A1111's noise is noise\.torch with order "a1111"/);
    assert.equal(dpipe(['import', path.join(FIX, 'a1111-dpmpp2m-karras.txt'), '--out', 'a.dpipe'], dir).code, 0);
    const info = dpipe(['export', 'a.dpipe', '--to', 'a1111'], dir);
    assert.equal(info.code, 0, info.err);
    assert.match(info.out, /^a watercolor painting of a lighthouse, soft light\nNegative prompt: blurry, lowres\nSteps: 25, Sampler: DPM\+\+ 2M, CFG scale: 7, Seed: 1234567890, Size: 512x768/);
    const none = dpipe(['export', 'a.dpipe', '--to', 'diffusers-python'], dir);
    assert.equal(none.code, 1);
    assert.match(none.err, /error\[E_EXPORT\]: solver\.dpmpp_2m "solver" has no diffusers equivalent/);
    const bad = dpipe(['export', 'a.dpipe', '--to', 'webui'], dir);
    assert.equal(bad.code, 2);
  });

  const tiny = path.join(SD, 'tiny-sd15');
  (fs.existsSync(tiny) ? it : it.skip)('end to end on the tiny SD 1.5 folder: import a ComfyUI workflow and an A1111 infotext with --model, run them, export to diffusers', () => {
    const api = JSON.parse(fs.readFileSync(path.join(FIX, 'comfyui-default-api.json'), 'utf8'));
    api['3'].inputs.steps = 4;
    api['5'].inputs = { width: 64, height: 64, batch_size: 1 };
    fs.writeFileSync(path.join(dir, 'small.json'), JSON.stringify(api));
    const r = dpipe(['import', 'small.json', '--out', 'c.dpipe', '--model', tiny], dir);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.err, /path is empty/);
    const run = dpipe(['run', 'c.dpipe', '--out', 'out'], dir);
    assert.equal(run.code, 0, run.err);
    const rec = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.status, 'completed');
    assert.equal(rec.nfe, 4);
    assert.ok(fs.readdirSync(path.join(dir, 'out')).some((f) => f.endsWith('.png')));
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a small house\nSteps: 3, Sampler: Euler, Schedule type: Karras, CFG scale: 5, Seed: 9, Size: 64x64, RNG: CPU, Version: v1.10.1');
    assert.equal(dpipe(['import', 'a.txt', '--out', 'a.dpipe', '--model', tiny], dir).code, 0);
    const run2 = dpipe(['run', 'a.dpipe', '--out', 'out2'], dir);
    assert.equal(run2.code, 0, run2.err);
    const cfg = path.join(tiny, 'scheduler', 'scheduler_config.json');
    const d = dpipe(['import', cfg, '--out', 'd.dpipe', '--model', tiny, '--steps', '3'], dir);
    assert.equal(d.code, 0, d.err);
    const py = dpipe(['export', 'd.dpipe', '--to', 'diffusers-python'], dir);
    assert.equal(py.code, 0, py.err);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => /^d\./.test(f)).sort(), ['d.dpipe', 'd.noise.npy', 'd.py']);
  });
});
