/** `dpipe grid FILE.dpipe --axis …`: every combination of axis values as its own run, with a labelled image grid (engine/grid). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../../engine/core/errors';
import { fdMnistFiles } from '../../engine/eval/index';
import {
  GRID_FILE, GRID_IMAGE, axisInfo, parseAxisArg, parseSeeds, planGrid, runGridCells, writeGrid, writeGridShard,
  type GridCellResult, type GridFile,
} from '../../engine/grid/index';
import { parseShard } from '../../engine/shard/index';
import { EXIT, intOption, options, usageError, defineCommand, type Command } from '../command';
import { modelsDir } from './eval';
import { defaultOutDir } from './run';
import { loadForRun, onePipelineArg, seconds, shown } from './shared';

const USAGE = `Usage: dpipe grid FILE.dpipe --axis AXIS [--axis AXIS …] [options]

Runs the pipeline once for every combination of axis values (a cell), each into its own run folder under
OUT/cells/ (the Latent Inspector opens any of them), and writes OUT/grid.png, the cells' images in one labelled
grid (first axis across, second down, further axes as sub-grids), and OUT/grid.json with every cell's run record,
NFE and time, and with --reference and --score its error and FD-MNIST.

Axes:
  NODE=TYPE,TYPE,…          swap the block type of NODE; it keeps its id and edges, and parameters the new type
                            does not have are dropped (listed per cell in grid.json), e.g.
                            --axis solver=solver.euler,solver.dpmpp_2m,solver.unipc
  NODE.PARAM=VALUE,VALUE,…  set a parameter, e.g. --axis sched.steps=5,10,20 (a list value in brackets:
                            --axis label.labels=[1,2],[3,4])

Options:
  --out DIR                 grid folder, new or empty of cells (default: dpipe-out/NAME-grid-YYYYMMDD-HHMMSS)
  --seeds A-B               the seeds of every cell, run as one batch: item b gets seed A + b (as run --seed A
                            --batch B−A+1)
  --batch N                 batch size of every cell (without --seeds: the pipeline's own seed)
  --set NODE.PARAM=VALUE    set a parameter in every cell (repeatable)
  --reference               error of every cell against a reference solve from its own noise, as dpipe reference
                            computes it (Dormand–Prince 5(4); reference.json in the cell folder)
  --rtol X, --atol X        reference tolerances (default 1e-5)
  --score fd                FD-MNIST of every cell as dpipe eval computes it, over --samples samples
  --samples N               samples scored per cell (default 100; seeds from A); FD is biased up at small N
  --shard i/N               run shard i of N: the cells c with c mod N = i, with the seeds of the whole grid; writes
                            OUT/grid-shard-i-of-N.json for dpipe merge (shards may share OUT)
  --lanes N                 cells run side by side, their model calls joined into one batch when the model's batch
                            is dynamic (default 8; 1 runs one cell at a time)
  --models DIR              folder with the FD-MNIST files (default: the package's models/)
  --dry-run                 check the axes and every cell's pipeline, list the cells (and this shard's), run nothing
  --json                    print grid.json on stdout instead of the table
  -q, --quiet               no progress output
  -h, --help                this text

Exit status: 0 when every cell ran, 1 when a cell failed (grid.json says which and why; the others are kept).`;

function num(cmd: Command, flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw usageError(cmd, `${flag} must be a number > 0; got "${v}"`);
  return n;
}

/** The cell table: one line per cell with NFE, error, FD and time. */
export function formatGridTable(cells: readonly GridCellResult[]): string {
  const lines = cells.map((c) => {
    const err = c.reference?.length ? c.reference[c.reference.length - 1].final : null;
    const cols = [
      String(c.index).padStart(4),
      c.label.padEnd(Math.max(...cells.map((x) => x.label.length))),
      c.status === 'completed' ? `NFE ${String(c.nfe).padStart(5)}` : `FAILED ${c.error?.code}`,
      err !== null && err !== undefined ? `error ${err.toExponential(3)}` : '',
      c.score ? `FD ${c.score.fd.toFixed(3)}${c.score.accuracy !== null ? ` acc ${(c.score.accuracy * 100).toFixed(1)}%` : ''}` : '',
      c.wallMs !== null ? seconds(c.wallMs) : '',
    ];
    return cols.filter((s) => s !== '').join('  ');
  });
  return lines.join('\n') + '\n';
}

export const gridCommand = defineCommand({
  name: 'grid',
  summary: 'run every combination of solvers, schedules and parameters; labelled image grid, NFE, error, FD',
  usage: USAGE,
  cancellable: true,
  options: { ...options(['out', 'seeds', 'batch', 'rtol', 'atol', 'score', 'samples', 'shard', 'lanes', 'models'], ['reference', 'dry-run', 'json', 'quiet']), axis: { type: 'string', multiple: true }, set: { type: 'string', multiple: true } },
  async run({ values, positionals }, io) {
    const file = onePipelineArg(this, positionals);
    if (!values.axis?.length) throw usageError(this, 'give at least one --axis, e.g. --axis sched.steps=5,10,20');
    if (values.score !== undefined && values.score !== 'fd') throw usageError(this, `--score must be fd; got "${values.score}"`);
    if (values.samples !== undefined && values.score === undefined) throw usageError(this, '--samples goes with --score fd');
    if ((values.rtol !== undefined || values.atol !== undefined) && !values.reference) throw usageError(this, '--rtol and --atol go with --reference');
    const axes = values.axis.map(parseAxisArg);
    const seeds = values.seeds !== undefined ? parseSeeds(values.seeds) : undefined;
    const shard = values.shard !== undefined ? parseShard(values.shard) : undefined;
    const { doc, abs } = loadForRun(io, file);
    const outDir = values.out ? path.resolve(io.cwd, values.out) : defaultOutDir(io.cwd, file).replace(/-(\d{8}-\d{6})$/, '-grid-$1');
    const samples = intOption(this, '--samples', values.samples, 2);
    const opts = {
      file: abs,
      doc,
      baseDir: path.dirname(abs),
      axes,
      set: values.set ?? [],
      seeds,
      batch: intOption(this, '--batch', values.batch, 1),
      reference: values.reference ? { rtol: num(this, '--rtol', values.rtol), atol: num(this, '--atol', values.atol) } : undefined,
      score: values.score === 'fd' ? { samples: samples ?? 100, files: fdMnistFiles(values.models ? path.resolve(io.cwd, values.models) : modelsDir()) } : undefined,
      outDir,
      shard,
      lanes: intOption(this, '--lanes', values.lanes, 1),
      signal: io.signal,
    };
    const plan = planGrid(opts);
    if (values['dry-run']) {
      for (const c of plan.cells) {
        const mine = !shard || c.index % shard.count === shard.index;
        io.out(`${String(c.index).padStart(4)}  ${c.label}${shard ? (mine ? '  [this shard]' : '') : ''}${c.dropped.length ? `  (${c.dropped.join('; ')})` : ''}\n`);
      }
      io.out(`${plan.total} cells${shard ? `, ${plan.cells.filter((c) => c.index % shard.count === shard.index).length} in shard ${shard.index}/${shard.count}` : ''}; nothing was run\n`);
      return EXIT.OK;
    }
    if (!shard && fs.existsSync(path.join(outDir, GRID_FILE))) {
      throw new DpipeError('E_OUT_EXISTS', `${shown(io, path.join(outDir, GRID_FILE))} exists; give another --out (a grid never overwrites an earlier one)`);
    }
    const quiet = values.quiet === true;
    const count = shard ? Math.ceil((plan.total - shard.index) / shard.count) : plan.total;
    if (!quiet) io.err(`grid: ${plan.total} cells (${plan.axes.map((a) => `${a.values.length} ${a.name}`).join(' × ')})${shard ? `, shard ${shard.index}/${shard.count}: ${count} cells` : ''} → ${shown(io, outDir)}\n`);
    const run = await runGridCells(plan, {
      ...opts,
      onProgress: quiet ? undefined : (p) => {
        if (p.phase === 'done' || p.phase === 'failed') io.err(`grid: cell ${p.cell} ${p.label} ${p.phase === 'done' ? 'done' : 'FAILED'} (${p.done}/${p.total})\n`);
      },
    });
    const failed = run.cells.filter((c) => c.status !== 'completed');
    let grid: GridFile | undefined;
    if (shard) {
      const rec = writeGridShard(outDir, run);
      io.out(`${shown(io, rec)}\n`);
      if (!quiet) io.err(`grid: shard ${shard.index}/${shard.count} done in ${seconds(run.wallMs)}; merge all ${shard.count} shards with: dpipe merge ${shown(io, outDir)}\n`);
    } else {
      grid = writeGrid(outDir, { spec: plan.spec, key: plan.key, axes: axisInfo(plan.axes) }, run.cells, { wallMs: run.wallMs, shards: 1, batching: run.batching });
      if (values.json) io.out(JSON.stringify(grid) + '\n');
      else {
        io.out(formatGridTable(grid.cells));
        io.out(`${shown(io, path.join(outDir, GRID_IMAGE))}\n${shown(io, path.join(outDir, GRID_FILE))}\n`);
      }
      if (!quiet) {
        const b = run.batching;
        io.err(`grid: ${plan.total} cells in ${seconds(run.wallMs)}; ${b.calls} model calls for ${b.requests} cell calls${b.batchedCalls ? ` (${b.batchedCalls} batched, up to ${b.maxRequestsPerCall} cells per call)` : ''}\n`);
      }
    }
    for (const c of failed) io.err(`dpipe: grid cell ${c.index} (${c.label}) failed: error[${c.error?.code}]: ${c.error?.message}\n`);
    if (failed.some((c) => c.error?.code === 'E_INTERNAL')) return EXIT.INTERNAL;
    return failed.length ? EXIT.ERROR : EXIT.OK;
  },
});
