/**
 * The .dpipe loader: text → `PipelineDoc` plus every problem at once, each located (JSON pointer, line, column,
 * offset, length) and worded to say what is allowed. Pure: the registry and the file check are passed in
 * (`index.ts` supplies the real registry and the file system).
 *
 * Order of checks: JSON syntax (stop if broken) → format version (stop if newer; migrate if older) → document
 * shape against the structural JSON Schema (stop if broken) → node ids, types, params, files → edges, ports,
 * port types, inputs with several edges, missing inputs → cycles → composition rules → warnings.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { getNodePath, getNodeValue, parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import type { ErrorCode, Problem } from '../core/errors';
import type { NodeTypeInfo, ParamValue } from '../registry/types';
import { findCycles } from '../graph/analyze';
import { TextLocator, pointerOf } from './locate';
import { MIGRATIONS, migrateDocument, type Migration } from './migrate';
import { asRegistry, checkParamValue, closestNames, describePorts, findParam, findPort, type BlockRegistry } from './registry';
import { COMPOSE_RULES, resolveEdges, type ComposeContext, type ComposeRule } from './rules';
import { structuralSchema } from './schema';
import { ENDPOINT_PATTERN, FORMAT_VERSION, type LoadResult, type PipelineDoc, type PipelineEdge, type PipelineNode, type RegistryLike } from './types';

export interface LoadTextOptions {
  /** Shown in problems (`file:line:col`). */
  readonly file?: string;
  readonly registry: RegistryLike | BlockRegistry;
  /**
   * Checks a `file` param (value as written, relative to the .dpipe). Omit to skip file checks (e.g. in the
   * webview). `resolved` is the absolute path, for the message.
   */
  readonly checkFile?: (path: string) => { readonly exists: boolean; readonly resolved: string; readonly unchecked?: boolean };
  /** Migration table and current version; the defaults are the real ones (tests pass their own). */
  readonly migrations?: readonly Migration[];
  readonly currentVersion?: number;
  /** Composition rules; default `COMPOSE_RULES`. */
  readonly rules?: readonly ComposeRule[];
  /** Reads a model's sidecar for the composition rules (see `ComposeContext.readSidecar`); omit where files cannot be read. */
  readonly readSidecar?: ComposeContext['readSidecar'];
}

type Mode = 'value' | 'key' | 'start';

class Reporter {
  readonly problems: Problem[] = [];
  constructor(private readonly loc: TextLocator, private readonly file: string | undefined) {}

  add(code: ErrorCode, message: string, pointer: string, opt: { mode?: Mode; nodeId?: string; severity?: 'error' | 'warning' } = {}): void {
    const span = this.loc.locate(pointer, opt.mode ?? 'value');
    this.push(code, message, pointer, span, opt);
  }

  at(code: ErrorCode, message: string, offset: number, length: number, pointer?: string): void {
    this.push(code, message, pointer, this.loc.span(offset, length), {});
  }

  private push(code: ErrorCode, message: string, pointer: string | undefined, span: { offset: number; length: number; line: number; column: number }, opt: { nodeId?: string; severity?: 'error' | 'warning' }): void {
    this.problems.push({
      code,
      message,
      severity: opt.severity ?? 'error',
      ...(this.file !== undefined ? { file: this.file } : {}),
      ...(pointer !== undefined ? { pointer } : {}),
      line: span.line,
      column: span.column,
      offset: span.offset,
      length: span.length,
      ...(opt.nodeId !== undefined ? { nodeId: opt.nodeId } : {}),
    });
  }

  sorted(): Problem[] {
    return this.problems.map((p, i) => ({ p, i })).sort((a, b) => (a.p.offset ?? 0) - (b.p.offset ?? 0) || a.i - b.i).map((x) => x.p);
  }
}

const PARSE_MESSAGES: Record<string, string> = {
  InvalidSymbol: 'unexpected characters; expected a JSON value (string, number, true, false, null, object or array)',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':' after the property name",
  CommaExpected: "expected ',' between items",
  CloseBraceExpected: "expected '}' to close the object",
  CloseBracketExpected: "expected ']' to close the array",
  EndOfFileExpected: 'unexpected text after the end of the document',
  InvalidCommentToken: 'comments are not allowed: a .dpipe file is plain JSON (put notes in metadata.description)',
  UnexpectedEndOfComment: 'unterminated comment (comments are not allowed in JSON)',
  UnexpectedEndOfString: 'unterminated string: a string must close with " on the same line',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape in a string',
  InvalidEscapeCharacter: 'invalid escape in a string; allowed: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX',
  InvalidCharacter: 'control character in a string; write it as an escape such as \\n or \\t',
};

let structural: ValidateFunction | undefined;
function structuralValidator(): ValidateFunction {
  return (structural ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile(structuralSchema()));
}

/** Whether any problem is an error (warnings alone do not stop a run). */
export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/**
 * Deepest nesting of arrays and objects a .dpipe may have. A pipeline needs 5 levels (document, nodes, node, params,
 * a list); the rest is room for metadata. Deeper documents are refused before they are parsed, so no reader of the
 * text (ours or a library's) recurses without bound.
 */
export const MAX_JSON_DEPTH = 64;

/** Offset of the first `[` or `{` that opens level `max + 1`, outside strings; undefined when none does. */
export function tooDeepAt(text: string, max = MAX_JSON_DEPTH): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) return i;
    } else if (c === 93 || c === 125) depth--;
  }
  return undefined;
}

/**
 * Adds line, column, offset and length to problems that carry a JSON pointer into `text` but no position (e.g.
 * problems found while running), and `file`.
 */
export function locateProblems(text: string, file: string | undefined, problems: readonly Problem[]): Problem[] {
  if (problems.every((p) => p.line !== undefined || p.pointer === undefined)) return problems.map((p) => (file !== undefined && p.file === undefined ? { ...p, file } : p));
  const loc = new TextLocator(text, tooDeepAt(text) === undefined ? parseTree(withoutBom(text), [], { disallowComments: true }) : undefined);
  return problems.map((p) => {
    const withFile = file !== undefined && p.file === undefined ? { ...p, file } : p;
    if (p.line !== undefined || p.pointer === undefined) return withFile;
    const span = loc.locate(p.pointer, 'start');
    return { ...withFile, line: span.line, column: span.column, offset: span.offset, length: span.length };
  });
}

/** Loads a .dpipe text; never throws on bad input (every problem is in `problems`). */
export function loadPipelineText(text: string, opts: LoadTextOptions): LoadResult {
  const registry = asRegistry(opts.registry);
  const deep = tooDeepAt(text);
  if (deep !== undefined) {
    const rep0 = new Reporter(new TextLocator(text, undefined), opts.file);
    rep0.at('E_JSON', `the JSON is nested more than ${MAX_JSON_DEPTH} levels deep here; a .dpipe needs 5 (put deep data in a file the pipeline names)`, deep, 1);
    return { problems: rep0.sorted() };
  }
  const errors: ParseError[] = [];
  // A byte-order mark (Windows editors write one) parses as a space, so offsets stay those of `text`.
  const root = parseTree(withoutBom(text), errors, { disallowComments: true, allowTrailingComma: false });
  const loc = new TextLocator(text, root);
  const rep = new Reporter(loc, opts.file);

  // 1. JSON syntax.
  if (text.trim() === '') {
    rep.at('E_JSON', 'the file is empty; a .dpipe file is a JSON object like {"dpipe": 1, "nodes": [], "edges": []}', 0, 0);
    return { problems: rep.sorted() };
  }
  if (errors.length) {
    const seen = new Set<number>();
    for (const e of errors) {
      if (seen.has(e.offset)) continue;
      seen.add(e.offset);
      const name = printParseErrorCode(e.error);
      const next = text.slice(e.offset).trimStart()[0];
      const trailing = (name === 'PropertyNameExpected' || name === 'ValueExpected') && (next === '}' || next === ']');
      const what = trailing ? `trailing comma before '${next}': JSON allows no comma after the last item` : (PARSE_MESSAGES[name] ?? name);
      rep.at('E_JSON', `invalid JSON: ${what}`, e.offset, e.length);
    }
    return { problems: rep.sorted() };
  }
  const value: unknown = root ? getNodeValue(root) : undefined;
  if (!isPlainObject(value)) {
    rep.add('E_FORMAT', `a .dpipe file is a JSON object with keys "dpipe", "metadata", "nodes" and "edges"; this is ${kindOf(value)}`, '');
    return { problems: rep.sorted() };
  }

  // Duplicate keys: JSON.parse would silently keep the last one.
  for (const dup of duplicateKeys(root)) {
    const key = dup.children?.[0] as JsonNode;
    const path = getNodePath(dup.children?.[1] ?? key);
    rep.at('E_FORMAT', `duplicate key "${String(key.value)}"${path.length > 1 ? ` in ${describePointer(pointerOf(path.slice(0, -1)), value)}` : ''}; a key may appear once (the later one would win)`, key.offset, key.length, pointerOf(path));
  }

  // 2. Version and migration.
  const current = opts.currentVersion ?? FORMAT_VERSION;
  let raw: Record<string, unknown> = value;
  let migratedFrom: number | undefined;
  const version = value.dpipe;
  if (typeof version === 'number' && Number.isInteger(version) && version !== current) {
    const m = migrateDocument(value, version, opts.migrations ?? MIGRATIONS, current);
    if (!m.ok) {
      rep.add('E_VERSION', m.message, '/dpipe');
      return { problems: rep.sorted() };
    }
    raw = m.doc;
    migratedFrom = m.from;
  }

  // 3. Shape.
  const validate = structuralValidator();
  let fatal = false;
  if (!validate({ ...raw, dpipe: typeof raw.dpipe === 'number' && Number.isInteger(raw.dpipe) ? Math.min(raw.dpipe, FORMAT_VERSION) : raw.dpipe })) {
    for (const err of validate.errors ?? []) {
      const p = shapeProblem(err, raw);
      if (!p) continue;
      fatal ||= p.code === 'E_FORMAT';
      rep.add(p.code, p.message, p.pointer, { mode: p.mode, nodeId: p.nodeId });
    }
  }
  if (fatal) return { problems: rep.sorted(), ...(migratedFrom !== undefined ? { migratedFrom } : {}) };
  const doc = toDoc(raw, current);

  // 4+. Semantics.
  checkGraph(doc, registry, rep, opts);
  return { doc, problems: rep.sorted(), ...(migratedFrom !== undefined ? { migratedFrom } : {}) };
}

function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text;
}

/** Property nodes whose key already appeared in the same object. */
function duplicateKeys(root: JsonNode | undefined): JsonNode[] {
  const out: JsonNode[] = [];
  const walk = (n: JsonNode): void => {
    if (n.type === 'object') {
      const seen = new Set<unknown>();
      for (const p of n.children ?? []) {
        const k = p.children?.[0]?.value;
        if (seen.has(k)) out.push(p);
        seen.add(k);
      }
    }
    for (const c of n.children ?? []) walk(c);
  };
  if (root) walk(root);
  return out;
}

function toDoc(raw: Record<string, unknown>, current: number): PipelineDoc {
  const nodes = (raw.nodes as Record<string, unknown>[]).map((n): PipelineNode => {
    const pos = n.position as { x: number; y: number } | undefined;
    return {
      id: n.id as string,
      type: n.type as string,
      params: { ...((n.params as Record<string, ParamValue> | undefined) ?? {}) },
      ...(pos ? { position: { x: pos.x, y: pos.y } } : {}),
    };
  });
  const edges = ((raw.edges as Record<string, unknown>[] | undefined) ?? []).map((e): PipelineEdge => ({ from: e.from as string, to: e.to as string }));
  return {
    dpipe: current,
    ...(typeof raw.$schema === 'string' ? { $schema: raw.$schema } : {}),
    metadata: { ...((raw.metadata as Record<string, unknown> | undefined) ?? {}) },
    nodes,
    edges,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Shape errors (ajv) → problems.

interface ShapeProblem {
  code: ErrorCode;
  message: string;
  pointer: string;
  mode: Mode;
  nodeId?: string;
}

function shapeProblem(err: ErrorObject, raw: Record<string, unknown>): ShapeProblem | undefined {
  const at = err.instancePath;
  const where = describePointer(at, raw);
  const nodeId = nodeIdAt(at, raw);
  const base = { nodeId };
  switch (err.keyword) {
    case 'required': {
      const missing = (err.params as { missingProperty: string }).missingProperty;
      return { ...base, code: 'E_FORMAT', pointer: at, mode: 'start', message: `${where} is missing "${missing}"${REQUIRED_HINTS[missing] ?? ''}` };
    }
    case 'additionalProperties': {
      const extra = (err.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((err.parentSchema as { properties?: object })?.properties ?? {});
      return {
        ...base,
        code: 'E_FORMAT',
        pointer: `${at}${pointerOf([extra])}`,
        mode: 'key',
        message: `${where} has an unknown key "${extra}"; allowed keys: ${allowed.join(', ')}`,
      };
    }
    case 'type': {
      const want = (err.params as { type: string }).type;
      return { ...base, code: 'E_FORMAT', pointer: at, mode: 'value', message: `${where} must be ${article(want)}, got ${kindOf(valueAt(at, raw))}` };
    }
    case 'pattern': {
      const v = valueAt(at, raw);
      if (/^\/nodes\/\d+\/id$/.test(at)) {
        return { ...base, code: 'E_NODE_ID', pointer: at, mode: 'value', message: `node id ${JSON.stringify(v)} is not allowed: an id starts with a letter or _ and contains only letters, digits, _ and -` };
      }
      return { ...base, code: 'E_EDGE', pointer: at, mode: 'value', message: `edge endpoint ${JSON.stringify(v)} must be "nodeId.port" (e.g. "sched.sigmas")` };
    }
    case 'maxLength': {
      const v = valueAt(at, raw);
      const max = (err.params as { limit: number }).limit;
      if (/^\/nodes\/\d+\/id$/.test(at)) {
        return { ...base, code: 'E_NODE_ID', pointer: at, mode: 'value', message: `node id "${String(v).slice(0, 20)}…" has ${String(v).length} characters; an id has at most ${max}` };
      }
      return { ...base, code: 'E_FORMAT', pointer: at, mode: 'value', message: `${where} has ${String(v).length} characters; at most ${max} are allowed` };
    }
    default:
      return { ...base, code: 'E_FORMAT', pointer: at, mode: 'value', message: `${where} ${err.message ?? 'is not allowed'}` };
  }
}

const REQUIRED_HINTS: Record<string, string> = {
  dpipe: ` (the format version; write "dpipe": ${FORMAT_VERSION})`,
  nodes: ' (the list of blocks; may be empty: "nodes": [])',
  id: ' (a unique node id such as "sched")',
  type: ' (the block type, e.g. "schedule.karras"; `dpipe blocks` lists them)',
  from: ' (the output endpoint "nodeId.port")',
  to: ' (the input endpoint "nodeId.port")',
  x: ' (position needs both x and y)',
  y: ' (position needs both x and y)',
};

function valueAt(pointer: string, raw: unknown): unknown {
  let v: unknown = raw;
  for (const seg of pointer.split('/').slice(1)) {
    const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

function nodeIdAt(pointer: string, raw: unknown): string | undefined {
  const m = /^\/nodes\/(\d+)/.exec(pointer);
  if (!m) return undefined;
  const id = valueAt(`/nodes/${m[1]}/id`, raw);
  return typeof id === 'string' ? id : undefined;
}

function describePointer(pointer: string, raw: unknown): string {
  if (pointer === '') return 'the document';
  const m = /^\/(nodes|edges)\/(\d+)(.*)$/.exec(pointer);
  if (!m) return `"${pointer.slice(1).replace(/\//g, '.')}"`;
  const i = Number(m[2]);
  const rest = m[3] ? ` ${m[3].slice(1).replace(/\//g, '.')}` : '';
  if (m[1] === 'nodes') {
    const id = valueAt(`/nodes/${i}/id`, raw);
    return `${typeof id === 'string' ? `node "${id}"` : `nodes[${i}]`}${rest}`;
  }
  return `edges[${i}]${rest}`;
}

function kindOf(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
  return String(v);
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------------------------
// Semantic checks.

function checkGraph(doc: PipelineDoc, registry: BlockRegistry, rep: Reporter, opts: LoadTextOptions): void {
  const nodeIndex = new Map<string, number>();
  const infos = new Map<string, NodeTypeInfo>();
  const typeNames = registry.all.map((t) => t.type);
  const idPtr = (k: number): string => `/nodes/${k}/id`;

  // Ids and types.
  doc.nodes.forEach((n, k) => {
    const first = nodeIndex.get(n.id);
    if (first !== undefined) {
      rep.add('E_NODE_ID', `node id "${n.id}" is used twice (also nodes[${first}]); ids must be unique`, idPtr(k), { nodeId: n.id });
    } else {
      nodeIndex.set(n.id, k);
    }
    const info = registry.get(n.type);
    if (!info) {
      rep.add('E_NODE_TYPE', `node "${n.id}": unknown node type "${n.type}"${suggest(closestNames(n.type, typeNames))}; ${listTypes(typeNames)}`, `/nodes/${k}/type`, { nodeId: n.id });
    } else if (first === undefined) {
      infos.set(n.id, info);
    }
    checkParams(n, k, info, rep, opts);
  });

  // Edges: endpoints, ports, types.
  const resolved = resolveEdges(doc, registry);
  const composeClaimed = new Set<number>();
  const composeFindings: { edgeIndex?: number; pointer?: string; nodeId: string; message: string; severity: 'error' | 'warning' }[] = [];
  for (const rule of opts.rules ?? COMPOSE_RULES) {
    for (const f of rule({ doc, registry, edges: resolved, readSidecar: opts.readSidecar })) {
      composeFindings.push({ ...f, severity: f.severity ?? 'error' });
      if (f.edgeIndex !== undefined) composeClaimed.add(f.edgeIndex);
    }
  }
  const nodeIds = [...nodeIndex.keys()];
  const validInto = new Map<string, number[]>(); // "node.port" → edge indices, for edges whose ports exist
  const anyInto = new Set<string>(); // inputs that some edge names (valid or not), to avoid double reports
  const usedFrom = new Set<string>(); // nodes whose outputs some edge names
  doc.edges.forEach((e, i) => {
    if (!ENDPOINT_PATTERN.test(e.from) || !ENDPOINT_PATTERN.test(e.to)) return; // reported as E_EDGE by the shape check
    const [fromNode, fromPort] = splitEndpoint(e.from);
    const [toNode, toPort] = splitEndpoint(e.to);
    anyInto.add(e.to);
    usedFrom.add(fromNode);
    let ok = true;
    for (const [end, node, port, dir] of [['from', fromNode, fromPort, 'output'], ['to', toNode, toPort, 'input']] as const) {
      const ptr = `/edges/${i}/${end}`;
      if (!nodeIndex.has(node)) {
        rep.add('E_EDGE', `edge ${e.from} → ${e.to}: there is no node "${node}"${suggest(closestNames(node, nodeIds))}; nodes: ${nodeIds.join(', ') || 'none'}`, ptr);
        ok = false;
        continue;
      }
      const info = infos.get(node);
      if (!info) {
        ok = false; // unknown type: already reported on the node
        continue;
      }
      if (findPort(info, dir, port)) continue;
      ok = false;
      if (composeClaimed.has(i)) continue;
      const other = findPort(info, dir === 'input' ? 'output' : 'input', port);
      const ports = dir === 'input' ? info.inputs : info.outputs;
      const msg = other
        ? `edge ${e.from} → ${e.to}: "${node}.${port}" is an ${dir === 'input' ? 'output' : 'input'}; "${end}" must name an ${dir} (${info.type} ${dir}s: ${describePorts(ports)})`
        : `edge ${e.from} → ${e.to}: node "${node}" (${info.type}) has no ${dir} "${port}"${suggest(closestNames(port, ports.map((p) => p.name)))}; its ${dir}s: ${describePorts(ports)}`;
      rep.add('E_EDGE', msg, ptr, { nodeId: node });
    }
    if (!ok) return;
    const fp = findPort(infos.get(fromNode) as NodeTypeInfo, 'output', fromPort) as NonNullable<ReturnType<typeof findPort>>;
    const tp = findPort(infos.get(toNode) as NodeTypeInfo, 'input', toPort) as NonNullable<ReturnType<typeof findPort>>;
    if (fp.type !== tp.type) {
      rep.add('E_PORT_TYPE', `edge ${e.from} → ${e.to} connects ${fp.type} to ${tp.type}; an edge joins ports of the same type (input "${toPort}" takes ${tp.type})`, `/edges/${i}`, { nodeId: toNode });
      return;
    }
    const list = validInto.get(e.to) ?? [];
    list.push(i);
    validInto.set(e.to, list);
  });

  // Inputs with several edges.
  for (const [to, list] of validInto) {
    for (const j of list.slice(1)) {
      const first = doc.edges[list[0]];
      rep.add('E_INPUT_MULTI', `input ${to} has more than one edge (already fed by ${first.from}, edges[${list[0]}]); an input takes exactly one edge`, `/edges/${j}/to`, { nodeId: to.split('.')[0] });
    }
  }

  // Missing required inputs.
  for (const [id, info] of infos) {
    const k = nodeIndex.get(id) as number;
    for (const port of info.inputs) {
      if (port.optional || anyInto.has(`${id}.${port.name}`)) continue;
      const sources: string[] = [];
      for (const [otherId, otherInfo] of infos) {
        if (otherId === id) continue;
        for (const o of otherInfo.outputs) if (o.type === port.type) sources.push(`${otherId}.${o.name}`);
      }
      const blocks = registry.all.filter((t) => t.outputs.some((o) => o.type === port.type)).map((t) => t.type);
      const hint = sources.length
        ? `; outputs of type ${port.type} here: ${sources.slice(0, 5).join(', ')}`
        : blocks.length ? `; no node here outputs ${port.type} (blocks that do: ${blocks.slice(0, 4).join(', ')})` : '';
      rep.add('E_INPUT_MISSING', `node "${id}" (${info.type}): required input "${port.name}" (${port.type}) is not connected${hint}`, idPtr(k), { nodeId: id });
    }
  }

  // Cycles.
  for (const cycle of findCycles(doc)) {
    const k = nodeIndex.get(cycle[0]) as number;
    rep.add('E_CYCLE', `the graph has a cycle: ${[...cycle, cycle[0]].join(' → ')}; a pipeline must flow one way, so remove one of these edges`, idPtr(k), { nodeId: cycle[0] });
  }

  // Composition rules.
  for (const f of composeFindings) {
    const k = nodeIndex.get(f.nodeId);
    const ptr = f.pointer ?? (f.edgeIndex !== undefined ? `/edges/${f.edgeIndex}` : k !== undefined ? idPtr(k) : '');
    rep.add('E_COMPOSE', f.message, ptr, { nodeId: f.nodeId, severity: f.severity });
  }

  // Warnings: blocks whose outputs go nowhere.
  for (const [id, info] of infos) {
    if (info.outputs.length === 0 || usedFrom.has(id)) continue;
    rep.add('W_UNUSED', `node "${id}" (${info.type}): its outputs (${info.outputs.map((o) => o.name).join(', ')}) are not connected to anything`, idPtr(nodeIndex.get(id) as number), { nodeId: id, severity: 'warning' });
  }
}

function checkParams(n: PipelineNode, k: number, info: NodeTypeInfo | undefined, rep: Reporter, opts: LoadTextOptions): void {
  for (const [name, value] of Object.entries(n.params)) {
    const ptr = `/nodes/${k}/params${pointerOf([name])}`;
    if (!info) {
      if (!isParamValue(value)) rep.add('E_PARAM_VALUE', `node "${n.id}": parameter "${name}" must be a number, boolean, string or list of numbers, got ${kindOf(value)}`, ptr, { nodeId: n.id });
      continue;
    }
    const spec = findParam(info, name);
    if (!spec) {
      const names = info.params.map((p) => p.name);
      const allowed = names.length ? `allowed: ${names.join(', ')}` : `${info.type} has no parameters`;
      rep.add('E_PARAM', `node "${n.id}" (${info.type}) has no parameter "${name}"${suggest(closestNames(name, names))}; ${allowed}`, ptr, { mode: 'key', nodeId: n.id });
      continue;
    }
    const why = checkParamValue(spec, value);
    if (why) {
      rep.add('E_PARAM_VALUE', `node "${n.id}": parameter "${name}" ${why}`, ptr, { nodeId: n.id });
      continue;
    }
    if (spec.type === 'file' && opts.checkFile && typeof value === 'string' && value !== '' && spec.mustExist !== false) {
      const r = opts.checkFile(value);
      if (r.unchecked) {
        rep.add('W_UNCHECKED', `node "${n.id}": file "${value}" (parameter "${name}") is outside the workspace and was not checked, because the workspace is not trusted`, ptr, { nodeId: n.id, severity: 'warning' });
      } else if (!r.exists) {
        rep.add('E_FILE_MISSING', `node "${n.id}": file "${value}" (parameter "${name}") does not exist; looked for ${r.resolved} (paths are relative to the .dpipe file)`, ptr, { nodeId: n.id });
      }
    }
  }
}

function isParamValue(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
}

function splitEndpoint(s: string): [string, string] {
  const dot = s.indexOf('.');
  return [s.slice(0, dot), s.slice(dot + 1)];
}

function suggest(names: readonly string[]): string {
  if (!names.length) return '';
  return ` (did you mean ${names.map((n) => `"${n}"`).join(' or ')}?)`;
}

function listTypes(types: readonly string[]): string {
  if (types.length === 0) return 'this build has no blocks registered';
  if (types.length <= 12) return `known types: ${types.join(', ')}`;
  return `${types.length} types are known; \`dpipe blocks\` lists them`;
}
