/**
 * The registry seen through metadata only (`NodeTypeInfo`), plus the helpers the loader, the schema generator and
 * the graph editor share: parameter defaults, parameter checking, name suggestions.
 */
import type { NodeTypeInfo, ParamSpec, ParamValue, PortSpec } from '../registry/types';
import type { RegistryLike } from './types';

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
  const out: Record<string, ParamValue> = {};
  for (const spec of info.params) out[spec.name] = params[spec.name] ?? spec.default;
  return out;
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

/** The allowed range of a numeric spec, in words: `an integer in [1, 1000]`, `a number > 0`. */
export function describeParam(spec: ParamSpec): string {
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const what = spec.type === 'integer' ? 'an integer' : 'a number';
      const lo = spec.min;
      const hi = spec.max;
      const exclusiveLo = spec.type === 'number' && spec.exclusiveMin === true;
      if (lo !== undefined && hi !== undefined) return `${what} in ${exclusiveLo ? '(' : '['}${lo}, ${hi}]`;
      if (lo !== undefined) return `${what} ${exclusiveLo ? '>' : '≥'} ${lo}`;
      if (hi !== undefined) return `${what} ≤ ${hi}`;
      return what;
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${spec.options.map((o) => JSON.stringify(o)).join(', ')}`;
    case 'string':
      return 'a string';
    case 'file':
      if (spec.directory) return 'a folder path relative to the .dpipe file';
      return spec.extensions.length
        ? `a path relative to the .dpipe file, ending in ${spec.extensions.join(' or ')}`
        : 'a path relative to the .dpipe file';
    case 'seed':
      return `an integer in [0, ${Number.MAX_SAFE_INTEGER}]`;
    case 'numberList': {
      const range =
        spec.min !== undefined && spec.max !== undefined ? ` in [${spec.min}, ${spec.max}]`
          : spec.min !== undefined ? ` ≥ ${spec.min}`
            : spec.max !== undefined ? ` ≤ ${spec.max}` : '';
      return `a list of numbers${range}`;
    }
  }
}

/**
 * Checks one parameter value against its spec. Returns undefined when it is allowed, else the reason
 * (`must be an integer in [1, 1000], got 0`). File existence is not checked here (the loader does it).
 */
export function checkParamValue(spec: ParamSpec, value: unknown): string | undefined {
  const bad = (): string => `must be ${describeParam(spec)}, got ${show(value)}`;
  switch (spec.type) {
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return bad();
      if (spec.type === 'integer' && !Number.isInteger(value)) return bad();
      if (spec.min !== undefined && (value < spec.min || (spec.type === 'number' && spec.exclusiveMin && value === spec.min))) return bad();
      if (spec.max !== undefined && value > spec.max) return bad();
      return undefined;
    }
    case 'boolean':
      return typeof value === 'boolean' ? undefined : bad();
    case 'enum':
      return typeof value === 'string' && spec.options.includes(value) ? undefined : bad();
    case 'string':
      return typeof value === 'string' ? undefined : bad();
    case 'file': {
      if (typeof value !== 'string') return bad();
      if (value === '' || spec.extensions.length === 0) return undefined;
      const lower = value.toLowerCase();
      return spec.extensions.some((e) => lower.endsWith(e.toLowerCase())) ? undefined : bad();
    }
    case 'seed':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? undefined : bad();
    case 'numberList': {
      if (!Array.isArray(value)) return bad();
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) return `${bad()} (item ${i} is ${show(v)})`;
        if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) return `${bad()} (item ${i} is ${show(v)})`;
      }
      return undefined;
    }
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return v.length > 6 ? `a list of ${v.length} items` : JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
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
