/** `dpipe sweep A.dpipe [B.dpipe …] --steps 4,8,16`: final error against a reference vs NFE (engine/inspect/sweep). */
import * as path from 'node:path';
import { sweep, type SweepPipeline } from '../../engine/inspect/index';
import { writeFileAtomic } from '../../engine/run/files';
import { EXIT, intOption, commandArgs, usageError, type Command } from '../command';
import { loadForRun } from './shared';

const USAGE = `Usage: dpipe sweep FILE.dpipe [FILE.dpipe …] --steps N,N,… [options]

Runs each pipeline at each step count (its Sample block's schedule "steps" set to N) from the same initial noise,
and measures the final state's error ‖x − x_ref‖ (RMS) against a reference solve of the PF-ODE (Dormand–Prince
5(4) in log σ, one per pipeline). Prints error against NFE per pipeline and the least-squares slope of log error
against log NFE (a solver of order p has slope ≈ −p). The Latent Inspector draws the result (dpipe: Sweep…).

Options:
  --steps LIST     step counts, e.g. 4,8,16,32 (required)
  --seed S         seed of every seeded noise block (default: each pipeline's own)
  --rtol X         reference tolerance (default 1e-6), --atol X likewise
  --out FILE       write the result as JSON to FILE
  --json           print the result as JSON on stdout
  -h, --help       this text`;

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'final error vs NFE of one or more pipelines over several step counts (convergence plot data)',
  usage: USAGE,
  async run(args, io) {
    const parsed = commandArgs(this, args, io, {
      steps: { type: 'string' },
      seed: { type: 'string' },
      rtol: { type: 'string' },
      atol: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!parsed) return EXIT.OK;
    const { values, positionals } = parsed;
    if (positionals.length === 0) throw usageError(this, 'give at least one .dpipe file');
    if (!values.steps) throw usageError(this, '--steps is required, e.g. --steps 4,8,16,32');
    const steps = values.steps.split(',').map((s) => intOption(this, '--steps', s.trim(), 1)!);
    const tol = (flag: string, v: string | undefined) => {
      if (v === undefined) return 1e-6;
      const n = Number(v);
      if (!(n > 0)) throw usageError(this, `${flag} must be a number > 0; got "${v}"`);
      return n;
    };
    const pipelines: SweepPipeline[] = positionals.map((f) => {
      const { doc, abs } = loadForRun(io, f);
      return { label: path.basename(f, '.dpipe'), doc, baseDir: path.dirname(abs) };
    });
    const result = await sweep(pipelines, {
      steps,
      seed: intOption(this, '--seed', values.seed, 0),
      rtol: tol('--rtol', values.rtol),
      atol: tol('--atol', values.atol),
      signal: io.signal,
      onProgress: (label, s, done, total) => io.err(`sweep: ${label} ${s === 'reference' ? 'reference' : `${s} steps`} (${done}/${total})\n`),
    });
    if (values.out) writeFileAtomic(path.resolve(io.cwd, values.out), JSON.stringify(result, null, 1) + '\n');
    if (values.json) io.out(JSON.stringify(result) + '\n');
    else {
      for (const s of result.series) {
        io.out(`${s.label} (${s.node}; reference ${s.referenceMethod}, ${s.referenceNfe} NFE)${s.slope !== null ? `, slope ${s.slope.toFixed(2)}` : ''}\n`);
        for (const p of s.points) io.out(`  steps ${String(p.steps).padStart(5)}  NFE ${String(p.nfe).padStart(6)}  error ${p.error.toExponential(4)}\n`);
      }
    }
    return EXIT.OK;
  },
};
