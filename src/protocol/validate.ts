/**
 * Tiny runtime validators for protocol messages. Hand-written combinators rather than ajv because the webview
 * runs under a CSP without `unsafe-eval` (ajv compiles schemas with `new Function`) and because a validator
 * built from the TypeScript type (`object<T>({...})` demands one validator per key of T) cannot drift from it.
 *
 * A validator returns `undefined` when the value is valid, else a message naming the path and what was allowed.
 */

export type Validator<T> = ((value: unknown, path: string) => string | undefined) & { readonly __type?: T };

export const str: Validator<string> = (v, p) => (typeof v === 'string' ? undefined : `${p}: expected a string, got ${kind(v)}`);
export const bool: Validator<boolean> = (v, p) => (typeof v === 'boolean' ? undefined : `${p}: expected a boolean, got ${kind(v)}`);
export const num: Validator<number> = (v, p) =>
  typeof v === 'number' && Number.isFinite(v) ? undefined : `${p}: expected a finite number, got ${kind(v)}`;
export const int: Validator<number> = (v, p) =>
  typeof v === 'number' && Number.isSafeInteger(v) ? undefined : `${p}: expected an integer, got ${kind(v)}`;
/** Any JSON value (no check beyond "present"); used for payloads another module validates deeply. */
export const json: Validator<unknown> = (v, p) => (v === undefined ? `${p}: missing` : undefined);

export function literal<const L extends string | number | boolean>(...allowed: L[]): Validator<L> {
  return (v, p) => ((allowed as unknown[]).includes(v) ? undefined : `${p}: expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${show(v)}`);
}

export function optional<T>(inner: Validator<T>): Validator<T | undefined> {
  return (v, p) => (v === undefined ? undefined : inner(v, p));
}

export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return (v, p) => (v === null ? undefined : inner(v, p));
}

export function array<T>(item: Validator<T>, maxLength = 100_000): Validator<T[]> {
  return (v, p) => {
    if (!Array.isArray(v)) return `${p}: expected an array, got ${kind(v)}`;
    if (v.length > maxLength) return `${p}: array longer than ${maxLength}`;
    for (let i = 0; i < v.length; i++) {
      const e = item(v[i], `${p}[${i}]`);
      if (e) return e;
    }
    return undefined;
  };
}

export function record<T>(value: Validator<T>): Validator<Record<string, T>> {
  return (v, p) => {
    if (!isPlainObject(v)) return `${p}: expected an object, got ${kind(v)}`;
    for (const [k, x] of Object.entries(v)) {
      const e = value(x, `${p}.${k}`);
      if (e) return e;
    }
    return undefined;
  };
}

/** An object with exactly these keys' validators; unknown keys are allowed (forward compatibility). */
export function object<T extends object>(fields: { [K in keyof T]-?: Validator<T[K]> }): Validator<T> {
  const entries = Object.entries(fields) as [string, Validator<unknown>][];
  return (v, p) => {
    if (!isPlainObject(v)) return `${p}: expected an object, got ${kind(v)}`;
    for (const [k, check] of entries) {
      const e = check((v as Record<string, unknown>)[k], `${p}.${k}`);
      if (e) return e;
    }
    return undefined;
  };
}

/** A union tagged by `type`: one validator per tag. */
export function tagged<T extends { type: string }>(variants: { [K in T['type']]: Validator<Extract<T, { type: K }>> }): Validator<T> {
  const table = variants as Record<string, Validator<unknown>>;
  return (v, p) => {
    if (!isPlainObject(v)) return `${p}: expected a message object, got ${kind(v)}`;
    const tag = (v as { type?: unknown }).type;
    if (typeof tag !== 'string' || !Object.prototype.hasOwnProperty.call(table, tag)) {
      return `${p}.type: unknown message type ${show(tag)}; allowed: ${Object.keys(table).join(', ')}`;
    }
    return table[tag](v, p);
  };
}

// ---------------------------------------------------------------------------------------------
// Message pieces the editor, runner and inspector protocols share (written once here)

/** A `data:image/png;base64,` URI (previews). */
export const pngDataUri: Validator<string> = (v, p) =>
  typeof v === 'string' && v.startsWith('data:image/png;base64,') ? undefined : `${p}: expected a data:image/png;base64 URI`;

/** The `{ code, message }` of a failed run (error catalog code). */
export const errorInfo = object<{ code: string; message: string }>({ code: str, message: str });

/** A `log` message: a line for an Output channel. */
export const logMessage = object<{ type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }>({
  type: literal('log'),
  level: literal('debug', 'info', 'warn', 'error'),
  message: str,
});

/** A `preview` message: a Sample node's predicted x̂0 as a PNG data URI (editor `PreviewMessage`, runner `RunPreview`). */
export const previewMessage = object<{
  type: 'preview';
  runId: string;
  seq: number;
  nodeId: string;
  index: number;
  step: number;
  sigma: number;
  width: number;
  height: number;
  image: string;
}>({
  type: literal('preview'),
  runId: str,
  seq: int,
  nodeId: str,
  index: int,
  step: int,
  sigma: num,
  width: int,
  height: int,
  image: pngDataUri,
});

/** The answer to a `request`: `{ type: 'response', id, ok: true, result? }` or `{ …, ok: false, error }`. */
export function responseMessage<T extends { type: 'response' }>(): Validator<T> {
  const base = object<{ type: 'response'; id: string; ok: boolean }>({ type: literal('response'), id: str, ok: bool });
  return (v, p) => {
    const e = base(v, p);
    if (e) return e;
    const r = v as { ok: boolean; error?: unknown };
    return r.ok ? undefined : str(r.error, `${p}.error`);
  };
}

/** A `request` `{ type: 'request', id, method, params }`: `method` one of the table's keys, `params` checked by its entry. */
export function requestMessage<T extends { type: 'request' }, M extends string>(params: { [K in M]: Validator<unknown> }): Validator<T> {
  const base = object<{ type: 'request'; id: string; method: M }>({ type: literal('request'), id: str, method: literal(...(Object.keys(params) as M[])) });
  return (v, p) => {
    const e = base(v, p);
    if (e) return e;
    const m = v as { method: M; params: unknown };
    return params[m.method](m.params, `${p}.params`);
  };
}

/** Thrown by {@link parse} when a message does not match its protocol. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Validates `value` and returns it typed, or throws a {@link ProtocolError} naming the first mismatch. */
export function parse<T>(validator: Validator<T>, value: unknown, what = 'message'): T {
  const err = validator(value, what);
  if (err !== undefined) throw new ProtocolError(err);
  return value as T;
}

/** Validates and returns `{ok:true,value}` or `{ok:false,error}`, for receivers that log and drop bad input. */
export function check<T>(validator: Validator<T>, value: unknown, what = 'message'): { ok: true; value: T } | { ok: false; error: string } {
  const err = validator(value, what);
  return err === undefined ? { ok: true, value: value as T } : { ok: false, error: err };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}
