/**
 * Writes exact Gaussian-mixture denoisers as ONNX files (see `gmm.ts` for the math).
 *
 *   npx tsx tools/gmm/make-gmm.ts --mixture golden --prediction epsilon --time discrete --out gmm_eps_vp.onnx
 *   npx tsx tools/gmm/make-gmm.ts --mixture golden --prediction edm --time sigma --out gmm_edm.onnx
 *   npx tsx tools/gmm/make-gmm.ts --mixture mnist --per-class 30 --s 0.1 --class-conditional \
 *       --prediction epsilon --time discrete --distance matmul --sidecar --out models/mnist_gmm.onnx
 *
 * Options (defaults in brackets):
 *   --mixture golden|mnist        the mixture [golden]: golden = the 8-component [3,8,8] mixture of
 *                                 /work/shared/golden; mnist = digits from the `mnist` package, 32×32 in [−1,1]
 *   --per-class N                 mnist: digits per class [30]
 *   --s S                         component standard deviation [golden 0.2, mnist 0.1]
 *   --class-conditional           mnist: add an int64 class input; label 10 = unconditional
 *   --prediction P                epsilon|v_prediction|sample|flow|edm [epsilon]
 *   --time T                      discrete|sigma|edm_cnoise|flow|flow1000 [discrete for epsilon/v/sample, sigma for edm, flow for flow]
 *   --input-scaling S             vp|flow|none [as the model wrapper's "auto"]
 *   --beta-schedule B             linear|scaled_linear|squaredcos_cap_v2 [scaled_linear]
 *   --beta-start, --beta-end      [0.00085, 0.012]
 *   --num-train-timesteps N       [1000]
 *   --names diffusers|edm         tensor names [diffusers: sample/timestep/out_sample; edm: x/sigma/denoised]
 *   --distance direct|matmul      how ‖x−μ‖² is computed [direct]
 *   --batch N                     fix the batch dimension (default: dynamic)
 *   --sidecar                     also write <out>.json (the model's settings for dpipe)
 *   --description TEXT            sidecar description
 *   --out FILE                    output path (required)
 */
import * as fs from 'fs';
import * as path from 'path';
import { BETA_SCHEDULES, TIME_KINDS, type BetaSchedule, type DiscreteOptions, type TimeKind } from '../../src/engine/model/schedule';
import { INPUT_SCALINGS, PREDICTIONS, type InputScaling, type Prediction } from '../../src/engine/model/params';
import { buildGmmOnnx, defaultScaling, DIFFUSERS_NAMES, EDM_NAMES, goldenMixture, type Interface, type Mixture } from './gmm';
import { mnistMixture } from './mnist';

interface Args {
  [k: string]: string | boolean | undefined;
}

function parse(argv: string[]): Args {
  const out: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = true;
    else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

function oneOf<T extends string>(v: string | boolean | undefined, allowed: readonly T[], what: string, dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new Error(`--${what} must be one of ${allowed.join(', ')}`);
  return v as T;
}

function num(v: string | boolean | undefined, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new Error(`--${what} must be a number`);
  return n;
}

export interface GmmFileSpec {
  readonly mixture: Mixture;
  readonly itf: Interface;
  readonly sidecar: Record<string, unknown>;
}

/** Turns command-line options into a mixture, an interface and the matching sidecar. */
export function specFromArgs(a: Args): GmmFileSpec {
  const which = oneOf(a.mixture, ['golden', 'mnist'] as const, 'mixture', 'golden');
  const prediction = oneOf<Prediction>(a.prediction, PREDICTIONS, 'prediction', 'epsilon');
  const defaultTime: TimeKind = prediction === 'edm' ? 'sigma' : prediction === 'flow' ? 'flow' : 'discrete';
  const time = oneOf<TimeKind>(a.time, TIME_KINDS, 'time', defaultTime);
  const inputScaling = oneOf<InputScaling>(a['input-scaling'], INPUT_SCALINGS, 'input-scaling', defaultScaling(prediction, time));
  const classCond = a['class-conditional'] === true;
  if (classCond && which !== 'mnist') throw new Error('--class-conditional needs --mixture mnist');
  const mixture = which === 'golden' ? { ...goldenMixture(), s: num(a.s, 's', 0.2) } : mnistMixture(num(a['per-class'], 'per-class', 30), num(a.s, 's', 0.1));
  const m: Mixture = classCond ? mixture : { ...mixture, classes: undefined, numClasses: undefined };
  const discrete: DiscreteOptions | undefined = time === 'discrete'
    ? {
        betaSchedule: oneOf<BetaSchedule>(a['beta-schedule'], BETA_SCHEDULES.filter((b) => b !== 'explicit'), 'beta-schedule', 'scaled_linear'),
        betaStart: num(a['beta-start'], 'beta-start', 0.00085),
        betaEnd: num(a['beta-end'], 'beta-end', 0.012),
        numTrainTimesteps: num(a['num-train-timesteps'], 'num-train-timesteps', 1000),
      }
    : undefined;
  const names = oneOf(a.names, ['diffusers', 'edm'] as const, 'names', prediction === 'edm' ? 'edm' : 'diffusers') === 'edm' ? EDM_NAMES : DIFFUSERS_NAMES;
  const batch = a.batch === undefined ? undefined : num(a.batch, 'batch', 1);
  const itf: Interface = {
    prediction, time, inputScaling, discrete,
    names: classCond ? names : { sample: names.sample, time: names.time, output: names.output },
    unconditionalClass: classCond ? 10 : undefined,
    distance: oneOf(a.distance, ['direct', 'matmul'] as const, 'distance', 'direct'),
    batch,
  };
  const sidecar: Record<string, unknown> = {
    dpipeModel: 1,
    description: typeof a.description === 'string' ? a.description
      : `Exact Gaussian-mixture denoiser (${m.k} components, s = ${m.s}, ${which === 'mnist' ? 'MNIST digits 32×32 in [-1,1]' : 'golden test mixture [3,8,8]'})${classCond ? ', class-conditional (label 10 = unconditional)' : ''}; ${prediction} prediction, ${time} time.`,
    prediction, time, inputScaling,
    ...(discrete ? { betaSchedule: discrete.betaSchedule, betaStart: discrete.betaStart, betaEnd: discrete.betaEnd, numTrainTimesteps: discrete.numTrainTimesteps } : {}),
    sampleInput: itf.names.sample, timeInput: itf.names.time, output: itf.names.output,
    ...(classCond ? { classInput: itf.names.class, numClasses: 10, unconditionalClass: 10 } : {}),
    sampleShape: [...m.itemShape],
    valueRange: which === 'mnist' ? [-1, 1] : [-1.5, 1.5],
  };
  return { mixture: m, itf, sidecar };
}

function main(): void {
  const a = parse(process.argv.slice(2));
  if (a.help || typeof a.out !== 'string') {
    process.stderr.write('usage: npx tsx tools/gmm/make-gmm.ts [options] --out FILE.onnx (see the comment at the top of tools/gmm/make-gmm.ts)\n');
    process.exit(a.help ? 0 : 2);
  }
  const spec = specFromArgs(a);
  const bytes = buildGmmOnnx(spec.mixture, spec.itf, { doc: String(spec.sidecar.description) });
  const out = path.resolve(a.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, bytes);
  process.stdout.write(`wrote ${out} (${bytes.length} bytes)\n`);
  if (a.sidecar) {
    fs.writeFileSync(`${out}.json`, `${JSON.stringify(spec.sidecar, null, 2)}\n`);
    process.stdout.write(`wrote ${out}.json\n`);
  }
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`make-gmm: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
