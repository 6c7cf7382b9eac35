/**
 * The registry seen through metadata only (`NodeTypeInfo`), plus the helpers the loader, the schema generator and
 * the graph editor share: parameter defaults, port and name lookups, name suggestions. Parameter values are
 * described and checked by the parameter codec (`registry/params.ts`), re-exported here.
 */
import { withDefaults } from '../registry/params';
import type { NodeTypeInfo, ParamSpec, ParamValue, PortSpec } from '../registry/types';
import type { RegistryLike } from './types';

export { checkParamValue, describeParam } from '../registry/params';

export interface BlockRegistry {
  get(type: string): NodeTypeInfo | undefined;
  /** Every block, in registry order. */
  readonly all: readonly NodeTypeInfo[];
}

const cache = new WeakMap<object, BlockRegistry>();

/** Normalizes a map or a list of `NodeTypeInfo` into a `BlockRegistry` (memoized per object). */
export function asRegistry(r: RegistryLike | BlockRegistry): BlockRegistry {
  if (isBlockRegistry(r)) return r;
  const hit = cache.get(r);
  if (hit) return hit;
  const all = Array.isArray(r) ? [...(r as readonly NodeTypeInfo[])] : [...(r as ReadonlyMap<string, NodeTypeInfo>).values()];
  const byType = new Map(all.map((n) => [n.type, n] as const));
  const reg: BlockRegistry = { get: (t) => byType.get(t), all };
  cache.set(r, reg);
  return reg;
}

function isBlockRegistry(r: unknown): r is BlockRegistry {
  return typeof (r as BlockRegistry).get === 'function' && Array.isArray((r as BlockRegistry).all);
}

/** A node's params with the registry defaults filled in for the ones the file omits (unknown names dropped). */
export function paramsWithDefaults(info: NodeTypeInfo, params: Readonly<Record<string, ParamValue>>): Record<string, ParamValue> {
  return withDefaults(info.params, params);
}

export function findParam(info: NodeTypeInfo, name: string): ParamSpec | undefined {
  return info.params.find((p) => p.name === name);
}

export function findPort(info: NodeTypeInfo, dir: 'input' | 'output', name: string): PortSpec | undefined {
  return (dir === 'input' ? info.inputs : info.outputs).find((p) => p.name === name);
}

/** `name (TYPE)` list of a node's ports, for messages. */
export function describePorts(ports: readonly PortSpec[]): string {
  return ports.length ? ports.map((p) => `${p.name} (${p.type}${p.optional ? ', optional' : ''})`).join(', ') : 'none';
}

/** Levenshtein distance (insert, delete, substitute; each costs 1). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n];
}

/**
 * Up to `max` names close to `name`: small edit distance (case-insensitive) or the same last dotted segment
 * (`karras` → `schedule.karras`) or a prefix of 3+ characters (`schedule` → `sched`); only the nearest ones (ties), sorted by name.
 */
export function closestNames(name: string, candidates: readonly string[], max = 3): string[] {
  const lower = name.toLowerCase();
  const tail = (s: string): string => s.slice(s.lastIndexOf('.') + 1);
  const scored: { c: string; d: number }[] = [];
  for (const c of candidates) {
    const cl = c.toLowerCase();
    let d = editDistance(lower, cl);
    const prefix = Math.min(cl.length, lower.length) >= 3 && (cl.startsWith(lower) || lower.startsWith(cl));
    if (tail(cl) === tail(lower) || prefix) d = Math.min(d, 1);
    else d = Math.min(d, editDistance(tail(lower), tail(cl)) + 1);
    const limit = Math.max(2, Math.floor(Math.max(name.length, 4) / 3));
    if (d <= limit) scored.push({ c, d });
  }
  scored.sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0));
  const best = scored[0]?.d;
  return scored.filter((s) => s.d === best).slice(0, max).map((s) => s.c);
}
