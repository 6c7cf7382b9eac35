/**
 * Graph edits on the .dpipe TEXT (the single source of truth): each operation returns the minimal text edits
 * `{ offset, length, content }` against the text it was given, so the user's formatting and everything else stay
 * as they were, and the extension host can turn them into one WorkspaceEdit (undo, dirty state, hot exit).
 * React-free and browser-safe (no ajv, no file system): the webview and the extension host both use it.
 *
 * Refusals are values, never exceptions: `{ ok: false, code, reason }` where `reason` names what is allowed.
 * Operations travel as messages in the `GraphOp` tagged union; `parseGraphOp` validates one on arrival.
 */
import { getNodeValue, parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import type { ErrorCode } from '../core/errors';
import type { ParamValue } from '../registry/types';
import { asRegistry, checkParamValue, closestNames, findParam, type BlockRegistry } from '../format/registry';
import { nodeText, orderedParamNames, positionText, valueText } from '../format/serialize';
import { MAX_NODE_ID_LENGTH, NODE_ID_PATTERN, type NodePosition, type PipelineDoc, type PipelineEdge, type PipelineNode, type RegistryLike } from '../format/types';
import { canConnect, parseEndpoint, formatEndpoint } from './analyze';
import type { ComposeRule } from '../format/rules';

/** Replace `length` characters at `offset` by `content` (offsets into the text the edit was computed on). */
export interface TextEdit {
  readonly offset: number;
  readonly length: number;
  readonly content: string;
}

export type GraphOp =
  | { readonly op: 'addNode'; readonly type: string; readonly id?: string; readonly params?: Readonly<Record<string, ParamValue>>; readonly position?: NodePosition }
  /** Removes the nodes and every edge touching them. */
  | { readonly op: 'removeNodes'; readonly ids: readonly string[] }
  /** `replace`: when the input already has an edge, replace it (else refuse). */
  | { readonly op: 'connect'; readonly from: string; readonly to: string; readonly replace?: boolean }
  /** Removes the edge `from` → `to`, or every edge into `to` when `from` is omitted. */
  | { readonly op: 'disconnect'; readonly from?: string; readonly to: string }
  /** `value` omitted: remove the param from the file (it takes the block default). */
  | { readonly op: 'setParam'; readonly node: string; readonly param: string; readonly value?: ParamValue }
  | { readonly op: 'moveNodes'; readonly moves: readonly { readonly id: string; readonly x: number; readonly y: number }[] }
  /** Renames a node and rewrites the edges that name it. */
  | { readonly op: 'renameNode'; readonly from: string; readonly to: string }
  /** A string sets the key, `null` removes it, omitted leaves it. */
  | { readonly op: 'setMetadata'; readonly title?: string | null; readonly description?: string | null };

export type GraphOpName = GraphOp['op'];

export type EditResult =
  | { readonly ok: true; readonly edits: readonly TextEdit[]; /** addNode / renameNode: the node's id. */ readonly nodeId?: string }
  | { readonly ok: false; readonly code: ErrorCode; readonly reason: string };

export interface EditOptions {
  readonly rules?: readonly ComposeRule[];
}

/** Applies one operation to the text. */
export function applyGraphOp(text: string, registry: RegistryLike | BlockRegistry, op: GraphOp, opts: EditOptions = {}): EditResult {
  const t = readText(text);
  if ('reason' in t) return t;
  const reg = asRegistry(registry);
  switch (op.op) {
    case 'addNode':
      return addNodeOp(t, reg, op);
    case 'removeNodes':
      return removeNodesOp(t, op.ids);
    case 'connect':
      return connectOp(t, reg, op, opts);
    case 'disconnect':
      return disconnectOp(t, op);
    case 'setParam':
      return setParamOp(t, reg, op);
    case 'moveNodes':
      return moveNodesOp(t, op.moves);
    case 'renameNode':
      return renameNodeOp(t, op.from, op.to);
    case 'setMetadata':
      return setMetadataOp(t, op);
  }
}

// Convenience wrappers, one per operation.
export const addNode = (text: string, registry: RegistryLike | BlockRegistry, a: Omit<Extract<GraphOp, { op: 'addNode' }>, 'op'>): EditResult =>
  applyGraphOp(text, registry, { op: 'addNode', ...a });
export const removeNodes = (text: string, ids: readonly string[]): EditResult => applyGraphOp(text, [], { op: 'removeNodes', ids });
export const connect = (text: string, registry: RegistryLike | BlockRegistry, from: string, to: string, o: { replace?: boolean; rules?: readonly ComposeRule[] } = {}): EditResult =>
  applyGraphOp(text, registry, { op: 'connect', from, to, replace: o.replace }, { rules: o.rules });
export const disconnect = (text: string, to: string, from?: string): EditResult => applyGraphOp(text, [], { op: 'disconnect', to, from });
export const setParam = (text: string, registry: RegistryLike | BlockRegistry, node: string, param: string, value?: ParamValue): EditResult =>
  applyGraphOp(text, registry, { op: 'setParam', node, param, value });
export const moveNodes = (text: string, moves: readonly { id: string; x: number; y: number }[]): EditResult => applyGraphOp(text, [], { op: 'moveNodes', moves });
export const renameNode = (text: string, from: string, to: string): EditResult => applyGraphOp(text, [], { op: 'renameNode', from, to });
export const setMetadata = (text: string, meta: { title?: string | null; description?: string | null }): EditResult =>
  applyGraphOp(text, [], { op: 'setMetadata', ...meta });

/** Applies edits (non-overlapping, offsets into `text`) and returns the new text. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.offset - b.offset);
  let out = '';
  let pos = 0;
  for (const e of sorted) {
    if (e.offset < pos) throw new RangeError(`overlapping text edits at offset ${e.offset}`);
    out += text.slice(pos, e.offset) + e.content;
    pos = e.offset + e.length;
  }
  return out + text.slice(pos);
}

/** Whether the editor should lay the graph out: some node has no position. */
export function layoutNeeded(doc: Pick<PipelineDoc, 'nodes'>): boolean {
  return doc.nodes.some((n) => !n.position);
}

/** A node id not yet used in `doc`, made from the type's last segment: `schedule.karras` → `karras`, `karras_2`, … */
export function freshNodeId(doc: Pick<PipelineDoc, 'nodes'>, type: string): string {
  let base = type.slice(type.lastIndexOf('.') + 1).replace(/[^A-Za-z0-9_-]/g, '_');
  if (!/^[A-Za-z_]/.test(base)) base = `n_${base}`;
  const used = new Set(doc.nodes.map((n) => n.id));
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}_${i}`)) return `${base}_${i}`;
}

/**
 * Reads the pipeline from text without schema validation (browser-safe; for the webview and for edits):
 * malformed entries are skipped. A reason instead when the text is not a JSON object.
 */
export function readPipelineLenient(text: string): { doc: PipelineDoc } | { reason: string } {
  const t = readText(text);
  return 'reason' in t ? { reason: t.reason } : { doc: t.doc };
}

// ---------------------------------------------------------------------------------------------------------------
// The text as a tree plus the lenient document.

interface NodeEntry {
  readonly node: PipelineNode;
  /** The node's object in the tree. */
  readonly tree: JsonNode;
  readonly index: number;
}
interface EdgeEntry {
  readonly edge: PipelineEdge;
  readonly tree: JsonNode;
  readonly index: number;
}
interface TextDoc {
  readonly text: string;
  readonly root: JsonNode;
  readonly doc: PipelineDoc;
  readonly nodes: NodeEntry[];
  readonly edges: EdgeEntry[];
  readonly nodesArray?: JsonNode;
  readonly edgesArray?: JsonNode;
  readonly eol: string;
  readonly unit: string;
}

function readText(text: string): TextDoc | { ok: false; code: ErrorCode; reason: string } {
  const errors: ParseError[] = [];
  const root = parseTree(text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text, errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length || !root) {
    const e = errors[0];
    const line = e ? text.slice(0, e.offset).split('\n').length : 1;
    return { ok: false, code: 'E_JSON', reason: `the file is not valid JSON (${e ? printParseErrorCode(e.error) : 'empty'} at line ${line}); fix it in the text editor first` };
  }
  if (root.type !== 'object') return { ok: false, code: 'E_FORMAT', reason: 'the file is not a JSON object; fix it in the text editor first' };
  const nodesArray = propValue(root, 'nodes');
  const edgesArray = propValue(root, 'edges');
  if (nodesArray && nodesArray.type !== 'array') return { ok: false, code: 'E_FORMAT', reason: '"nodes" is not an array; fix it in the text editor first' };
  if (edgesArray && edgesArray.type !== 'array') return { ok: false, code: 'E_FORMAT', reason: '"edges" is not an array; fix it in the text editor first' };
  const nodes: NodeEntry[] = [];
  (nodesArray?.children ?? []).forEach((tree, index) => {
    const v = getNodeValue(tree) as Record<string, unknown>;
    if (!v || typeof v !== 'object' || typeof v.id !== 'string' || typeof v.type !== 'string') return;
    const pos = v.position as { x?: unknown; y?: unknown } | undefined;
    const position = pos && typeof pos.x === 'number' && typeof pos.y === 'number' ? { x: pos.x, y: pos.y } : undefined;
    const params = v.params && typeof v.params === 'object' && !Array.isArray(v.params) ? (v.params as Record<string, ParamValue>) : {};
    nodes.push({ node: { id: v.id, type: v.type, params, ...(position ? { position } : {}) }, tree, index });
  });
  const edges: EdgeEntry[] = [];
  (edgesArray?.children ?? []).forEach((tree, index) => {
    const v = getNodeValue(tree) as Record<string, unknown>;
    if (!v || typeof v !== 'object' || typeof v.from !== 'string' || typeof v.to !== 'string') return;
    edges.push({ edge: { from: v.from, to: v.to }, tree, index });
  });
  const value = getNodeValue(root) as Record<string, unknown>;
  const metadata = value.metadata && typeof value.metadata === 'object' && !Array.isArray(value.metadata) ? (value.metadata as Record<string, unknown>) : {};
  const doc: PipelineDoc = {
    dpipe: typeof value.dpipe === 'number' ? value.dpipe : 0,
    metadata,
    nodes: nodes.map((n) => n.node),
    edges: edges.map((e) => e.edge),
  };
  return { text, root, doc, nodes, edges, nodesArray, edgesArray, eol: text.includes('\r\n') ? '\r\n' : '\n', unit: indentUnit(text, root) };
}

function propValue(obj: JsonNode | undefined, key: string): JsonNode | undefined {
  return propNode(obj, key)?.children?.[1];
}

function propNode(obj: JsonNode | undefined, key: string): JsonNode | undefined {
  if (obj?.type !== 'object') return undefined;
  return obj.children?.find((p) => p.children?.[0]?.value === key);
}

/** One level of indentation as the file uses it (default two spaces). */
function indentUnit(text: string, root: JsonNode): string {
  const first = root.children?.[0];
  if (first) {
    const ind = lineIndent(text, first.offset);
    const rootInd = lineIndent(text, root.offset);
    if (ind.length > rootInd.length && ind.startsWith(rootInd) && isLineStart(text, first.offset)) return ind.slice(rootInd.length);
  }
  return '  ';
}

/** The whitespace that starts the line holding `offset`. */
function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start, offset))?.[0] ?? '';
}

function isLineStart(text: string, offset: number): boolean {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*$/.test(text.slice(start, offset));
}

/** Whether an object/array's contents start on a new line. */
function isMultiline(text: string, container: JsonNode): boolean {
  const first = container.children?.[0];
  return first ? text.slice(container.offset, first.offset).includes('\n') : false;
}

const end = (n: JsonNode): number => n.offset + n.length;

// ---------------------------------------------------------------------------------------------------------------
// Text primitives.

function replaceValue(n: JsonNode, content: string): TextEdit {
  return { offset: n.offset, length: n.length, content };
}

/**
 * Inserts `"key": value` into an object. `before` lists the keys the new one must precede (the first present one
 * wins); otherwise it goes last. `valueFor(indent, column)` renders the value for the line it lands on.
 */
function insertProperty(
  t: TextDoc,
  obj: JsonNode,
  key: string,
  valueFor: (indent: string, column: number) => string,
  opt: { before?: readonly string[]; emptyStyle: 'inline' | 'block' },
): TextEdit {
  const props = obj.children ?? [];
  const keyText = `${JSON.stringify(key)}: `;
  if (!props.length) {
    if (opt.emptyStyle === 'inline') return replaceValue(obj, `{ ${keyText}${valueFor(lineIndent(t.text, obj.offset), obj.offset + 2 + keyText.length)} }`);
    const base = lineIndent(t.text, obj.offset);
    const inner = base + t.unit;
    return replaceValue(obj, `{${t.eol}${inner}${keyText}${valueFor(inner, inner.length + keyText.length)}${t.eol}${base}}`);
  }
  const beforeProp = opt.before ? props.find((p) => opt.before?.includes(p.children?.[0]?.value as string)) : undefined;
  if (beforeProp) {
    const sep = whitespaceBefore(t.text, beforeProp.offset);
    const indent = isMultiline(t.text, obj) ? lineIndent(t.text, beforeProp.offset) : lineIndent(t.text, obj.offset);
    return { offset: beforeProp.offset, length: 0, content: `${keyText}${valueFor(indent, columnOf(t.text, beforeProp.offset) + keyText.length)},${sep}` };
  }
  const last = props[props.length - 1];
  const sep = whitespaceBefore(t.text, last.offset);
  const multi = isMultiline(t.text, obj);
  const indent = multi ? lineIndent(t.text, last.offset) : lineIndent(t.text, obj.offset);
  const column = multi ? indent.length : columnOf(t.text, end(last)) + 2;
  return { offset: end(last), length: 0, content: `,${sep}${keyText}${valueFor(indent, column + keyText.length)}` };
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** The run of whitespace just before `offset` (what separates an item from the `{`, `[` or `,` before it). */
function whitespaceBefore(text: string, offset: number): string {
  let i = offset;
  while (i > 0 && /\s/.test(text[i - 1])) i--;
  return text.slice(i, offset);
}

/** Removes a property (a `property` node), with its comma. */
function removeProperty(t: TextDoc, prop: JsonNode): TextEdit {
  const obj = prop.parent as JsonNode;
  const props = obj.children ?? [];
  const i = props.indexOf(prop);
  if (props.length === 1) return replaceValue(obj, '{}');
  if (i < props.length - 1) return { offset: prop.offset, length: props[i + 1].offset - prop.offset, content: '' };
  return { offset: end(props[i - 1]), length: end(prop) - end(props[i - 1]), content: '' };
}

/** Removes array elements by index; contiguous runs become one edit each. */
function removeArrayElements(arr: JsonNode, indices: ReadonlySet<number>): TextEdit[] {
  const items = arr.children ?? [];
  if (!indices.size) return [];
  if (items.every((_, i) => indices.has(i))) return [replaceValue(arr, '[]')];
  const edits: TextEdit[] = [];
  let i = 0;
  while (i < items.length) {
    if (!indices.has(i)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < items.length && indices.has(j + 1)) j++;
    if (j + 1 < items.length) edits.push({ offset: items[i].offset, length: items[j + 1].offset - items[i].offset, content: '' });
    else edits.push({ offset: end(items[i - 1]), length: end(items[j]) - end(items[i - 1]), content: '' });
    i = j + 1;
  }
  return edits;
}

/** Appends an element to an array, on its own line when the array is multi-line (or empty). */
function appendArrayElement(t: TextDoc, arr: JsonNode, elementFor: (indent: string) => string): TextEdit {
  const items = arr.children ?? [];
  if (!items.length) {
    const base = lineIndent(t.text, arr.offset);
    const inner = base + t.unit;
    return replaceValue(arr, `[${t.eol}${inner}${elementFor(inner)}${t.eol}${base}]`);
  }
  const last = items[items.length - 1];
  if (isMultiline(t.text, arr)) {
    const indent = lineIndent(t.text, last.offset);
    return { offset: end(last), length: 0, content: `,${t.eol}${indent}${elementFor(indent)}` };
  }
  return { offset: end(last), length: 0, content: `, ${elementFor(lineIndent(t.text, arr.offset))}` };
}

/** Adds a top-level array property (`nodes` or `edges`) holding one element, in the canonical key position. */
function addTopArray(t: TextDoc, key: 'nodes' | 'edges', elementFor: (indent: string) => string): TextEdit {
  const before = key === 'nodes' ? ['edges'] : [];
  return insertProperty(t, t.root, key, (indent) => {
    const inner = indent + t.unit;
    return `[${t.eol}${inner}${elementFor(inner)}${t.eol}${indent}]`;
  }, { before, emptyStyle: 'block' });
}

// ---------------------------------------------------------------------------------------------------------------
// Operations.

type Refusal = { ok: false; code: ErrorCode; reason: string };
const refuse = (code: ErrorCode, reason: string): Refusal => ({ ok: false, code, reason });
const done = (edits: TextEdit[], nodeId?: string): EditResult => ({ ok: true, edits: [...edits].sort((a, b) => a.offset - b.offset), ...(nodeId !== undefined ? { nodeId } : {}) });

function findNode(t: TextDoc, id: string): NodeEntry | undefined {
  return t.nodes.find((n) => n.node.id === id);
}

function unknownNode(t: TextDoc, id: string): Refusal {
  const ids = t.doc.nodes.map((n) => n.id);
  const near = closestNames(id, ids);
  return refuse('E_NODE_ID', `there is no node "${id}"${near.length ? ` (did you mean ${near.map((n) => `"${n}"`).join(' or ')}?)` : ''}`);
}

function checkNewId(t: TextDoc, id: string): Refusal | undefined {
  if (!NODE_ID_PATTERN.test(id)) return refuse('E_NODE_ID', `node id "${id}" is not allowed: an id starts with a letter or _ and contains only letters, digits, _ and -`);
  if (id.length > MAX_NODE_ID_LENGTH) return refuse('E_NODE_ID', `node id "${id.slice(0, 20)}…" has ${id.length} characters; an id has at most ${MAX_NODE_ID_LENGTH}`);
  if (findNode(t, id)) return refuse('E_NODE_ID', `node id "${id}" is already used`);
  return undefined;
}

function addNodeOp(t: TextDoc, reg: BlockRegistry, op: Extract<GraphOp, { op: 'addNode' }>): EditResult {
  const info = reg.get(op.type);
  if (!info) {
    const near = closestNames(op.type, reg.all.map((x) => x.type));
    return refuse('E_NODE_TYPE', `unknown node type "${op.type}"${near.length ? ` (did you mean ${near.map((n) => `"${n}"`).join(' or ')}?)` : ''}`);
  }
  const id = op.id ?? freshNodeId(t.doc, op.type);
  const bad = checkNewId(t, id);
  if (bad) return bad;
  const params: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(op.params ?? {})) {
    const spec = findParam(info, name);
    if (!spec) return refuse('E_PARAM', `${info.type} has no parameter "${name}"; allowed: ${info.params.map((p) => p.name).join(', ') || 'none'}`);
    const why = checkParamValue(spec, value);
    if (why) return refuse('E_PARAM_VALUE', `parameter "${name}" ${why}`);
    params[name] = value;
  }
  if (op.position && !(Number.isFinite(op.position.x) && Number.isFinite(op.position.y))) return refuse('E_FORMAT', 'a position needs finite x and y');
  const node: PipelineNode = { id, type: op.type, params, ...(op.position ? { position: op.position } : {}) };
  const render = (indent: string): string => nodeText(node, reg, indent, t.unit);
  const edit = t.nodesArray ? appendArrayElement(t, t.nodesArray, render) : addTopArray(t, 'nodes', render);
  return done([edit], id);
}

function removeNodesOp(t: TextDoc, ids: readonly string[]): EditResult {
  const gone = new Set(ids);
  const missing = ids.filter((id) => !findNode(t, id));
  if (missing.length === ids.length) return ids.length ? unknownNode(t, ids[0]) : done([]);
  const nodeIdx = new Set(t.nodes.filter((n) => gone.has(n.node.id)).map((n) => n.index));
  const edgeIdx = new Set(
    t.edges.filter((e) => [e.edge.from, e.edge.to].some((s) => {
      const ep = parseEndpoint(s);
      return ep !== undefined && gone.has(ep.node);
    })).map((e) => e.index),
  );
  const edits = [...removeArrayElements(t.nodesArray as JsonNode, nodeIdx)];
  if (t.edgesArray) edits.push(...removeArrayElements(t.edgesArray, edgeIdx));
  return done(edits);
}

function connectOp(t: TextDoc, reg: BlockRegistry, op: Extract<GraphOp, { op: 'connect' }>, opts: EditOptions): EditResult {
  const check = canConnect(reg, t.doc, op.from, op.to, { replace: op.replace, rules: opts.rules });
  if (!check.ok) return refuse(check.code, check.reason);
  const from = formatEndpoint(parseEndpoint(op.from) as NonNullable<ReturnType<typeof parseEndpoint>>);
  const to = formatEndpoint(parseEndpoint(op.to) as NonNullable<ReturnType<typeof parseEndpoint>>);
  const existing = t.edges.filter((e) => e.edge.to === to);
  if (existing.length) {
    // Replace in place: rewrite the first edge's "from", drop any others.
    const first = existing[0];
    const fromValue = propValue(first.tree, 'from') as JsonNode;
    const edits: TextEdit[] = [replaceValue(fromValue, JSON.stringify(from))];
    if (existing.length > 1) edits.push(...removeArrayElements(t.edgesArray as JsonNode, new Set(existing.slice(1).map((e) => e.index))));
    return done(edits);
  }
  const render = (): string => `{ "from": ${JSON.stringify(from)}, "to": ${JSON.stringify(to)} }`;
  return done([t.edgesArray ? appendArrayElement(t, t.edgesArray, render) : addTopArray(t, 'edges', render)]);
}

function disconnectOp(t: TextDoc, op: Extract<GraphOp, { op: 'disconnect' }>): EditResult {
  const hits = t.edges.filter((e) => e.edge.to === op.to && (op.from === undefined || e.edge.from === op.from));
  if (!hits.length) return refuse('E_EDGE', op.from !== undefined ? `there is no edge ${op.from} → ${op.to}` : `no edge goes into ${op.to}`);
  return done(removeArrayElements(t.edgesArray as JsonNode, new Set(hits.map((e) => e.index))));
}

function setParamOp(t: TextDoc, reg: BlockRegistry, op: Extract<GraphOp, { op: 'setParam' }>): EditResult {
  const entry = findNode(t, op.node);
  if (!entry) return unknownNode(t, op.node);
  const info = reg.get(entry.node.type);
  if (!info) return refuse('E_NODE_TYPE', `node "${op.node}" has unknown type "${entry.node.type}"; its parameters cannot be checked`);
  const spec = findParam(info, op.param);
  if (!spec) return refuse('E_PARAM', `${info.type} has no parameter "${op.param}"; allowed: ${info.params.map((p) => p.name).join(', ') || 'none'}`);
  const paramsObj = propValue(entry.tree, 'params');
  const current = paramsObj?.type === 'object' ? propNode(paramsObj, op.param) : undefined;
  if (op.value === undefined) return done(current ? [removeProperty(t, current)] : []);
  const why = checkParamValue(spec, op.value);
  if (why) return refuse('E_PARAM_VALUE', `parameter "${op.param}" of node "${op.node}" ${why}`);
  const value = op.value;
  if (current) {
    const valueNode = current.children?.[1] as JsonNode;
    if (JSON.stringify(getNodeValue(valueNode)) === JSON.stringify(value)) return done([]);
    return done([replaceValue(valueNode, valueText(value, lineIndent(t.text, valueNode.offset), columnOf(t.text, valueNode.offset)))]);
  }
  const render = (indent: string, column: number): string => valueText(value, indent, column);
  if (paramsObj?.type === 'object') {
    // Keep registry order: insert before the first present param that the registry lists after this one.
    const names = Object.keys(entry.node.params);
    const order = orderedParamNames(info.type, [...names, op.param], reg);
    const later = order.slice(order.indexOf(op.param) + 1);
    return done([insertProperty(t, paramsObj, op.param, render, { before: later, emptyStyle: 'inline' })]);
  }
  if (paramsObj) return refuse('E_FORMAT', `node "${op.node}": "params" is not an object; fix it in the text editor first`);
  return done([insertProperty(t, entry.tree, 'params', (indent, column) => `{ ${JSON.stringify(op.param)}: ${render(indent, column + 4 + op.param.length)} }`, { before: ['position'], emptyStyle: 'block' })]);
}

function moveNodesOp(t: TextDoc, moves: readonly { id: string; x: number; y: number }[]): EditResult {
  const edits: TextEdit[] = [];
  const seen = new Set<string>();
  for (const m of moves) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    const entry = findNode(t, m.id);
    if (!entry) return unknownNode(t, m.id);
    if (!Number.isFinite(m.x) || !Number.isFinite(m.y)) return refuse('E_FORMAT', `node "${m.id}": a position needs finite x and y`);
    const x = Math.round(m.x) + 0;
    const y = Math.round(m.y) + 0;
    const pos = propValue(entry.tree, 'position');
    const xNode = propValue(pos, 'x');
    const yNode = propValue(pos, 'y');
    if (pos && xNode?.type === 'number' && yNode?.type === 'number' && pos.children?.length === 2) {
      if (xNode.value !== x) edits.push(replaceValue(xNode, String(x)));
      if (yNode.value !== y) edits.push(replaceValue(yNode, String(y)));
    } else if (pos) {
      edits.push(replaceValue(pos, positionText({ x, y })));
    } else {
      edits.push(insertProperty(t, entry.tree, 'position', () => positionText({ x, y }), { emptyStyle: 'block' }));
    }
  }
  return done(edits);
}

function renameNodeOp(t: TextDoc, from: string, to: string): EditResult {
  const entry = findNode(t, from);
  if (!entry) return unknownNode(t, from);
  if (from === to) return done([], to);
  const bad = checkNewId(t, to);
  if (bad) return bad;
  const edits: TextEdit[] = [replaceValue(propValue(entry.tree, 'id') as JsonNode, JSON.stringify(to))];
  for (const e of t.edges) {
    for (const key of ['from', 'to'] as const) {
      const ep = parseEndpoint(e.edge[key]);
      if (ep?.node === from) edits.push(replaceValue(propValue(e.tree, key) as JsonNode, JSON.stringify(`${to}.${ep.port}`)));
    }
  }
  return done(edits, to);
}

function setMetadataOp(t: TextDoc, op: Extract<GraphOp, { op: 'setMetadata' }>): EditResult {
  const changes = (['title', 'description'] as const).filter((k) => op[k] !== undefined);
  const meta = propValue(t.root, 'metadata');
  if (meta && meta.type !== 'object') return refuse('E_FORMAT', '"metadata" is not an object; fix it in the text editor first');
  if (!meta) {
    const sets = changes.filter((k) => op[k] !== null);
    if (!sets.length) return done([]);
    const edit = insertProperty(t, t.root, 'metadata', (indent) => {
      const inner = indent + t.unit;
      return `{${t.eol}${sets.map((k) => `${inner}${JSON.stringify(k)}: ${JSON.stringify(op[k])}`).join(`,${t.eol}`)}${t.eol}${indent}}`;
    }, { before: ['nodes', 'edges'], emptyStyle: 'block' });
    return done([edit]);
  }
  // Several changes in one object: compute them one after the other on the text, then diff into one edit.
  let text = t.text;
  for (const k of changes) {
    const cur = readText(text) as TextDoc;
    const m = propValue(cur.root, 'metadata') as JsonNode;
    const prop = propNode(m, k);
    const v = op[k];
    let e: TextEdit | undefined;
    if (v === null) e = prop ? removeProperty(cur, prop) : undefined;
    else if (prop) e = replaceValue(prop.children?.[1] as JsonNode, JSON.stringify(v));
    else e = insertProperty(cur, m, k, () => JSON.stringify(v), { before: k === 'title' ? ['description'] : undefined, emptyStyle: 'block' });
    if (e) text = applyTextEdits(text, [e]);
  }
  return done(text === t.text ? [] : [diffEdit(t.text, text)]);
}

/** One edit turning `a` into `b` (common prefix and suffix kept). */
function diffEdit(a: string, b: string): TextEdit {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return { offset: p, length: a.length - p - s, content: b.slice(p, b.length - s) };
}

// ---------------------------------------------------------------------------------------------------------------
// Validation of ops arriving as messages.

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isParamValue = (v: unknown): v is ParamValue => isStr(v) || isNum(v) || typeof v === 'boolean' || (Array.isArray(v) && v.every(isNum));
const isPos = (v: unknown): v is NodePosition => !!v && typeof v === 'object' && isNum((v as NodePosition).x) && isNum((v as NodePosition).y);

/** Validates an untrusted value as a `GraphOp`; returns the op or the reason it is not one. */
export function parseGraphOp(v: unknown): { ok: true; op: GraphOp } | { ok: false; reason: string } {
  const bad = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
  if (!v || typeof v !== 'object' || Array.isArray(v)) return bad('a graph op is an object with an "op" field');
  const o = v as Record<string, unknown>;
  const allowedKeys: Record<GraphOpName, readonly string[]> = {
    addNode: ['type', 'id', 'params', 'position'],
    removeNodes: ['ids'],
    connect: ['from', 'to', 'replace'],
    disconnect: ['from', 'to'],
    setParam: ['node', 'param', 'value'],
    moveNodes: ['moves'],
    renameNode: ['from', 'to'],
    setMetadata: ['title', 'description'],
  };
  if (!isStr(o.op) || !(o.op in allowedKeys)) return bad(`unknown op ${JSON.stringify(o.op)}; ops: ${Object.keys(allowedKeys).join(', ')}`);
  const name = o.op as GraphOpName;
  const extra = Object.keys(o).filter((k) => k !== 'op' && !allowedKeys[name].includes(k));
  if (extra.length) return bad(`${name}: unknown field ${extra.join(', ')}; allowed: ${allowedKeys[name].join(', ')}`);
  const ok = (op: GraphOp): { ok: true; op: GraphOp } => ({ ok: true, op });
  switch (name) {
    case 'addNode':
      if (!isStr(o.type)) return bad('addNode: "type" must be a string');
      if (o.id !== undefined && !isStr(o.id)) return bad('addNode: "id" must be a string');
      if (o.params !== undefined && (!o.params || typeof o.params !== 'object' || Array.isArray(o.params) || !Object.values(o.params).every(isParamValue))) return bad('addNode: "params" must map names to numbers, booleans, strings or number lists');
      if (o.position !== undefined && !isPos(o.position)) return bad('addNode: "position" must be { x, y } with finite numbers');
      return ok(o as GraphOp);
    case 'removeNodes':
      return Array.isArray(o.ids) && o.ids.every(isStr) ? ok(o as GraphOp) : bad('removeNodes: "ids" must be a list of strings');
    case 'connect':
      if (!isStr(o.from) || !isStr(o.to)) return bad('connect: "from" and "to" must be strings "nodeId.port"');
      return o.replace === undefined || typeof o.replace === 'boolean' ? ok(o as GraphOp) : bad('connect: "replace" must be a boolean');
    case 'disconnect':
      return isStr(o.to) && (o.from === undefined || isStr(o.from)) ? ok(o as GraphOp) : bad('disconnect: "to" (and "from" if given) must be strings "nodeId.port"');
    case 'setParam':
      if (!isStr(o.node) || !isStr(o.param)) return bad('setParam: "node" and "param" must be strings');
      return o.value === undefined || isParamValue(o.value) ? ok(o as GraphOp) : bad('setParam: "value" must be a number, boolean, string or list of numbers');
    case 'moveNodes':
      return Array.isArray(o.moves) && o.moves.every((m) => isPos(m) && isStr((m as { id?: unknown }).id)) ? ok(o as GraphOp) : bad('moveNodes: "moves" must be a list of { id, x, y }');
    case 'renameNode':
      return isStr(o.from) && isStr(o.to) ? ok(o as GraphOp) : bad('renameNode: "from" and "to" must be strings');
    case 'setMetadata':
      for (const k of ['title', 'description']) if (o[k] !== undefined && o[k] !== null && !isStr(o[k])) return bad(`setMetadata: "${k}" must be a string or null`);
      return ok(o as GraphOp);
  }
}
