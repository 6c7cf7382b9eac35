/** Helpers of the grid and shard tests: the CLI in-process, timing-free comparison of results and folders. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliIO } from '../../src/cli/command';
import { main } from '../../src/cli/main';

export const ROOT = path.resolve(__dirname, '../..');

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `dpipe ARGS…` in this process (same code as dist/cli.js, no build needed). */
export async function dpipeIn(args: string[], cwd = ROOT): Promise<CliResult> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false, columns: 80, cwd, signal: new AbortController().signal };
  const code = await main(args, io);
  return { code, out, err };
}

/**
 * What "bit for bit" leaves out: how the work ran, not what it computed. Times (every key ending in `Ms`,
 * `modelMsPerCall`), dates (`startedAt`, `finishedAt`, `createdAt`), and the grid's run facts (`batching`: how calls
 * were joined; `shards`: how many processes ran it).
 */
const TIMING_KEYS = new Set(['startedAt', 'finishedAt', 'createdAt', 'batching', 'shards', 'modelMsPerCall']);

export function withoutTimings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTimings);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => !k.endsWith('Ms') && !TIMING_KEYS.has(k)).map(([k, x]) => [k, withoutTimings(x)]));
  }
  return v;
}

/** Every file under `dir`, relative, sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Asserts two result folders are the same: the same files; JSON files equal without timings; every other file
 * (PNG, .npy) byte for byte. `ignore` names files only one side has (shard records).
 */
export function assertSameFolder(a: string, b: string, ignore: RegExp = /^$/): number {
  const fa = filesUnder(a).filter((f) => !ignore.test(f));
  const fb = filesUnder(b).filter((f) => !ignore.test(f));
  assert.deepEqual(fb, fa, 'the two folders hold different files');
  for (const f of fa) {
    const x = fs.readFileSync(path.join(a, f));
    const y = fs.readFileSync(path.join(b, f));
    if (f.endsWith('.json')) assert.deepEqual(withoutTimings(JSON.parse(y.toString('utf8'))), withoutTimings(JSON.parse(x.toString('utf8'))), `${f} differs`);
    else assert.ok(x.equals(y), `${f} differs byte for byte`);
  }
  return fa.length;
}
