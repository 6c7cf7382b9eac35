/**
 * The Sample block: runs a solver on a guided model over a σ schedule, from noise (and optionally a start
 * latent), the shape of ComfyUI's SamplerCustom.
 *
 * It is also where every model evaluation of a run is instrumented: the guider is wrapped into the one
 * {@link Denoiser} the solver sees, which checks the AbortSignal before each evaluation, counts evaluations
 * (NFE), times the model, rejects NaN/∞ naming the step and σ, and reports each evaluation (`onEval`:
 * step, σ, x, x̂0, guidance branches) and each solver step (`onStep`) to the run's services.
 */
import { DpipeError } from '../core/errors';
import { checkAllocation, checkTrajectory } from '../core/budget';
import { combine, latent } from '../core/latent';
import type { Denoiser, Latent } from '../core/types';
import type { EvalContext, NodeType } from '../registry/node';
import type { GuiderValue, NoiseValue, Params, SamplerValue } from '../registry/types';

/** How the initial noise is scaled to the first σ of the schedule. */
export type NoiseScale = 'sigma' | 'vp';

/** The start of a run: x_T from the start latent, a standard-normal draw z and σ₀ (see the `noiseScale` param). */
export function startState(lat: Latent, z: Float64Array, sigma0: number, scale: NoiseScale): Latent {
  const c = scale === 'vp' ? Math.sqrt(sigma0 * sigma0 + 1) : sigma0;
  return combine(lat, [[1, lat], [c, z]]);
}

function fmtSigma(s: number): string {
  return Number.isFinite(s) ? String(+s.toPrecision(6)) : String(s);
}

function findNonFinite(x: Latent): number {
  const d = x.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return i;
  return -1;
}

function checkSigmas(nodeId: string, sigmas: Float64Array): void {
  if (sigmas.length < 2) {
    throw new DpipeError('E_COMPOSE', `sample "${nodeId}": the schedule has ${sigmas.length} σ value(s); a run needs at least 2 (one step)`);
  }
  for (let i = 0; i < sigmas.length; i++) {
    if (!Number.isFinite(sigmas[i]) || sigmas[i] < 0) {
      throw new DpipeError('E_COMPOSE', `sample "${nodeId}": σ[${i}] = ${sigmas[i]}; schedules must hold finite values ≥ 0`);
    }
  }
}

/** Nominal number of model evaluations of a run (registry nfePerStep × steps); see {@link exactNfe}. */
export function expectedNfe(sampler: SamplerValue, steps: number): number {
  return steps * (sampler.info.nfePerStep + (sampler.corrector?.nfePerStep ?? 0));
}

/**
 * Exact number of model evaluations a run makes on `sigmas`: the solver's own count (its entry's `nfe`, its preset
 * applied) plus the corrector's `nfePerStep` on every step that does not end at σ = 0 (correctors leave the clean
 * sample alone). Guidance adds none: each guided evaluation is one model evaluation, whatever its branches.
 * Undefined when the solver picks its own steps (adaptive step size).
 */
export function exactNfe(sampler: SamplerValue, sigmas: Float64Array): number | undefined {
  const solver = sampler.nfe(sigmas);
  if (solver === undefined) return undefined;
  let corrected = 0;
  for (let i = 1; i < sigmas.length; i++) if (sigmas[i] > 0) corrected++;
  return solver + corrected * (sampler.corrector?.nfePerStep ?? 0);
}

export const sample: NodeType = {
  type: 'sample',
  category: 'Sample',
  title: 'Sample',
  doc:
    'Runs the solver (SAMPLER) on the guided model (GUIDER) along the schedule (SIGMAS). The start state is the ' +
    'latent (zeros when not connected) plus the initial noise scaled to the first σ. Outputs the final latent and ' +
    'the last model prediction x̂0. Every model evaluation is reported to the inspector; the run stops between ' +
    'evaluations when cancelled.',
  inputs: [
    { name: 'guider', type: 'GUIDER', doc: 'The model with its conditioning and guidance.' },
    { name: 'sampler', type: 'SAMPLER', doc: 'The solver with its options.' },
    { name: 'sigmas', type: 'SIGMAS', doc: 'Noise levels, descending; the run goes from the first to the last.' },
    { name: 'noise', type: 'NOISE', doc: 'Initial noise and the per-step draws of stochastic solvers.' },
    { name: 'latent', type: 'LATENT', optional: true, doc: 'Start latent (img2img); zeros of the model\'s sample shape when not connected.' },
  ],
  outputs: [
    { name: 'latent', type: 'LATENT', doc: 'The state at the last σ.' },
    { name: 'denoised', type: 'LATENT', doc: 'x̂0 of the last model evaluation.' },
  ],
  params: [
    { name: 'addNoise', type: 'boolean', default: true, doc: 'Add the initial noise to the start latent. Off: the latent is already noised to the first σ (e.g. from another run).' },
    {
      name: 'noiseScale',
      type: 'enum',
      default: 'sigma',
      options: ['sigma', 'vp'],
      optionDocs: {
        sigma: 'x_T = latent + σ₀·z, the VE/EDM start of k-diffusion and Karras et al. 2022 (and diffusers\' add_noise for img2img).',
        vp: 'x_T = latent + √(σ₀²+1)·z: z is a sample of the variance-preserving x_T (diffusers\' init_noise_sigma for VP-space schedulers such as DDIM/DPM-Solver/UniPC, the dpm-solver and UniPC repositories) mapped to VE coordinates. Meant for pure-noise starts.',
      },
      doc: 'How the initial noise z ~ N(0, I) is scaled to the first σ.',
    },
  ],
  async evaluate(ctx, inputs, params) {
    return runSample(ctx, inputs, params);
  },
  async check(ctx, inputs, params) {
    const prep = prepareSample(ctx, inputs, params);
    await probeSolver(ctx, prep);
    return { latent: prep.x, denoised: prep.x };
  },
};

/**
 * Everything before the first model evaluation: the solver supports the model, the schedule is usable, the start
 * latent has a shape, the run fits its memory and trajectory budgets, the noise source gives the start noise (its
 * seed range for this batch included). Validation runs this too, so a pipeline that validates starts.
 */
function prepareSample(ctx: EvalContext, inputs: Readonly<Record<string, unknown>>, params: Params) {
  const { nodeId, services } = ctx;
  const guider = inputs.guider as GuiderValue;
  const sampler = inputs.sampler as SamplerValue;
  const sigmas = inputs.sigmas as Float64Array;
  const noise = inputs.noise as NoiseValue;
  const start = inputs.latent as Latent | undefined;
  const model = guider.model;

  const supports = sampler.info.supports;
  if (supports && !supports.includes(model.schedule.kind)) {
    throw new DpipeError('E_COMPOSE', `sample "${nodeId}": solver ${sampler.type} runs on ${supports.join('/')} models; this model is ${model.schedule.kind}`);
  }
  checkSigmas(nodeId, sigmas);

  let lat: Latent;
  if (start) lat = start;
  else {
    if (!model.sampleShape) {
      throw new DpipeError('E_COMPOSE', `sample "${nodeId}": the model does not fix its sample shape; connect a latent (e.g. latent.empty with channels/height/width set)`);
    }
    checkAllocation([services.batch ?? 1, ...model.sampleShape], `sample "${nodeId}" (the model's sample shape)`, services.budget);
    lat = latent([services.batch ?? 1, ...model.sampleShape]);
  }
  const shape = lat.shape;
  const size = lat.data.length;
  checkAllocation(shape, `sample "${nodeId}"`, services.budget);

  let x = lat;
  if (params.addNoise !== false) {
    const given = services.initialNoise;
    if (given && (given.shape.length !== shape.length || given.shape.some((d, i) => d !== shape[i]))) {
      throw new DpipeError('E_SHAPE', `sample "${nodeId}": the initial noise given (--noise) has shape [${given.shape.join(', ')}]; this latent is [${shape.join(', ')}]`);
    }
    const z = given ? given.data : noise.initial(shape);
    if (z.length !== size) throw new DpipeError('E_SHAPE', `sample "${nodeId}": the noise source gave ${z.length} values for a latent of shape [${shape.join(', ')}] (${size} values)`);
    x = startState(lat, z, sigmas[0], params.noiseScale === 'vp' ? 'vp' : 'sigma');
  }
  const steps = sigmas.length - 1;
  const exact = exactNfe(sampler, sigmas);
  const nfe = exact ?? expectedNfe(sampler, steps);
  checkTrajectory(shape, nfe, `sample "${nodeId}"`, services.budget, guider.branches ? 2 + guider.branches.length : undefined);
  if (guider.conds) model.check?.(shape, guider.conds);
  if (model.timeOf) {
    for (const s of sigmas) {
      const t = model.timeOf(s);
      if (t !== null && !Number.isFinite(t)) {
        throw new DpipeError('E_MODEL', `sample "${nodeId}": at σ = ${fmtSigma(s)} the model's time input would be ${t}; the schedule leaves the range of the model's noise levels (σ ${fmtSigma(model.schedule.sigmaMin)} to ${fmtSigma(model.schedule.sigmaMax)})`);
      }
    }
  }
  return { guider, sampler, sigmas, noise, model, x, shape, steps, nfe, exact };
}

/** Thrown by the probe denoiser: the solver got as far as its first model evaluation. */
class FirstEvaluation extends Error {}

/**
 * Starts the solver with a denoiser that stops it at its first model evaluation: every check a solver makes before
 * it evaluates the model (monotone σ, its options, the corrector, the per-step noise source) runs, and nothing else.
 */
async function probeSolver(ctx: EvalContext, prep: ReturnType<typeof prepareSample>): Promise<void> {
  const { sampler, sigmas, noise, x, shape } = prep;
  const probe: Denoiser = async (xt) => {
    const bad = findNonFinite(xt);
    if (bad >= 0) throw new DpipeError('E_NAN', `sample "${ctx.nodeId}": the start state is NaN or infinite (element ${bad})`);
    throw new FirstEvaluation();
  };
  try {
    await sampler.run(probe, x, sigmas, sampler.params, { noise: noise.stepSampler(shape, sigmas), signal: ctx.services.signal, corrector: sampler.corrector?.make() });
  } catch (e) {
    if (!(e instanceof FirstEvaluation)) throw e;
  }
}

async function runSample(ctx: EvalContext, inputs: Readonly<Record<string, unknown>>, params: Params): Promise<Record<string, unknown>> {
  const { nodeId, services } = ctx;
  const signal = services.signal;
  const { guider, sampler, sigmas, noise, model, x, shape, steps, nfe, exact } = prepareSample(ctx, inputs, params);
  services.onSampleStart?.(nodeId, { sigmas, nfe, nfeExact: exact !== undefined, shape });

  let count = 0;
  let last: Latent | undefined;
  const denoiser: Denoiser = async (xt, sigma, req) => {
    if (signal?.aborted) {
      throw new DpipeError('E_ABORTED', `The run was stopped before model evaluation ${count + 1} (step ${req.step + 1} of ${steps}).`);
    }
    const bad = findNonFinite(xt);
    if (bad >= 0) {
      throw new DpipeError('E_NAN', `sample "${nodeId}": the state became NaN or infinite at step ${req.step + 1} of ${steps} (σ = ${fmtSigma(sigma)}, element ${bad}) before the model was called; the solver is unstable with these settings`);
    }
    const t0 = performance.now();
    const out = await guider.denoise(xt, sigma, { ...req, sigmas }, signal);
    const modelMs = performance.now() - t0;
    const badOut = findNonFinite(out.denoised);
    if (badOut >= 0) {
      throw new DpipeError('E_NAN', `sample "${nodeId}": the model returned NaN or infinity at step ${req.step + 1} of ${steps} (σ = ${fmtSigma(sigma)}, element ${badOut})`);
    }
    last = out.denoised;
    services.onEval?.(nodeId, {
      index: count++,
      step: req.step,
      sigma,
      role: req.role ?? 'predictor',
      x: xt,
      denoised: out.denoised,
      branches: out.branches,
      modelMs,
      timestep: model.timeOf?.(sigma),
    });
    return out.denoised;
  };

  const result = await sampler.run(denoiser, x, sigmas, sampler.params, {
    noise: noise.stepSampler(shape, sigmas),
    signal,
    onStep: services.onStep ? (ev) => services.onStep!(nodeId, ev) : undefined,
    corrector: sampler.corrector?.make(),
  });
  const bad = findNonFinite(result);
  if (bad >= 0) {
    throw new DpipeError('E_NAN', `sample "${nodeId}": the final state (σ = ${fmtSigma(sigmas[steps])}) holds NaN or infinity (element ${bad})`);
  }
  return { latent: result, denoised: last ?? result };
}
