/**
 * The preset pipeline templates (examples/presets/*.dpipe, on the demo model): each names the reference
 * function or class it reproduces, sets every level explicitly (the model's timestep rounding and time
 * interpolation, the schedule and its end, the solver's named preset, the start scaling), agrees at every level
 * with the golden pipeline of the same reference (test/fixtures/golden-pipelines, verified within 1e-4 of the
 * reference outputs by pipelines.test.ts), and runs with the exact NFE of its solver.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { hasErrors, loadPipelineFile } from '../../src/engine/format/index';
import type { PipelineDoc, PipelineNode } from '../../src/engine/format/types';
import { nodeTypes } from '../../src/engine/registry/index';
import type { Params } from '../../src/engine/registry/types';
import { runPipeline } from '../../src/engine/run/index';
import { solverNfe } from '../../src/engine/registry/index';

const ROOT = path.join(__dirname, '..', '..');
const DIR = path.join(ROOT, 'examples', 'presets');
const GOLDEN = path.join(ROOT, 'test', 'fixtures', 'golden-pipelines');
const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith('.dpipe')).sort();

/**
 * Template → the golden run of the same reference configuration, and what may differ: the step count always;
 * `solver` params listed (e.g. the order); `noiseScale` where the golden run chose another start than the
 * library's own (kdvp 2M runs start from z·√(1+σ²), k-diffusion's samplers from z·σ_max).
 */
const SAME_AS: Record<string, { run: string; solverMayDiffer?: string[]; noiseScaleMayDiffer?: boolean }> = {
  'k-diffusion-euler-karras': { run: 'kdvp_euler_karras_n10' },
  'k-diffusion-dpmpp-2m-karras': { run: 'kdvp_dpmpp_2m_karras_n10', noiseScaleMayDiffer: true },
  'k-diffusion-euler-ancestral': { run: 'kdvp_euler_ancestral_tuniform_n10' },
  'k-diffusion-dpmpp-2m-sde-karras': { run: 'kdvp_dpmpp_2m_sde_karras_n10', noiseScaleMayDiffer: true },
  'diffusers-euler': { run: 'df_euler_n10' },
  'diffusers-euler-ancestral': { run: 'df_euler_a_n10' },
  'diffusers-ddim': { run: 'df_ddim_n10' },
  'diffusers-dpmpp-2m': { run: 'df_dpmpp_2m_n10' },
  'diffusers-dpmpp-2m-karras': { run: 'df_dpmpp_2m_karras_n10' },
  'diffusers-unipc': { run: 'df_unipc_bh2_o2_n10' },
  'dpm-solver-dpmpp-2m': { run: 'dpms_dpmpp_multistep_o2_time_uniform_n10' },
  'dpm-solver-singlestep-3': { run: 'dpms_dpm_singlestep_o3_logSNR_n10' },
  'unipc-bh2-o2': { run: 'unipc_bh2_o3_time_uniform_n10', solverMayDiffer: ['order'] },
  'unipc-bh1-o3': { run: 'unipc_bh1_o3_logSNR_n10' },
};

function load(file: string): PipelineDoc {
  const { doc, problems } = loadPipelineFile(file);
  assert.ok(doc && !hasErrors(problems), `${file}: ${JSON.stringify(problems)}`);
  return doc;
}

const byCategory = (doc: PipelineDoc, category: string): PipelineNode => {
  const types = nodeTypes();
  const found = doc.nodes.filter((n) => types.get(n.type)?.category === category);
  assert.equal(found.length, 1, `one ${category} node`);
  return found[0];
};
const omit = (p: Params, keys: readonly string[]): Params => Object.fromEntries(Object.entries(p).filter(([k]) => !keys.includes(k)));

describe('examples/presets: pipeline templates that set every level of a reference implementation', function () {
  this.timeout(60000);

  it('one template per listed reference configuration, for k-diffusion, diffusers, dpm-solver and UniPC', () => {
    assert.deepEqual(FILES.map((f) => f.replace(/\.dpipe$/, '')).sort(), Object.keys(SAME_AS).sort());
    for (const prefix of ['k-diffusion-', 'diffusers-', 'dpm-solver-', 'unipc-']) assert.ok(FILES.some((f) => f.startsWith(prefix)), prefix);
  });

  for (const f of FILES) {
    const name = f.replace(/\.dpipe$/, '');
    it(`${name}: names its reference, sets every level, matches golden run ${SAME_AS[name]?.run}, runs with the exact NFE`, async () => {
      const doc = load(path.join(DIR, f));
      const desc = String(doc.metadata.description ?? '');
      assert.match(desc, /^Reproduces (k_diffusion\.sampling\.sample_\w+|diffusers \w+Scheduler|LuChengTHU\/dpm-solver DPM_Solver\(|wl-zhao\/UniPC UniPC\()/);
      const model = byCategory(doc, 'Model');
      const sched = byCategory(doc, 'Schedule');
      const solver = byCategory(doc, 'Solver');
      const sample = byCategory(doc, 'Sample');
      // Every level written out, not left to defaults.
      assert.equal(typeof model.params.roundTimesteps, 'boolean');
      assert.ok(['log_sigma', 'log_alpha'].includes(model.params.timeInterpolation as string));
      if (nodeTypes().get(sched.type)!.params.some((p) => p.name === 'final')) assert.ok(typeof sched.params.final === 'string', 'schedule end');
      assert.ok(typeof solver.params.preset === 'string' && solver.params.preset !== 'custom', 'solver preset');
      assert.ok(desc.includes(String(solver.params.preset === 'repo' ? (name.startsWith('unipc') ? 'wl-zhao/UniPC' : 'LuChengTHU/dpm-solver') : solver.params.preset === 'k-diffusion' ? 'k_diffusion' : 'diffusers')));
      assert.ok(['sigma', 'vp'].includes(sample.params.noiseScale as string), 'start scaling');

      // The same configuration as the verified golden pipeline of this reference.
      const same = SAME_AS[name];
      const g = load(path.join(GOLDEN, `${same.run}.dpipe`));
      const gm = byCategory(g, 'Model');
      for (const k of ['roundTimesteps', 'timeInterpolation']) assert.deepEqual(model.params[k], gm.params[k], `model ${k}`);
      const gs = byCategory(g, 'Schedule');
      assert.equal(sched.type, gs.type);
      assert.deepEqual(omit(sched.params, ['steps']), omit(gs.params, ['steps']), 'schedule');
      const gv = byCategory(g, 'Solver');
      assert.equal(solver.type, gv.type);
      assert.deepEqual(omit(solver.params, same.solverMayDiffer ?? []), omit(gv.params, same.solverMayDiffer ?? []), 'solver');
      if (!same.noiseScaleMayDiffer) assert.equal(sample.params.noiseScale, byCategory(g, 'Sample').params.noiseScale, 'noiseScale');

      const res = await runPipeline(doc, { baseDir: DIR, batch: 2, trajectory: { record: false } });
      const rec = res.record.samples[0];
      assert.equal(rec.nfe, solverNfe(solver.type, Float64Array.from(rec.sigmas), solver.params));
      assert.equal(rec.steps, sched.params.steps);
      assert.ok(res.outputs.some((o) => o.kind === 'png'));
    });
  }
});
