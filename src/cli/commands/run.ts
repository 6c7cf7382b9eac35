/** `dpipe run FILE.dpipe`: runs a pipeline headless. */
import * as path from 'node:path';
import { EXIT, intOption, options, usageError, defineCommand } from '../command';
import { DpipeError } from '../../engine/core/errors';
import { parseNpy } from '../../engine/core/npy';
import type { Latent } from '../../engine/core/types';
import { RUN_OPTIONS, loadForRun, modelDefaultsFrom, onePipelineArg, readBytes, reportRun, runWithProgress, shown } from './shared';
import type { CliIO } from '../command';

/** The --noise array: a .npy of the latent's shape (checked against it when the Sample block starts). */
function readNoise(io: CliIO, file: string): Latent {
  const a = parseNpy(readBytes(path.resolve(io.cwd, file), file), file);
  for (let i = 0; i < a.data.length; i++) {
    if (!Number.isFinite(a.data[i])) throw new DpipeError('E_NPY', `${file}: element ${i} is ${a.data[i]}; the initial noise must be finite`);
  }
  return { shape: a.shape, data: a.data };
}

const USAGE = `Usage: dpipe run FILE.dpipe [options]
       dpipe run IMAGE.png [options]     (runs the pipeline an image made by dpipe carries)

Runs the pipeline and writes, into the output folder: its images (PNG, each carrying the pipeline), latents (.npy),
the trajectory (trajectory/: σ, x_t, x̂0 of every model evaluation) and the run record run.json.

Options:
  --out DIR                 output folder, new or empty (default: a new dpipe-out/NAME-YYYYMMDD-HHMMSS)
  --force                   write into --out even when it holds files (same names are replaced; never the
                            run's inputs)
  --seed N                  seed of every seeded noise block (batch item b uses N + b)
  --batch N                 batch size
  --set NODE.PARAM=VALUE    set a block parameter for this run (repeatable), e.g. --set sched.steps=20
  --noise FILE.npy          the initial noise: a standard-normal array of the latent's shape, used instead of the
                            noise block's draw (e.g. to replay another tool's start exactly)
  --provider P              onnxruntime execution provider for model blocks left at "auto": cpu, cuda, tensorrt,
                            dml, coreml, webgpu (default cpu)
  --cpu-fallback            run on the CPU when that provider is not available (instead of stopping)
  --trajectory-memory MB    trajectory kept in memory before frames stream to disk (default 256)
  --no-trajectory           do not record the trajectory
  --max-memory MB           refuse a run whose latents would take more memory (default 8000)
  --max-trajectory MB       refuse a run whose trajectory would be larger, in memory and on disk (default 2000)
  -q, --quiet               no progress output
  -h, --help                this text

No file is ever overwritten without --force, no link is followed out of the output folder, and no input of the run
(the pipeline, its models, sidecars and .npy files) is ever written. Ctrl-C stops within one model evaluation and
keeps what was written (run.json says "aborted"; exit 130); a second Ctrl-C quits at once.`;

/** Default output folder: dpipe-out/NAME-YYYYMMDD-HHMMSS under the working directory. */
export function defaultOutDir(cwd: string, file: string, date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
  return path.join(cwd, 'dpipe-out', `${path.basename(file).replace(/\.(dpipe|png)$/i, '')}-${stamp}`);
}

export const runCommand = defineCommand({
  name: 'run',
  summary: 'run a pipeline: images, latents, trajectory and run.json into an output folder',
  usage: USAGE,
  cancellable: true,
  options: { ...options(['out', 'trajectory-memory', 'noise', 'max-memory', 'max-trajectory'], ['force', 'no-trajectory', 'quiet']), ...RUN_OPTIONS },
  async run({ values, positionals }, io) {
    const file = onePipelineArg(this, positionals);
    const seed = intOption(this, '--seed', values.seed, 0);
    const batch = intOption(this, '--batch', values.batch, 1);
    const memMB = intOption(this, '--trajectory-memory', values['trajectory-memory'], 0);
    const maxMemory = intOption(this, '--max-memory', values['max-memory'], 1);
    const maxTrajectory = intOption(this, '--max-trajectory', values['max-trajectory'], 1);
    const { doc, abs, text } = loadForRun(io, file);
    if (values.force && !values.out) throw usageError(this, '--force needs --out DIR (the default folder is always new)');
    const outDir = values.out ? path.resolve(io.cwd, values.out) : defaultOutDir(io.cwd, file);
    const initialNoise = values.noise ? readNoise(io, values.noise) : undefined;
    const res = await runWithProgress(io, doc, {
      baseDir: path.dirname(abs),
      file: abs,
      outDir,
      outMode: !values.out ? 'unique' : values.force ? 'force' : 'new',
      seed,
      batch,
      set: values.set ?? [],
      initialNoise,
      modelDefaults: modelDefaultsFrom(values),
      trajectory: { record: !values['no-trajectory'], memoryBytes: memMB === undefined ? undefined : memMB * 1024 * 1024 },
      budget: { memoryBytes: maxMemory === undefined ? undefined : maxMemory * 1e6, trajectoryBytes: maxTrajectory === undefined ? undefined : maxTrajectory * 1e6 },
    }, values.quiet === true, { text, file });
    reportRun(io, res);
    if (res.status === 'aborted') {
      io.err(`stopped after ${res.record.nfe} model evaluations; what was written is in ${shown(io, res.outDir ?? outDir)}\n`);
      return EXIT.INTERRUPTED;
    }
    return EXIT.OK;
  },
});
