/**
 * Format migrations: an ordered table of `vN → vN+1` functions over plain JSON, applied on load when a file's
 * `dpipe` is older than `FORMAT_VERSION`. Empty today (version 1 is the first). When the format changes:
 * bump `FORMAT_VERSION`, append `{ from: 1, note, migrate }` here, and add a fixture of the old version to
 * `test/fixtures/pipelines/`. A migration must not throw on any document its version allowed; it returns a new
 * value and leaves its input untouched.
 */
import { FORMAT_VERSION } from './types';

export interface Migration {
  /** The version this migration reads; it writes `from + 1`. */
  readonly from: number;
  /** One line for the changelog and for the editor ("renamed param x to y"). */
  readonly note: string;
  migrate(doc: Record<string, unknown>): Record<string, unknown>;
}

export const MIGRATIONS: readonly Migration[] = [];

export type MigrateResult =
  | { readonly ok: true; readonly doc: Record<string, unknown>; readonly from: number; readonly applied: readonly Migration[] }
  | { readonly ok: false; readonly reason: 'newer' | 'unsupported'; readonly message: string };

/** Brings `doc` (whose `dpipe` is the integer `version`) to `current`, one step at a time. */
export function migrateDocument(
  doc: Record<string, unknown>,
  version: number,
  migrations: readonly Migration[] = MIGRATIONS,
  current: number = FORMAT_VERSION,
): MigrateResult {
  if (version > current) {
    return {
      ok: false,
      reason: 'newer',
      message: `this file is .dpipe format version ${version}, written by a newer dpipe; this build reads versions up to ${current}. Update dpipe to open it`,
    };
  }
  const applied: Migration[] = [];
  let value = doc;
  for (let v = version; v < current; v++) {
    const m = migrations.find((x) => x.from === v);
    if (!m) {
      const oldest = oldestSupported(migrations, current);
      return {
        ok: false,
        reason: 'unsupported',
        message: `.dpipe format version ${version} is not supported; this build reads versions ${oldest} to ${current}`,
      };
    }
    value = { ...m.migrate(value), dpipe: v + 1 };
    applied.push(m);
  }
  return { ok: true, doc: value, from: version, applied };
}

function oldestSupported(migrations: readonly Migration[], current: number): number {
  let v = current;
  while (migrations.some((m) => m.from === v - 1)) v--;
  return v;
}
