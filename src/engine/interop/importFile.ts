/**
 * `dpipe import` and "dpipe: Import Pipeline…": a file from another tool, recognized by its content, as a pipeline.
 *
 * - a PNG with ComfyUI's `prompt` (API) or `workflow` text chunk (the prompt wins: it holds the values the run used),
 *   or A1111/Forge's `parameters` infotext;
 * - a ComfyUI API prompt or UI workflow (.json);
 * - a diffusers `scheduler_config.json` (with the model folder it is for);
 * - an A1111 infotext as text.
 * Problems come back located: the file (and PNG chunk), line and column (JSON) or field (infotext), as `Problem`s with
 * codes E_IMPORT / W_IMPORT; a JSON syntax error is E_JSON. On any error there is no document.
 */
import { parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import type { Problem } from '../core/errors';
import { pathOf, TextLocator } from '../format/locate';
import type { PipelineDoc } from '../format/types';
import { isPng, readPngText, PIPELINE_KEYWORD } from '../run/png';
import { importInfotext } from './a1111';
import { isApiPrompt, isWorkflow, readApiPrompt, readWorkflow } from './comfyGraph';
import { importComfyGraph } from './comfyImport';
import { importSchedulerConfig } from './diffusersScheduler';
import type { InteropIssue } from './issues';

export type ImportKind = 'comfyui-api' | 'comfyui-workflow' | 'a1111' | 'diffusers-scheduler';

export const IMPORT_KIND_NAMES: Readonly<Record<ImportKind, string>> = {
  'comfyui-api': 'ComfyUI API prompt',
  'comfyui-workflow': 'ComfyUI workflow',
  a1111: 'A1111/Forge infotext',
  'diffusers-scheduler': 'diffusers scheduler config',
};

export interface ImportOptions {
  /** The model folder as the pipeline names it (relative to the .dpipe file); '' or absent: left for the user. */
  readonly modelPath?: string;
  /** Facts about the model folder, when the caller has read it. */
  readonly modelFamily?: 'sd' | 'sdxl' | 'sd3';
  /** img2img (A1111) / LoadImage (ComfyUI): the input image as the pipeline names it. */
  readonly image?: string;
  /** diffusers scheduler config: the number of steps (the config has none). */
  readonly steps?: number;
  /**
   * diffusers scheduler config: builds the pipeline for the model folder (the caller reads the folder: `model/`
   * needs the file system). Receives the class name and config; returns the document, or throws a DpipeError.
   */
  readonly schedulerPipeline?: (className: string, config: Readonly<Record<string, unknown>>) => Promise<PipelineDoc>;
  /** The model folder's own scheduler config (diffusers import: model-level options must agree). */
  readonly folderSchedulerConfig?: Readonly<Record<string, unknown>>;
}

export interface ImportResult {
  readonly kind?: ImportKind;
  readonly doc?: PipelineDoc;
  readonly problems: Problem[];
  /** What the user's model folder stands for (ComfyUI checkpoints, A1111 model name), for the model picker. */
  readonly modelNames: string[];
  /** The source needs the model folder to be imported at all (diffusers scheduler config). */
  readonly needsModel: boolean;
  /** The source needs an input image (A1111 img2img). */
  readonly needsImage: boolean;
}

/**
 * The tree node a JSON pointer names, or its nearest existing ancestor. Unlike the .dpipe locator, a segment of
 * digits names an object key where the value is an object (ComfyUI's node ids "3", "10").
 */
function nodeAtPointer(root: JsonNode | undefined, pointer: string): JsonNode | undefined {
  let node = root;
  for (const seg of pathOf(pointer).map(String)) {
    if (!node) return undefined;
    const next: JsonNode | undefined =
      node.type === 'object' ? node.children?.find((p) => p.children?.[0]?.value === seg)?.children?.[1] : node.type === 'array' ? node.children?.[Number(seg)] : undefined;
    if (!next) return node;
    node = next;
  }
  return node;
}

function problemsOf(issues: readonly InteropIssue[], file: string, locator?: TextLocator): Problem[] {
  return issues.map((i) => {
    const code = i.severity === 'error' ? 'E_IMPORT' : 'W_IMPORT';
    if (i.pointer !== undefined && locator) {
      const node = nodeAtPointer(locator.root, i.pointer);
      const span = node ? locator.span(node.offset, node.length) : locator.span(0, 0);
      return { code, severity: i.severity, message: i.message, file, pointer: i.pointer, line: span.line, column: span.column, offset: span.offset, length: span.length };
    }
    if (i.offset !== undefined && locator) {
      const span = locator.span(i.offset, i.length ?? 0);
      return { code, severity: i.severity, message: i.field ? `${i.message}` : i.message, file, line: span.line, column: span.column, offset: span.offset, length: span.length };
    }
    return { code, severity: i.severity, message: i.message, file, ...(i.pointer !== undefined ? { pointer: i.pointer } : {}) };
  });
}

/** Imports `bytes` (the file `name`, for messages). Never throws on bad input. */
export async function importBytes(bytes: Uint8Array, name: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const none = (problems: Problem[], extra: Partial<ImportResult> = {}): ImportResult => ({ problems, modelNames: [], needsModel: false, needsImage: false, ...extra });
  const fail = (message: string, file = name) => none([{ code: 'E_IMPORT', severity: 'error', message, file }]);
  if (isPng(bytes)) {
    const chunks = readPngText(bytes);
    if (chunks.prompt !== undefined) return importText(chunks.prompt, `${name} (prompt chunk)`, opts, 'comfyui-api');
    if (chunks.workflow !== undefined) return importText(chunks.workflow, `${name} (workflow chunk)`, opts, 'comfyui-workflow');
    if (chunks.parameters !== undefined) return importText(chunks.parameters, `${name} (parameters chunk)`, opts, 'a1111');
    if (chunks[PIPELINE_KEYWORD] !== undefined) return fail(`${name} was written by dpipe: open its pipeline with "Open Pipeline from Image" (or run it: dpipe run ${name})`);
    const keys = Object.keys(chunks);
    return fail(`${name} has no ComfyUI "prompt"/"workflow" or A1111 "parameters" text chunk${keys.length ? ` (its text chunks: ${keys.join(', ')})` : ' (no text chunks at all: the metadata was stripped?)'}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return fail(`${name} is neither a PNG nor UTF-8 text`);
  }
  return importText(text, name, opts);
}

/** Imports text: JSON (ComfyUI, diffusers) or an A1111 infotext. `kind` forces the format (PNG chunks). */
export async function importText(text: string, file: string, opts: ImportOptions = {}, kind?: ImportKind): Promise<ImportResult> {
  const base = { modelNames: [] as string[], needsModel: false, needsImage: false };
  const looksJson = /^\s*[{[]/.test(text);
  if (kind === 'a1111' || (!kind && !looksJson)) {
    const r = importInfotext(text, { modelPath: opts.modelPath, family: opts.modelFamily, image: opts.image, sourceName: file });
    const locator = new TextLocator(text, undefined);
    const model = r.infotext.fields.get('Model')?.value;
    return { ...base, kind: 'a1111', doc: r.doc, problems: problemsOf(r.issues, file, locator), modelNames: model ? [model] : [], needsImage: r.needsImage };
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  const locator = new TextLocator(text, root);
  if (errors.length) {
    return {
      ...base,
      problems: errors.map((e) => {
        const span = locator.span(e.offset, e.length);
        return { code: 'E_JSON' as const, severity: 'error' as const, message: `${printParseErrorCode(e.error)} (not valid JSON)`, file, line: span.line, column: span.column, offset: e.offset, length: e.length };
      }),
    };
  }
  const json = JSON.parse(text) as unknown;
  if (kind === 'comfyui-api' || (!kind && isApiPrompt(json))) {
    if (!isApiPrompt(json)) return { ...base, problems: [{ code: 'E_IMPORT', severity: 'error', message: 'the "prompt" chunk is not a ComfyUI API prompt', file }] };
    const r = await importComfyGraph(readApiPrompt(text, json), { modelPath: opts.modelPath, modelKind: opts.modelFamily === 'sd3' ? 'flow' : opts.modelFamily ? 'discrete' : undefined, sourceName: file, image: opts.image });
    return { ...base, kind: 'comfyui-api', doc: r.doc, problems: problemsOf(r.issues, file, locator), modelNames: r.checkpoints };
  }
  if (kind === 'comfyui-workflow' || (!kind && isWorkflow(json))) {
    if (!isWorkflow(json)) return { ...base, problems: [{ code: 'E_IMPORT', severity: 'error', message: 'the "workflow" chunk is not a ComfyUI workflow', file }] };
    const r = await importComfyGraph(readWorkflow(text, json), { modelPath: opts.modelPath, modelKind: opts.modelFamily === 'sd3' ? 'flow' : opts.modelFamily ? 'discrete' : undefined, sourceName: file, image: opts.image });
    return { ...base, kind: 'comfyui-workflow', doc: r.doc, problems: problemsOf(r.issues, file, locator), modelNames: r.checkpoints };
  }
  if (typeof json === 'object' && json !== null && typeof (json as Record<string, unknown>)._class_name === 'string') {
    return importScheduler(json as Record<string, unknown>, file, locator, opts);
  }
  return {
    ...base,
    problems: [{ code: 'E_IMPORT', severity: 'error', message: 'this JSON is neither a ComfyUI API prompt ({ "id": { "class_type", "inputs" } }), a ComfyUI workflow ({ "nodes", "links" }) nor a diffusers scheduler config ({ "_class_name" })', file, line: 1, column: 1 }],
  };
}

async function importScheduler(config: Record<string, unknown>, file: string, locator: TextLocator, opts: ImportOptions): Promise<ImportResult> {
  const base = { kind: 'diffusers-scheduler' as const, modelNames: [] as string[], needsModel: true, needsImage: false };
  const r = importSchedulerConfig(config, opts.steps ?? 50, opts.folderSchedulerConfig);
  const problems = problemsOf(r.issues, file, locator);
  if (!r.blocks) return { ...base, problems };
  if (!opts.schedulerPipeline) {
    return { ...base, problems: [...problems, { code: 'E_IMPORT', severity: 'error', message: `a scheduler config is imported into a pipeline for a model folder: give the folder it is for (dpipe import ${file} --model DIR)`, file }] };
  }
  try {
    return { ...base, doc: await opts.schedulerPipeline(r.className, config), problems };
  } catch (e) {
    return { ...base, problems: [...problems, { code: 'E_IMPORT', severity: 'error', message: (e as Error).message, file }] };
  }
}
