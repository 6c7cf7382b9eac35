/**
 * `node --import tsx bench/grid.ts`: what batching model calls across grid cells buys. The README's grid (demo UNet,
 * 3 solvers × 5/10/20 steps, CFG) at two batch sizes per cell, run with its cells one at a time (`--lanes 1`) and
 * side by side with their model calls joined (`--lanes 8`), alternating, median wall time of several repetitions.
 * Everything a grid writes is written (cell folders, trajectories, grid.png), into a temporary folder.
 *
 *   node --import tsx bench/grid.ts [--reps 3] [--lanes 8]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadPipelineFile } from '../src/engine/format/index';
import { parseAxisArg, planGrid, runGridCells } from '../src/engine/grid/index';

const ROOT = path.resolve(__dirname, '..');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' }, lanes: { type: 'string', default: '8' } } });
  const reps = Number(values.reps);
  const lanes = Number(values.lanes);
  const file = path.join(ROOT, 'examples', 'demo.dpipe');
  const doc = loadPipelineFile(file).doc!;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-bench-grid-'));
  console.log(`grid: demo UNet, solver (euler, dpmpp_2m, unipc) × steps (5, 10, 20), CFG 3; ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`);
  try {
    for (const seeds of [1, 10]) {
      const opts = {
        file, doc, baseDir: path.dirname(file),
        axes: ['solver=solver.euler,solver.dpmpp_2m,solver.unipc', 'sched.steps=5,10,20'].map(parseAxisArg),
        set: [`label.labels=${Array.from({ length: seeds }, (_, i) => i % 10).join(',')}`, 'image.scale=1'],
        seeds: { first: 0, count: seeds },
      };
      const plan = planGrid(opts);
      const times: Record<string, number[]> = { alone: [], batched: [] };
      let stats = '';
      for (let r = 0; r < reps + 1; r++) {
        for (const mode of ['alone', 'batched'] as const) {
          const outDir = path.join(tmp, `${seeds}-${mode}-${r}`);
          const t0 = performance.now();
          const run = await runGridCells(plan, { ...opts, outDir, lanes: mode === 'alone' ? 1 : lanes });
          if (r > 0) times[mode].push(performance.now() - t0); // the first round warms the session
          if (mode === 'batched') stats = `${run.batching.calls} onnxruntime calls for ${run.batching.requests} cell calls, up to ${run.batching.maxRequestsPerCall} cells per call`;
          fs.rmSync(outDir, { recursive: true, force: true });
        }
      }
      const a = median(times.alone);
      const b = median(times.batched);
      console.log(`  batch ${String(seeds).padStart(2)} per cell (${2 * seeds} rows per call with CFG): one cell at a time ${(a / 1000).toFixed(2)} s, ${lanes} lanes batched ${(b / 1000).toFixed(2)} s (× ${(a / b).toFixed(2)}); ${stats}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
