/** `dpipe import FILE --out P.dpipe`: a ComfyUI / A1111 / diffusers file as a dpipe pipeline. */
import * as path from 'node:path';
import { DpipeError, formatProblem } from '../../engine/core/errors';
import { loadPipeline, serializePipeline } from '../../engine/format/index';
import { importBytes, IMPORT_KIND_NAMES } from '../../engine/interop/importFile';
import { writeNewFile as writeNew } from '../../engine/run/files';
import { readModelFolder, type ModelFolder } from '../../engine/model/folder';
import { folderPipeline } from '../../engine/model/folderPipeline';
import { nodeTypes } from '../../engine/registry/index';
import { EXIT, options, intOption, usageError, defineCommand } from '../command';
import { readBytes, shown } from './shared';

const USAGE = `Usage: dpipe import FILE [--out PIPELINE.dpipe] [options]

Writes a dpipe pipeline that reproduces the settings of another tool:
  - a ComfyUI API prompt (.json, "Save (API)") or UI workflow (.json, versions 0.4 and 1), or a ComfyUI PNG (its
    "prompt" or "workflow" text chunk): samplers, schedulers, guiders, noise seed, latent size, prompts;
  - an AUTOMATIC1111 / Forge PNG (its "parameters" infotext) or the infotext as a .txt file;
  - a diffusers scheduler_config.json (with --model: the folder it is for).
The noise is the other tool's (same seed, same generator and draw order), the σ values are its own. Anything the
other tool computes that dpipe does not reproduce is reported by name and nothing is written (exit 1); settings that
run but not bit for bit are warnings.

Options:
  --out FILE          the pipeline to write (default: FILE's name with .dpipe, in the current folder)
  --model DIR         the model folder (ONNX, Optimum's layout) standing for the checkpoint the file names; its path
                      is written relative to the pipeline. Without it the pipeline's model path is left empty.
  --image PNG         the input image (A1111 img2img, ComfyUI LoadImage)
  --steps N           diffusers scheduler config: solver steps (default 50)
  --force             replace the output file if it exists
  -h, --help          this text`;

export const importCommand = defineCommand({
  name: 'import',
  summary: 'write a pipeline from a ComfyUI workflow/prompt, an A1111 infotext or a diffusers scheduler config',
  usage: USAGE,
  options: options(['out', 'model', 'image', 'steps'], ['force']),
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw usageError(this, positionals.length ? 'give one file to import' : 'missing the file to import');
    const src = path.resolve(io.cwd, positionals[0]);
    const out = path.resolve(io.cwd, values.out ?? `${path.basename(src).replace(/\.(json|png|txt)$/i, '')}.dpipe`);
    if (!out.endsWith('.dpipe')) throw usageError(this, `${values.out}: the pipeline file must end in .dpipe`);
    const rel = (p: string) => path.relative(path.dirname(out), path.resolve(io.cwd, p)).split(path.sep).join('/') || '.';
    const steps = intOption(this, '--steps', values.steps, 1);
    let folder: ModelFolder | undefined;
    if (values.model) folder = await readModelFolder(path.resolve(io.cwd, values.model));
    const bytes = readBytes(src, positionals[0]);
    const r = await importBytes(bytes, positionals[0], {
      modelPath: values.model ? rel(values.model) : '',
      modelFamily: folder?.family,
      image: values.image ? rel(values.image) : undefined,
      steps,
      folderSchedulerConfig: folder?.scheduler.config,
      schedulerPipeline: folder
        ? async (className, config) => folderPipeline({ ...folder!, scheduler: { ...folder!.scheduler, className, config } }, { modelPath: rel(values.model!), steps, scheduler: className }, nodeTypes())
        : undefined,
    });
    const errors = r.problems.filter((p) => p.severity === 'error');
    for (const w of r.problems.filter((p) => p.severity !== 'error')) io.err(formatProblem(w) + '\n');
    if (errors.length || !r.doc) {
      const what = r.kind ? IMPORT_KIND_NAMES[r.kind] : positionals[0];
      throw new DpipeError(errors[0]?.code ?? 'E_IMPORT', `${positionals[0]}: ${errors.length} setting${errors.length === 1 ? '' : 's'} of the ${what} ${errors.length === 1 ? 'has' : 'have'} no dpipe equivalent or cannot be read; nothing was written`, errors);
    }
    const text = serializePipeline(r.doc);
    // The pipeline must load without errors (file checks relative to where it will live); a failure here is a bug.
    const check = loadPipeline(text, { file: shown(io, out), baseDir: path.dirname(out) });
    const bad = check.problems.filter((p) => p.severity === 'error' && !(p.code === 'E_FILE_MISSING' && p.nodeId !== undefined));
    if (bad.length) throw new DpipeError('E_INTERNAL', `the imported pipeline does not load: ${bad.map(formatProblem).join('; ')}`);
    for (const p of check.problems.filter((q) => q.severity === 'error')) io.err(formatProblem({ ...p, severity: 'warning' }) + '\n');
    writeNew(out, text, values.force === true);
    io.out(`${shown(io, out)}\n`);
    io.err(`imported ${r.kind ? IMPORT_KIND_NAMES[r.kind] : 'file'} ${positionals[0]} → ${shown(io, out)}${r.modelNames.length && !values.model ? ` (set the model folder for ${r.modelNames.map((m) => `"${m}"`).join(', ')}: --model DIR)` : ''}\n`);
    return EXIT.OK;
  },
});
