/**
 * The runner's preview flow control, in-process: with no acknowledgements the runner sends one preview and keeps
 * only the newest evaluation waiting (plus the final one at the end), whatever the number of evaluations.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { RunnerCore, previewImage, shrink } from '../../extension/runner/core';
import { parseNpy } from '../../src/engine/core/npy';
import { serializePipeline } from '../../src/engine/format';
import { readModelFolder } from '../../src/engine/model/folder';
import { folderPipeline } from '../../src/engine/model/folderPipeline';
import { nodeTypes } from '../../src/engine/registry';
import type { ParamValue } from '../../src/engine/registry/types';
import type { FromRunner, RunFinished } from '../../src/protocol';
import { validateFromRunner } from '../../src/protocol';
import { makeWorkspace, pipelineText } from './runnerFixture';

function runCore(text: string, file: string, outDir: string, ack: boolean): Promise<FromRunner[]> {
  return new Promise((resolve) => {
    const sent: FromRunner[] = [];
    const core: RunnerCore = new RunnerCore((m) => {
      assert.equal(validateFromRunner(m, 'm'), undefined, 'every message the runner sends is valid');
      sent.push(m);
      if (ack && m.type === 'preview') setImmediate(() => core.handle({ type: 'previewAck', runId: m.runId, seq: m.seq }));
      if (m.type === 'runFinished') resolve(sent);
    });
    core.handle({ type: 'run', runId: 'p', text, file, outDir, threads: 1, previewIntervalMs: 1, progressIntervalMs: 0, trajectoryMemoryMB: 0 });
  });
}

describe('runner core: previews are dropped, never queued', function () {
  this.timeout(60_000);
  let ws: ReturnType<typeof makeWorkspace>;
  before(() => (ws = makeWorkspace()));
  after(() => ws.cleanup());

  it('without acks: one preview in flight plus the final one, for 60 evaluations', async () => {
    const sent = await runCore(pipelineText({ steps: 60 }), ws.file, path.join(ws.dir, 'o1'), false);
    const fin = sent[sent.length - 1] as RunFinished;
    assert.equal(fin.ok, true, JSON.stringify(fin.error));
    assert.equal(fin.nfe, 60);
    const previews = sent.filter((m) => m.type === 'preview');
    assert.equal(previews.length, 2);
    assert.equal(previews[0].type === 'preview' && previews[0].index, 0);
    assert.equal(previews[1].type === 'preview' && previews[1].index, 59, 'the last preview is the final x̂0');
    assert.equal(sent.filter((m) => m.type === 'progress').length, 60);
  });

  it('with acks: many previews, in order, each of a later evaluation', async () => {
    const sent = await runCore(pipelineText({ steps: 60 }), ws.file, path.join(ws.dir, 'o2'), true);
    const idx = sent.flatMap((m) => (m.type === 'preview' ? [m.index] : []));
    assert.ok(idx.length > 2, `previews: ${idx.length}`);
    assert.ok(idx.every((v, i) => i === 0 || v > idx[i - 1]));
    assert.equal(idx[idx.length - 1], 59);
  });

  it('shrink subsamples big previews to at most the given side', () => {
    const img = { width: 10, height: 4, channels: 1 as const, data: Uint8Array.from({ length: 40 }, (_, i) => i) };
    const s = shrink(img, 5);
    assert.deepEqual([s.width, s.height], [5, 2]);
    assert.deepEqual(Array.from(s.data), [0, 2, 4, 6, 8, 20, 22, 24, 26, 28]);
    assert.equal(shrink(img, 10), img);
  });
});

describe('runner core: previews of a model folder\'s latents', function () {
  this.timeout(120_000);
  const SD = path.resolve(__dirname, '..', 'fixtures', 'sd');
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-runner-sd-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function text(extra: Record<string, ParamValue> = {}): Promise<string> {
    const f = await readModelFolder(path.join(SD, 'tiny-sd15'));
    // Euler ends at σ = 0, so the final latent is the last evaluation's x̂0 (the last preview).
    const doc = folderPipeline(f, { modelPath: path.join(SD, 'tiny-sd15'), prompt: 'a cat', steps: 4, scheduler: 'EulerDiscreteScheduler' }, nodeTypes());
    const nodes = doc.nodes.map((n) => (n.id === 'model' ? { ...n, params: { ...n.params, ...extra } } : n));
    return serializePipeline({ ...doc, nodes });
  }

  function images(sent: FromRunner[]) {
    return sent.flatMap((m) => (m.type === 'preview' ? [m] : []));
  }

  it('the 4-channel x̂0 is shown through the VAE-fitted projection, exactly as the inspector renders it', async () => {
    const sent = await runCore(await text(), path.join(dir, 'p.dpipe'), path.join(dir, 'o1'), true);
    const fin = sent[sent.length - 1] as RunFinished;
    assert.equal(fin.ok, true, JSON.stringify(fin.error));
    const pv = images(sent);
    assert.ok(pv.length >= 1);
    assert.deepEqual([pv[0].width, pv[0].height], [8, 8], 'a projected latent: one pixel per latent pixel');
    // The same latent through the inspector's renderer with the run's recorded preview gives the same pixels.
    const rec = JSON.parse(fs.readFileSync(path.join(dir, 'o1', 'run.json'), 'utf8'));
    assert.match(rec.models[0].preview.source, /fitted on .*vae_decoder\/model\.onnx/);
    const x = parseNpy(fs.readFileSync(path.join(dir, 'o1', 'latent.npy')));
    const want = previewImage({ shape: x.shape, data: x.data }, [-1, 1], rec.models[0].preview)!;
    const last = pv[pv.length - 1];
    const got = decode(Buffer.from(last.image.split(',')[1], 'base64'));
    const a = got.data as Uint8Array;
    assert.equal(a.length, want.data.length);
    // latent.npy is float32: a pixel may round one level apart.
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - want.data[i]) <= 1, `pixel value ${i}: ${a[i]} vs ${want.data[i]}`);
  });

  it('with a preview decoder (TAESD-style), previews are decoded images', async () => {
    const sent = await runCore(
      await text({ preview: 'decoder', previewDecoder: path.join(SD, 'tiny-sd15', 'vae_decoder', 'model.onnx'), previewDecoderRange: [-1, 1], previewDecoderScale: 1 / 0.18215 }),
      path.join(dir, 'p.dpipe'), path.join(dir, 'o2'), true,
    );
    const fin = sent[sent.length - 1] as RunFinished;
    assert.equal(fin.ok, true, JSON.stringify(fin.error));
    const pv = images(sent);
    assert.ok(pv.length >= 1);
    assert.deepEqual([pv[0].width, pv[0].height], [64, 64], 'a decoded image: 8 pixels per latent pixel');
  });
});
