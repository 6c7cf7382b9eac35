/**
 * The host side of "dpipe: Import Pipeline…" and of Open Pipeline from Image's offer for ComfyUI/A1111 PNGs, without
 * VS Code: what the command asks for (a model folder for the file's checkpoint, an input image), the text it writes
 * (paths relative to where the pipeline is saved), the refusal it shows, and the declared command.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importableImage, importForHost, logLines, suggestedTarget, summary } from '../../extension/import';
import { loadPipeline } from '../../src/engine/format';

const ROOT = path.resolve(__dirname, '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'interop');
const SD = process.env.DPIPE_SD_FIXTURES ?? path.join(ROOT, 'test', 'fixtures', 'sd');
const bytes = (f: string) => new Uint8Array(fs.readFileSync(path.join(FIX, f)));

describe('host: Import Pipeline', () => {
  it('a ComfyUI workflow: asks for the model folder of its checkpoint, writes a pipeline that loads', async () => {
    const target = path.join(FIX, 'out', 'w.dpipe');
    const probe = await importForHost({ bytes: bytes('comfyui-default-workflow-v04.json'), source: path.join(FIX, 'comfyui-default-workflow-v04.json'), target });
    assert.equal(probe.kind, 'comfyui-workflow');
    assert.deepEqual(probe.modelNames, ['v1-5-pruned-emaonly.safetensors']);
    assert.equal(probe.needsModel, false);
    assert.ok(probe.text);
    const loaded = loadPipeline(probe.text!, { file: target, checkFiles: false });
    assert.deepEqual(loaded.problems.filter((p) => p.severity === 'error'), []);
    assert.ok(probe.warnings.some((w) => /model folder path is empty/.test(w.message)));
  });

  it('a refusal: one line for the notification, every problem for the log', async () => {
    const source = path.join(FIX, 'comfyui-unsupported-api.json');
    const o = await importForHost({ bytes: bytes('comfyui-unsupported-api.json'), source, target: path.join(FIX, 'x.dpipe') });
    assert.equal(o.text, undefined);
    assert.match(summary(o, source), /^comfyui-unsupported-api\.json: 2 settings of the ComfyUI API prompt have no dpipe equivalent — .+ \(and 1 more: see the log\)\. Nothing was written\.$/);
    assert.ok(logLines(o).some((l) => /comfyui-unsupported-api\.json:4:57: error\[E_IMPORT\]: sampler "dpm_2_ancestral"/.test(l)));
  });

  it('an A1111 img2img infotext needs the input image, written relative to the pipeline', async () => {
    const text = new TextEncoder().encode('a\nSteps: 10, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512, Denoising strength: 0.5, RNG: CPU, Version: v1.10.1');
    const target = path.join(FIX, 'sub', 'i.dpipe');
    const probe = await importForHost({ bytes: text, source: path.join(FIX, 'i.txt'), target });
    assert.equal(probe.needsImage, true);
    const o = await importForHost({ bytes: text, source: path.join(FIX, 'i.txt'), target, image: path.join(FIX, 'images', 'in.png') });
    assert.match(o.text!, /"file": "\.\.\/images\/in\.png"/);
  });

  it('a diffusers scheduler config needs the model folder', async () => {
    const cfg = new TextEncoder().encode(JSON.stringify({ _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'trailing' }));
    const o = await importForHost({ bytes: cfg, source: '/x/scheduler_config.json', target: '/x/s.dpipe' });
    assert.equal(o.needsModel, true);
    assert.equal(o.text, undefined);
  });

  const tiny = path.join(SD, 'tiny-sd15');
  (fs.existsSync(tiny) ? it : it.skip)('with the picked model folder: its path relative to the saved pipeline; a diffusers config becomes the folder\'s pipeline', async () => {
    const target = path.join(path.dirname(tiny), 'imports', 'p.dpipe');
    const o = await importForHost({ bytes: bytes('comfyui-default-api.json'), source: 'comfyui-default-api.json', target, modelFolder: tiny });
    assert.match(o.text!, /"path": "\.\.\/tiny-sd15"/);
    const cfg = new TextEncoder().encode(JSON.stringify({ _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'trailing' }));
    const d = await importForHost({ bytes: cfg, source: 'scheduler_config.json', target, modelFolder: tiny, steps: 7 });
    assert.ok(d.text, d.errors.map((e) => e.message).join('\n'));
    assert.match(d.text!, /"spacing": "trailing"/);
    assert.match(d.text!, /"type": "solver.euler"/);
  });

  it('Open Pipeline from Image recognizes ComfyUI and A1111 PNGs to offer the import', () => {
    assert.equal(importableImage(bytes('comfyui-default.png')), 'ComfyUI');
    assert.equal(importableImage(bytes('comfyui-workflow-only.png')), 'ComfyUI');
    assert.equal(importableImage(bytes('a1111-euler-a.png')), 'A1111');
    assert.equal(importableImage(new TextEncoder().encode('not a png')), undefined);
  });

  it('suggests a free name beside the source', () => {
    const taken = new Set(['/w/flow.dpipe', '/w/flow-2.dpipe']);
    assert.equal(suggestedTarget('/w/flow.json', (f) => taken.has(f)), '/w/flow-3.dpipe');
    assert.equal(suggestedTarget('/w/img.PNG', () => false), '/w/img.dpipe');
  });

  it('the command is declared in the palette and the explorer menu', () => {
    const pj = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const cmd = pj.contributes.commands.find((c: { command: string }) => c.command === 'dpipe.importPipeline');
    assert.deepEqual([cmd.title, cmd.category], ['Import Pipeline…', 'dpipe']);
    assert.ok(pj.contributes.menus.commandPalette.some((m: { command: string }) => m.command === 'dpipe.importPipeline'));
    assert.ok(pj.contributes.menus['explorer/context'].some((m: { command: string; when: string }) => m.command === 'dpipe.importPipeline' && /\.png/.test(m.when)));
    const src = fs.readFileSync(path.join(ROOT, 'extension', 'commands.ts'), 'utf8');
    assert.match(src, /importPipeline: 'dpipe\.importPipeline'/);
  });
});
