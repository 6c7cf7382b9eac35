/**
 * ComfyUI σ schedules: every case of test/fixtures/interop/comfy_sigmas.json (tools/interop/comfy_sigmas.py, a
 * transcription of ComfyUI's scheduler code run with torch 1.13) is imported as an API prompt and the σ values the
 * imported pipeline's Sample block receives are compared with ComfyUI's, for an SD 1.x model. Every
 * sampler × scheduler pair of ComfyUI's KSampler is covered: pairs dpipe imports must give ComfyUI's σs (and solver),
 * the others must be refused by the sampler's name.
 *
 * Tolerance: ComfyUI computes the σs in float32 (torch.linspace, float32 σ table), dpipe in float64; the largest
 * relative difference measured over all cases is printed (1.1e-6) and must stay below 4e-6 (a wrong index or a missing/extra
 * step differs by ≥ 3e-3).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeModelSchedule, discreteSigmas, DEFAULT_DISCRETE } from '../../src/engine/model/schedule';
import { COMFY_SAMPLERS, isSupported } from '../../src/engine/interop/comfyNames';
import { evaluateSigmas, feeding } from '../../src/engine/interop/doc';
import { readApiPrompt } from '../../src/engine/interop/comfyGraph';
import { importComfyGraph } from '../../src/engine/interop/comfyImport';
import { promptFor, type SigmaCase } from './comfyPrompt';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'interop', 'comfy_sigmas.json');
const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as {
  sigmaMin: number;
  sigmaMax: number;
  cases: (SigmaCase & { sigmas?: number[]; sigmaMax?: number; sigmaMin?: number; n?: number })[];
};
const SD = makeModelSchedule({ kind: 'discrete', discreteSigmas: discreteSigmas(DEFAULT_DISCRETE) });

async function imported(c: SigmaCase) {
  const text = JSON.stringify(promptFor(c));
  return importComfyGraph(readApiPrompt(text, JSON.parse(text)), { modelPath: 'sd15' });
}

function label(c: SigmaCase): string {
  return Object.entries(c).filter(([k]) => !['sigmas', 'n', 'sigmaMin', 'sigmaMax'].includes(k) || typeof c[k] !== 'number' || k === 'n').map(([k, v]) => (Array.isArray(v) ? '' : `${k}=${v}`)).filter(Boolean).join(' ');
}

describe('ComfyUI import: σ schedules equal ComfyUI\'s (fixture from a torch transcription of ComfyUI)', function () {
  this.timeout(120000);
  let worst = 0;
  after(() => console.log(`      largest relative σ difference from ComfyUI (float32 vs float64): ${worst.toExponential(2)}`));

  it('the fixture covers every sampler of ComfyUI\'s KSampler with every scheduler', () => {
    const pairs = new Set(fixture.cases.filter((c) => c.node === 'KSampler' && c.steps === 10 && c.denoise === 1).map((c) => `${c.sampler}/${c.scheduler}`));
    assert.equal(pairs.size, Object.keys(COMFY_SAMPLERS).length * 9);
    assert.ok(Math.abs(fixture.sigmaMax - SD.sigmaMax) < 1e-6 * SD.sigmaMax && Math.abs(fixture.sigmaMin - SD.sigmaMin) < 1e-6);
  });

  for (const c of fixture.cases) {
    const entry = COMFY_SAMPLERS[c.sampler];
    const refused = !isSupported(entry);
    const adaptive = c.sigmas === undefined;
    const endsOk = adaptive && Math.abs(c.sigmaMax! - fixture.sigmaMax) < 1e-5 * fixture.sigmaMax && Math.abs(c.sigmaMin! - fixture.sigmaMin) < 1e-5 * fixture.sigmaMin;
    it(`${label(c)}${refused ? ' — refused by name' : adaptive && !endsOk ? ' — refused (ends not σ_max…σ_min)' : ''}`, async () => {
      const r = await imported(c);
      if (refused || (adaptive && !endsOk)) {
        assert.equal(r.doc, undefined);
        const err = r.issues.find((i) => i.severity === 'error')!;
        assert.ok(err, 'an error');
        assert.match(err.message, new RegExp(c.sampler), err.message);
        assert.equal(err.pointer, refused ? `/${c.node.startsWith('KSampler') ? '3/inputs/sampler_name' : '12/inputs/sampler_name'}` : '/3');
        return;
      }
      assert.ok(r.doc, r.issues.map((i) => i.message).join('\n'));
      const sample = r.doc!.nodes.find((n) => n.type === 'sample')!;
      const chain = feeding(r.doc!, `${sample.id}.sigmas`)!;
      const got = await evaluateSigmas(r.doc!, chain, SD);
      const solverNode = r.doc!.nodes.find((n) => n.id === feeding(r.doc!, `${sample.id}.sampler`)!.split('.')[0])!;
      if (adaptive) {
        assert.deepEqual([...got].map((v) => +v.toPrecision(6)), [+SD.sigmaMax.toPrecision(6), +SD.sigmaMin.toPrecision(6)]);
        if (c.sampler === 'dpm_fast') assert.equal(solverNode.params.nfe, c.n);
        return;
      }
      const want = c.sigmas!;
      assert.equal(got.length, want.length, `length ${got.length} vs ComfyUI ${want.length}: ${[...got].map((v) => v.toPrecision(5))}`);
      for (let i = 0; i < want.length; i++) {
        const d = want[i] === 0 ? Math.abs(got[i]) : Math.abs(got[i] - want[i]) / want[i];
        worst = Math.max(worst, d);
        assert.ok(d < 4e-6, `σ[${i}] = ${got[i]} vs ComfyUI ${want[i]} (relative ${d.toExponential(2)})`);
      }
      const solver = (entry as { solver: (n: number) => { type: string } }).solver(want.length);
      if (c.node.startsWith('KSampler')) assert.equal(solverNode.type, solver.type);
      // Where the run starts at σ_max, ComfyUI scales the noise by √(1 + σ₀²) (max_denoise).
      const vp = Math.abs(want[0] - fixture.sigmaMax) <= 1e-5 * fixture.sigmaMax || want[0] > fixture.sigmaMax;
      assert.equal(sample.params.noiseScale, vp ? 'vp' : 'sigma');
    });
  }
});
