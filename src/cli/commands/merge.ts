/** `dpipe merge DIR…`: combines the shards of one grid, sweep or eval run into the unsharded run's result (engine/shard). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../../engine/core/errors';
import { fdMnistFiles, scoreEvalUnits } from '../../engine/eval/index';
import { loadPipeline } from '../../engine/format/index';
import { GRID_FILE, GRID_IMAGE, mergeGrid, type GridShardFile } from '../../engine/grid/index';
import { finishSweep } from '../../engine/inspect/index';
import { SHARD_FILE_PATTERN, checkShards } from '../../engine/shard/index';
import { evalUnitsOf, readShardRecord, sweepUnitsOf, type EvalShardFile, type SweepShardFile } from '../../engine/shard/records';
import { EXIT, options, usageError, defineCommand } from '../command';
import { formatReport, modelsDir } from './eval';
import { formatGridTable } from './grid';
import { shown } from './shared';
import { printSweep } from './sweep';

const USAGE = `Usage: dpipe merge DIR|FILE [DIR|FILE …] [options]

Combines the shard records of one run (grid-, eval- or sweep-shard-I-of-N.json, read from the folders given or
given as files) into exactly the result the unsharded run gives: the same numbers and images (timings aside).
Every shard 0..N−1 must be there once, all from the same run.

  grid   writes grid.json and grid.png into the grid folder: the folder the shards share, or --out DIR (cell
         folders of shards elsewhere are copied there); prints the cell table
  eval   prints the FD-MNIST report (--json: as dpipe eval --json) and with --out FILE writes it as JSON
  sweep  prints error against NFE (--json: as dpipe sweep --json) and with --out FILE writes it as JSON

Options:
  --out PATH       grid: the merged grid folder; eval, sweep: a JSON file for the result
  --models DIR     eval: folder with the FD-MNIST files (default: the package's models/)
  --json           print the result as JSON
  -h, --help       this text`;

interface Found {
  readonly file: string;
  readonly dir: string;
}

/** The shard records named by the arguments: files as given, folders searched (not recursively). */
function findShards(cwd: string, args: readonly string[]): Found[] {
  const out: Found[] = [];
  for (const a of args) {
    const abs = path.resolve(cwd, a);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new DpipeError('E_FILE_MISSING', `${a}: no such file or folder`);
    }
    if (st.isDirectory()) {
      const names = fs.readdirSync(abs).filter((n) => SHARD_FILE_PATTERN.test(n)).sort();
      if (!names.length) throw new DpipeError('E_MERGE', `${a} holds no shard record (KIND-shard-I-of-N.json); run the shards with --shard i/N first`);
      for (const n of names) out.push({ file: path.join(abs, n), dir: abs });
    } else out.push({ file: abs, dir: path.dirname(abs) });
  }
  return [...new Map(out.map((f) => [f.file, f])).values()];
}

export const mergeCommand = defineCommand({
  name: 'merge',
  summary: 'combine the shards of a grid, sweep or eval run (--shard i/N) into the unsharded result',
  usage: USAGE,
  options: options(['out', 'models'], ['json']),
  async run({ values, positionals }, io) {
    if (positionals.length === 0) throw usageError(this, 'give the folders (or files) with the shard records');
    const found = findShards(io.cwd, positionals);
    const records = found.map((f) => ({ ...f, record: readShardRecord(f.file) }));
    const kind = records[0].record.format;
    const where = (f: Found) => shown(io, f.file);
    checkShards(records.map((r) => ({ record: r.record, where: where(r) })));

    if (kind === 'dpipe-grid-shard') {
      const dirs = [...new Set(records.map((r) => r.dir))];
      if (!values.out && dirs.length > 1) throw usageError(this, `the shards are in ${dirs.length} folders; give --out DIR for the merged grid`);
      const outDir = values.out ? path.resolve(io.cwd, values.out) : dirs[0];
      if (fs.existsSync(path.join(outDir, GRID_FILE))) throw new DpipeError('E_OUT_EXISTS', `${shown(io, path.join(outDir, GRID_FILE))} exists; this grid was merged already (or give another --out)`);
      const grid = mergeGrid(records.map((r) => ({ record: r.record as unknown as GridShardFile, where: where(r), dir: r.dir })), outDir);
      if (values.json) io.out(JSON.stringify(grid) + '\n');
      else {
        io.out(formatGridTable(grid.cells));
        io.out(`${shown(io, path.join(outDir, GRID_IMAGE))}\n${shown(io, path.join(outDir, GRID_FILE))}\n`);
      }
      return grid.failed ? EXIT.ERROR : EXIT.OK;
    }

    if (kind === 'dpipe-eval-shard') {
      const recs = records.map((r) => r.record as unknown as EvalShardFile);
      const spec = recs[0].spec;
      const loaded = loadPipeline(spec.pipeline, { file: spec.file, checkFiles: false });
      if (!loaded.doc) throw new DpipeError('E_MERGE', `${where(records[0])}: the pipeline it records does not load`);
      const files = fdMnistFiles(values.models ? path.resolve(io.cwd, values.models) : modelsDir());
      const report = await scoreEvalUnits(loaded.doc, { ...spec, files }, recs.flatMap(evalUnitsOf));
      const json = { file: spec.file, classifier: files.classifier, ...report };
      if (values.out) fs.writeFileSync(path.resolve(io.cwd, values.out), JSON.stringify(json, null, 1) + '\n');
      if (values.json) io.out(JSON.stringify(json, null, 1) + '\n');
      else io.out(formatReport(shown(io, spec.file), report));
      return EXIT.OK;
    }

    const recs = records.map((r) => r.record as unknown as SweepShardFile);
    const spec = recs[0].spec;
    const result = finishSweep(spec.pipelines, spec, recs.flatMap(sweepUnitsOf));
    if (values.out) fs.writeFileSync(path.resolve(io.cwd, values.out), JSON.stringify(result, null, 1) + '\n');
    printSweep(io, result, values.json === true);
    return EXIT.OK;
  },
});
