import { strict as assert } from 'assert';
import { DpipeError } from '../../src/engine/core/errors';
import type { ModelSchedule } from '../../src/engine/core/types';
import { DEFAULT_DISCRETE, discreteSigmas, makeModelSchedule } from '../../src/engine/model/schedule';
import { SCHEDULE_NODES } from '../../src/engine/schedules/index';
import { concatSigmas, diffusersTimesteps, flipSigmas, splitSigmas, truncateSigmas } from '../../src/engine/schedules/index';
import type { RunServices } from '../../src/engine/registry/node';
import type { ModelValue, Params } from '../../src/engine/registry/types';
import { readJson } from '../helpers/fixtures';

type Runs = Record<string, { sigmas?: number[]; timesteps?: number[] }>;
const runs = readJson<Runs>('schedules.json');
const table = discreteSigmas(DEFAULT_DISCRETE);
const vp: ModelSchedule = makeModelSchedule({ kind: 'discrete', discreteSigmas: table });
const services = {} as RunServices;

async function sched(type: string, params: Params, model?: ModelSchedule, inputs: Record<string, unknown> = {}): Promise<Float64Array> {
  const node = SCHEDULE_NODES.find((n) => n.type === type);
  if (!node) throw new Error(`no ${type}`);
  const mv = model ? ({ schedule: model } as unknown as ModelValue) : undefined;
  const out = await node.evaluate({ nodeId: 's', baseDir: '.', services }, { model: mv, ...inputs }, params);
  return out.sigmas as Float64Array;
}

/** Relative agreement: diffusers builds its σ table in float32, ours is float64 (rel. diff ≤ ~1e-6). */
function close(a: ArrayLike<number>, b: ArrayLike<number>, rel: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const tol = rel * Math.max(Math.abs(b[i]), 1e-300);
    assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

describe('schedules: k-diffusion σ-range family vs the golden runs', () => {
  for (const [type, run, extra] of [
    ['schedule.karras', 'kd_edm_euler_karras_n10', { rho: 7 }],
    ['schedule.exponential', 'kd_edm_euler_exponential_n10', {}],
    ['schedule.polyexponential', 'kd_edm_euler_polyexponential_n10', { rho: 1 }],
  ] as const) {
    it(`${type} reproduces ${run}'s sigmas to 1e-13`, async () => {
      const s = await sched(type, { steps: 10, sigmaMin: 0.002, sigmaMax: 80, ...extra });
      close(s, runs[run].sigmas!, 1e-13, run);
    });
  }
  it('karras closed form: ρ = 1 is linear in σ; the ends are σ_max, σ_min, 0', async () => {
    const s = await sched('schedule.karras', { steps: 5, sigmaMin: 1, sigmaMax: 5, rho: 1 });
    close(s, [5, 4, 3, 2, 1, 0], 1e-15, 'linear');
    const e = await sched('schedule.exponential', { steps: 3, sigmaMin: 0.1, sigmaMax: 10, final: 'none' });
    close(e, [10, 1, 0.1], 1e-15, 'exp');
  });
  it('vp: σ(t) = √(exp(β_d t²/2 + β_min t) − 1) at t = 1 … ε_s', async () => {
    const s = await sched('schedule.vp', { steps: 3 });
    const f = (t: number) => Math.sqrt(Math.exp((19.9 * t * t) / 2 + 0.1 * t) - 1);
    close(s, [f(1), f((1 + 1e-3) / 2), f(1e-3), 0], 1e-14, 'vp');
  });
  it('sigmaMin/sigmaMax = 0 take the model\'s range; without a model that is a clear error', async () => {
    const s = await sched('schedule.karras', { steps: 10, sigmaMin: 0, sigmaMax: 0 }, vp);
    close(s, runs.df_euler_karras_n10.sigmas!, 5e-5, 'df_euler_karras_n10');
    await assert.rejects(sched('schedule.karras', { steps: 10, sigmaMin: 0 }), (e: unknown) => e instanceof DpipeError && e.code === 'E_INPUT_MISSING' && /connect the model/.test(e.message));
  });
  it('final: sigma_min appends σ_min, none appends nothing', async () => {
    const a = await sched('schedule.exponential', { steps: 4, sigmaMin: 0.5, sigmaMax: 8, final: 'sigma_min' });
    assert.equal(a.length, 5);
    assert.equal(a[4], 0.5);
    const b = await sched('schedule.exponential', { steps: 4, sigmaMin: 0.5, sigmaMax: 8, final: 'none' });
    assert.equal(b.length, 4);
  });
  it('bad parameters name the block, the parameter and what is allowed', async () => {
    await assert.rejects(sched('schedule.karras', { steps: 0 }), /schedule.karras: parameter "steps" must be an integer in \[1, 10000\], got 0/);
    await assert.rejects(sched('schedule.karras', { final: 'end' }), /"final" must be one of "zero", "sigma_min", "none"/);
  });
});

describe('schedules: diffusers time-uniform spacings vs the golden runs', () => {
  const cases: [string, string, string, number, string][] = [
    ['df_euler_n10', 'linspace', 'euler', 1, 'zero'],
    ['df_euler_a_n10', 'linspace', 'euler', 1, 'zero'],
    ['df_lms_n10', 'linspace', 'euler', 1, 'zero'],
    ['df_dpmpp_2m_n10', 'linspace', 'multistep', 1, 'zero'],
    ['df_dpmpp_2m_sigmamin_n10', 'linspace', 'multistep', 1, 'sigma_min'],
    ['df_dpmpp_2m_trailing_n10', 'trailing', 'multistep', 1, 'zero'],
    ['df_dpm_2m_trailing_n10', 'trailing', 'multistep', 1, 'sigma_min'],
    ['df_unipc_bh2_o3_n10', 'linspace', 'multistep', 1, 'zero'],
  ];
  for (const [run, spacing, convention, stepsOffset, final] of cases) {
    it(`${spacing}/${convention}/${final} reproduces ${run} (timesteps exactly, σ to 5e-5 rel.: diffusers builds ᾱ in float32)`, async () => {
      const ref = runs[run];
      const ts = diffusersTimesteps(10, 1000, spacing as 'linspace', convention as 'euler', stepsOffset);
      assert.deepEqual(ts, ref.timesteps);
      const s = await sched('schedule.time_uniform', { steps: 10, spacing, convention, stepsOffset, final }, vp);
      close(s, ref.sigmas!, 5e-5, run);
    });
  }
  it('ddim leading/trailing timesteps match df_ddim_n10 / df_ddim_trailing_n10; PNDM uses the same', () => {
    assert.deepEqual(diffusersTimesteps(10, 1000, 'leading', 'ddim', 1), runs.df_ddim_n10.timesteps);
    assert.deepEqual(diffusersTimesteps(10, 1000, 'trailing', 'ddim', 1), runs.df_ddim_trailing_n10.timesteps);
    assert.deepEqual(diffusersTimesteps(10, 1000, 'leading', 'ddim', 1), [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  });
  it('leading/multistep uses N//(n+1), and linspace/ddim rounds half to even', () => {
    assert.deepEqual(diffusersTimesteps(4, 1000, 'leading', 'multistep', 1), [801, 601, 401, 201]);
    assert.deepEqual(diffusersTimesteps(4, 1000, 'linspace', 'ddim', 0), [999, 666, 333, 0]);
    assert.deepEqual(diffusersTimesteps(3, 10, 'linspace', 'ddim', 0), [9, 4, 0]); // 4.5 → 4
  });
  it('needs a discrete model', async () => {
    await assert.rejects(sched('schedule.time_uniform', { steps: 10 }), (e: unknown) => e instanceof DpipeError && e.code === 'E_INPUT_MISSING');
    const edm = makeModelSchedule({ kind: 'edm' });
    await assert.rejects(sched('schedule.time_uniform', { steps: 10 }, edm), (e: unknown) => e instanceof DpipeError && e.code === 'E_COMPOSE' && /discrete-time/.test(e.message));
  });
});

describe('schedules: explicit list and operations', () => {
  const s = Float64Array.from([10, 5, 2, 1, 0.5, 0]);
  it('explicit list with and without a final 0', async () => {
    assert.deepEqual([...(await sched('schedule.explicit', { values: [3, 2, 1], final: 'zero' }))], [3, 2, 1, 0]);
    assert.deepEqual([...(await sched('schedule.explicit', { values: [3, 2, 1], final: 'none' }))], [3, 2, 1]);
    await assert.rejects(sched('schedule.explicit', { values: [3, -1] }), /must be a list of numbers ≥ 0, got \[3,-1\] \(item 1 is -1\)/);
  });
  it('truncate: drop keeps σ ≤ start; insert starts exactly at σ', async () => {
    assert.deepEqual([...truncateSigmas(s, 3, 'drop')], [2, 1, 0.5, 0]);
    assert.deepEqual([...truncateSigmas(s, 3, 'insert')], [3, 2, 1, 0.5, 0]);
    assert.deepEqual([...truncateSigmas(s, 2, 'insert')], [2, 1, 0.5, 0]);
    assert.throws(() => truncateSigmas(s, 0.1, 'drop'), /leaves 1 value/);
    assert.deepEqual([...(await sched('schedule.truncate', { sigma: 1.5 }, undefined, { sigmas: s }))], [1, 0.5, 0]);
  });
  it('split shares the boundary σ; concat of the parts gives the schedule back; flip reverses', async () => {
    const [hi, lo] = splitSigmas(s, 2);
    assert.deepEqual([...hi], [10, 5, 2]);
    assert.deepEqual([...lo], [2, 1, 0.5, 0]);
    assert.deepEqual([...concatSigmas(hi, lo)], [...s]);
    assert.deepEqual([...concatSigmas(Float64Array.from([3, 2]), Float64Array.from([1, 0]))], [3, 2, 1, 0]);
    assert.deepEqual([...flipSigmas(s)], [0, 0.5, 1, 2, 5, 10]);
    assert.throws(() => splitSigmas(s, 6), /step must be an integer from 0 to 5/);
    const node = SCHEDULE_NODES.find((n) => n.type === 'schedule.split')!;
    const out = await node.evaluate({ nodeId: 'x', baseDir: '.', services }, { sigmas: s }, { step: 4 });
    assert.deepEqual([...(out.high as Float64Array)], [10, 5, 2, 1, 0.5]);
    assert.deepEqual([...(out.low as Float64Array)], [0.5, 0]);
  });
});
