/** `dpipe export P.dpipe --to comfyui-api|diffusers-python|a1111`: the pipeline in another tool's terms. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError, formatProblem, type Problem } from '../../engine/core/errors';
import { encodeNpy } from '../../engine/core/npy';
import { TextLocator } from '../../engine/format/locate';
import type { PipelineDoc, PipelineNode } from '../../engine/format/types';
import { exportInfotext } from '../../engine/interop/a1111';
import { exportComfyApi } from '../../engine/interop/comfyExport';
import { exportDiffusersPython } from '../../engine/interop/diffusersExport';
import { fullParams } from '../../engine/interop/doc';
import type { InteropIssue } from '../../engine/interop/issues';
import { writeNewFile as writeNew } from '../../engine/run/files';
import { readModelFolder } from '../../engine/model/folder';
import { nodeTypes } from '../../engine/registry/index';
import type { RunServices } from '../../engine/registry/node';
import type { NoiseValue } from '../../engine/registry/types';
import { EXIT, options, usageError, defineCommand } from '../command';
import { loadForRun, pipelineSource, shown } from './shared';

export const EXPORT_TARGETS = ['comfyui-api', 'diffusers-python', 'a1111'] as const;

const USAGE = `Usage: dpipe export PIPELINE.dpipe --to TARGET [--out FILE] [--force]

Writes the pipeline in another tool's terms, where that tool computes the same run:
  comfyui-api       a ComfyUI API prompt (.json; load it with "Load (API)" or queue it on /prompt): KSampler,
                    KSamplerAdvanced or custom sampling nodes, the checkpoint, prompts, latent size and seed
  a1111             an AUTOMATIC1111 / Forge infotext (paste it into the prompt box and press "Read generation
                    parameters" / the ↙ button)
  diffusers-python  a runnable Python script: the diffusers scheduler class and config, guidance, steps, prompts,
                    and the same initial noise (a .npy beside the script, or the seeded generator)
The export is checked by importing it back: a block with no equivalent in the target is named (with the params
that differ) and nothing is written (exit 1).

Options:
  --to TARGET   comfyui-api, a1111 or diffusers-python (required)
  --out FILE    where to write (default: comfyui-api and a1111 to standard output; diffusers-python to
                PIPELINE.py, with PIPELINE.noise.npy beside it)
  --force       replace existing files
  -h, --help    this text`;

function located(issues: readonly InteropIssue[], file: string, text: string): Problem[] {
  const locator = new TextLocator(text, undefined);
  return issues.map((i) => {
    const code = i.severity === 'error' ? 'E_EXPORT' : 'W_IMPORT';
    let where: Partial<Problem> = {};
    if (i.pointer) {
      // "/nodes/3": the node's "id" line in the .dpipe text.
      const index = Number(i.pointer.split('/')[2]);
      const id = i.nodeId ?? '';
      const at = id ? text.indexOf(`"id": ${JSON.stringify(id)}`) : -1;
      if (at >= 0) {
        const span = locator.span(at, `"id": ${JSON.stringify(id)}`.length);
        where = { line: span.line, column: span.column, offset: span.offset, length: span.length };
      }
      where = { ...where, pointer: Number.isInteger(index) ? `/nodes/${index}` : i.pointer };
    }
    return { code, severity: i.severity, message: i.message, file, ...where, ...(i.nodeId ? { nodeId: i.nodeId } : {}) } as Problem;
  });
}

/** The latent shape [B, C, H, W] of the pipeline's run, from latent.empty and the model folder. */
async function latentShape(doc: PipelineDoc, baseDir: string): Promise<number[] | undefined> {
  const latent = doc.nodes.find((n) => n.type === 'latent.empty');
  const model = doc.nodes.find((n) => n.type === 'model.folder');
  if (!latent) return undefined;
  const p = fullParams(latent);
  let channels = p.channels as number;
  let height = p.height as number;
  let width = p.width as number;
  if ((!channels || !height || !width) && model && typeof model.params.path === 'string' && model.params.path) {
    try {
      const f = await readModelFolder(path.resolve(baseDir, model.params.path));
      const cfg = f.denoiser.config;
      channels ||= typeof cfg.in_channels === 'number' ? cfg.in_channels : 4;
      const size = typeof cfg.sample_size === 'number' ? cfg.sample_size : f.family === 'sdxl' ? 128 : 64;
      height ||= size;
      width ||= size;
    } catch {
      return undefined;
    }
  }
  return channels && height && width ? [p.batch as number, channels, height, width] : undefined;
}

async function initialNoise(node: PipelineNode, shape: readonly number[], baseDir: string): Promise<Float64Array> {
  const type = nodeTypes().get(node.type)!;
  const out = await type.evaluate({ nodeId: node.id, baseDir, services: { batch: shape[0] } as RunServices }, {}, fullParams(node));
  return (out.noise as NoiseValue).initial(shape);
}

export const exportCommand = defineCommand({
  name: 'export',
  summary: 'write the pipeline as a ComfyUI API prompt, an A1111 infotext or a diffusers script',
  usage: USAGE,
  options: options(['to', 'out'], ['force']),
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw usageError(this, positionals.length ? 'give one pipeline' : 'missing the .dpipe file');
    const to = values.to;
    if (!to || !(EXPORT_TARGETS as readonly string[]).includes(to)) throw usageError(this, `--to must be one of ${EXPORT_TARGETS.join(', ')}${to ? `; got "${to}"` : ''}`);
    const file = positionals[0];
    const { doc, abs } = loadForRun(io, file);
    const text = pipelineSource(abs, file);
    const baseDir = path.dirname(abs);
    const report = (issues: readonly InteropIssue[]) => {
      const problems = located(issues, file, text);
      for (const w of problems.filter((p) => p.severity !== 'error')) io.err(formatProblem(w) + '\n');
      const errors = problems.filter((p) => p.severity === 'error');
      if (errors.length) throw new DpipeError('E_EXPORT', `${file}: ${errors.length} block${errors.length === 1 ? ' has' : 's have'} no ${to} equivalent; nothing was written`, errors);
    };
    const emit = (content: string, defaultName?: string) => {
      const out = values.out ?? defaultName;
      if (!out || out === '-') {
        io.out(content.endsWith('\n') ? content : `${content}\n`);
        return;
      }
      const target = path.resolve(io.cwd, out);
      writeNew(target, content, values.force === true);
      io.out(`${shown(io, target)}\n`);
    };
    if (to === 'comfyui-api') {
      const r = await exportComfyApi(doc);
      report(r.issues);
      emit(JSON.stringify(r.prompt, null, 2) + '\n');
    } else if (to === 'a1111') {
      const r = exportInfotext(doc);
      report(r.issues);
      emit(r.text!);
    } else {
      const stem = path.basename(abs).replace(/\.(dpipe|png)$/, '');
      const scriptPath = path.resolve(io.cwd, values.out ?? `${stem}.py`);
      if (!scriptPath.endsWith('.py')) throw usageError(this, `${values.out}: the script must end in .py`);
      const noisePath = scriptPath.replace(/\.py$/, '.noise.npy');
      const model = doc.nodes.find((n) => n.type === 'model.folder');
      const modelDir = model && typeof model.params.path === 'string' ? path.relative(path.dirname(scriptPath), path.resolve(baseDir, model.params.path)).split(path.sep).join('/') || '.' : '.';
      const r = await exportDiffusersPython(
        doc,
        { modelDir, noiseFile: path.basename(noisePath), imageFile: `${path.basename(scriptPath, '.py')}.png`, scriptFile: path.basename(scriptPath), latentShape: await latentShape(doc, baseDir), source: file },
        (node, shape) => initialNoise(node, shape, baseDir),
      );
      report(r.issues);
      if (!values.force) for (const f of [scriptPath, ...(r.noise ? [noisePath] : [])]) if (fs.existsSync(f)) throw new DpipeError('E_USAGE', `${f} exists; choose another name or pass --force to replace it`);
      if (r.noise) writeNew(noisePath, encodeNpy(r.noise.shape, r.noise.data, '<f4'), true);
      writeNew(scriptPath, r.script!, true);
      io.out(`${shown(io, scriptPath)}\n`);
      if (r.noise) io.out(`${shown(io, noisePath)}\n`);
      io.err(`${r.className} with ${JSON.stringify(r.config)}\n`);
    }
    return EXIT.OK;
  },
});
