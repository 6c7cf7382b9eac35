/**
 * Named solver presets ("k-diffusion", "diffusers", "repo"): each preset is exactly the explicit options it
 * documents; an option written against the preset is E_PARAM_VALUE; the k-diffusion 2M/3M presets equal
 * k-diffusion's SDE samplers at η = 0 (which is how k-diffusion writes those ODE solvers); solverNfe follows
 * the preset. Golden parity of the presets through pipelines: test/golden/pipelines.test.ts.
 */
import { strict as assert } from 'assert';
import { DpipeError } from '../../src/engine/core/errors';
import type { Latent, SolverFn } from '../../src/engine/core/types';
import type { Params, ParamSpec } from '../../src/engine/registry/types';
import { nodeTypes, solverNfe } from '../../src/engine/registry/index';
import { dpmpp2m, dpmpp3m } from '../../src/engine/solvers/index';
import { dpmpp2mSde, dpmpp3mSde } from '../../src/engine/solvers/stochastic/index';
import { readParams } from '../../src/engine/registry/params';
import { karrasSigmas } from '../../src/engine/schedules/kdiffusion';
import { finish } from '../../src/engine/schedules/common';
import { arrayNoise, counted, ctxWith, gmmDenoiser } from '../helpers/gmm';

/** Every solver entry's presets, by block type (the entries that have any). */
const ALL = Object.fromEntries([...nodeTypes().values()].filter((n) => Object.keys(n.solverEntry?.presets ?? {}).length > 0).map((n) => [n.type, n.solverEntry!.presets]));
const x40 = (): Latent => ({ shape: [1, 3, 8, 8], data: new Float64Array(192).map((_, i) => 40 * Math.sin(i)) });
const toZero = finish(karrasSigmas(8, 0.03, 40, 7), 'zero', 0);
const toMin = karrasSigmas(8, 0.03, 40, 7);
const draws = (): Latent => ({ shape: [40, 1, 3, 8, 8], data: new Float64Array(40 * 192).map((_, i) => Math.sin(1.7 * i + 0.3) * 1.2) });

function maxAbs(a: Latent, b: Latent): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

async function runBlock(type: string, params: Params, sigmas: Float64Array): Promise<{ x: Latent; nfe: number }> {
  const node = nodeTypes().get(type)!;
  const out = await node.evaluate({ nodeId: 'n', baseDir: '.', services: {} as never }, {}, params);
  const sampler = out.sampler as { run: SolverFn<Params>; params: Params };
  const { model, calls } = counted(gmmDenoiser);
  const x = await sampler.run(model, x40(), sigmas, params, ctxWith(arrayNoise(draws(), 192)));
  return { x, nfe: calls.length };
}

describe('solvers: named presets', () => {
  const types = nodeTypes();

  it('every block the brief names has a preset parameter with custom as default', () => {
    const need = ['euler', 'euler_ancestral', 'heun', 'lms', 'dpmpp_2m', 'dpmpp_3m', 'dpm_multistep', 'dpm_singlestep', 'dpmpp_2s', 'unipc', 'deis', 'pndm', 'dpmpp_2m_sde', 'sa_solver', 'ddim_eta'];
    for (const t of need) {
      const spec = types.get(`solver.${t}`)!.params.find((p) => p.name === 'preset');
      assert.ok(spec && spec.type === 'enum', `solver.${t} has no preset`);
      assert.equal(spec.default, 'custom');
      assert.deepEqual(spec.options, ['custom', ...Object.keys(ALL[`solver.${t}`])]);
    }
  });

  for (const [type, presets] of Object.entries(ALL)) {
    for (const [name, preset] of Object.entries(presets)) {
      it(`${type} "${name}": sets only real options to valid values, documents each, and runs exactly as those explicit options`, async () => {
        const specs = types.get(type)!.params;
        const spec = specs.find((p) => p.name === 'preset') as ParamSpec & { optionDocs: Record<string, string> };
        for (const [k, v] of Object.entries(preset.sets)) {
          assert.ok(specs.some((p) => p.name === k && k !== 'preset'), `${k} is not an option of ${type}`);
          readParams(type, specs.filter((p) => p.name === k), { [k]: v });
          assert.ok(spec.optionDocs[name].includes(`${k} ${JSON.stringify(v)}`), `${type} ${name} doc: ${spec.optionDocs[name]}`);
        }
        for (const sigmas of [toZero, toMin]) {
          const a = await runBlock(type, { preset: name }, sigmas);
          const b = await runBlock(type, { ...preset.sets }, sigmas);
          assert.equal(maxAbs(a.x, b.x), 0);
          assert.equal(a.nfe, b.nfe);
          if (!types.get(type)!.solver?.stochastic) assert.equal(a.nfe, solverNfe(type, sigmas, { preset: name }), 'solverNfe follows the preset');
        }
      });
    }
  }

  it('an option written against the preset is E_PARAM_VALUE naming both; the default or the preset\'s own value is accepted', async () => {
    const run = async (p: Params) => dpmpp2m(gmmDenoiser, x40(), toMin, p, ctxWith());
    await assert.rejects(run({ preset: 'diffusers', lowerOrderFinal: 'always' }), (e: unknown) => e instanceof DpipeError && e.code === 'E_PARAM_VALUE' && /preset "diffusers" sets lowerOrderFinal to "below15".*lowerOrderFinal to "always"/.test(e.message));
    await assert.rejects(
      runBlock('solver.euler', { preset: 'diffusers', sChurn: 2 }, toZero),
      (e: unknown) => e instanceof DpipeError && e.code === 'E_PARAM_VALUE' && /sChurn/.test(e.message),
    );
    const ref = await run({ lowerOrderFinal: 'below15' });
    for (const p of [{ preset: 'diffusers' }, { preset: 'diffusers', lowerOrderFinal: 'below15' }, { preset: 'diffusers', lowerOrderFinal: 'off' }] as Params[]) {
      assert.equal(maxAbs(await run(p), ref), 0, JSON.stringify(p)); // 'off' is the block's default: the preset wins
    }
    // The presets differ where the references differ (10 steps: diffusers lowers the last step, the repo does not below 10).
    const s10 = karrasSigmas(11, 0.03, 40, 7); // 10 steps ending at σ_min
    const [kd, df, repo] = await Promise.all(['k-diffusion', 'diffusers', 'repo'].map((p) => dpmpp2m(gmmDenoiser, x40(), s10, { preset: p }, ctxWith())));
    assert.ok(maxAbs(kd, df) > 1e-3 && maxAbs(kd, repo) === 0, `${maxAbs(kd, df)} ${maxAbs(kd, repo)}`);
  });

  it('k-diffusion presets of DPM-Solver++(2M)/(3M) are k-diffusion\'s 2M/3M SDE samplers at η = 0 (≤ 1e-12)', async () => {
    for (const sigmas of [toZero, toMin]) {
      const a2 = await dpmpp2m(gmmDenoiser, x40(), sigmas, { preset: 'k-diffusion' }, ctxWith());
      const b2 = await dpmpp2mSde(gmmDenoiser, x40(), sigmas, { eta: 0 }, ctxWith());
      assert.ok(maxAbs(a2, b2) < 1e-12, `2M ${maxAbs(a2, b2)}`);
      const a3 = await dpmpp3m(gmmDenoiser, x40(), sigmas, { preset: 'k-diffusion' }, ctxWith());
      const b3 = await dpmpp3mSde(gmmDenoiser, x40(), sigmas, { eta: 0 }, ctxWith());
      assert.ok(maxAbs(a3, b3) < 1e-12, `3M ${maxAbs(a3, b3)}`);
      // …and differ from the diffusers-style midpoint warm-up.
      const c3 = await dpmpp3m(gmmDenoiser, x40(), sigmas, { lowerOrderFinal: 'off' }, ctxWith());
      assert.ok(maxAbs(a3, c3) > 1e-4);
    }
  });

  it('DPM-Solver++(2M) SDE lowerOrderFinal: the diffusers preset at η = 0 is DPM-Solver++(2M) with the diffusers preset', async () => {
    // The SDE preset fixes η = 1; at η = 0 use the explicit options it documents.
    const sets = { ...ALL['solver.dpmpp_2m_sde'].diffusers.sets, eta: 0 };
    const a = await dpmpp2mSde(gmmDenoiser, x40(), toMin, sets, ctxWith());
    const b = await dpmpp2m(gmmDenoiser, x40(), toMin, { preset: 'diffusers' }, ctxWith());
    assert.ok(maxAbs(a, b) < 1e-12, `${maxAbs(a, b)}`);
    const c = await dpmpp2mSde(gmmDenoiser, x40(), toMin, { eta: 0 }, ctxWith());
    assert.ok(maxAbs(a, c) > 1e-4, 'below15 lowers the last step');
  });
});
