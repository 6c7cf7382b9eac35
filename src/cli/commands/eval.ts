/** `dpipe eval FILE.dpipe --samples N`: FD-MNIST sample quality of a pipeline (see `engine/eval/pipeline.ts`). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../../engine/core/errors';
import { evalSetup, evalUnits, fdMnistFiles, scoreEvalUnits, type EvalReport, type Spread } from '../../engine/eval/index';
import { pipelineText } from '../../engine/run/index';
import { parseShard, shardUnits, specKey } from '../../engine/shard/index';
import { writeEvalShard, type EvalSpec } from '../../engine/shard/records';
import { version as DPIPE_VERSION } from '../../../package.json';
import { EXIT, intOption, options, usageError, defineCommand } from '../command';
import { RUN_OPTIONS, loadForRun, modelDefaultsFrom, onePipelineArg, shown } from './shared';

const USAGE = `Usage: dpipe eval FILE.dpipe --samples N [options]

Runs the pipeline for N samples (in batches) and scores them with FD-MNIST: the Fréchet distance between the
committed digit classifier's penultimate features of the samples and of the 1,996 held-out MNIST digits (like FID),
and the classifier's accuracy on the class each sample was conditioned on. Prints FD, accuracy, NFE and wall time.
FD is biased upwards at small N: compare pipelines at equal --samples.

Labels: sample i is conditioned on class i mod 10 (the labels of every cond.class block except negative ones are
set per batch); pipelines without a cond.class block get FD only. Seeds: sample i of repeat r uses seed S + r·N + i.

Options:
  --samples N               samples per repeat (≥ 2; 1000 for the README numbers)
  --seed S                  first seed (default 0)
  --repeats K               repeat over K disjoint seed ranges and report mean ± std (default 1)
  --batch B                 samples per run of the pipeline (default min(N, 50))
  --set NODE.PARAM=VALUE    set a block parameter for every run (repeatable), e.g. --set guide.scale=3
  --keep-labels             keep the pipeline's own class labels instead of cycling 0..9
  --models DIR              folder with mnist_classifier.onnx and mnist_heldout*.npy (default: the package's models/)
  --out FILE                also write the report as JSON to FILE
  --shard i/N               generate shard i of N of the batches (batch u of the run when u mod N = i), with the
                            seeds of the whole run, and write eval-shard-i-of-N.json into the folder --out names
                            (default: the current folder); dpipe merge scores the shards together
  --json                    print the report as JSON on stdout
  -q, --quiet               no progress output
  -h, --help                this text`;

/** The package's models/ folder with the FD-MNIST files, found upwards from this file (dist/ or src/cli/commands/). */
export function modelsDir(from = __dirname): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'models', 'mnist_classifier.onnx'))) return path.join(d, 'models');
    if (path.dirname(d) === d) throw new DpipeError('E_FILE_MISSING', `cannot find models/mnist_classifier.onnx above ${from}; give --models DIR`);
  }
}

function pm(s: Spread, digits: number, scale = 1, unit = ''): string {
  const m = (s.mean * scale).toFixed(digits);
  return s.std === null ? `${m}${unit}` : `${m} ± ${(s.std * scale).toFixed(digits)}${unit}`;
}

function perSeed(s: Spread, digits: number, scale = 1): string {
  return s.values.length > 1 ? `  (per seed: ${s.values.map((v) => (v * scale).toFixed(digits)).join(', ')})` : '';
}

/** The human-readable report. */
export function formatReport(file: string, r: EvalReport): string {
  const lines = [
    `FD-MNIST  ${file}: ${r.samples} samples${r.repeats > 1 ? ` × ${r.repeats} seed ranges` : ''}, batch ${r.batch}, seeds from ${r.seeds[0]}`,
    `FD         ${pm(r.fd, 3)}${perSeed(r.fd, 3)}   [floor, real vs real (${r.floor.n} vs ${r.floor.n}): ${r.floor.fd.toFixed(3)}]`,
    `accuracy   ${r.accuracy ? `${pm(r.accuracy, 1, 100, '%')}${perSeed(r.accuracy, 1, 100)}` : 'n/a (no cond.class block)'}${r.labels === 'pipeline' ? '  [pipeline labels]' : ''}`,
    `NFE        ${r.nfe} per sample`,
    `wall time  ${pm(r.wallMs, 1, 1e-3, ' s')} per ${r.samples} samples (model ${pm(r.modelMsPerCall, 1, 1, ' ms')} per evaluation at batch ${r.batch})`,
  ];
  return lines.join('\n') + '\n';
}

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'score a pipeline\'s samples with FD-MNIST (Fréchet distance, class accuracy, NFE, time)',
  usage: USAGE,
  options: { ...options(['samples', 'repeats', 'models', 'out', 'shard'], ['keep-labels', 'json', 'quiet']), ...RUN_OPTIONS },
  async run({ values, positionals }, io) {
    const file = onePipelineArg(this, positionals);
    const samples = intOption(this, '--samples', values.samples, 2);
    if (samples === undefined) throw usageError(this, '--samples N is required');
    const seed = intOption(this, '--seed', values.seed, 0);
    const repeats = intOption(this, '--repeats', values.repeats, 1);
    const batch = intOption(this, '--batch', values.batch, 1);
    const { doc, abs } = loadForRun(io, file);
    const files = fdMnistFiles(values.models ? path.resolve(io.cwd, values.models) : modelsDir());
    const quiet = values.quiet === true || !io.isTTY;
    const k = repeats ?? 1;
    const shard = values.shard !== undefined ? parseShard(values.shard) : undefined;
    const opts = {
      baseDir: path.dirname(abs),
      file: abs,
      samples,
      seed,
      repeats,
      batch,
      set: values.set ?? [],
      modelDefaults: modelDefaultsFrom(values),
      keepLabels: values['keep-labels'] === true,
      files,
      signal: io.signal,
      onProgress: quiet ? undefined : (r: number, done: number) => io.err(`\r${k > 1 ? `seed range ${r + 1}/${k}: ` : ''}${done}/${samples} samples`),
    };
    const setup = evalSetup(doc, opts);
    if (shard) {
      const spec: EvalSpec = {
        dpipeVersion: DPIPE_VERSION, file: abs, pipeline: pipelineText(doc), samples, repeats: k, seed: seed ?? 0, batch: setup.B,
        set: values.set ?? [], keepLabels: opts.keepLabels,
      };
      const units = await evalUnits(doc, opts, shardUnits(setup.units.length, shard));
      if (!quiet) io.err('\n');
      const rec = writeEvalShard(path.resolve(io.cwd, values.out ?? '.'), shard, specKey(spec), spec, units);
      io.out(`${shown(io, rec)}\n`);
      return EXIT.OK;
    }
    const report = await scoreEvalUnits(doc, opts, await evalUnits(doc, opts));
    if (!quiet) io.err('\n');
    const json = { file: abs, classifier: files.classifier, ...report };
    if (values.out) fs.writeFileSync(path.resolve(io.cwd, values.out), JSON.stringify(json, null, 1) + '\n');
    if (values.json) {
      io.out(JSON.stringify(json, null, 1) + '\n');
    } else {
      io.out(formatReport(shown(io, abs), report));
    }
    return EXIT.OK;
  },
});
