/**
 * The parameter codec: everything dpipe knows about a block parameter, derived from its {@link ParamSpec} and
 * written once. Browser-safe (no Node.js imports): the loader, the blocks' own option reading, the editor's
 * inspector fields, `--set` overrides and the JSON Schema all use it, so a value means the same thing and is
 * refused with the same words wherever it is written.
 *
 * - Types: `defineParams(…)` keeps each spec's literal name and options, and {@link OptionsOf} turns the list into
 *   the options object a block's code reads (`readParams` returns it), so option names and types are checked by tsc.
 * - Values: {@link describeParam} (what is allowed, in words), {@link checkParamValue} (the reason a value is refused),
 *   {@link withDefaults}, {@link readParams} (defaults + checks, E_PARAM_VALUE naming the block).
 * - Text: {@link parseParamText} / {@link formatParamText}, one text form for inspector fields and `--set`:
 *   numbers as written; `true` / `false`; number lists separated by commas, spaces or semicolons (optionally in
 *   brackets); strings, enum options and paths as they are (a JSON string literal is unquoted, so `"…"` can carry
 *   leading or trailing spaces). `parseParamText(spec, formatParamText(spec, v))` gives `v` back.
 * - Schema: {@link paramJsonSchema}, the JSON Schema (draft-07) of one parameter.
 */
import { DpipeError } from '../core/errors';
import type { ParamSpec, ParamValue, Params } from './types';

// ---------------------------------------------------------------------------------------------
// Types from specs.

/** The value a spec admits: number, boolean, one of the enum's options, string or list of numbers. */
export type ParamValueOf<S extends ParamSpec> = S extends { readonly type: 'boolean' }
  ? boolean
  : S extends { readonly type: 'enum'; readonly options: readonly (infer O extends string)[] }
    ? O
    : S extends { readonly type: 'string' | 'file' }
      ? string
      : S extends { readonly type: 'numberList' }
        ? readonly number[]
        : number;

/** The options object of a parameter list: one typed property per spec, by its name. */
export type OptionsOf<L extends readonly ParamSpec[]> = { readonly [S in L[number] as S['name']]: ParamValueOf<S> };

/** One spec with its literal name and options kept (for lists shared between blocks). */
export function defineParam<const S extends ParamSpec>(spec: S): S {
  return spec;
}

/** A block's parameter list with literal names and options kept, so {@link OptionsOf} can type its options. */
export function defineParams<const L extends readonly ParamSpec[]>(...specs: L): L {
  return specs;
}

// ---------------------------------------------------------------------------------------------
// Values.

/** What a spec allows, in words: `an integer in [1, 1000]`, `a number > 0`, `one of "a", "b"`. */
export function describeParam(spec: ParamSpec): string {
  switch (spec.type) {
    case 'number':
    case 'integer':
      return `${spec.type === 'integer' ? 'an integer' : 'a number'}${range(spec.min, spec.max, spec.type === 'number' && spec.exclusiveMin === true)}`;
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${spec.options.map((o) => JSON.stringify(o)).join(', ')}`;
    case 'string':
      return 'a string';
    case 'file':
      if (spec.directory) return 'a folder path relative to the .dpipe file';
      return spec.extensions.length ? `a path relative to the .dpipe file, ending in ${spec.extensions.join(' or ')}` : 'a path relative to the .dpipe file';
    case 'seed':
      return `an integer in [0, ${Number.MAX_SAFE_INTEGER}]`;
    case 'numberList':
      return `a list of numbers${range(spec.min, spec.max, false)}`;
  }
}

/** ` in [lo, hi]`, ` in (lo, hi]`, ` ≥ lo`, ` > lo`, ` ≤ hi` or ''. */
function range(lo: number | undefined, hi: number | undefined, exclusiveLo: boolean): string {
  if (lo !== undefined && hi !== undefined) return ` in ${exclusiveLo ? '(' : '['}${lo}, ${hi}]`;
  if (lo !== undefined) return ` ${exclusiveLo ? '>' : '≥'} ${lo}`;
  if (hi !== undefined) return ` ≤ ${hi}`;
  return '';
}

/**
 * Checks one value against its spec. Returns undefined when it is allowed, else the reason
 * (`must be an integer in [1, 1000], got 0`). Whether a file exists is not checked here (the loader does it).
 */
export function checkParamValue(spec: ParamSpec, value: unknown): string | undefined {
  const bad = (): string => `must be ${describeParam(spec)}, got ${showValue(value)}`;
  switch (spec.type) {
    case 'number':
    case 'integer':
      return isNumberIn(value, spec.min, spec.max, spec.type === 'number' && spec.exclusiveMin === true) && (spec.type === 'number' || Number.isInteger(value)) ? undefined : bad();
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
      const i = value.findIndex((v: unknown) => !isNumberIn(v, spec.min, spec.max, false));
      return i < 0 ? undefined : `${bad()} (item ${i} is ${showValue(value[i])})`;
    }
  }
}

function isNumberIn(v: unknown, lo: number | undefined, hi: number | undefined, exclusiveLo: boolean): v is number {
  return typeof v === 'number' && Number.isFinite(v) && (lo === undefined || (exclusiveLo ? v > lo : v >= lo)) && (hi === undefined || v <= hi);
}

/** A value as messages show it: strings quoted, short lists in brackets, long ones by their length. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return v.length > 6 ? `a list of ${v.length} items` : JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** A parameter value as a run record or a listing shows it: strings quoted, lists `[1, 2]`. */
export function showParamValue(v: ParamValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  return String(v);
}

/** Every parameter of `specs` with the value from `params` or its default (names `specs` does not know are dropped). */
export function withDefaults(specs: readonly ParamSpec[], params: Params | undefined): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const s of specs) out[s.name] = params?.[s.name] ?? s.default;
  return out;
}

/**
 * The options of a block: every parameter of `specs` from `params` or its default, checked. A value its spec
 * does not allow is E_PARAM_VALUE naming the block and the parameter (`schedule.karras: parameter "steps" must be
 * an integer in [1, 1000], got 0`). Blocks call it on the params they receive, so a block used directly (tests,
 * other engines) with partial options behaves exactly like one run from a .dpipe file.
 */
export function readParams<const L extends readonly ParamSpec[]>(block: string, specs: L, params: Params | undefined): OptionsOf<L> {
  const out = withDefaults(specs, params);
  for (const s of specs) {
    const why = checkParamValue(s, out[s.name]);
    if (why) throw new DpipeError('E_PARAM_VALUE', `${block}: parameter "${s.name}" ${why}`);
  }
  return out as OptionsOf<L>;
}

// ---------------------------------------------------------------------------------------------
// Text.

export type ParsedParam = { readonly ok: true; readonly value: ParamValue } | { readonly ok: false; readonly error: string };

/**
 * Converts text to the spec's value type without checking the value against the spec's range or options:
 * `{ ok: false }` only when the text is not of that type at all (`zero` for a number).
 */
export function decodeParamText(spec: ParamSpec, text: string): ParsedParam {
  const t = text.trim();
  const fail = (got: string): ParsedParam => ({ ok: false, error: `must be ${describeParam(spec)}, got ${got}` });
  switch (spec.type) {
    case 'number':
    case 'integer':
    case 'seed': {
      if (t === '') return fail('nothing');
      const n = Number(t);
      return Number.isFinite(n) ? { ok: true, value: n } : fail(JSON.stringify(t));
    }
    case 'boolean':
      return t === 'true' ? { ok: true, value: true } : t === 'false' ? { ok: true, value: false } : fail(JSON.stringify(t));
    case 'numberList': {
      const body = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1).trim() : t;
      const parts = body === '' ? [] : body.split(/[\s,;]+/).filter((s) => s !== '');
      const bad = parts.find((s) => !Number.isFinite(Number(s)));
      return bad === undefined ? { ok: true, value: parts.map(Number) } : fail(`${JSON.stringify(bad)} (write numbers separated by commas)`);
    }
    case 'enum':
      return { ok: true, value: unquote(t) ?? t };
    case 'string':
    case 'file':
      return { ok: true, value: unquote(t) ?? text };
  }
}

/** A JSON string literal's content, or undefined when `t` is not one. */
function unquote(t: string): string | undefined {
  if (t.length < 2 || !t.startsWith('"') || !t.endsWith('"')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Text → a value the spec allows, or the reason it is refused (the words of {@link checkParamValue}). */
export function parseParamText(spec: ParamSpec, text: string): ParsedParam {
  const r = decodeParamText(spec, text);
  if (!r.ok) return r;
  const why = checkParamValue(spec, r.value);
  return why ? { ok: false, error: why } : r;
}

/** A value as text that {@link parseParamText} reads back: lists `1, 2, 3`; a string that looks quoted is quoted. */
export function formatParamText(spec: ParamSpec, v: ParamValue): string {
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'string' && (spec.type === 'string' || spec.type === 'file') && unquote(v.trim()) !== undefined) return JSON.stringify(v);
  return String(v);
}

// ---------------------------------------------------------------------------------------------
// JSON Schema.

/** The JSON Schema (draft-07) of one parameter, with its documentation, default and allowed values. */
export function paramJsonSchema(p: ParamSpec): Record<string, unknown> {
  const description = `${p.label ?? p.name}: ${p.doc}`;
  switch (p.type) {
    case 'number':
      return withRange({ type: 'number', description, default: p.default }, p.min, p.max, p.exclusiveMin === true);
    case 'integer':
      return withRange({ type: 'integer', description, default: p.default }, p.min, p.max, false);
    case 'boolean':
      return { type: 'boolean', description, default: p.default };
    case 'enum': {
      const s: Record<string, unknown> = { type: 'string', description, default: p.default, enum: [...p.options] };
      if (p.optionDocs) s.enumDescriptions = p.options.map((o) => p.optionDocs?.[o] ?? '');
      return s;
    }
    case 'string':
      return { type: 'string', description, default: p.default };
    case 'file': {
      const ext = p.extensions.length ? ` (${p.extensions.join(', ')})` : '';
      return { type: 'string', description: `${description} ${p.directory ? 'Folder path' : 'Path'} relative to the .dpipe file${ext}.`, default: p.default };
    }
    case 'seed':
      return { type: 'integer', description, default: p.default, minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
    case 'numberList':
      return { type: 'array', description, default: [...p.default], items: withRange({ type: 'number' }, p.min, p.max, false) };
  }
}

function withRange(s: Record<string, unknown>, min: number | undefined, max: number | undefined, exclusiveMin: boolean): Record<string, unknown> {
  if (min !== undefined) s[exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = min;
  if (max !== undefined) s.maximum = max;
  return s;
}
