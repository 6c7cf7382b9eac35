/**
 * Contract test over every block of the stochastic family (STOCHASTIC_SOLVER_NODES): output shape,
 * determinism for a fixed seed, the run ends at the schedule's last σ, NFE as declared, the AbortSignal
 * honoured within one model evaluation, and bad parameters rejected with E_PARAM_VALUE.
 */
import { strict as assert } from 'assert';
import { STOCHASTIC_SOLVER_NODES } from '../../src/engine/solvers/stochastic/index';
import { DpipeError } from '../../src/engine/core/errors';
import type { Denoiser, Latent, StepEvent } from '../../src/engine/core/types';
import type { SamplerValue } from '../../src/engine/registry/types';
import { seededNoise } from '../../src/engine/noise/nodes';
import { gmmDenoise, readNpy } from './gmm';

const z = readNpy('z.npy');
const fixedSigmas = Float64Array.of(80, 20, 6, 2, 0.7, 0.25, 0.08, 0.02, 0);
const ctxEval = { nodeId: 's', baseDir: '.', services: {} as never };

async function sampler(type: string): Promise<SamplerValue> {
  const node = STOCHASTIC_SOLVER_NODES.find((n) => n.type === type)!;
  return ((await node.evaluate(ctxEval, {}, {})) as { sampler: SamplerValue }).sampler;
}

async function run(type: string, opts: { seed?: number; signal?: AbortSignal } = {}) {
  const s = await sampler(type);
  const sigmas = s.info.adaptive ? Float64Array.of(80, 0.02, 0) : fixedSigmas;
  const x0: Latent = { shape: [2, 3, 8, 8], data: z.data.slice(0, 384).map((v) => v * 80) };
  let nfe = 0;
  const model: Denoiser = async (x, sigma) => {
    if (opts.signal?.aborted) throw new DpipeError('E_ABORTED', 'stopped');
    nfe++;
    return gmmDenoise(x, sigma);
  };
  const steps: StepEvent[] = [];
  const out = await s.run(model, x0, sigmas, s.params, { noise: seededNoise(opts.seed ?? 1).stepSampler(x0.shape, sigmas), signal: opts.signal, onStep: (e) => steps.push(e) });
  return { out, nfe, steps, sigmas, info: s.info };
}

const SOLVERS = STOCHASTIC_SOLVER_NODES.filter((n) => n.category === 'Solver').map((n) => n.type);

describe('stochastic: registry contract', () => {
  it('every stochastic solver is registered as stochastic with a paper and parameters documented', () => {
    assert.ok(SOLVERS.length >= 10);
    for (const n of STOCHASTIC_SOLVER_NODES.filter((m) => m.category === 'Solver')) {
      assert.equal(n.solver!.stochastic, true, n.type);
      assert.ok(n.paper && n.paper.length > 20, n.type);
      for (const p of n.params) assert.ok(p.doc.length > 10, `${n.type}.${p.name}`);
    }
  });

  for (const type of SOLVERS) {
    it(`${type}: shape, determinism, last σ, NFE as declared, abort within one evaluation`, async () => {
      const a = await run(type);
      const b = await run(type);
      const c = await run(type, { seed: 2 });
      assert.deepEqual(a.out.shape, [2, 3, 8, 8]);
      assert.deepEqual(a.out.data, b.out.data, 'same seed, same result');
      assert.ok(a.out.data.some((v, i) => v !== c.out.data[i]), 'another seed changes the result');
      assert.ok(a.out.data.every(Number.isFinite));
      const steps = a.sigmas.length - 1;
      if (!a.info.adaptive) {
        assert.equal(a.steps.length, steps, 'one step event per step');
        assert.equal(a.steps[steps - 1].sigmaNext, a.sigmas[steps], 'ends at the last σ');
        // Declared NFE per step; two-stage steps to σ = 0 take one evaluation (k-diffusion), Restart adds its restarts.
        if (a.info.nfePerStep === 1) assert.equal(a.nfe, steps);
        else if (type !== 'solver.restart') assert.ok(a.nfe === steps * 2 || a.nfe === steps * 2 - 1, `nfe ${a.nfe}`);
        else assert.ok(a.nfe >= steps * 2 - 1);
      } else {
        assert.ok(a.nfe > 2);
      }
      // Abort after the 3rd evaluation: no further evaluation happens and the error is E_ABORTED.
      const ac = new AbortController();
      let count = 0;
      const s = await sampler(type);
      const sig = a.info.adaptive ? Float64Array.of(80, 0.02, 0) : fixedSigmas;
      const x0: Latent = { shape: [1, 3, 8, 8], data: z.data.slice(0, 192).map((v) => v * 80) };
      await assert.rejects(
        s.run(async (x, sigma) => {
          if (ac.signal.aborted) throw new DpipeError('E_ABORTED', 'stopped');
          if (++count === 3) ac.abort();
          return gmmDenoise(x, sigma);
        }, x0, sig, s.params, { noise: seededNoise(0).stepSampler(x0.shape, sig), signal: ac.signal }),
        (e: unknown) => e instanceof DpipeError && e.code === 'E_ABORTED',
      );
      assert.equal(count, 3);
    });
  }

  it('bad parameters are rejected naming the block and what is allowed', async () => {
    for (const [type, params] of [['solver.dpmpp_2m_sde', { solverType: 'rk4' }], ['solver.ddim_eta', { eta: 2 }], ['solver.er_sde', { order: 4 }], ['solver.sa_solver', { tauSigmaRange: [3, 1] }]] as const) {
      const s = await sampler(type);
      await assert.rejects(
        s.run(async (x) => x, { shape: [1, 1], data: Float64Array.of(1) }, Float64Array.of(2, 1, 0.5), params, { noise: () => Float64Array.of(0) }),
        (e: unknown) => e instanceof DpipeError && e.code === 'E_PARAM_VALUE' && e.message.includes(type),
      );
    }
  });
});
