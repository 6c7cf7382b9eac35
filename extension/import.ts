/**
 * "dpipe: Import Pipeline…" (and the offer "Open Pipeline from Image" makes for a ComfyUI or A1111 PNG): the engine's
 * importer (`src/engine/interop/importFile.ts`) with what only the host knows — the model folder the user picks, the
 * input image, the file the pipeline will be saved as (paths are written relative to it). No vscode import: the
 * command in `commands.ts` asks the questions this module reports as needed, and writes the text it returns.
 */
import * as path from 'node:path';
import { formatProblem, type Problem } from '../src/engine/core/errors';
import { serializePipeline } from '../src/engine/format';
import { importBytes, IMPORT_KIND_NAMES, type ImportKind } from '../src/engine/interop/importFile';
import { readModelFolder, type ModelFolder } from '../src/engine/model/folder';
import { folderPipeline } from '../src/engine/model/folderPipeline';
import { nodeTypes } from '../src/engine/registry';
import { readPngText } from '../src/engine/run/png';

export interface ImportRequest {
  readonly bytes: Uint8Array;
  /** The file imported (for messages and the suggested name). */
  readonly source: string;
  /** Where the pipeline will be saved. */
  readonly target: string;
  /** The model folder the user picked (absolute), if any. */
  readonly modelFolder?: string;
  /** The input image the user picked (absolute), if any. */
  readonly image?: string;
  /** Solver steps for a diffusers scheduler config. */
  readonly steps?: number;
}

export interface ImportOutcome {
  readonly kind?: ImportKind;
  /** The pipeline text, when the import succeeded. */
  readonly text?: string;
  readonly errors: Problem[];
  readonly warnings: Problem[];
  /** What the model folder stands for (checkpoint / model names), to title the folder picker. */
  readonly modelNames: string[];
  readonly needsModel: boolean;
  readonly needsImage: boolean;
}

const rel = (from: string, to: string) => path.relative(path.dirname(from), to).split(path.sep).join('/') || '.';

/** Imports `req.bytes` as a pipeline to be saved at `req.target`. Never throws on bad input. */
export async function importForHost(req: ImportRequest): Promise<ImportOutcome> {
  let folder: ModelFolder | undefined;
  const folderErrors: Problem[] = [];
  if (req.modelFolder) {
    try {
      folder = await readModelFolder(req.modelFolder);
    } catch (e) {
      folderErrors.push({ code: 'E_MODEL_FOLDER', severity: 'error', message: `${path.basename(req.modelFolder)}: ${(e as Error).message}`, file: req.modelFolder });
    }
  }
  const modelPath = folder ? rel(req.target, folder.dir) : '';
  const r = await importBytes(req.bytes, path.basename(req.source), {
    modelPath,
    modelFamily: folder?.family,
    image: req.image ? rel(req.target, req.image) : undefined,
    steps: req.steps,
    folderSchedulerConfig: folder?.scheduler.config,
    schedulerPipeline: folder ? async (className, config) => folderPipeline({ ...folder!, scheduler: { ...folder!.scheduler, className, config } }, { modelPath, steps: req.steps, scheduler: className }, nodeTypes()) : undefined,
  });
  const errors = [...folderErrors, ...r.problems.filter((p) => p.severity === 'error')];
  return {
    kind: r.kind,
    text: r.doc && !errors.length ? serializePipeline(r.doc) : undefined,
    errors,
    warnings: r.problems.filter((p) => p.severity !== 'error'),
    modelNames: r.modelNames,
    needsModel: r.needsModel,
    needsImage: r.needsImage,
  };
}

/** The kind of another tool's PNG (ComfyUI or A1111 text chunks), or undefined. */
export function importableImage(bytes: Uint8Array): 'ComfyUI' | 'A1111' | undefined {
  const chunks = readPngText(bytes);
  if (chunks.prompt !== undefined || chunks.workflow !== undefined) return 'ComfyUI';
  if (chunks.parameters !== undefined) return 'A1111';
  return undefined;
}

/** The suggested file for an imported pipeline: beside the source, its name with .dpipe, not taken. */
export function suggestedTarget(source: string, taken: (file: string) => boolean): string {
  const dir = path.dirname(source);
  const stem = path.basename(source).replace(/\.(json|png|txt)$/i, '') || 'imported';
  let file = path.join(dir, `${stem}.dpipe`);
  for (let i = 2; taken(file); i++) file = path.join(dir, `${stem}-${i}.dpipe`);
  return file;
}

/** One line for a notification: what failed and the first problem; the log gets them all. */
export function summary(outcome: ImportOutcome, source: string): string {
  const what = outcome.kind ? IMPORT_KIND_NAMES[outcome.kind] : path.basename(source);
  const n = outcome.errors.length;
  const first = outcome.errors[0];
  return `${path.basename(source)}: ${n} setting${n === 1 ? '' : 's'} of the ${what} ${n === 1 ? 'has' : 'have'} no dpipe equivalent${first ? ` — ${first.message}` : ''}${n > 1 ? ` (and ${n - 1} more: see the log)` : ''}. Nothing was written.`;
}

/** Every problem as the log shows it. */
export function logLines(outcome: ImportOutcome): string[] {
  return [...outcome.errors, ...outcome.warnings].map(formatProblem);
}
