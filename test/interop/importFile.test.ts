/**
 * `importBytes`: what a file is, recognized by its content (PNG chunks, ComfyUI JSON, diffusers config, infotext),
 * and problems located by line and column; the PNG fixtures match what tools/interop/make_pngs.ts builds from the
 * JSON/text fixtures with dpipe's PNG helpers.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importBytes } from '../../src/engine/interop/importFile';
import { readPngText, encodePng, addPngText } from '../../src/engine/run/png';
import { fixtures } from '../../tools/interop/make_pngs';

const DIR = path.join(__dirname, '..', 'fixtures', 'interop');
const bytes = (f: string) => new Uint8Array(fs.readFileSync(path.join(DIR, f)));
const enc = (s: string) => new TextEncoder().encode(s);

describe('import: files recognized by content, problems located', () => {
  it('the PNG fixtures are what make_pngs.ts builds (ComfyUI tEXt prompt + workflow, A1111 tEXt / iTXt parameters)', () => {
    for (const [name, built] of Object.entries(fixtures())) assert.deepEqual(bytes(name), built, `${name} is stale: npx tsx tools/interop/make_pngs.ts`);
    const chunks = readPngText(bytes('comfyui-default.png'));
    assert.deepEqual(JSON.parse(chunks.prompt), JSON.parse(fs.readFileSync(path.join(DIR, 'comfyui-default-api.json'), 'utf8')));
    assert.ok(chunks.workflow.includes('"version": 0.4'));
  });

  it('a ComfyUI PNG: the prompt chunk wins; a PNG with the workflow only uses it', async () => {
    const a = await importBytes(bytes('comfyui-default.png'), 'comfyui-default.png', { modelPath: 'sd15' });
    assert.equal(a.kind, 'comfyui-api');
    assert.equal(a.doc!.nodes.find((n) => n.type === 'noise.torch')!.params.seed, 156680208700286);
    assert.deepEqual(a.modelNames, ['v1-5-pruned-emaonly.safetensors']);
    const w = await importBytes(bytes('comfyui-workflow-only.png'), 'comfyui-workflow-only.png', { modelPath: 'sd15' });
    assert.equal(w.kind, 'comfyui-workflow');
    assert.equal(w.doc!.nodes.find((n) => n.type === 'noise.torch')!.params.seed, 123);
    const seedWarning = w.problems.find((p) => p.code === 'W_IMPORT' && /mod 2³²/.test(p.message))!;
    assert.equal(seedWarning.file, 'comfyui-workflow-only.png (workflow chunk)');
    assert.ok(seedWarning.line === 1 && seedWarning.column! > 1000, `${seedWarning.line}:${seedWarning.column}`);
  });

  it('A1111 PNGs, Latin-1 tEXt and UTF-8 iTXt', async () => {
    const a = await importBytes(bytes('a1111-euler-a.png'), 'a1111-euler-a.png');
    assert.equal(a.kind, 'a1111');
    assert.equal(a.doc!.nodes.find((n) => n.type === 'noise.torch')!.params.seed, 3141592);
    const u = await importBytes(bytes('a1111-utf8.png'), 'a1111-utf8.png');
    assert.equal(u.doc!.nodes.find((n) => n.type === 'cond.prompt')!.params.text, 'ein Café in Zürich, 東京の夜');
  });

  it('a dpipe PNG, a PNG without chunks, bad JSON, unknown JSON, binary', async () => {
    const img = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) });
    const dpipe = await importBytes(addPngText(img, { dpipe: '{}' }), 'run.png');
    assert.match(dpipe.problems[0].message, /written by dpipe: open its pipeline with "Open Pipeline from Image"/);
    const bare = await importBytes(img, 'bare.png');
    assert.match(bare.problems[0].message, /no ComfyUI "prompt"\/"workflow" or A1111 "parameters" text chunk \(no text chunks at all/);
    const bad = await importBytes(enc('{\n  "3": { "class_type": "KSampler", }\n}'), 'bad.json');
    assert.equal(bad.problems[0].code, 'E_JSON');
    assert.deepEqual([bad.problems[0].line, bad.problems[0].column], [2, 36]);
    const other = await importBytes(enc('{ "nodes": 3 }'), 'other.json');
    assert.match(other.problems[0].message, /neither a ComfyUI API prompt/);
    const bin = await importBytes(Uint8Array.from([0xff, 0xfe, 0x00, 0xc3]), 'x.bin');
    assert.match(bin.problems[0].message, /neither a PNG nor UTF-8 text/);
  });

  it('an unsupported ComfyUI node and sampler name: located at their line and column, nothing imported', async () => {
    const r = await importBytes(bytes('comfyui-unsupported-api.json'), 'comfyui-unsupported-api.json');
    assert.equal(r.doc, undefined);
    const lora = r.problems.find((p) => /LoraLoader \(node 10\)/.test(p.message))!;
    const sampler = r.problems.find((p) => /sampler "dpm_2_ancestral"/.test(p.message))!;
    assert.deepEqual([lora.code, lora.line, lora.pointer], ['E_IMPORT', 10, '/10/class_type']);
    assert.deepEqual([sampler.line, sampler.column, sampler.pointer], [4, 57, '/3/inputs/sampler_name']);
  });

  it('a diffusers scheduler config needs the model folder; strict about options it does not reproduce', async () => {
    const cfg = { _class_name: 'DPMSolverMultistepScheduler', solver_order: 2, algorithm_type: 'dpmsolver++', use_karras_sigmas: true, timestep_spacing: 'leading', steps_offset: 1 };
    const without = await importBytes(enc(JSON.stringify(cfg)), 'scheduler_config.json');
    assert.equal(without.kind, 'diffusers-scheduler');
    assert.ok(without.needsModel);
    assert.match(without.problems.find((p) => p.severity === 'error')!.message, /--model DIR/);
    const heun = await importBytes(enc(JSON.stringify({ ...cfg, solver_type: 'heun', lower_order_final: false })), 'scheduler_config.json');
    const msgs = heun.problems.filter((p) => p.severity === 'error').map((p) => `${p.pointer}: ${p.message}`);
    assert.ok(msgs.some((m) => m.startsWith('/solver_type: ') && /reproduce solver_type = "midpoint"/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('/lower_order_final: ')));
    const ddim = await importBytes(enc(JSON.stringify({ _class_name: 'DDIMScheduler' })), 'scheduler_config.json');
    assert.ok(ddim.problems.some((p) => /clip_sample = true \(the class default\)/.test(p.message)));
    const unknown = await importBytes(enc(JSON.stringify({ _class_name: 'LCMScheduler' })), 'scheduler_config.json');
    assert.match(unknown.problems[0].message, /LCMScheduler is not a scheduler dpipe reproduces/);
  });
});
