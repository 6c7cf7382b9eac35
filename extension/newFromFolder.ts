/**
 * "dpipe: New Pipeline from Model Folder…": a Stable Diffusion / SDXL / SD3 folder exported to ONNX becomes a runnable
 * .dpipe (engine: `model/folderPipeline.ts`, the same builder as `dpipe new --model DIR`). The logic that does not
 * need VS Code is here, tested without it; the command in `commands.ts` only asks for the folder, the prompt and the
 * file name.
 */
import * as path from 'node:path';
import { serializePipeline } from '../src/engine/format';
import { isModelFolder, readModelFolder } from '../src/engine/model/folder';
import { folderPipeline } from '../src/engine/model/folderPipeline';
import { nodeTypes } from '../src/engine/registry';

/** The .dpipe text for `folder`, to be saved as `target` (the folder path is written relative to it). */
export async function pipelineForFolder(folder: string, target: string, prompt: string): Promise<string> {
  const f = await readModelFolder(folder);
  const rel = path.relative(path.dirname(target), f.dir).split(path.sep).join('/') || '.';
  return serializePipeline(folderPipeline(f, { modelPath: rel, prompt }, nodeTypes()));
}

/** Why a picked folder is not a model folder, or undefined when it is one. */
export async function folderProblem(folder: string): Promise<string | undefined> {
  if (await isModelFolder(folder)) return undefined;
  return `${path.basename(folder)} has no model_index.json: pick a folder exported with \`optimum-cli export onnx --model MODEL_ID OUT_DIR\` (Stable Diffusion, SDXL or SD3 in ONNX), or use "New Pipeline…" for a single .onnx denoiser.`;
}

/** The suggested file name: the folder's name. */
export function suggestedName(folder: string): string {
  return `${path.basename(path.resolve(folder)).replace(/[^A-Za-z0-9._-]+/g, '-') || 'pipeline'}.dpipe`;
}
