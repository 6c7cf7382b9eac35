/**
 * The files of a grid: `grid.json` (the spec, the axes and every cell's record, NFE, time, reference error and
 * score), `grid.png` (the labelled image grid), and for a shard `grid-shard-I-of-N.json` (its cells), which
 * `dpipe merge` turns into the same `grid.json` and `grid.png` as the unsharded run — both paths end in
 * {@link writeGrid}, so they cannot drift apart.
 *
 * "The same" means: every number, every label, every cell's run folder contents other than timings, and the
 * bytes of grid.png. Timings (`wallMs`, the records' `timings` and per-evaluation times, `startedAt`/`finishedAt`,
 * `createdAt`, `batching`) describe how the work ran and differ from run to run even without sharding.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { DpipeError } from '../core/errors';
import { encodePng, type Image8 } from '../run/png';
import { checkShards, shardFileName, type Shard, type ShardRecordHead } from '../shard/index';
import { gridImage, type Tile, type TileBox } from './image';
import type { GridAxis } from './plan';
import type { BatchStats } from '../model/batch';
import type { GridCellResult, GridShardRun, GridSpec } from './run';

export const GRID_FILE = 'grid.json';
export const GRID_IMAGE = 'grid.png';

export interface GridAxisInfo {
  readonly name: string;
  readonly kind: 'type' | 'param';
  readonly node: string;
  readonly param?: string;
  readonly values: GridAxis['values'];
  readonly labels: readonly string[];
}

export interface GridFile {
  readonly format: 'dpipe-grid';
  readonly version: 1;
  readonly spec: GridSpec;
  readonly key: string;
  readonly axes: readonly GridAxisInfo[];
  /** Layout of grid.png: columns = axes[0], rows = axes[1], sub-grids = the rest. */
  readonly image: { readonly file: string; readonly width: number; readonly height: number; readonly tiles: readonly TileBox[] };
  readonly cells: readonly GridCellResult[];
  /** How many cells failed. */
  readonly failed: number;
  /** Timings: not part of the result proper. */
  readonly createdAt: string;
  readonly wallMs: number;
  readonly shards: number;
  readonly batching: BatchStats;
}

export interface GridShardFile extends ShardRecordHead {
  readonly format: 'dpipe-grid-shard';
  readonly spec: GridSpec;
  readonly axes: readonly GridAxisInfo[];
  readonly cells: readonly GridCellResult[];
  readonly createdAt: string;
  readonly wallMs: number;
  readonly batching: BatchStats;
}

export function axisInfo(axes: readonly GridAxis[]): GridAxisInfo[] {
  return axes.map((a) => ({ name: a.name, kind: a.kind, node: a.node, ...(a.param ? { param: a.param } : {}), values: a.values, labels: a.labels }));
}

/** A PNG file as an 8-bit gray or RGB image (alpha dropped, 16-bit reduced). */
export function readImage8(file: string): Image8 {
  const png = decode(fs.readFileSync(file));
  const ch = png.channels;
  const keep = ch === 2 || ch === 1 ? 1 : 3;
  const n = png.width * png.height;
  const data = new Uint8Array(n * keep);
  const shift = png.depth === 16 ? 8 : 0;
  for (let i = 0; i < n; i++) for (let k = 0; k < keep; k++) data[i * keep + k] = png.data[i * ch + k] >> shift;
  return { width: png.width, height: png.height, channels: keep as 1 | 3, data };
}

/** Writes grid.json and grid.png into `dir` from all cells of a grid (cell folders must already be under `dir`). */
export function writeGrid(
  dir: string,
  head: { spec: GridSpec; key: string; axes: readonly GridAxisInfo[] },
  cells: readonly GridCellResult[],
  timing: { wallMs: number; shards: number; batching: BatchStats },
): GridFile {
  const sorted = [...cells].sort((a, b) => a.index - b.index);
  const total = head.axes.reduce((n, a) => n * a.values.length, 1);
  if (sorted.length !== total || sorted.some((c, i) => c.index !== i)) {
    throw new DpipeError('E_MERGE', `the grid has ${total} cells but ${sorted.length} cell records were given (${sorted.map((c) => c.index).join(', ')})`);
  }
  const tiles: Tile[] = sorted.map((c) => {
    if (c.status !== 'completed') return { text: `failed: ${c.error?.code ?? ''}` };
    if (!c.image) return { text: 'no image' };
    const file = path.join(dir, c.image);
    if (!fs.existsSync(file)) throw new DpipeError('E_FILE_MISSING', `${file}: the image of grid cell ${c.index} (${c.label}) is missing; merge needs every shard's cells folder`);
    return { image: readImage8(file) };
  });
  const title = `${path.basename(head.spec.file)}${head.spec.seeds ? `  seeds ${head.spec.seeds.first}-${head.spec.seeds.first + head.spec.seeds.count - 1}` : ''}`;
  const img = gridImage({ axes: head.axes, tiles, title });
  fs.writeFileSync(path.join(dir, GRID_IMAGE), encodePng(img));
  const file: GridFile = {
    format: 'dpipe-grid',
    version: 1,
    spec: head.spec,
    key: head.key,
    axes: head.axes,
    image: { file: GRID_IMAGE, width: img.width, height: img.height, tiles: img.boxes },
    cells: sorted,
    failed: sorted.filter((c) => c.status !== 'completed').length,
    createdAt: new Date().toISOString(),
    wallMs: timing.wallMs,
    shards: timing.shards,
    batching: timing.batching,
  };
  fs.writeFileSync(path.join(dir, GRID_FILE), JSON.stringify(file, null, 1) + '\n');
  return file;
}

/** Writes a shard's record into `dir`; returns its path. */
export function writeGridShard(dir: string, run: GridShardRun): string {
  const rec: GridShardFile = {
    format: 'dpipe-grid-shard',
    version: 1,
    shard: run.shard,
    key: run.plan.key,
    spec: run.plan.spec,
    axes: axisInfo(run.plan.axes),
    cells: run.cells,
    createdAt: new Date().toISOString(),
    wallMs: run.wallMs,
    batching: run.batching,
  };
  const file = path.join(dir, shardFileName('grid', run.shard));
  fs.writeFileSync(file, JSON.stringify(rec, null, 1) + '\n');
  return file;
}

/** Reads and checks a grid.json. */
export function readGridFile(file: string): GridFile {
  let v: GridFile;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8')) as GridFile;
  } catch (e) {
    throw new DpipeError('E_FILE_MISSING', `${file} cannot be read as JSON (${(e as Error).message})`);
  }
  if (v?.format !== 'dpipe-grid' || !Array.isArray(v.cells) || !Array.isArray(v.axes)) throw new DpipeError('E_FORMAT', `${file} is not a dpipe grid.json`);
  return v;
}

function addStats(a: BatchStats, b: BatchStats): BatchStats {
  return {
    calls: a.calls + b.calls,
    requests: a.requests + b.requests,
    batchedCalls: a.batchedCalls + b.batchedCalls,
    maxRequestsPerCall: Math.max(a.maxRequestsPerCall, b.maxRequestsPerCall),
  };
}

/**
 * Merges grid shards: `shards` are the records with the folder each was read from. Cell folders of shards that
 * live in another folder are copied into `outDir`. Writes grid.json and grid.png into `outDir`.
 */
export function mergeGrid(shards: readonly { record: GridShardFile; where: string; dir: string }[], outDir: string): GridFile {
  const ordered = checkShards(shards.map((s) => ({ record: s.record, where: s.where })));
  const dirOf = new Map(shards.map((s) => [s.record.shard.index, s.dir]));
  const out = path.resolve(outDir);
  fs.mkdirSync(out, { recursive: true });
  for (const rec of ordered) {
    const from = path.resolve(dirOf.get(rec.shard.index)!);
    if (from === out) continue;
    for (const c of rec.cells) {
      const src = path.join(from, c.dir);
      const dst = path.join(out, c.dir);
      if (!fs.existsSync(src)) throw new DpipeError('E_FILE_MISSING', `${src}: cell ${c.index} of shard ${rec.shard.index}/${rec.shard.count} is missing`);
      if (fs.existsSync(dst)) throw new DpipeError('E_OUT_EXISTS', `${dst} already exists; merge into a new folder`);
      fs.cpSync(src, dst, { recursive: true });
    }
  }
  const first = ordered[0];
  return writeGrid(out, first, ordered.flatMap((r) => r.cells), {
    wallMs: Math.max(...ordered.map((r) => r.wallMs)),
    shards: first.shard.count,
    batching: ordered.map((r) => r.batching).reduce(addStats),
  });
}

export type { Shard };
