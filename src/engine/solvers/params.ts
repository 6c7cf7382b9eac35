/**
 * Reading a block's parameters against its {@link ParamSpec} list: defaults filled in, types and ranges
 * checked, and a {@link DpipeError} (E_PARAM_VALUE) naming the block, the parameter and what is allowed.
 * Used by the schedule and solver families so that a solver called directly (tests, other engines) with
 * partial options behaves exactly like one run from a .dpipe file.
 */
import { DpipeError } from '../core/errors';
import type { Params, ParamSpec, ParamValue } from '../registry/types';

function bad(block: string, name: string, what: string, got: unknown): never {
  throw new DpipeError('E_PARAM_VALUE', `${block}: parameter "${name}" must be ${what}; got ${JSON.stringify(got)}.`);
}

function range(min?: number, max?: number, exclusiveMin?: boolean): string {
  const lo = min === undefined ? '' : `${exclusiveMin ? '>' : '≥'} ${min}`;
  const hi = max === undefined ? '' : `≤ ${max}`;
  return [lo, hi].filter(Boolean).join(' and ');
}

/** Returns every parameter of `specs` with its value from `params` or its default, validated. */
export function readParams<T = Record<string, ParamValue>>(block: string, specs: readonly ParamSpec[], params: Params | undefined): T {
  const out: Record<string, ParamValue> = {};
  for (const s of specs) {
    const v = params?.[s.name] ?? s.default;
    switch (s.type) {
      case 'number': {
        const ok = typeof v === 'number' && Number.isFinite(v) && (s.min === undefined || (s.exclusiveMin ? v > s.min : v >= s.min)) && (s.max === undefined || v <= s.max);
        if (!ok) bad(block, s.name, `a finite number${s.min !== undefined || s.max !== undefined ? ' ' + range(s.min, s.max, s.exclusiveMin) : ''}`, v);
        break;
      }
      case 'integer':
      case 'seed': {
        const mn = s.type === 'integer' ? s.min : 0;
        const mx = s.type === 'integer' ? s.max : Number.MAX_SAFE_INTEGER;
        const ok = typeof v === 'number' && Number.isInteger(v) && (mn === undefined || v >= mn) && (mx === undefined || v <= mx);
        if (!ok) bad(block, s.name, `an integer${mn !== undefined || mx !== undefined ? ' ' + range(mn, mx) : ''}`, v);
        break;
      }
      case 'boolean':
        if (typeof v !== 'boolean') bad(block, s.name, 'true or false', v);
        break;
      case 'enum':
        if (typeof v !== 'string' || !s.options.includes(v)) bad(block, s.name, `one of ${s.options.map((o) => `"${o}"`).join(', ')}`, v);
        break;
      case 'string':
      case 'file':
        if (typeof v !== 'string') bad(block, s.name, 'a string', v);
        break;
      case 'numberList': {
        const ok = Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x) && (s.min === undefined || x >= s.min) && (s.max === undefined || x <= s.max));
        if (!ok) bad(block, s.name, `a list of finite numbers${s.min !== undefined || s.max !== undefined ? ' ' + range(s.min, s.max) : ''}`, v);
        break;
      }
    }
    out[s.name] = v;
  }
  return out as T;
}
