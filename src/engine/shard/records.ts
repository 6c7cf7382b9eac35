/**
 * Shard records of `dpipe eval` and `dpipe sweep`: what a shard computed, unit by unit, with the arrays as exact
 * float64 bytes, so `dpipe merge` scores and measures them exactly as the unsharded run does (the same
 * `scoreEvalUnits` / `finishSweep`). Grid shards have their own record (`engine/grid/result.ts`): their cells keep
 * their run folders.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../core/errors';
import type { EvalUnitResult } from '../eval/pipeline';
import type { SweepUnitResult } from '../inspect/sweep';
import { base64ToF64, f64ToBase64, shardFileName, type Shard, type ShardRecordHead } from './index';

/** What an eval run is, for its shards' key and for merge. */
export interface EvalSpec {
  readonly dpipeVersion: string;
  readonly file: string;
  readonly pipeline: string;
  readonly samples: number;
  readonly repeats: number;
  readonly seed: number;
  readonly batch: number;
  readonly set: readonly string[];
  readonly keepLabels: boolean;
}

export interface EvalShardFile extends ShardRecordHead {
  readonly format: 'dpipe-eval-shard';
  readonly spec: EvalSpec;
  readonly units: readonly (Omit<EvalUnitResult, 'images'> & { readonly images: string })[];
}

/** What a sweep is: its pipelines (label, file, text) and options. */
export interface SweepSpec {
  readonly dpipeVersion: string;
  readonly pipelines: readonly { readonly label: string; readonly file: string; readonly pipeline: string }[];
  readonly steps: readonly number[];
  readonly seed: number | null;
  readonly rtol: number;
  readonly atol: number;
}

export interface SweepShardFile extends ShardRecordHead {
  readonly format: 'dpipe-sweep-shard';
  readonly spec: SweepSpec;
  readonly units: readonly (Omit<SweepUnitResult, 'final'> & { readonly final: string })[];
}

function write(dir: string, kind: string, shard: Shard, rec: unknown): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, shardFileName(kind, shard));
  fs.writeFileSync(file, JSON.stringify(rec) + '\n');
  return file;
}

export function writeEvalShard(dir: string, shard: Shard, key: string, spec: EvalSpec, units: readonly EvalUnitResult[]): string {
  const rec: EvalShardFile = { format: 'dpipe-eval-shard', version: 1, shard, key, spec, units: units.map((u) => ({ ...u, images: f64ToBase64(u.images) })) };
  return write(dir, 'eval', shard, rec);
}

export function evalUnitsOf(rec: EvalShardFile): EvalUnitResult[] {
  return rec.units.map((u) => ({ ...u, images: base64ToF64(u.images) }));
}

export function writeSweepShard(dir: string, shard: Shard, key: string, spec: SweepSpec, units: readonly SweepUnitResult[]): string {
  const rec: SweepShardFile = { format: 'dpipe-sweep-shard', version: 1, shard, key, spec, units: units.map((u) => ({ ...u, final: f64ToBase64(u.final) })) };
  return write(dir, 'sweep', shard, rec);
}

export function sweepUnitsOf(rec: SweepShardFile): SweepUnitResult[] {
  return rec.units.map((u) => ({ ...u, final: base64ToF64(u.final) }) as SweepUnitResult);
}

/** Reads a shard record of any kind (grid, eval, sweep); checks its format tag. */
export function readShardRecord(file: string): ShardRecordHead & { readonly format: 'dpipe-grid-shard' | 'dpipe-eval-shard' | 'dpipe-sweep-shard' } {
  let v: { format?: unknown; shard?: { index?: unknown; count?: unknown }; key?: unknown };
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DpipeError('E_MERGE', `${file} cannot be read as JSON (${(e as Error).message}); was its shard still running?`);
  }
  const ok = v && typeof v === 'object' && ['dpipe-grid-shard', 'dpipe-eval-shard', 'dpipe-sweep-shard'].includes(v.format as string)
    && typeof v.key === 'string' && Number.isInteger(v.shard?.index) && Number.isInteger(v.shard?.count);
  if (!ok) throw new DpipeError('E_MERGE', `${file} is not a dpipe shard record`);
  return v as ShardRecordHead & { format: 'dpipe-grid-shard' | 'dpipe-eval-shard' | 'dpipe-sweep-shard' };
}
