/** `dpipe reference RUN`: the error of a recorded run against a high-accuracy reference solve (engine/inspect). */
import * as path from 'node:path';
import { DpipeError } from '../../engine/core/errors';
import { referenceForRun, REFERENCE_FILE, TrajectoryReader, type ReferenceMethod } from '../../engine/inspect/index';
import { EXIT, intOption, options, usageError, defineCommand, type Command } from '../command';

const USAGE = `Usage: dpipe reference RUN [options]

Solves the probability-flow ODE from the run's own initial noise (its pipeline and seeds from RUN/run.json) with
an adaptive Dormand–Prince 5(4) solver in log σ, stopping at every σ the run evaluated, and writes
RUN/reference.json (the run's error ‖x_t − x_ref(σ)‖ per model evaluation and at the end; the Latent Inspector
plots it) and RUN/reference-final-NODE.npy. RUN is a run folder (with run.json and trajectory/) or its run.json.

Options:
  --rtol X         relative tolerance (default 1e-5)
  --atol X         absolute tolerance (default 1e-5)
  --max-nfe N      give up after N model evaluations (default 20000)
  --method M       dopri5 (default) or pipeline: the run's own pipeline at --steps steps
  --steps N        steps of the pipeline reference (default 1000)
  --json           print reference.json on stdout
  -h, --help       this text`;

function numOption(cmd: Command, flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw usageError(cmd, `${flag} must be a number > 0; got "${v}"`);
  return n;
}

export const referenceCommand = defineCommand({
  name: 'reference',
  summary: 'error of a recorded run against an adaptive high-accuracy ODE solve from the same noise',
  usage: USAGE,
  options: options(['rtol', 'atol', 'max-nfe', 'method', 'steps'], ['json']),
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw usageError(this, 'give exactly one run folder');
    const method = (values.method ?? 'dopri5') as ReferenceMethod;
    if (method !== 'dopri5' && method !== 'pipeline') throw usageError(this, `--method must be dopri5 or pipeline; got "${values.method}"`);
    const reader = TrajectoryReader.open(path.resolve(io.cwd, positionals[0]));
    if (!reader.location.runDir) throw new DpipeError('E_FILE_MISSING', `${positionals[0]}: no run.json beside the trajectory`);
    let nfe = 0;
    const t0 = performance.now();
    const file = await referenceForRun(reader, {
      write: true,
      method,
      steps: intOption(this, '--steps', values.steps, 1),
      rtol: numOption(this, '--rtol', values.rtol),
      atol: numOption(this, '--atol', values.atol),
      maxNfe: intOption(this, '--max-nfe', values['max-nfe'], 1),
      signal: io.signal,
      onEval: (k) => {
        nfe = k;
        if (io.isTTY && k % 20 === 0) io.err(`\rreference: ${k} model evaluations`);
      },
    });
    if (io.isTTY) io.err('\r\x1b[K');
    if (values.json) io.out(JSON.stringify(file) + '\n');
    else {
      for (const e of file.errors) {
        const finite = e.perEval.filter((v): v is number => v !== null);
        io.out(`${e.node}: final error ${e.final?.toExponential(4) ?? 'n/a'}, max error along the run ${Math.max(...finite).toExponential(4)} (reference ${e.method}, ${e.referenceNfe} NFE)\n`);
      }
      io.out(`wrote ${path.join(reader.location.runDir, REFERENCE_FILE)} (${nfe} model evaluations, ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
    return EXIT.OK;
  },
});
