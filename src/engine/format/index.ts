/**
 * Public surface of the .dpipe format (Node.js side): load with located problems, save stable text, migrate,
 * generate the JSON Schema. The loader defaults to the engine's real registry and checks that referenced files
 * exist, resolved against the .dpipe file's directory. Browser code imports `./core` instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { nodeTypes } from '../registry/index';
import { loadPipelineText, type LoadTextOptions } from './load';
import type { BlockRegistry } from './registry';
import { serializePipeline as serializeWith } from './serialize';
import type { LoadResult, PipelineDoc, RegistryLike } from './types';

export * from './core';

export interface LoadOptions extends Partial<Omit<LoadTextOptions, 'checkFile' | 'registry'>> {
  /** Directory that relative paths in the file resolve against; default: the directory of `file`, else the cwd. */
  readonly baseDir?: string;
  /** Default: the engine's registry. */
  readonly registry?: RegistryLike | BlockRegistry;
  /** Whether to check that file params exist (default true). */
  readonly checkFiles?: boolean;
  /**
   * Whether a file may be looked at (default: any). A file param (and its sidecar) whose path it refuses is not
   * touched: the loader reports it unchecked (W_UNCHECKED) instead — the editor in an untrusted workspace.
   */
  readonly mayTouch?: (abs: string) => boolean;
}

/** Loads .dpipe text; every problem is reported in `problems` (never throws for bad input). */
export function loadPipeline(text: string, opts: LoadOptions = {}): LoadResult {
  const baseDir = resolveBaseDir(opts);
  return loadPipelineText(text, {
    ...opts,
    registry: opts.registry ?? nodeTypes(),
    checkFile: opts.checkFiles === false ? undefined : (p) => {
      const resolved = resolveParamPath(baseDir, p);
      if (opts.mayTouch && !opts.mayTouch(resolved)) return { exists: true, resolved, unchecked: true };
      return { exists: existsSync(resolved), resolved };
    },
    readSidecar: opts.readSidecar ?? (opts.checkFiles === false ? undefined : (p) => {
      const side = `${resolveParamPath(baseDir, p)}.json`;
      return opts.mayTouch && !opts.mayTouch(side) ? undefined : readJsonObject(side);
    }),
  });
}

/** Reads and loads a .dpipe file; `file` in problems is the path as given. */
export function loadPipelineFile(file: string, opts: Omit<LoadOptions, 'file'> = {}): LoadResult {
  return loadPipeline(readFileSync(file, 'utf8'), { ...opts, file, baseDir: opts.baseDir ?? path.dirname(path.resolve(file)) });
}

/** Stable text of a document (params ordered as the registry declares them; default: the engine's registry). */
export function serializePipeline(doc: PipelineDoc, opts: { registry?: RegistryLike | BlockRegistry } = {}): string {
  return serializeWith(doc, { registry: opts.registry ?? nodeTypes() });
}

/** Absolute path of a file param: relative paths resolve against the .dpipe file's directory. */
export function resolveParamPath(baseDir: string, p: string): string {
  return path.resolve(baseDir, p);
}

/** A JSON object file's content, or undefined when it is missing or not a JSON object (the model loader reports those). */
function readJsonObject(file: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function resolveBaseDir(opts: LoadOptions): string {
  if (opts.baseDir) return path.resolve(opts.baseDir);
  if (opts.file) return path.dirname(path.resolve(opts.file));
  return process.cwd();
}
