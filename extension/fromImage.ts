/**
 * "Open Pipeline from Image": a PNG written by dpipe carries its pipeline in a text chunk, with file paths
 * relative to the image's folder (the runner rebases them when it writes the image). The new pipeline goes beside
 * the .dpipe that ran (the run record's `baseDir`, when the image sits next to its run.json), with its paths
 * rebased there; else beside the image. No vscode import (tested directly).
 */
import * as path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { loadPipeline, serializePipeline } from '../src/engine/format';
import { nodeTypes } from '../src/engine/registry';
import { rebaseFiles } from '../src/engine/run';
import { readPipelineFromPng } from '../src/engine/run/png';

export interface PipelineFromImage {
  /** Where the new (unsaved) .dpipe should live: a name not taken on disk or by `taken`. */
  readonly file: string;
  readonly text: string;
}

/** Undefined when the PNG carries no pipeline. */
export function pipelineFromImage(
  bytes: Uint8Array,
  imagePath: string,
  taken: (file: string) => boolean = () => false,
  /** Whether a path may be looked at (restricted mode: only inside the workspace); the record's folder is skipped otherwise. */
  mayTouch: (abs: string) => boolean = () => true,
): PipelineFromImage | undefined {
  const text = readPipelineFromPng(bytes);
  if (text === undefined) return undefined;
  const imageDir = path.dirname(path.resolve(imagePath));
  let dir = imageDir;
  try {
    const record = JSON.parse(readFileSync(path.join(imageDir, 'run.json'), 'utf8')) as { baseDir?: unknown };
    if (typeof record.baseDir === 'string' && mayTouch(path.resolve(record.baseDir)) && existsSync(record.baseDir)) dir = record.baseDir;
  } catch {
    // no run record next to the image: the pipeline stays beside the image
  }
  const stem = path.basename(imagePath, path.extname(imagePath));
  let file = path.join(dir, `${stem}.dpipe`);
  for (let i = 2; existsSync(file) || taken(file); i++) file = path.join(dir, `${stem}-${i}.dpipe`);
  const r = loadPipeline(text, { file, checkFiles: false });
  if (!r.doc) return { file, text };
  return { file, text: serializePipeline(rebaseFiles(r.doc, nodeTypes(), imageDir, dir)) };
}
