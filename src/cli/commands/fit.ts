/**
 * `dpipe fit KIND …`: fits a block on the user's own model and saves the result where the block reads it.
 * One module per kind (`fit-gits.ts`, `fit-dpmv3.ts`, `fit-dc.ts`); this one dispatches and holds what they share:
 * reading the pipeline, applying graph edits to its text (so the user's formatting is kept), writing it back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../../engine/core/errors';
import { applyGraphOp, applyTextEdits, type GraphOp } from '../../engine/graph/index';
import { nodeTypes } from '../../engine/registry/index';
import { writeFileAtomic } from '../../engine/run/files';
import { EXIT, type CliIO, type Command } from '../command';
import { fitDcCommand } from './fit-dc';
import { fitDpmv3Command } from './fit-dpmv3';
import { fitGitsCommand } from './fit-gits';

const KINDS: readonly Command[] = [fitGitsCommand, fitDpmv3Command, fitDcCommand];
/** A kind's name as typed after `dpipe fit` (its command is named `fit KIND`, which its messages say). */
const kindName = (k: Command) => k.name.replace(/^fit /, '');

const USAGE = `Usage: dpipe fit KIND ARGS… [options]   (dpipe fit KIND --help for its options)

Fits a block on your own model from a few of its trajectories and saves the result where the block reads it:
${KINDS.map((k) => `  ${kindName(k).padEnd(6)} ${k.summary}`).join('\n')}`;

/** Applies graph operations one after the other to the .dpipe text; a refusal becomes a DpipeError. */
export function editPipelineText(text: string, ops: readonly GraphOp[]): string {
  const reg = nodeTypes();
  for (const op of ops) {
    const r = applyGraphOp(text, reg, op);
    if (!r.ok) throw new DpipeError(r.code, `cannot write the fitted values into the pipeline (${op.op}): ${r.reason}`);
    text = applyTextEdits(text, r.edits);
  }
  return text;
}

/**
 * Writes `text` to `file` (resolved against the working directory) atomically: a full disk or a crash leaves the
 * previous file as it was.
 */
export function writeText(io: CliIO, file: string, text: string): string {
  const abs = path.resolve(io.cwd, file);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  writeFileAtomic(abs, text);
  return abs;
}

/** A number option, or undefined when absent. */
export function numberOption(cmd: Pick<Command, 'name'>, flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new DpipeError('E_USAGE', `dpipe ${cmd.name}: ${flag} must be a number ≥ ${min}; got "${v}"`);
  return n;
}

export const fitCommand: Command = {
  name: 'fit',
  summary: 'fit a block on your model: GITS schedule, DPM-Solver-v3 statistics, DC-Solver ratios',
  usage: USAGE,
  async run(args, io) {
    const [kind, ...rest] = args;
    if (kind === undefined || kind === '--help' || kind === '-h') {
      (kind === undefined ? io.err : io.out)(USAGE + '\n');
      return kind === undefined ? EXIT.USAGE : EXIT.OK;
    }
    const cmd = KINDS.find((k) => kindName(k) === kind);
    if (!cmd) throw new DpipeError('E_USAGE', `dpipe fit: unknown kind "${kind}"; one of ${KINDS.map(kindName).join(', ')}\n\n${USAGE}`);
    return cmd.run(rest, io);
  },
};
