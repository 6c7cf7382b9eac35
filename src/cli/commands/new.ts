/** `dpipe new FILE.dpipe --model DIR`: writes a runnable text-to-image pipeline for a model folder. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../../engine/core/errors';
import { serializePipeline } from '../../engine/format/index';
import { readModelFolder } from '../../engine/model/folder';
import { folderPipeline } from '../../engine/model/folderPipeline';
import { nodeTypes } from '../../engine/registry/index';
import { writeNewFile } from '../../engine/run/files';
import { EXIT, options, intOption, usageError, defineCommand, type Command } from '../command';
import { shown } from './shared';

const USAGE = `Usage: dpipe new FILE.dpipe --model DIR [options]

Writes a runnable pipeline for a Stable Diffusion / SDXL / SD3 model folder exported to ONNX (Hugging Face Optimum's
layout: model_index.json, unet/ or transformer/, text_encoder*/, tokenizer*/, vae_decoder/, scheduler/): model folder
→ prompt → classifier-free guidance → schedule + solver → Sample → VAE decode → PNG, and the final latent as .npy.
By default the schedule and solver reproduce the folder's own scheduler (scheduler/scheduler_config.json).
Run it with: dpipe run FILE.dpipe [--noise FILE.npy]

Options:
  --model DIR          the model folder (required)
  --prompt TEXT        the prompt (default: empty)
  --negative TEXT      a negative prompt (default: none, as diffusers without negative_prompt)
  --scheduler CLASS    reproduce this diffusers scheduler (e.g. DDIMScheduler, EulerDiscreteScheduler) with the
                       folder's scheduler config; default: the folder's own scheduler class
  --solver TYPE        a solver block, e.g. solver.dpmpp_2m (dpipe blocks lists them)
  --schedule TYPE      a schedule block, e.g. schedule.karras
  --steps N            solver steps (default: 50; SD3 28)
  --guidance W         guidance scale (default: 7.5; SDXL 5; SD3 7)
  --width W --height H image size in pixels, multiples of 8 (default: the model's native size)
  --batch N            images per run (default 1)
  --seed N             seed of the initial noise (default 0)
  --image PNG          image-to-image from this image (its sides must be multiples of 8)
  --strength S         image-to-image strength in [0, 1] (default 0.8)
  --force              replace FILE.dpipe if it exists
  -h, --help           this text`;

function numOption(cmd: Pick<Command, 'name' | 'usage'>, flag: string, v: string | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi) throw usageError(cmd, `${flag} must be a number in [${lo}, ${hi}]; got "${v}"`);
  return n;
}

export const newCommand = defineCommand({
  name: 'new',
  summary: 'write a runnable pipeline for a Stable Diffusion / SDXL / SD3 model folder',
  usage: USAGE,
  options: options(['model', 'prompt', 'negative', 'scheduler', 'solver', 'schedule', 'steps', 'guidance', 'width', 'height', 'batch', 'seed', 'image', 'strength'], ['force']),
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw usageError(this, positionals.length ? 'give one output file' : 'missing the .dpipe file to write');
    if (!values.model) throw usageError(this, 'missing --model DIR');
    const file = path.resolve(io.cwd, positionals[0]);
    if (!file.endsWith('.dpipe')) throw usageError(this, `${positionals[0]}: the pipeline file must end in .dpipe`);
    const folder = await readModelFolder(path.resolve(io.cwd, values.model));
    const rel = (p: string) => path.relative(path.dirname(file), path.resolve(io.cwd, p)).split(path.sep).join('/') || '.';
    const doc = folderPipeline(folder, {
      modelPath: rel(values.model),
      prompt: values.prompt,
      negative: values.negative,
      scheduler: values.scheduler,
      solver: values.solver,
      schedule: values.schedule,
      steps: intOption(this, '--steps', values.steps, 1),
      guidance: numOption(this, '--guidance', values.guidance, 0, 100),
      width: intOption(this, '--width', values.width, 8),
      height: intOption(this, '--height', values.height, 8),
      batch: intOption(this, '--batch', values.batch, 1),
      seed: intOption(this, '--seed', values.seed, 0),
      image: values.image ? rel(values.image) : undefined,
      strength: numOption(this, '--strength', values.strength, 0, 1),
    }, nodeTypes());
    writeNewFile(file, serializePipeline(doc), values.force === true);
    io.out(`${shown(io, file)}\n`);
    io.err(`${folder.pipelineClass || folder.family} folder ${shown(io, folder.dir)}; run it with: dpipe run ${shown(io, file)}\n`);
    for (const n of folder.notes) io.err(`note: ${n}\n`);
    return EXIT.OK;
  },
});
