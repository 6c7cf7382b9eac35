/**
 * Real latent-diffusion folders end to end, as a user runs them: `dpipe new FILE --model DIR --scheduler CLASS …`
 * writes the pipeline, `dpipe run FILE --noise noise.npy` runs it, and the final latent and the PNG are compared with
 * reference loops written from diffusers' pipeline logic (tools/sdtiny/reference.py: the scheduler's math, CFG,
 * guidance rescale, VAE scaling, SDXL's size conditioning, SD3's T5 / no-T5 prompt assembly), computed in float32
 * with the same weights as the tiny ONNX folders (test/fixtures/sd/, Optimum's layout and tensor names).
 *
 * Tolerances, measured: the float32 folders agree to ≤ 2.6e-5 in the latent (|latent| ≤ 3.7: diffusers steps in
 * float32, dpipe in float64) and to 1/255 in the PNG; the float16 SDXL folder to ≤ 1e-2 (onnxruntime computes the
 * float16 graph internally in float16, the reference rounds only at the model's inputs and outputs).
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { parseNpy } from '../../src/engine/core/npy';
import { readPipelineFromPng } from '../../src/engine/run/png';
import type { RunRecord } from '../../src/engine/run/record';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SD = process.env.DPIPE_SD_FIXTURES ?? path.join(ROOT, 'test', 'fixtures', 'sd');
const REF = path.join(SD, 'ref');

interface RefRun {
  run: string;
  folder: string;
  prompt: string;
  negative_prompt: string | null;
  num_inference_steps: number;
  guidance_scale: number;
  guidance_rescale: number;
  width: number;
  height: number;
  strength?: number;
  scheduler: { class: string };
  model_io_dtype: string;
}

function dpipe(args: string[], cwd: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function npy(file: string): { shape: number[]; data: Float64Array } {
  const a = parseNpy(fs.readFileSync(file), file);
  return { shape: [...a.shape], data: a.data };
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function pngPixels(file: string): Uint8Array {
  const img = decode(fs.readFileSync(file));
  return Uint8Array.from(img.data as ArrayLike<number>);
}

const RUNS = fs.existsSync(REF) ? fs.readdirSync(REF).filter((r) => fs.existsSync(path.join(REF, r, 'run.json'))).sort() : [];

describe('model folders end to end: dpipe new + dpipe run --noise against diffusers-logic reference loops', function () {
  this.timeout(180000);
  let tmp: string;

  before(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-sd-'));
  });

  it('has the reference runs of every tiny folder (SD 1.5 ×4, SD2-v, SDXL, SD3 with and without T5)', () => {
    assert.deepEqual(RUNS, ['sd15_ddim', 'sd15_dpmpp2m', 'sd15_euler_96x64', 'sd15_img2img', 'sd2v_ddim_rescale', 'sd3_flow', 'sd3_flow_noT5', 'sdxl_euler']);
  });

  for (const name of RUNS) {
    it(`${name}: reproduces the reference latent and image`, () => {
      const ref = JSON.parse(fs.readFileSync(path.join(REF, name, 'run.json'), 'utf8')) as RefRun;
      const dir = path.join(tmp, name);
      fs.mkdirSync(dir);
      const file = path.join(dir, 'p.dpipe');
      const args = [
        'new', file, '--model', path.join(SD, path.relative('test/fixtures/sd', ref.folder)), '--scheduler', ref.scheduler.class,
        '--prompt', ref.prompt, '--steps', String(ref.num_inference_steps), '--guidance', String(ref.guidance_scale),
        '--width', String(ref.width), '--height', String(ref.height),
      ];
      if (ref.negative_prompt !== null) args.push('--negative', ref.negative_prompt);
      if (ref.strength !== undefined) args.push('--image', path.join(REF, name, 'input.png'), '--strength', String(ref.strength));
      const made = dpipe(args, dir);
      assert.equal(made.code, 0, made.err);
      const run = ['run', file, '--out', path.join(dir, 'out'), '--noise', path.join(REF, name, 'noise.npy'), '-q'];
      // diffusers' guidance_rescale rescales the model output of a v-prediction model: CFG rescale in v space.
      if (ref.guidance_rescale) run.push('--set', `guider.rescale=${ref.guidance_rescale}`, '--set', 'guider.rescaleSpace=v');
      const r = dpipe(run, dir);
      assert.equal(r.code, 0, r.err);

      const got = npy(path.join(dir, 'out', 'latent.npy'));
      const want = npy(path.join(REF, name, 'latent.npy'));
      assert.deepEqual(got.shape, want.shape);
      const fp16 = ref.model_io_dtype.startsWith('float16');
      const d = maxAbs(got.data, want.data);
      assert.ok(d <= (fp16 ? 1e-2 : 5e-5), `${name}: latent max |Δ| = ${d}`);
      const pa = pngPixels(path.join(dir, 'out', 'image.png'));
      const pb = pngPixels(path.join(REF, name, 'image.png'));
      assert.equal(pa.length, pb.length);
      const dp = maxAbs(pa, pb);
      assert.ok(dp <= (fp16 ? 3 : 1), `${name}: PNG max |Δ| = ${dp}/255`);

      // The PNG carries the pipeline; run.json says what ran.
      assert.ok(readPipelineFromPng(fs.readFileSync(path.join(dir, 'out', 'image.png')))?.includes('"model.folder"'));
      const rec = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'run.json'), 'utf8')) as RunRecord;
      assert.equal(rec.status, 'completed');
      assert.equal(rec.models[0].provider, 'cpu');
      assert.ok(rec.models[0].folder?.endsWith(path.basename(ref.folder)));
    });
  }
});
