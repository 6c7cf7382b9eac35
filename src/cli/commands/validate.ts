/** `dpipe validate FILE…`: every problem of each file, located. */
import * as path from 'node:path';
import { formatProblem, type Problem } from '../../engine/core/errors';
import { EXIT, options, usageError, defineCommand } from '../command';
import { validatePipeline } from '../../engine/run/validate';
import { loadFile } from './shared';

const USAGE = `Usage: dpipe validate FILE.dpipe… [--json]

Checks each file (a .dpipe, or a PNG made by dpipe: the pipeline it carries) and prints every problem as
  FILE:LINE:COL: error[CODE]: message (at /json/pointer)
Exit status 1 when any file has an error (warnings alone pass).

Besides the text, it checks what a run checks before its first model evaluation: it opens the models (tensor
names, ranks and types against the block's settings), reads the .npy files, computes the schedules and the
start of every Sample block (shapes, noise, seeds for the batch, memory and trajectory budgets) and the output
names. A file that validates runs.

Options:
  --static     check the text only (open no model, read no other file)
  --json       print the problems as JSON: [{ file, problems: [...] }]
  -h, --help   this text`;

export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'check .dpipe files and print every problem with its line, column and JSON pointer',
  usage: USAGE,
  options: options([], ['json', 'static']),
  async run({ values, positionals }, io) {
    if (positionals.length === 0) throw usageError(this, 'missing the .dpipe file');
    let failed = false;
    const all: { file: string; problems: Problem[] }[] = [];
    for (const file of positionals) {
      const { abs, text } = loadFile(io, file);
      const { problems, doc } = await validatePipeline(text, { file, baseDir: path.dirname(abs), staticOnly: values.static === true, signal: io.signal });
      const errors = problems.filter((p) => p.severity === 'error').length;
      const warnings = problems.length - errors;
      failed ||= errors > 0;
      all.push({ file, problems });
      if (values.json) continue;
      for (const p of problems) io.out(formatProblem(p) + '\n');
      io.err(errors || warnings
        ? `${file}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`
        : `${file}: ok (${doc?.nodes.length ?? 0} nodes, ${doc?.edges.length ?? 0} edges)\n`);
    }
    if (values.json) io.out(JSON.stringify(all, null, 2) + '\n');
    return failed ? EXIT.ERROR : EXIT.OK;
  },
});
