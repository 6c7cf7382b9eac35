/**
 * Sharding: `--shard i/N` on `dpipe grid`, `dpipe sweep` and `dpipe eval` runs a deterministic subset of the work,
 * with the same seeds as the whole run, and writes a record that `dpipe merge` combines with the other shards'
 * into exactly the result of the unsharded run.
 *
 * Each command numbers its units of work (grid: cells; sweep: references and points; eval: batches) in one fixed
 * order that does not depend on the shard, and shard i takes the units u with u mod N = i (round robin, so cells of
 * every axis value spread over the shards and no shard gets only the slow ones). A unit's result depends only on
 * the unit, never on which other units ran in the same process, which is what makes merge exact.
 *
 * No scheduler here: the shards are independent processes that a cluster's own scheduler starts (a Slurm job array,
 * a Kubernetes Indexed Job; see examples/cluster/).
 */
import { createHash } from 'node:crypto';
import { DpipeError } from '../core/errors';

export interface Shard {
  /** 0-based index of this shard. */
  readonly index: number;
  /** Number of shards. */
  readonly count: number;
}

/** The whole run, as one shard. */
export const WHOLE: Shard = { index: 0, count: 1 };

/** Parses `i/N` (0 ≤ i < N). Errors: E_USAGE naming the flag. */
export function parseShard(text: string, flag = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new DpipeError('E_USAGE', `${flag} must be i/N with 0 ≤ i < N (e.g. ${flag} 0/4 … ${flag} 3/4 for four shards); got "${text}"`);
  }
  return { index, count };
}

/** Whether unit number `unit` belongs to the shard. */
export function inShard(unit: number, shard: Shard): boolean {
  return unit % shard.count === shard.index;
}

/** The units 0..total−1 of a shard, in order. */
export function shardUnits(total: number, shard: Shard): number[] {
  const out: number[] = [];
  for (let u = shard.index; u < total; u += shard.count) out.push(u);
  return out;
}

/** File name of a shard record: `KIND-shard-I-of-N.json`. */
export function shardFileName(kind: string, shard: Shard): string {
  return `${kind}-shard-${shard.index}-of-${shard.count}.json`;
}

export const SHARD_FILE_PATTERN = /^(grid|sweep|eval)-shard-(\d+)-of-(\d+)\.json$/;

/**
 * Key of a run's specification: every shard of one run carries the same key, so merge can refuse records of
 * different runs. Objects are keyed in sorted order, so the key does not depend on property order.
 */
export function specKey(spec: unknown): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return createHash('sha256').update(JSON.stringify(canon(spec))).digest('hex');
}

/** The common part of every shard record. */
export interface ShardRecordHead {
  readonly format: string;
  readonly version: 1;
  readonly shard: Shard;
  /** {@link specKey} of the run's specification. */
  readonly key: string;
}

/**
 * Checks that shard records belong to one run and cover it exactly once: same key, same count, every index
 * 0..N−1 once. `where` names each record (its file) for messages. Returns the records ordered by shard index.
 */
export function checkShards<T extends ShardRecordHead>(records: readonly { record: T; where: string }[]): T[] {
  if (records.length === 0) throw new DpipeError('E_MERGE', 'no shard records to merge');
  const first = records[0];
  const count = first.record.shard.count;
  const byIndex = new Map<number, { record: T; where: string }>();
  for (const r of records) {
    if (r.record.format !== first.record.format) throw new DpipeError('E_MERGE', `${r.where} is a ${r.record.format} record but ${first.where} is a ${first.record.format} record; merge the shards of one run at a time`);
    if (r.record.key !== first.record.key) throw new DpipeError('E_MERGE', `${r.where} and ${first.where} come from different runs (different pipeline, options or dpipe version); merge the shards of one run at a time`);
    if (r.record.shard.count !== count) throw new DpipeError('E_MERGE', `${r.where} is shard ${r.record.shard.index}/${r.record.shard.count} but ${first.where} is one of ${count} shards`);
    const dup = byIndex.get(r.record.shard.index);
    if (dup) throw new DpipeError('E_MERGE', `shard ${r.record.shard.index}/${count} appears twice: ${dup.where} and ${r.where}`);
    byIndex.set(r.record.shard.index, r);
  }
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length) {
    throw new DpipeError('E_MERGE', `shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing (have ${[...byIndex.keys()].sort((a, b) => a - b).map((i) => `${i}/${count}`).join(', ')}); a shard that failed must be run again before merging`);
  }
  return [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!.record);
}

/** Float64 values as base64 of their little-endian bytes: exact, so merged numbers are the computed ones. */
export function f64ToBase64(a: Float64Array): string {
  const buf = Buffer.alloc(a.length * 8);
  for (let i = 0; i < a.length; i++) buf.writeDoubleLE(a[i], i * 8);
  return buf.toString('base64');
}

export function base64ToF64(s: string): Float64Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.length % 8 !== 0) throw new DpipeError('E_MERGE', 'a shard record holds a float64 array whose length is not a multiple of 8 bytes');
  const out = new Float64Array(buf.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = buf.readDoubleLE(i * 8);
  return out;
}
