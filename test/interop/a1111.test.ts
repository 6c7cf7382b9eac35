/**
 * A1111 / Forge infotexts: the reader (as A1111's parse_generation_parameters), the sampler/schedule mapping, the
 * noise settings, located refusals, and the export back to an infotext (import ∘ export = the same pipeline).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { a1111Version, exportInfotext, importInfotext, parseInfotext, splitSamplerName, A1111_SAMPLERS } from '../../src/engine/interop/a1111';
import { evaluateSigmas, feeding } from '../../src/engine/interop/doc';
import { loglinearInterp } from '../../src/engine/schedules/comfy';
import { discreteSigmas, DEFAULT_DISCRETE, makeModelSchedule } from '../../src/engine/model/schedule';
import { karrasSigmas } from '../../src/engine/schedules/kdiffusion';
import type { PipelineDoc } from '../../src/engine/format/types';

const DIR = path.join(__dirname, '..', 'fixtures', 'interop');
const read = (f: string) => fs.readFileSync(path.join(DIR, f), 'utf8');
const SD_TABLE = discreteSigmas(DEFAULT_DISCRETE);
const SD = makeModelSchedule({ kind: 'discrete', discreteSigmas: SD_TABLE });
const node = (doc: PipelineDoc, type: string) => doc.nodes.find((n) => n.type === type)!;
const sigmasOf = async (doc: PipelineDoc) => [...(await evaluateSigmas(doc, feeding(doc, `${node(doc, 'sample').id}.sigmas`)!, SD))];

describe('A1111 infotext', () => {
  it('reads prompt, negative prompt and fields as A1111 does (quoted values, sizes, a last line with < 3 fields is prompt)', () => {
    const t = parseInfotext('line one\nline two\nNegative prompt: bad, ugly\nmore negative\nSteps: 20, Sampler: Euler a, Size: 640x480, Lora hashes: "a: 1, b: 2", Seed: 5');
    assert.equal(t.prompt, 'line one\nline two');
    assert.equal(t.negative, 'bad, ugly\nmore negative');
    assert.equal(t.fields.get('Steps')!.value, '20');
    assert.equal(t.fields.get('Size-1')!.value, '640');
    assert.equal(t.fields.get('Size-2')!.value, '480');
    assert.equal(t.fields.get('Lora hashes')!.value, 'a: 1, b: 2');
    const text = 'line one\nline two\nNegative prompt: bad, ugly\nmore negative\nSteps: 20, Sampler: Euler a, Size: 640x480, Lora hashes: "a: 1, b: 2", Seed: 5';
    const seed = t.fields.get('Seed')!;
    assert.equal(text.slice(seed.offset, seed.offset + seed.length), '5');
    const p = parseInfotext('a cat: cute, fluffy\nSteps: 20');
    assert.equal(p.prompt, 'a cat: cute, fluffy\nSteps: 20');
    assert.equal(p.fields.size, 0);
  });

  it('splits old sampler names and reads versions', () => {
    assert.deepEqual(splitSamplerName('DPM++ 2M Karras', undefined), { sampler: 'DPM++ 2M', schedule: 'Karras' });
    assert.deepEqual(splitSamplerName('DPM++ SDE Exponential', undefined), { sampler: 'DPM++ SDE', schedule: 'Exponential' });
    assert.deepEqual(splitSamplerName('Euler a', 'SGMUniform'), { sampler: 'Euler a', schedule: 'SGM Uniform' });
    assert.deepEqual(a1111Version('v1.10.1'), [1, 10]);
    assert.deepEqual(a1111Version('f2.0.1v1.10.1-previous-669-gdfdcbab6'), [1, 10]);
    assert.equal(a1111Version(undefined), undefined);
  });

  it('DPM++ 2M Karras: Karras σs of the model\'s range, k-diffusion DPM++(2M), A1111\'s CPU noise scaled by σ₀', async () => {
    const r = importInfotext(read('a1111-dpmpp2m-karras.txt'), { modelPath: 'sd15' });
    assert.ok(r.doc, r.issues.map((i) => i.message).join('\n'));
    const d = r.doc!;
    assert.deepEqual(node(d, 'solver.dpmpp_2m').params, { preset: 'k-diffusion', lowerOrderFinal: 'off', solverType: 'midpoint' });
    assert.deepEqual(node(d, 'noise.torch').params, { seed: 1234567890, order: 'a1111', source: 'cpu', kernel: 'avx2' });
    assert.deepEqual(node(d, 'latent.empty').params, { batch: 1, channels: 0, height: 96, width: 64 });
    assert.equal(node(d, 'sample').params.noiseScale, 'sigma');
    assert.equal(node(d, 'guider.cfg').params.scale, 7);
    assert.deepEqual(d.nodes.filter((n) => n.type === 'cond.prompt').map((n) => n.params.text), ['a watercolor painting of a lighthouse, soft light', 'blurry, lowres']);
    assert.equal(node(d, 'model.folder').params.roundTimesteps, undefined, 'A1111 calls the model with fractional timesteps');
    const got = await sigmasOf(d);
    const want = [...karrasSigmas(25, SD_TABLE[0], SD_TABLE[999], 7), 0];
    assert.equal(got.length, 26);
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-12, `σ[${i}]`));
    assert.deepEqual(r.issues.filter((i) => i.severity === 'error'), []);
  });

  it('Euler a with variation seed, seed resize, Eta and ENSD; no RNG field = the GPU, imitated by NV with a warning', () => {
    const r = importInfotext(read('a1111-euler-a-variation.txt'), { modelPath: 'sd15' });
    const d = r.doc!;
    assert.deepEqual(node(d, 'solver.euler_ancestral').params, { preset: 'k-diffusion', eta: 0.67, sNoise: 1 });
    assert.deepEqual(node(d, 'noise.torch').params, { seed: 3141592, order: 'a1111', source: 'nv', kernel: 'avx2', variationSeed: 2718281, variationStrength: 0.3, seedResizeFrom: [64, 96], ensd: 31337 });
    assert.equal(node(d, 'schedule.normal').params.steps, 30);
    const w = r.issues.find((i) => i.field === 'RNG')!;
    assert.match(w.message, /not reproducible bit for bit/);
  });

  it('Automatic before and after A1111 1.9: "DPM++ 2M" is uniform before, Karras after', async () => {
    const line = (v?: string) => `a\nSteps: 10, Sampler: DPM++ 2M, CFG scale: 7, Seed: 1, Size: 512x512${v ? `, Version: ${v}` : ''}, RNG: CPU`;
    const before = importInfotext(line('v1.8.0')).doc!;
    const after = importInfotext(line('v1.10.1')).doc!;
    const unknown = importInfotext(line());
    assert.ok(node(before, 'schedule.normal'));
    assert.ok(node(after, 'schedule.karras'));
    assert.ok(node(unknown.doc!, 'schedule.normal'));
    assert.ok(unknown.issues.some((i) => i.severity === 'warning' && /before 1\.9/.test(i.message)));
  });

  it('DPM2 and DPM++ 3M SDE discard the next-to-last σ of a schedule one step longer; KL Optimal ends at σ_min; AYS lists A1111\'s levels', async () => {
    const base = 'a\nSteps: 8, CFG scale: 7, Seed: 1, Size: 512x512, RNG: CPU, Version: v1.10.1, ';
    const dpm2 = importInfotext(`${base}Sampler: DPM2`).doc!;
    const k9 = [...karrasSigmas(9, SD_TABLE[0], SD_TABLE[999], 7), 0];
    assert.deepEqual((await sigmasOf(dpm2)).map((v) => +v.toPrecision(12)), [...k9.slice(0, 8), 0].map((v) => +v.toPrecision(12)));
    const kl = await sigmasOf(importInfotext(`${base}Sampler: Euler, Schedule type: KL Optimal`).doc!);
    assert.equal(kl.length, 9);
    assert.ok(Math.abs(kl[0] - SD_TABLE[999]) < 1e-9 && Math.abs(kl[8] - SD_TABLE[0]) < 1e-12, 'from σ_max to σ_min, no final 0');
    const ays = await sigmasOf(importInfotext(`${base}Sampler: Euler, Schedule type: Align Your Steps`).doc!);
    const levels = [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029];
    assert.deepEqual(ays.map((v) => +v.toPrecision(10)), [...loglinearInterp(levels, 8), 0].map((v) => +v.toPrecision(10)));
  });

  it('refuses what it does not reproduce, by field and position', () => {
    const text = read('a1111-unsupported.txt');
    const r = importInfotext(text);
    assert.equal(r.doc, undefined);
    const errors = r.issues.filter((i) => i.severity === 'error');
    const by = (f: string) => errors.find((i) => i.field === f)!;
    assert.match(by('Sampler').message, /DPM2 a/);
    assert.equal(text.slice(by('Sampler').offset!, by('Sampler').offset! + by('Sampler').length!), 'DPM2 a');
    assert.match(by('Hires upscale').message, /hires\. fix/);
    assert.match(by('Clip skip').message, /Clip skip 2/);
    assert.ok(errors.some((i) => /<lora:armor_v2:0\.7>/.test(i.message)));
    for (const name of ['DDIM', 'PLMS', 'UniPC', 'DPM2 a', 'Restart']) assert.ok('unsupported' in A1111_SAMPLERS[name], name);
    const ddim = importInfotext('a\nSteps: 10, Sampler: DDIM, CFG scale: 7, Seed: 1, Size: 512x512');
    assert.match(ddim.issues.find((i) => i.severity === 'error')!.message, /timestep sampler/);
    const fast = importInfotext('a\nSteps: 10, Sampler: DPM fast, CFG scale: 7, Seed: 1, Size: 512x512, RNG: CPU');
    assert.match(fast.issues.find((i) => i.severity === 'error')!.message, /Eta 1/);
  });

  it('img2img needs the input image; with it, the schedule\'s last int(strength·steps) + 1 steps from the encoded image', async () => {
    const text = 'a\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512, Denoising strength: 0.6, RNG: CPU, Version: v1.10.1';
    const without = importInfotext(text);
    assert.equal(without.doc, undefined);
    assert.ok(without.needsImage);
    const r = importInfotext(text, { image: 'in.png' });
    const d = r.doc!;
    assert.equal(node(d, 'image.load').params.file, 'in.png');
    // int(0.6 · 20) = 12: A1111 runs 13 of the 20 steps (14 σ values)
    assert.equal((await sigmasOf(d)).length, 14);
  });

  describe('export: import ∘ export is the same pipeline', () => {
    for (const f of ['a1111-dpmpp2m-karras.txt', 'a1111-euler-a-variation.txt', 'a1111-old-name.txt']) {
      it(f, () => {
        const doc = importInfotext(read(f), { modelPath: 'sd15' }).doc!;
        const e = exportInfotext(doc);
        assert.ok(e.text, e.issues.map((i) => i.message).join('\n'));
        const again = importInfotext(e.text!, { modelPath: 'sd15' }).doc!;
        assert.deepEqual(again.nodes.map((n) => [n.type, n.params]), doc.nodes.map((n) => [n.type, n.params]));
        const src = parseInfotext(read(f)).fields;
        const out = parseInfotext(e.text!).fields;
        for (const k of ['Steps', 'CFG scale', 'Seed', 'Size-1', 'Size-2', 'Variation seed', 'Variation seed strength', 'Eta', 'ENSD', 'Model']) if (src.has(k)) assert.equal(out.get(k)?.value, src.get(k)?.value, k);
      });
    }
    it('names the block A1111 has no equivalent for', () => {
      const doc = importInfotext(read('a1111-dpmpp2m-karras.txt'), { modelPath: 'sd15' }).doc!;
      const bad = { ...doc, nodes: doc.nodes.map((n) => (n.type === 'solver.dpmpp_2m' ? { ...n, params: { preset: 'diffusers' } } : n)) };
      const e = exportInfotext(bad);
      assert.equal(e.text, undefined);
      assert.ok(e.issues.some((i) => i.nodeId === 'solver' && /has no A1111 equivalent/.test(i.message)), e.issues.map((i) => i.message).join('\n'));
    });
  });
});
