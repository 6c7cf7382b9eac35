/**
 * "Valid" means "runs": the checks a run would make before its first model evaluation, made at validation.
 *
 * The loader (`format/load.ts`) checks the text — JSON, shape, types, parameters, edges, composition rules — without
 * touching a model. {@link preflight} goes on from a loaded document the way a run starts it: it plans the run, then
 * evaluates every block that makes no model evaluation and writes no file (models are opened, so their headers,
 * tensor names, ranks and element types are checked against the block's settings; .npy files are read; schedules
 * computed; latents sized against the memory budget), and calls the `check` of the blocks that would (Sample and
 * Output: shapes, noise and seeds for this batch, the trajectory budget, output names). A block contributes its own
 * pre-run checks through `NodeType.check`; nothing here knows a block by name. A block fed by a checked block's
 * stand-in outputs (the Sample's start state in place of its result: e.g. a VAE decode after the Sample) is checked
 * with its own `check` when it has one, else evaluated on the stand-in; its values are never reused by the run.
 *
 * Every problem carries the node and a JSON pointer, so {@link validatePipeline} reports it at its line and column.
 */
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { DEFAULT_BUDGET, type RunBudget } from '../core/budget';
import { DpipeError, isAbort, type ErrorCode, type Problem } from '../core/errors';
import { parseNpy } from '../core/npy';
import type { Latent } from '../core/types';
import { hasErrors, loadPipeline, locateProblems, paramsWithDefaults } from '../format/index';
import type { PipelineDoc } from '../format/types';
import { loadModel as loadOnnxModel } from '../model/wrap';
import { nodeTypes } from '../registry/index';
import type { NodeType, RunServices } from '../registry/node';
import { planRun } from './graph';

export interface PreflightOptions {
  /** Folder of the .dpipe file; relative paths resolve against it. */
  readonly baseDir: string;
  readonly nodeTypes?: ReadonlyMap<string, NodeType>;
  /** Opens a model (default: the ONNX model layer; a run passes its own, so the session is reused). */
  readonly loadModel?: RunServices['loadModel'];
  readonly readNpy?: RunServices['readNpy'];
  readonly batch?: number;
  readonly seed?: number;
  readonly budget?: RunBudget;
  readonly signal?: AbortSignal;
  /** Defaults for model blocks left at "auto" (execution provider, CPU fallback, threads), as the run has them. */
  readonly modelDefaults?: RunServices['modelDefaults'];
  /**
   * Filled for a run that follows: the outputs of every evaluated block (not Sample and Output), the time each took and
   * the warnings they gave, so the run reuses them instead of evaluating (and encoding prompts, fitting previews)
   * twice.
   */
  readonly keep?: { readonly values: Map<string, Record<string, unknown>>; readonly ms: Map<string, number>; readonly warnings: { node: string; message: string }[] };
}

/** Categories whose blocks evaluate the model or write files: checked with `check`, never evaluated here. */
const CHECK_ONLY = new Set(['Sample', 'Output']);

/** Error codes that concern a block's file (its first `file` parameter is then where the problem is marked). */
const FILE_CODES = new Set<ErrorCode>(['E_MODEL', 'E_FILE_MISSING', 'E_NPY']);

/**
 * The problems a run of `doc` would meet before its first model evaluation (none: it starts). Each has `nodeId` and
 * a `pointer` (no line: see {@link locateProblems}). Non-DpipeErrors are bugs and propagate.
 */
export async function preflight(doc: PipelineDoc, opts: PreflightOptions): Promise<Problem[]> {
  const types = opts.nodeTypes ?? nodeTypes();
  const problems: Problem[] = [];
  let plan: ReturnType<typeof planRun>;
  try {
    plan = planRun(doc, types);
  } catch (e) {
    if (!(e instanceof DpipeError)) throw e;
    return [{ code: e.code, message: e.message, severity: 'error', pointer: doc.nodes.length ? '/nodes' : '' }];
  }
  const services: RunServices = {
    signal: opts.signal,
    batch: opts.batch,
    seed: opts.seed,
    budget: opts.budget ?? DEFAULT_BUDGET,
    loadModel: opts.loadModel ?? ((params, abs) => loadOnnxModel(params, abs)),
    readNpy: opts.readNpy ?? readNpyFile,
    modelDefaults: opts.modelDefaults,
    warn: (node, message) => opts.keep?.warnings.push({ node, message }),
  };
  const baseDir = path.resolve(opts.baseDir);
  const values = new Map<string, Record<string, unknown>>();
  const failed = new Set<string>();
  /** Blocks fed (directly or not) by a checked block's stand-in outputs: their values are not the run's. */
  const standIn = new Set<string>();
  for (const step of plan.order) {
    const { node, info } = step;
    const type = types.get(node.type)!;
    const k = doc.nodes.indexOf(node);
    const inputs: Record<string, unknown> = {};
    let blocked = false;
    for (const [port, src] of step.inputs) {
      if (failed.has(src.node)) blocked = true;
      const v = values.get(src.node)?.[src.port];
      if (v !== undefined) inputs[port] = v;
    }
    if (blocked) {
      failed.add(node.id); // its input's problem is reported; this block cannot be checked without it
      continue;
    }
    const params = paramsWithDefaults(info, node.params);
    const ctx = { nodeId: node.id, baseDir, services };
    const fedByStandIn = [...step.inputs.values()].some((src) => standIn.has(src.node));
    if (CHECK_ONLY.has(info.category) || fedByStandIn) standIn.add(node.id);
    try {
      if (CHECK_ONLY.has(info.category) || (fedByStandIn && type.check)) {
        const out = type.check ? await type.check(ctx, inputs, params) : undefined;
        values.set(node.id, out ?? {});
      } else {
        const t0 = performance.now();
        const out = await type.evaluate(ctx, inputs, params);
        values.set(node.id, out);
        if (!fedByStandIn) {
          opts.keep?.values.set(node.id, out);
          opts.keep?.ms.set(node.id, performance.now() - t0);
        }
      }
    } catch (e) {
      if (!(e instanceof DpipeError) || isAbort(e)) throw e;
      failed.add(node.id);
      const fileParam = info.params.find((p) => p.type === 'file' && typeof node.params[p.name] === 'string' && node.params[p.name] !== '');
      const pointer = FILE_CODES.has(e.code) && fileParam ? `/nodes/${k}/params/${fileParam.name}` : `/nodes/${k}`;
      const message = e.message.includes(`"${node.id}"`) ? e.message : `node "${node.id}" (${node.type}): ${e.message}`;
      problems.push({ code: e.code, message, severity: 'error', nodeId: node.id, pointer });
    }
  }
  return problems;
}

async function readNpyFile(absPath: string): Promise<Latent> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(absPath);
  } catch (e) {
    throw new DpipeError('E_FILE_MISSING', `${absPath} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const a = parseNpy(bytes, absPath);
  return { shape: a.shape, data: a.data };
}

export interface ValidateOptions extends Omit<PreflightOptions, 'baseDir'> {
  /** Shown in problems (`file:line:col`). */
  readonly file?: string;
  /** Default: the folder of `file`. */
  readonly baseDir?: string;
  /** Only the loader's checks (no model opened, nothing evaluated). */
  readonly staticOnly?: boolean;
}

/**
 * Validates .dpipe text as `dpipe validate` does: the loader's problems, then, when there is no error, the
 * {@link preflight} of a run, each located at its line and column.
 */
export async function validatePipeline(text: string, opts: ValidateOptions): Promise<{ doc?: PipelineDoc; problems: Problem[] }> {
  const baseDir = opts.baseDir ?? (opts.file ? path.dirname(path.resolve(opts.file)) : process.cwd());
  const r = loadPipeline(text, { file: opts.file, baseDir });
  if (!r.doc || hasErrors(r.problems) || opts.staticOnly) return { doc: r.doc, problems: [...r.problems] };
  const found = await preflight(r.doc, { ...opts, baseDir });
  return { doc: r.doc, problems: [...r.problems, ...locateProblems(text, opts.file, found)] };
}
