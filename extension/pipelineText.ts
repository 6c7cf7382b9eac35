/**
 * The host's one doorway into the engine's format and graph modules: load text into a document with located
 * problems, turn the webview's graph ops into text edits, and the registry as JSON. Kept free of vscode so it can
 * be tested directly.
 */
import * as path from 'node:path';
import type { Problem } from '../src/engine/core/errors';
import { loadPipeline, hasErrors, type PipelineDoc } from '../src/engine/format';
import { registryInfo } from '../src/engine/registry';
import type { NodeTypeInfo } from '../src/engine/registry/types';

export interface TextAnalysis {
  /** The document when the text is JSON of the right shape (it may still have problems); undefined otherwise. */
  readonly doc: PipelineDoc | undefined;
  readonly problems: readonly Problem[];
}

export function analyzeText(text: string, file: string): TextAnalysis {
  const r = loadPipeline(text, { file, baseDir: path.dirname(file) });
  return { doc: r.doc, problems: r.problems };
}

export function runnable(a: TextAnalysis): boolean {
  return a.doc !== undefined && !hasErrors(a.problems);
}

let registryCache: NodeTypeInfo[] | undefined;
/** The block registry as plain JSON (computed once). */
export function registryJson(): NodeTypeInfo[] {
  return (registryCache ??= registryInfo());
}

/** A minimal replacement in the document text. */
export interface TextEdit {
  readonly offset: number;
  readonly length: number;
  readonly content: string;
}

/** Turns graph ops into text edits on `text`; throws (with the reason) when an op is refused. */
export function applyGraphOps(_text: string, _ops: readonly unknown[]): TextEdit[] {
  throw new Error('graph editing is not available yet');
}
