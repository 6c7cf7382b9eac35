/**
 * Stable, diff-friendly .dpipe text. Rules (so saving twice gives the same bytes, and a change touches few lines):
 * - keys in a fixed order: `$schema` (if present), `dpipe`, `metadata`, `nodes`, `edges`; metadata: `title`,
 *   `description`, then other keys sorted; node: `id`, `type`, `params`, `position`;
 * - params in registry order, unknown ones after them, sorted by name;
 * - positions rounded to integers;
 * - 2-space indent, `\n` line ends, a trailing newline;
 * - each node on its own lines; an edge, a position, a params object or a short list on one line when it fits in
 *   `LINE_WIDTH` columns (otherwise one entry per line).
 */
import type { ParamValue } from '../registry/types';
import { asRegistry, type BlockRegistry } from './registry';
import type { PipelineDoc, PipelineNode, RegistryLike } from './types';

export const LINE_WIDTH = 100;
const IND = '  ';

export interface SerializeOptions {
  /** Gives the param order; without it, params are sorted by name. */
  readonly registry?: RegistryLike | BlockRegistry;
}

export function serializePipeline(doc: PipelineDoc, opts: SerializeOptions = {}): string {
  const registry = opts.registry ? asRegistry(opts.registry) : undefined;
  const lines: string[] = [];
  const top: [string, string][] = [];
  if (doc.$schema !== undefined) top.push(['$schema', JSON.stringify(doc.$schema)]);
  top.push(['dpipe', num(doc.dpipe)]);
  top.push(['metadata', metadataText(doc.metadata, IND)]);
  top.push(['nodes', listText(doc.nodes.map((n) => nodeText(n, registry, IND + IND)), IND)]);
  top.push(['edges', listText(doc.edges.map((e) => value({ from: e.from, to: e.to }, IND + IND)), IND)]);
  lines.push('{');
  top.forEach(([k, v], i) => lines.push(`${IND}${JSON.stringify(k)}: ${v}${i < top.length - 1 ? ',' : ''}`));
  lines.push('}');
  return lines.join('\n') + '\n';
}

/**
 * The text of one node whose first line starts at `indent` (the first line itself is not indented), as
 * `serializePipeline` writes it; `unit` is one level of indentation.
 */
export function nodeText(n: PipelineNode, registry: BlockRegistry | undefined, indent: string, unit: string = IND): string {
  const inner = indent + unit;
  const entries: [string, string][] = [
    ['id', JSON.stringify(n.id)],
    ['type', JSON.stringify(n.type)],
    ['params', paramsText(n, registry, inner)],
  ];
  if (n.position) entries.push(['position', positionText(n.position)]);
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${v}`).join(',\n')}\n${indent}}`;
}

/** A value (param, metadata) as the serializer writes it, for a line that already has `startColumn` characters. */
export function valueText(v: unknown, indent: string, startColumn: number = indent.length): string {
  return value(v, indent, startColumn);
}

export function positionText(p: { x: number; y: number }): string {
  return `{ "x": ${num(Math.round(p.x))}, "y": ${num(Math.round(p.y))} }`;
}

/** Param names in canonical order: the registry's order, then unknown names sorted. */
export function orderedParamNames(type: string, names: readonly string[], registry: BlockRegistry | undefined): string[] {
  const specOrder = registry?.get(type)?.params.map((p) => p.name) ?? [];
  const known = specOrder.filter((n) => names.includes(n));
  const rest = names.filter((n) => !specOrder.includes(n)).sort(compareStrings);
  return [...known, ...rest];
}

function paramsText(n: PipelineNode, registry: BlockRegistry | undefined, indent: string): string {
  const names = orderedParamNames(n.type, Object.keys(n.params), registry);
  const ordered: Record<string, ParamValue> = {};
  for (const k of names) ordered[k] = n.params[k];
  // `"params": ` precedes the value on its line.
  return value(ordered, indent, indent.length + '"params": '.length);
}

function metadataText(meta: Readonly<Record<string, unknown>>, indent: string): string {
  const keys = Object.keys(meta).filter((k) => meta[k] !== undefined);
  const first = ['title', 'description'].filter((k) => keys.includes(k));
  const rest = keys.filter((k) => !first.includes(k)).sort(compareStrings);
  const order = [...first, ...rest];
  if (!order.length) return '{}';
  const inner = indent + IND;
  return `{\n${order.map((k) => `${inner}${JSON.stringify(k)}: ${value(meta[k], inner, inner.length + JSON.stringify(k).length + 2)}`).join(',\n')}\n${indent}}`;
}

function listText(items: string[], indent: string): string {
  if (!items.length) return '[]';
  return `[\n${items.map((s) => indent + IND + s).join(',\n')}\n${indent}]`;
}

/**
 * Any JSON value at `indent`; objects and arrays go on one line when they hold only primitives (or short lists)
 * and fit in `LINE_WIDTH` counting `startColumn` characters already on the line.
 */
function value(v: unknown, indent: string, startColumn = indent.length): string {
  if (v === null || typeof v !== 'object') return primitive(v);
  const isArr = Array.isArray(v);
  const entries: [string | undefined, unknown][] = isArr
    ? (v as unknown[]).map((x) => [undefined, x])
    : Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => [k, (v as Record<string, unknown>)[k]]);
  if (!entries.length) return isArr ? '[]' : '{}';
  const inline = tryInline(entries, isArr);
  if (inline !== undefined && startColumn + inline.length + 1 <= LINE_WIDTH) return inline;
  const inner = indent + IND;
  if (isArr && (v as unknown[]).every((x) => typeof x === 'number')) return wrappedNumbers(v as number[], indent);
  const body = entries.map(([k, x]) => {
    const prefix = k === undefined ? '' : `${JSON.stringify(k)}: `;
    return `${inner}${prefix}${value(x, inner, inner.length + prefix.length)}`;
  });
  return `${isArr ? '[' : '{'}\n${body.join(',\n')}\n${indent}${isArr ? ']' : '}'}`;
}

/**
 * A long list of numbers (σ lists, labels, fitted ratios) filled into lines of at most `LINE_WIDTH` columns rather
 * than one number per line, so a 100-entry list stays readable and a change to one value is a one-line diff.
 */
function wrappedNumbers(xs: readonly number[], indent: string): string {
  const inner = indent + IND;
  const lines: string[] = [];
  let line = '';
  for (let i = 0; i < xs.length; i++) {
    const item = num(xs[i]) + (i < xs.length - 1 ? ',' : '');
    if (line && inner.length + line.length + 1 + item.length > LINE_WIDTH) {
      lines.push(line);
      line = item;
    } else line = line ? `${line} ${item}` : item;
  }
  lines.push(line);
  return `[\n${lines.map((l) => inner + l).join('\n')}\n${indent}]`;
}

function tryInline(entries: [string | undefined, unknown][], isArr: boolean): string | undefined {
  const parts: string[] = [];
  for (const [k, x] of entries) {
    let s: string;
    if (x === null || typeof x !== 'object') s = primitive(x);
    else if (Array.isArray(x) && x.every((y) => y === null || typeof y !== 'object')) s = x.length ? `[${x.map(primitive).join(', ')}]` : '[]';
    else if (!Array.isArray(x) && Object.keys(x as object).length === 0) s = '{}';
    else return undefined;
    parts.push(k === undefined ? s : `${JSON.stringify(k)}: ${s}`);
  }
  return isArr ? `[${parts.join(', ')}]` : `{ ${parts.join(', ')} }`;
}

function primitive(v: unknown): string {
  if (typeof v === 'number') return num(v);
  return JSON.stringify(v) ?? 'null';
}

function num(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  return Object.is(x, -0) ? '0' : String(x);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
