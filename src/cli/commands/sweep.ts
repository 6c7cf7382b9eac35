/** `dpipe sweep A.dpipe [B.dpipe …] --steps 4,8,16`: final error against a reference vs NFE (engine/inspect/sweep). */
import * as path from 'node:path';
import { finishSweep, runSweepUnits, sweepUnits, type SweepPipeline, type SweepResult } from '../../engine/inspect/index';
import { pipelineText } from '../../engine/run/index';
import { writeFileAtomic } from '../../engine/run/files';
import { parseShard, shardUnits, specKey } from '../../engine/shard/index';
import { writeSweepShard, type SweepSpec } from '../../engine/shard/records';
import { version as DPIPE_VERSION } from '../../../package.json';
import { EXIT, intOption, options, usageError, type CliIO, defineCommand } from '../command';
import { loadForRun, shown } from './shared';

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
  --shard i/N      run shard i of N of the work (unit u when u mod N = i; the units are each pipeline's reference,
                   then its step counts) and write sweep-shard-i-of-N.json into the folder --out names (default:
                   the current folder); dpipe merge combines the shards
  --json           print the result as JSON on stdout
  -h, --help       this text`;

export const sweepCommand = defineCommand({
  name: 'sweep',
  summary: 'final error vs NFE of one or more pipelines over several step counts (convergence plot data)',
  usage: USAGE,
  options: options(['steps', 'seed', 'rtol', 'atol', 'out', 'shard'], ['json']),
  async run({ values, positionals }, io) {
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
    const shard = values.shard !== undefined ? parseShard(values.shard) : undefined;
    const opts = {
      steps,
      seed: intOption(this, '--seed', values.seed, 0),
      rtol: tol('--rtol', values.rtol),
      atol: tol('--atol', values.atol),
      signal: io.signal,
      onProgress: (label: string, s: number | 'reference', done: number, total: number) => io.err(`sweep: ${label} ${s === 'reference' ? 'reference' : `${s} steps`} (${done}/${total})\n`),
    };
    const units = sweepUnits(pipelines, opts);
    if (shard) {
      const spec: SweepSpec = {
        dpipeVersion: DPIPE_VERSION,
        pipelines: pipelines.map((p, i) => ({ label: p.label, file: path.resolve(io.cwd, positionals[i]), pipeline: pipelineText(p.doc) })),
        steps, seed: opts.seed ?? null, rtol: opts.rtol, atol: opts.atol,
      };
      const done = await runSweepUnits(pipelines, opts, shardUnits(units.length, shard));
      const rec = writeSweepShard(path.resolve(io.cwd, values.out ?? '.'), shard, specKey(spec), spec, done);
      io.out(`${shown(io, rec)}\n`);
      return EXIT.OK;
    }
    const result = finishSweep(pipelines, opts, await runSweepUnits(pipelines, opts));
    if (values.out) writeFileAtomic(path.resolve(io.cwd, values.out), JSON.stringify(result, null, 1) + '\n');
    printSweep(io, result, values.json === true);
    return EXIT.OK;
  },
});

/** Prints a sweep result: JSON, or one block per pipeline with error against NFE. */
export function printSweep(io: CliIO, result: SweepResult, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(result) + '\n');
    return;
  }
  for (const s of result.series) {
    io.out(`${s.label} (${s.node}; reference ${s.referenceMethod}, ${s.referenceNfe} NFE)${s.slope !== null ? `, slope ${s.slope.toFixed(2)}` : ''}\n`);
    for (const p of s.points) io.out(`  steps ${String(p.steps).padStart(5)}  NFE ${String(p.nfe).padStart(6)}  error ${p.error.toExponential(4)}\n`);
  }
}
