/**
 * Model folders beyond the parity runs (test/sd/pipeline.test.ts): bad folders give clear errors that name the file,
 * execution providers that a machine lacks are refused with the reason or fall back to the CPU when allowed, text
 * encoders and VAEs are not kept loaded, tiled VAE decoding matches diffusers' algorithm, the fitted latent → RGB
 * preview resembles the real decode, long prompts warn with what was dropped, and `dpipe inspect DIR` names where
 * each setting came from.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { parseNpy } from '../../src/engine/core/npy';
import type { Latent } from '../../src/engine/core/types';
import { loadPipeline } from '../../src/engine/format/index';
import { loadModelFolder } from '../../src/engine/model/folderModel';
import { cachedSessionFiles, releaseAll, releaseIdle } from '../../src/engine/model/onnx';
import { runPipeline } from '../../src/engine/run/runner';
import { fitLatentPreview, projectLatent } from '../../src/engine/vae/preview';
import { vaeDecode } from '../../src/engine/vae/vae';
import { GraphBuilder } from '../../tools/gmm/onnx-graph';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SD = path.join(ROOT, 'test', 'fixtures', 'sd');

function dpipe(args: string[], cwd: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function npy(file: string): Latent {
  const a = parseNpy(fs.readFileSync(file), file);
  return { shape: [...a.shape], data: a.data };
}

function copyFolder(name: string, to: string): string {
  const dst = path.join(to, name);
  fs.cpSync(path.join(SD, name), dst, { recursive: true });
  return dst;
}

function noStack(err: string): void {
  assert.doesNotMatch(err, /\n\s+at .+:\d+:\d+/, `a stack trace was printed:\n${err}`);
}

describe('model folders: errors, providers, memory, VAE tiling, previews', function () {
  this.timeout(180000);
  let tmp: string;

  before(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-sdf-'));
  });
  afterEach(() => releaseAll());

  describe('bad folders: a clear error naming the file, exit 1, never a crash', () => {
    it('a missing part', async () => {
      const dir = copyFolder('tiny-sd15', path.join(tmp, 'missing'));
      fs.rmSync(path.join(dir, 'text_encoder'), { recursive: true });
      await assert.rejects(loadModelFolder(dir), (e: Error & { code?: string }) => e.code === 'E_MODEL_FOLDER' && /text_encoder\/model\.onnx is missing/.test(e.message) && e.message.includes(dir));
      const r = dpipe(['new', path.join(tmp, 'missing', 'p.dpipe'), '--model', dir], tmp);
      assert.equal(r.code, 1);
      assert.match(r.err, /error\[E_MODEL_FOLDER\].*text_encoder\/model\.onnx is missing/);
      noStack(r.err);
    });

    it('no model_index.json: says what a model folder is', async () => {
      await assert.rejects(loadModelFolder(path.join(SD, 'tiny-sd15', 'unet')), /no model_index\.json: this is not a diffusers \/ Optimum model folder/);
    });

    it('a folder without its VAE decoder samples, but decoding says the decoder is missing', async () => {
      const dir = copyFolder('tiny-sd15', path.join(tmp, 'novae'));
      fs.rmSync(path.join(dir, 'vae_decoder'), { recursive: true });
      const file = path.join(tmp, 'novae', 'p.dpipe');
      assert.equal(dpipe(['new', file, '--model', dir, '--steps', '2'], tmp).code, 0);
      const r = dpipe(['run', file, '--out', path.join(tmp, 'novae', 'out'), '-q'], tmp);
      assert.equal(r.code, 1);
      assert.match(r.err, /E_MODEL_FOLDER.*no vae_decoder\/model\.onnx: it cannot decode latents to images/);
      noStack(r.err);
    });

    it('a wrong tensor name in the UNet', async () => {
      const dir = copyFolder('tiny-sd15', path.join(tmp, 'renamed'));
      const file = path.join(dir, 'unet', 'model.onnx');
      const m = onnx.ModelProto.decode(fs.readFileSync(file));
      for (const i of m.graph!.input!) if (i.name === 'sample') i.name = 'latents';
      for (const n of m.graph!.node!) n.input = n.input!.map((x) => (x === 'sample' ? 'latents' : x));
      fs.writeFileSync(file, onnx.ModelProto.encode(m).finish());
      await assert.rejects(loadModelFolder(dir), (e: Error) => /unet\/model\.onnx has no input "sample" \(the noisy latent\); its inputs are latents: float32/.test(e.message));
    });

    it('a text encoder whose width does not fit the UNet (parts of two models)', async () => {
      const dir = copyFolder('tiny-sd15', path.join(tmp, 'mixed'));
      fs.rmSync(path.join(dir, 'text_encoder'), { recursive: true });
      fs.cpSync(path.join(SD, 'tiny-sd2v', 'text_encoder'), path.join(dir, 'text_encoder'), { recursive: true });
      await assert.rejects(
        loadModelFolder(dir),
        (e: Error & { code?: string }) => e.code === 'E_MODEL_FOLDER' && /prompt embeddings of width 48 \(text_encoder\/config\.json hidden_size 48\), but unet\/model\.onnx takes encoder_hidden_states of width 64/.test(e.message),
      );
    });

    it('float16 overflow in the UNet stops the run with E_NAN naming the file and float16', () => {
      const file = path.join(tmp, 'overflow.dpipe');
      assert.equal(dpipe(['new', file, '--model', path.join(SD, 'tiny-fp16-overflow'), '--steps', '3', '--prompt', 'a cat'], tmp).code, 0);
      const r = dpipe(['run', file, '--out', path.join(tmp, 'overflow-out'), '-q'], tmp);
      assert.equal(r.code, 1);
      assert.match(r.err, /error\[E_NAN\]: (node "sample" \(sample\): )?unet\/model\.onnx: the float16 output "out_sample" overflowed at σ = [\d.]+ .*float16 holds at most ±65504/);
      noStack(r.err);
    });
  });

  describe('execution providers', () => {
    it('a provider this machine does not have is refused with the reason and what is available; --cpu-fallback runs on the CPU and records it', () => {
      const file = path.join(tmp, 'ep.dpipe');
      assert.equal(dpipe(['new', file, '--model', path.join(SD, 'tiny-sd15'), '--steps', '2'], tmp).code, 0);
      // DirectML exists only in Windows builds of onnxruntime-node.
      const r = dpipe(['run', file, '--out', path.join(tmp, 'ep-out1'), '-q', '--provider', 'dml'], tmp);
      assert.equal(r.code, 1);
      assert.match(r.err, /error\[E_PROVIDER\]: (node "model" \(model\.folder\): )?unet\/model\.onnx: execution provider "dml" is not part of onnxruntime-node on this platform \(linux-x64\)\. Available here: cpu[a-z, ]*\. .*allow the CPU fallback/);
      noStack(r.err);
      const cuda = dpipe(['run', file, '--out', path.join(tmp, 'ep-out2'), '-q', '--provider', 'cuda'], tmp);
      if (cuda.code !== 0) assert.match(cuda.err, /E_PROVIDER.*"cuda" needs binaries that this onnxruntime-node installation does not have \(install them with ONNXRUNTIME_NODE_INSTALL=cuda12/);
      const ok = dpipe(['run', file, '--out', path.join(tmp, 'ep-out3'), '--provider', 'dml', '--cpu-fallback'], tmp);
      assert.equal(ok.code, 0, ok.err);
      assert.match(ok.err, /warning: model: execution provider "dml" is not part of onnxruntime-node on this platform.*Running on the CPU instead/);
      const rec = JSON.parse(fs.readFileSync(path.join(tmp, 'ep-out3', 'run.json'), 'utf8'));
      assert.equal(rec.models[0].provider, 'cpu');
      assert.match(rec.models[0].providerNote, /"dml"/);
      assert.ok(rec.warnings.some((w: { message: string }) => /Running on the CPU instead/.test(w.message)));
    });
  });

  describe('memory', () => {
    it('text encoders and the VAE are released after use; the denoiser stays warm until the runner releases idle sessions', async () => {
      const dir = path.join(tmp, 'mem');
      fs.mkdirSync(dir);
      const file = path.join(dir, 'p.dpipe');
      assert.equal(dpipe(['new', file, '--model', path.join(SD, 'tiny-sd3'), '--steps', '2', '--prompt', 'a robot'], tmp).code, 0);
      const loaded = loadPipeline(fs.readFileSync(file, 'utf8'), { file, baseDir: dir });
      assert.ok(loaded.doc);
      releaseAll();
      const res = await runPipeline(loaded.doc!, { baseDir: dir, file, trajectory: { record: false } });
      assert.equal(res.status, 'completed');
      const cached = cachedSessionFiles().map((f) => path.relative(path.join(SD, 'tiny-sd3'), f));
      assert.deepEqual(cached, ['transformer/model.onnx']);
      assert.equal(releaseIdle(0), 1);
      assert.deepEqual(cachedSessionFiles(), []);
    });
  });

  describe('VAE', () => {
    it('tiled decoding reproduces diffusers\' tiled_decode algorithm (tools/sdtiny/tiled_reference.py) on uneven tiles', async () => {
      const { vae } = await loadModelFolder(path.join(SD, 'tiny-sd15'));
      const latent = npy(path.join(SD, 'tiled', 'latent.npy'));
      const want = npy(path.join(SD, 'tiled', 'image.npy'));
      const full = npy(path.join(SD, 'tiled', 'full.npy'));
      const tiled = await vaeDecode(vae, latent, { tiling: 'on', tileSize: 4, overlap: 0.25 });
      assert.deepEqual(tiled.shape, want.shape);
      let d = 0;
      let dFull = 0;
      for (let i = 0; i < want.data.length; i++) {
        d = Math.max(d, Math.abs(tiled.data[i] - want.data[i]));
        dFull = Math.max(dFull, Math.abs(tiled.data[i] - full.data[i]));
      }
      assert.ok(d < 1e-4, `tiled vs reference: ${d}`);
      assert.ok(dFull > 0.1, 'tiles must actually change the result on this tiny VAE (group norms per tile)');
      const once = await vaeDecode(vae, latent, { tiling: 'off' });
      for (let i = 0; i < full.data.length; i++) assert.ok(Math.abs(once.data[i] - full.data[i]) < 1e-4);
    });

    it('the latent → RGB preview fit recovers a decoder that is linear per pixel (rgb = W·latent/scaling + b, upsampled 8×)', async () => {
      // A "VAE decoder" with a known linear colour map, built as ONNX: 1×1 convolution then nearest 8× upsampling.
      const dir = copyFolder('tiny-sd15', path.join(tmp, 'linear-vae'));
      const W = [0.9, -0.2, 0.1, 0.3, 0.0, 0.7, -0.4, 0.2, 0.25, 0.1, 0.5, -0.6];
      const bias = [0.1, -0.05, 0.2];
      const g = new GraphBuilder('vae');
      const x = g.input('latent_sample', 'float32', ['batch_size', 4, 'latent_height', 'latent_width']);
      const conv = g.op('Conv', [x, g.constF(W, [3, 4, 1, 1]), g.constF(bias, [3])]);
      g.op('Resize', [conv, '', g.constF([1, 1, 8, 8], [4])], {}, 'sample');
      g.output('sample', 'float32', ['batch_size', 3, 'height', 'width']);
      fs.writeFileSync(path.join(dir, 'vae_decoder', 'model.onnx'), g.build({ producer: 'dpipe-test' }));
      const { vae } = await loadModelFolder(dir);
      const p = await fitLatentPreview(vae);
      for (let i = 0; i < 12; i++) assert.ok(Math.abs(p.projection[i] - W[i] / 0.18215) < 1e-4, `P[${i}] = ${p.projection[i]}, want ${W[i] / 0.18215}`);
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(p.bias[k] - bias[k]) < 1e-5, `b[${k}] = ${p.bias[k]}`);
      // The preview of any latent then equals the decode's 8×8 block means.
      const latent = npy(path.join(SD, 'ref', 'sd15_ddim', 'latent.npy'));
      const image = await vaeDecode(vae, latent, { tiling: 'off' });
      const proj = projectLatent(latent, 0, p);
      for (let k = 0; k < 3; k++) for (let i = 0; i < 64; i++) {
        const y = Math.floor(i / 8) * 8;
        const xx = (i % 8) * 8;
        assert.ok(Math.abs(proj[k * 64 + i] - image.data[(k * 64 + y) * 64 + xx]) < 1e-4);
      }
      // On the random-weight tiny VAEs a linear view is poor (they are far from linear), but it is deterministic and finite.
      const { vae: sd3 } = await loadModelFolder(path.join(SD, 'tiny-sd3'));
      const q = await fitLatentPreview(sd3);
      assert.equal(q.projection.length, 48);
      assert.ok(q.projection.every(Number.isFinite));
    });
  });

  it('a prompt longer than the encoder takes is truncated with a warning naming the dropped words (stderr and run.json)', () => {
    const dir = path.join(tmp, 'long');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'p.dpipe');
    const words = Array.from({ length: 90 }, (_, i) => `word${i}`).join(' ') + ' finalword';
    assert.equal(dpipe(['new', file, '--model', path.join(SD, 'tiny-sd15'), '--steps', '2', '--prompt', words], tmp).code, 0);
    const r = dpipe(['run', file, '--out', path.join(dir, 'out'), '-q'], tmp);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: prompt: the prompt is \d+ tokens for text_encoder \(at most 77 with its special tokens\): the last \d+ tokens \(".*finalword"\) were dropped/);
    const rec = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'run.json'), 'utf8'));
    assert.ok(rec.warnings.some((w: { node: string; message: string }) => w.node === 'prompt' && /finalword/.test(w.message)));
  });

  it('dpipe inspect DIR lists every part with its tensors and each convention with the file it came from', () => {
    const r = dpipe(['inspect', path.join(SD, 'tiny-sdxl')], tmp);
    assert.equal(r.code, 0, r.err);
    for (const want of [
      /StableDiffusionXLPipeline \(sdxl\)/,
      /unet: unet\/model\.onnx .*unet\/config\.json/,
      /sample\s+float16 \[batch_size, 4, height, width\]/,
      /time_ids\s+float16/,
      /text_encoder_2: text_encoder_2\/model\.onnx/,
      /tokenizer: tokenizer_2 \(vocab\.json \+ merges\.txt \(CLIP\)\), 77 tokens, padding id 0/,
      /prediction\s+epsilon\s+\(scheduler\/scheduler_config\.json#prediction_type\)/,
      /timestep spacing\s+leading, steps_offset 1/,
      /VAE scaling\s+latents × 0\.13025\s+\(vae_decoder\/config\.json#scaling_factor\)/,
    ]) assert.match(r.out, want);
    const j = JSON.parse(dpipe(['inspect', path.join(SD, 'tiny-sd3'), '--json'], tmp).out);
    assert.equal(j.family, 'sd3');
    assert.ok(j.conventions.some((c: { setting: string; value: string }) => c.setting === 'flow shift' && c.value === '3'));
  });
});
