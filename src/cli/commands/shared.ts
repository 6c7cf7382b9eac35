/** Helpers shared by the CLI commands: the pipeline argument, loading a .dpipe with all its problems, running it with progress. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError, formatProblem, type Problem } from '../../engine/core/errors';
import { loadPipeline, locateProblems } from '../../engine/format/index';
import type { PipelineDoc } from '../../engine/format/types';
import { PIPELINE_KEYWORD, isPng, readPipelineFromPng, runPipeline, type RunOptions, type RunResult } from '../../engine/run/index';
import { EXECUTION_PROVIDERS } from '../../engine/model/onnx';
import { usageError, type CliIO, type Command } from '../command';
import { Progress } from '../progress';

/** A path for display: relative to the working directory when inside it. */
export function shown(io: CliIO, p: string): string {
  const rel = path.relative(io.cwd, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** Reads a file's bytes; `shownAs` is the path as the user gave it, for messages. */
export function readBytes(file: string, shownAs = file): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DpipeError('E_FILE_MISSING', `${shownAs}: no such file`);
    if (code === 'EISDIR') throw new DpipeError('E_FILE_MISSING', `${shownAs} is a directory; give a .dpipe file`);
    throw new DpipeError('E_FILE_MISSING', `${shownAs} cannot be read (${code ?? (e as Error).message})`);
  }
}

/**
 * The pipeline text of a file: a .dpipe file's text, or the pipeline a dpipe PNG carries (its file paths are
 * relative to the PNG's folder, so it runs from there).
 */
export function pipelineSource(abs: string, shownAs: string): string {
  const bytes = readBytes(abs, shownAs);
  if (!isPng(bytes)) return new TextDecoder().decode(bytes);
  const text = readPipelineFromPng(bytes);
  if (text === undefined) throw new DpipeError('E_FORMAT', `${shownAs} is a PNG without a dpipe pipeline (no "${PIPELINE_KEYWORD}" text chunk)`);
  return text;
}

/** The options `run` and `eval` share (declared for {@link commandArgs}): seed, batch size, parameter overrides. */
export const RUN_OPTIONS = {
  seed: { type: 'string' },
  batch: { type: 'string' },
  set: { type: 'string', multiple: true },
  provider: { type: 'string' },
  'cpu-fallback': { type: 'boolean' },
} as const;

/** The model defaults of `--provider P` and `--cpu-fallback` (for model blocks whose provider is "auto"). */
export function modelDefaultsFrom(values: { provider?: string; 'cpu-fallback'?: boolean }): RunOptions['modelDefaults'] {
  const p = values.provider;
  if (p !== undefined && !(EXECUTION_PROVIDERS as readonly string[]).includes(p)) {
    throw new DpipeError('E_USAGE', `--provider must be one of ${EXECUTION_PROVIDERS.join(', ')}; got "${p}"`);
  }
  return { provider: p, fallbackToCpu: values['cpu-fallback'] === true };
}

/** The one pipeline argument of `run` and `eval` (a .dpipe file or a dpipe PNG); a usage error otherwise. */
export function onePipelineArg(cmd: Pick<Command, 'name' | 'usage'>, positionals: readonly string[]): string {
  if (positionals.length !== 1) throw usageError(cmd, positionals.length ? `expected one .dpipe file, got ${positionals.length}` : 'missing the .dpipe file');
  return positionals[0];
}

/** Loads a .dpipe file (or a dpipe PNG) by the path the user gave (resolved against `io.cwd`); every problem, all at once. */
export function loadFile(io: CliIO, file: string): { doc?: PipelineDoc; problems: Problem[]; abs: string; text: string } {
  const abs = path.resolve(io.cwd, file);
  const text = pipelineSource(abs, file);
  const r = loadPipeline(text, { file, baseDir: path.dirname(abs) });
  return { doc: r.doc, problems: r.problems, abs, text };
}

/** Loads a file for running: warnings go to stderr, errors throw one DpipeError carrying them all. */
export function loadForRun(io: CliIO, file: string): { doc: PipelineDoc; abs: string; text: string } {
  const { doc, problems, abs, text } = loadFile(io, file);
  const errors = problems.filter((p) => p.severity === 'error');
  for (const w of problems.filter((p) => p.severity !== 'error')) io.err(formatProblem(w) + '\n');
  if (errors.length || !doc) {
    throw new DpipeError(errors[0]?.code ?? 'E_FORMAT', `${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}; fix ${errors.length === 1 ? 'it' : 'them'} and run again (dpipe validate ${file})`, errors);
  }
  return { doc, abs, text };
}

/**
 * Runs a loaded pipeline with progress on stderr (unless quiet). `source` (the text and the name the user gave)
 * places the run's errors at their line and column.
 */
export async function runWithProgress(io: CliIO, doc: PipelineDoc, opts: RunOptions, quiet: boolean, source?: { text: string; file: string }): Promise<RunResult> {
  const progress = quiet ? undefined : new Progress(io);
  try {
    return await runPipeline(doc, {
      ...opts,
      signal: io.signal,
      onSampleStart: (node, info) => progress?.sampleStart(node, info),
      onEval: () => progress?.eval(),
      onStep: (node, ev) => progress?.step(node, ev),
      onWarning: (node, message) => {
        progress?.finishLine();
        io.err(`warning: ${node}: ${message}\n`);
      },
    });
  } catch (e) {
    throw source ? located(e, source) : e;
  } finally {
    progress?.finishLine();
  }
}

/** A DpipeError whose problems point into the file, with their lines and columns (the message then names them). */
export function located(e: unknown, source: { text: string; file: string }): unknown {
  if (!(e instanceof DpipeError) || e.problems.length === 0) return e;
  return new DpipeError(e.code, e.message, locateProblems(source.text, source.file, e.problems));
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

/** The summary lines after a run: files written, then NFE and where the time went. */
export function reportRun(io: CliIO, res: RunResult): void {
  for (const o of res.outputs) if (o.path) io.out(`${shown(io, o.path)}\n`);
  const t = res.record.timings;
  const where = res.recordPath ? `${shown(io, res.recordPath)}: ` : '';
  io.err(
    `${where}${res.record.nfe} model evaluation${res.record.nfe === 1 ? '' : 's'} in ${seconds(t.totalMs)} ` +
      `(model ${seconds(t.modelMs)}, engine ${seconds(t.engineMs)}, loading ${seconds(t.loadMs)}, outputs ${seconds(t.outputMs)})\n`,
  );
}
