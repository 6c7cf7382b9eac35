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
import { applyGraphOp, applyTextEdits, parseGraphOp, type TextEdit } from '../src/engine/graph';

export interface TextAnalysis {
  /** The document when the text is JSON of the right shape (it may still have problems); undefined otherwise. */
  readonly doc: PipelineDoc | undefined;
  readonly problems: readonly Problem[];
}

/** `mayTouch`: whether a file the pipeline names may be looked at (restricted mode: only inside the workspace). */
export function analyzeText(text: string, file: string, mayTouch?: (abs: string) => boolean): TextAnalysis {
  const r = loadPipeline(text, { file, baseDir: path.dirname(file), mayTouch });
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

export type { TextEdit };

/**
 * Turns the webview's graph ops into text edits on `text`. Each op is validated (`parseGraphOp`) and applied to the
 * text the previous ops produced; a refusal throws with the engine's reason, and nothing is applied. One op gives
 * the engine's own minimal edits; several give one replacement spanning what changed, so the whole batch is one
 * undo step either way.
 */
export function applyGraphOps(text: string, ops: readonly unknown[]): TextEdit[] {
  let current = text;
  let only: readonly TextEdit[] = [];
  for (const raw of ops) {
    const parsed = parseGraphOp(raw);
    if (!parsed.ok) throw new Error(parsed.reason);
    const r = applyGraphOp(current, registryJson(), parsed.op);
    if (!r.ok) throw new Error(r.reason);
    if (ops.length === 1) only = r.edits;
    current = applyTextEdits(current, r.edits);
  }
  if (ops.length === 1) return [...only];
  return current === text ? [] : [spanningEdit(text, current)];
}

/** The single replacement turning `a` into `b`: everything between their common prefix and common suffix. */
export function spanningEdit(a: string, b: string): TextEdit {
  let start = 0;
  const max = Math.min(a.length, b.length);
  while (start < max && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let end = 0;
  while (end < max - start && a.charCodeAt(a.length - 1 - end) === b.charCodeAt(b.length - 1 - end)) end++;
  return { offset: start, length: a.length - start - end, content: b.slice(start, b.length - end) };
}
