/**
 * ComfyUI JSON → .dpipe → ComfyUI JSON gives the same sampler settings: for the hand-written fixtures (API prompt,
 * workflows 0.4 and 1, a two-pass KSamplerAdvanced prompt) and for every case of the σ fixture dpipe imports, the
 * exported prompt has the original sampler node's settings (sampler, scheduler, steps, cfg, seed, denoise / start /
 * end, the SIGMAS nodes of custom sampling), and the exporter's own check (the export imports back to the same
 * pipeline) holds. Blocks with no ComfyUI equivalent are named.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readApiPrompt, readWorkflow } from '../../src/engine/interop/comfyGraph';
import { importComfyGraph } from '../../src/engine/interop/comfyImport';
import { aysDenoiseFor, denoiseFor, exportComfyApi, type ApiPrompt } from '../../src/engine/interop/comfyExport';
import { COMFY_SAMPLERS, isSupported } from '../../src/engine/interop/comfyNames';
import { roundHalfEven } from '../../src/engine/model/schedule';
import type { PipelineDoc } from '../../src/engine/format/types';
import { promptFor, type Api, type SigmaCase } from './comfyPrompt';

const DIR = path.join(__dirname, '..', 'fixtures', 'interop');
const read = (f: string) => fs.readFileSync(path.join(DIR, f), 'utf8');

async function importApi(api: unknown): Promise<PipelineDoc> {
  const text = JSON.stringify(api);
  const r = await importComfyGraph(readApiPrompt(text, JSON.parse(text)), { modelPath: 'sd15' });
  assert.ok(r.doc, r.issues.map((i) => i.message).join('\n'));
  return r.doc!;
}

async function exported(doc: PipelineDoc): Promise<ApiPrompt> {
  const r = await exportComfyApi(doc);
  assert.ok(r.prompt, r.issues.map((i) => i.message).join('\n'));
  return r.prompt!;
}

const byClass = (p: ApiPrompt | Api, cls: string) => Object.values(p).filter((n) => n.class_type === cls);
/** An input's value, following a link to a primitive-free API prompt's node when asked. */
const settings = (n: { inputs: Record<string, unknown> }, keys: string[]) => Object.fromEntries(keys.map((k) => [k, n.inputs[k]]));

describe('ComfyUI round trip: JSON → .dpipe → JSON', () => {
  it('denoise values: the shortest decimal giving the same schedule', () => {
    assert.equal(denoiseFor(20, 26), 0.75);
    assert.equal(denoiseFor(10, 16), 0.6);
    assert.equal(denoiseFor(12, 24), 0.5);
    assert.equal(denoiseFor(20, 25), 0.8);
    assert.equal(denoiseFor(7, 7), 1);
    for (let steps = 1; steps <= 40; steps++) {
      for (let total = steps + 1; total <= 4 * steps; total++) {
        const d = denoiseFor(steps, total);
        if (Math.trunc(steps / d) === total) assert.ok(d > 0 && d < 1);
      }
    }
    assert.equal(aysDenoiseFor(16, 8), 0.5);
    assert.equal(Math.round(10 * aysDenoiseFor(10, 6)), 6);
  });

  it('the default ComfyUI prompt (API): KSampler, latent, prompts, checkpoint, save', async () => {
    const api = JSON.parse(read('comfyui-default-api.json')) as Api;
    const out = await exported(await importApi(api));
    const [k] = byClass(out, 'KSampler');
    const keys = ['seed', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise'];
    assert.deepEqual(settings(k, keys), settings(api['3'], keys));
    assert.deepEqual(settings(byClass(out, 'EmptyLatentImage')[0], ['width', 'height', 'batch_size']), settings(api['5'], ['width', 'height', 'batch_size']));
    assert.deepEqual(byClass(out, 'CLIPTextEncode').map((n) => n.inputs.text).sort(), [api['6'].inputs.text, api['7'].inputs.text].sort());
    assert.equal(byClass(out, 'CheckpointLoaderSimple')[0].inputs.ckpt_name, 'v1-5-pruned-emaonly.safetensors');
    assert.equal(byClass(out, 'SaveImage')[0].inputs.filename_prefix, 'ComfyUI');
    // The links: KSampler's positive is the first prompt.
    const pos = out[(k.inputs.positive as [string, number])[0]];
    assert.equal(pos.inputs.text, api['6'].inputs.text);
  });

  it('a workflow (version 0.4) exports as the API prompt ComfyUI would queue', async () => {
    const text = read('comfyui-default-workflow-v04.json');
    const r = await importComfyGraph(readWorkflow(text, JSON.parse(text)), { modelPath: 'sd15' });
    const out = await exported(r.doc!);
    const [k] = byClass(out, 'KSampler');
    assert.deepEqual(settings(k, ['seed', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise']), { seed: 8566257, steps: 28, cfg: 6.5, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 1 });
    assert.deepEqual(settings(byClass(out, 'EmptyLatentImage')[0], ['width', 'height', 'batch_size']), { width: 512, height: 640, batch_size: 1 });
    assert.equal(byClass(out, 'SaveImage')[0].inputs.filename_prefix, 'lighthouse');
  });

  it('a workflow (version 1) with custom sampling, a Reroute, a primitive seed and a bypassed LoRA', async () => {
    const text = read('comfyui-custom-workflow-v1.json');
    const r = await importComfyGraph(readWorkflow(text, JSON.parse(text)), { modelPath: 'sd15' });
    assert.ok(r.doc, r.issues.map((i) => i.message).join('\n'));
    const out = await exported(r.doc!);
    // The KSampler form is the same computation as custom sampling with KSamplerSelect + BasicScheduler.
    const [k] = byClass(out, 'KSampler');
    assert.deepEqual(settings(k, ['seed', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise']), { seed: 123, steps: 25, cfg: 5.5, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 1 });
    assert.deepEqual(settings(byClass(out, 'EmptyLatentImage')[0], ['width', 'height', 'batch_size']), { width: 768, height: 512, batch_size: 2 });
  });

  it('two KSamplerAdvanced passes: the start/end steps, the leftover noise and the second pass without noise', async () => {
    const api = JSON.parse(read('comfyui-two-pass-api.json')) as Api;
    const out = await exported(await importApi(api));
    const adv = byClass(out, 'KSamplerAdvanced');
    assert.equal(adv.length, 2);
    const keys = ['add_noise', 'noise_seed', 'steps', 'cfg', 'sampler_name', 'scheduler', 'start_at_step', 'end_at_step', 'return_with_leftover_noise'];
    const first = adv.find((n) => n.inputs.add_noise === 'enable')!;
    const second = adv.find((n) => n.inputs.add_noise === 'disable')!;
    assert.deepEqual(settings(first, keys), settings(api['10'], keys));
    assert.deepEqual({ ...settings(second, keys), end_at_step: 10000 }, settings(api['11'], keys));
    assert.deepEqual(second.inputs.latent_image, [Object.keys(out).find((id) => out[id] === first), 0]);
  });

  describe('every σ-fixture case dpipe imports', function () {
    this.timeout(300000);
    const fixture = JSON.parse(read('comfy_sigmas.json')) as { cases: (SigmaCase & { sigmas?: number[] })[] };
    for (const c of fixture.cases) {
      if (!isSupported(COMFY_SAMPLERS[c.sampler]) || c.sigmas === undefined) continue;
      it(`${c.node} ${c.sampler}${c.scheduler ? ` ${c.scheduler}` : ''} ${Object.entries(c).filter(([k, v]) => !['node', 'sampler', 'scheduler', 'sigmas'].includes(k) && !Array.isArray(v)).map(([k, v]) => `${k}=${v}`).join(' ')}`, async () => {
        const api = promptFor(c);
        const out = await exported(await importApi(api));
        // Names that import to the same blocks export as one of them: the _gpu samplers differ from their CPU twins
        // only in where the Brownian tree lives (not reproduced), and KSampler's "ddim" is Euler.
        const same = (name: unknown) => (name === 'ddim' ? 'euler' : String(name).replace(/_gpu$/, ''));
        const [k] = [...byClass(out, 'KSampler'), ...byClass(out, 'KSamplerAdvanced')];
        if (c.node === 'KSampler') {
          assert.equal(k.class_type, 'KSampler');
          assert.deepEqual({ ...settings(k, ['steps', 'scheduler', 'denoise']), sampler: k.inputs.sampler_name }, { ...settings(api['3'], ['steps', 'scheduler', 'denoise']), sampler: same(c.sampler) });
          return;
        }
        if (c.node === 'KSamplerAdvanced') {
          const plain = c.start_at_step === 0 && (c.end_at_step as number) >= (c.steps as number);
          assert.equal(k.class_type, plain ? 'KSampler' : 'KSamplerAdvanced');
          const keys = plain ? ['steps', 'scheduler'] : ['steps', 'scheduler', 'start_at_step', 'end_at_step', 'return_with_leftover_noise'];
          const want = { ...settings(api['3'], keys), ...(!plain && (c.end_at_step as number) >= (c.steps as number) ? { end_at_step: 10000 } : {}) };
          assert.deepEqual({ ...settings(k, keys), sampler: k.inputs.sampler_name }, { ...want, sampler: same(c.sampler) });
          return;
        }
        // Custom sampling: the same SIGMAS node settings, or the KSampler / KSamplerAdvanced that computes the same.
        const sched = byClass(out, c.node)[0];
        if (sched) {
          for (const [key, v] of Object.entries(api['20'].inputs)) if (!Array.isArray(v)) assert.deepEqual(sched.inputs[key], key === 'denoise' && c.node === 'AlignYourStepsScheduler' ? sched.inputs[key] : v, `${c.node}.${key}`);
          // AlignYourStepsScheduler's denoise is written as the shortest decimal giving the same number of steps.
          if (c.node === 'AlignYourStepsScheduler') assert.equal(roundHalfEven((c.steps as number) * (sched.inputs.denoise as number)), roundHalfEven((c.steps as number) * (c.denoise as number)));
          return;
        }
        assert.ok(k, `${c.node} or a KSampler in ${JSON.stringify(out)}`);
        switch (c.node) {
          case 'BasicScheduler':
            assert.deepEqual(settings(k, ['scheduler', 'steps', 'denoise']), settings(api['20'], ['scheduler', 'steps', 'denoise']));
            break;
          case 'BetaSamplingScheduler':
            assert.deepEqual(settings(k, ['scheduler', 'steps']), { scheduler: 'beta', steps: c.steps });
            break;
          case 'SplitSigmas':
            assert.equal(k.class_type, 'KSamplerAdvanced');
            assert.deepEqual(settings(k, ['scheduler', 'steps', c.output === 'high' ? 'end_at_step' : 'start_at_step']), { scheduler: c.scheduler, steps: c.steps, [c.output === 'high' ? 'end_at_step' : 'start_at_step']: c.step });
            if (c.output === 'high') assert.equal(k.inputs.return_with_leftover_noise, 'enable');
            break;
          default:
            assert.fail(`${c.node} exported as ${k.class_type}`);
        }
      });
    }
  });

  describe('blocks with no ComfyUI equivalent are named', () => {
    it('diffusers-preset solver, time-uniform schedule, seeded noise', async () => {
      const doc = await importApi(JSON.parse(read('comfyui-default-api.json')));
      const swap = (id: string, type: string, params: Record<string, unknown>) => ({ ...doc, nodes: doc.nodes.map((n) => (n.id === id ? { ...n, type, params } : n)) }) as PipelineDoc;
      let r = await exportComfyApi(swap('solver', 'solver.dpmpp_2m', { preset: 'diffusers' }));
      assert.equal(r.prompt, undefined);
      assert.ok(r.issues.some((i) => i.severity === 'error' && i.nodeId === 'solver' && /solver\.dpmpp_2m "solver" has no ComfyUI equivalent/.test(i.message)), r.issues.map((i) => i.message).join('\n'));
      r = await exportComfyApi(swap('noise', 'noise.seeded', { seed: 3 }));
      assert.ok(r.issues.some((i) => i.nodeId === 'noise' && /ComfyUI's noise is noise.torch/.test(i.message)));
      r = await exportComfyApi(swap('model', 'model.folder', { path: 'sd15', roundTimesteps: false }));
      assert.ok(r.issues.some((i) => i.nodeId === 'model' && /roundTimesteps false \(the other tool's: true\)/.test(i.message)), r.issues.map((i) => i.message).join('\n'));
    });
  });
});
