/**
 * The plan of a grid: its axes, read from `--axis` arguments and checked against the pipeline, and its cells, one
 * per combination of axis values, each with the pipeline it runs.
 *
 * An axis either swaps the block type of a node (`solver=solver.euler,solver.unipc`: the node keeps its id and its
 * edges; parameters the new type does not have, or does not allow at their value, are dropped and listed in the
 * cell's `dropped`) or sets a parameter (`sched.steps=5,10,20`, values as `--set` reads them). Cells are numbered
 * with the first axis changing fastest: columns of the image grid are the first axis, rows the second, and further
 * axes make sub-grids. Every cell's pipeline is validated like a loaded file before anything runs.
 */
import { DpipeError, type Problem } from '../core/errors';
import { loadPipeline } from '../format/index';
import { checkParamValue, closestNames, findParam } from '../format/registry';
import type { PipelineDoc, PipelineNode } from '../format/types';
import type { NodeTypeInfo, ParamValue } from '../registry/types';
import { coerceParamText, parseSetArg, type ParamOverride } from '../run/overrides';
import { pipelineText } from '../run/runner';
import type { NodeType } from '../registry/node';

/** An axis as the user wrote it. */
export interface AxisArg {
  /** `NODE` (swap the block type) or `NODE.PARAM` (set a parameter). */
  readonly target: string;
  /** The values as written. */
  readonly values: readonly string[];
}

export interface GridAxis {
  /** `NODE` or `NODE.PARAM`, as written. */
  readonly name: string;
  readonly kind: 'type' | 'param';
  readonly node: string;
  /** For `param` axes. */
  readonly param?: string;
  /** Block types (type axes) or typed parameter values (param axes). */
  readonly values: readonly ParamValue[];
  /** Short labels for the image and tables: type ids without their shared family prefix, values as written. */
  readonly labels: readonly string[];
}

export interface GridCell {
  /** Cell number (first axis fastest). */
  readonly index: number;
  /** Index of the value on each axis. */
  readonly coords: readonly number[];
  /** `axis=label` per axis, joined with ", " (for messages). */
  readonly label: string;
  /** The pipeline with the block types of this cell (parameters the new types lack removed). */
  readonly doc: PipelineDoc;
  /** Parameter settings the run applies: the grid's `--set`s, then the cell's parameter axes. */
  readonly set: readonly ParamOverride[];
  /** What the cell could not keep or apply, e.g. `solver.eta=0.5 dropped: solver.euler has no parameter "eta"`. */
  readonly dropped: readonly string[];
}

/** Splits an axis value list at commas outside brackets and quotes: `[1,2],[3,4]` is two values. */
export function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      cur += c;
      if (c === '\\' && i + 1 < text.length) cur += text[++i];
      else if (c === '"') quote = false;
      continue;
    }
    if (c === '"') quote = true;
    else if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur.trim());
  return out;
}

/** Parses `NODE=V,V,…` or `NODE.PARAM=V,V,…`. Errors: E_USAGE. */
export function parseAxisArg(arg: string): AxisArg {
  const m = /^([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)=(.*)$/s.exec(arg.trim());
  if (!m) throw new DpipeError('E_USAGE', `--axis ${arg}: expected NODE=TYPE,TYPE,… (swap a block) or NODE.PARAM=VALUE,VALUE,… (set a parameter), e.g. --axis solver=solver.euler,solver.unipc or --axis sched.steps=5,10,20`);
  const values = splitValues(m[2]);
  if (values.some((v) => v === '')) throw new DpipeError('E_USAGE', `--axis ${arg}: empty value in the list; separate values with single commas`);
  return { target: m[1], values };
}

function commonPrefix(values: readonly string[]): string {
  if (values.length < 2) return values.length === 1 && values[0].includes('.') ? values[0].slice(0, values[0].lastIndexOf('.') + 1) : '';
  const dots = values.map((v) => v.slice(0, v.lastIndexOf('.') + 1));
  return dots.every((d) => d === dots[0]) ? dots[0] : '';
}

function showValue(v: ParamValue): string {
  return Array.isArray(v) ? `[${v.join(',')}]` : String(v);
}

/**
 * Resolves axes against the pipeline: the node exists, a swapped-in type exists and is of the node's category,
 * a parameter exists on the node's type (or, on a node whose type an axis swaps, on at least one of its types),
 * and every value is allowed. Errors: E_AXIS with the allowed names, E_USAGE for a node given on two axes.
 */
export function resolveAxes(doc: PipelineDoc, types: ReadonlyMap<string, NodeTypeInfo>, args: readonly AxisArg[]): GridAxis[] {
  const seen = new Set<string>();
  const typeAxes = new Map<string, readonly string[]>();
  for (const a of args) {
    if (seen.has(a.target)) throw new DpipeError('E_USAGE', `--axis ${a.target} is given twice; give each axis once with all its values`);
    seen.add(a.target);
    if (!a.target.includes('.')) typeAxes.set(a.target, a.values);
  }
  const nodeOf = (id: string, what: string): PipelineNode => {
    const n = doc.nodes.find((x) => x.id === id);
    if (!n) {
      const near = closestNames(id, doc.nodes.map((x) => x.id));
      throw new DpipeError('E_AXIS', `${what}: the pipeline has no node "${id}"${near.length ? ` (did you mean ${near.map((s) => `"${s}"`).join(', ')}?)` : ''}; its nodes are ${doc.nodes.map((x) => x.id).join(', ')}`);
    }
    return n;
  };
  return args.map((a): GridAxis => {
    const what = `--axis ${a.target}`;
    const [nodeId, param] = a.target.split('.');
    const node = nodeOf(nodeId, what);
    const baseInfo = types.get(node.type);
    if (!baseInfo) throw new DpipeError('E_AXIS', `${what}: node "${nodeId}" has the unknown type ${node.type}`);
    if (param === undefined) {
      for (const t of a.values) {
        const info = types.get(t);
        if (!info) {
          const near = closestNames(t, [...types.keys()]);
          throw new DpipeError('E_AXIS', `${what}: unknown block type "${t}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}; \`dpipe blocks\` lists them`);
        }
        if (info.category !== baseInfo.category) {
          const same = [...types.values()].filter((x) => x.category === baseInfo.category).map((x) => x.type);
          throw new DpipeError('E_AXIS', `${what}: ${t} is a ${info.category} block but node "${nodeId}" is a ${baseInfo.category} block (${node.type}); swap it for one of ${same.join(', ')}`);
        }
      }
      if (new Set(a.values).size !== a.values.length) throw new DpipeError('E_AXIS', `${what}: a block type is listed twice`);
      const prefix = commonPrefix(a.values);
      return { name: a.target, kind: 'type', node: nodeId, values: [...a.values], labels: a.values.map((v) => v.slice(prefix.length)) };
    }
    // The parameter's spec on every type the node can have in this grid; the value must fit each type that has it.
    const candidates = (typeAxes.get(nodeId) ?? [node.type]).map((t) => types.get(t)!).filter(Boolean);
    const specs = candidates.map((info) => findParam(info, param)).filter((s) => s !== undefined);
    if (specs.length === 0) {
      const names = [...new Set(candidates.flatMap((c) => c.params.map((p) => p.name)))];
      const near = closestNames(param, names);
      throw new DpipeError('E_AXIS', `${what}: ${candidates.map((c) => c.type).join(' / ')} ha${candidates.length > 1 ? 've' : 's'} no parameter "${param}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}; parameters: ${names.join(', ') || '(none)'}`);
    }
    const values = a.values.map((text) => {
      const typed = coerceParamText(specs[0], text) as ParamValue;
      for (const spec of specs) {
        const why = checkParamValue(spec, typed);
        if (why) throw new DpipeError('E_AXIS', `${what}: value ${text}: ${param} ${why}`);
      }
      return typed;
    });
    if (new Set(values.map((v) => JSON.stringify(v))).size !== values.length) throw new DpipeError('E_AXIS', `${what}: a value is listed twice`);
    return { name: a.target, kind: 'param', node: nodeId, param, values, labels: values.map(showValue) };
  });
}

/** Number of cells: the product of the axis lengths. */
export function cellCount(axes: readonly GridAxis[]): number {
  return axes.reduce((n, a) => n * a.values.length, 1);
}

/** Axis value indices of cell `index` (first axis fastest). */
export function coordsOf(axes: readonly GridAxis[], index: number): number[] {
  const out: number[] = [];
  let r = index;
  for (const a of axes) {
    out.push(r % a.values.length);
    r = Math.floor(r / a.values.length);
  }
  return out;
}

/** `name=label, …` of a cell. */
export function cellLabel(axes: readonly GridAxis[], coords: readonly number[]): string {
  return axes.map((a, i) => `${a.name}=${a.labels[coords[i]]}`).join(', ');
}

/**
 * The cell `index` of a grid: type swaps applied, then the `--set`s and the parameter axes, each dropped (and
 * listed) where the cell's block type lacks the parameter or does not allow its value.
 */
export function planCell(doc: PipelineDoc, types: ReadonlyMap<string, NodeTypeInfo>, axes: readonly GridAxis[], set: readonly ParamOverride[], index: number): GridCell {
  const coords = coordsOf(axes, index);
  const dropped: string[] = [];
  const nodes = doc.nodes.map((n) => ({ ...n, params: { ...n.params } }) as { id: string; type: string; params: Record<string, ParamValue>; position?: PipelineNode['position'] });
  axes.forEach((a, i) => {
    if (a.kind !== 'type') return;
    const node = nodes.find((n) => n.id === a.node)!;
    const type = a.values[coords[i]] as string;
    if (node.type === type) return;
    const info = types.get(type)!;
    for (const [k, v] of Object.entries(node.params)) {
      const spec = findParam(info, k);
      const why = spec ? checkParamValue(spec, v) : `${type} has no parameter "${k}"`;
      if (why) {
        dropped.push(`${node.id}.${k}=${showValue(v)} dropped: ${spec ? `${type}: ${k} ${why}` : why}`);
        delete node.params[k];
      }
    }
    node.type = type;
  });
  const overrides: ParamOverride[] = [];
  const add = (o: ParamOverride, from: string) => {
    const node = nodes.find((n) => n.id === o.node);
    const info = node && types.get(node.type);
    const spec = info && findParam(info, o.param);
    if (node && info && !spec && axes.some((a) => a.kind === 'type' && a.node === o.node)) {
      dropped.push(`${from} not applied: ${node.type} has no parameter "${o.param}"`);
      return;
    }
    if (spec && typeof o.value === 'string' && axes.some((a) => a.kind === 'type' && a.node === o.node)) {
      const why = checkParamValue(spec, coerceParamText(spec, o.value));
      if (why) {
        dropped.push(`${from} not applied: ${node!.type}: ${o.param} ${why}`);
        return;
      }
    }
    overrides.push(o);
  };
  for (const o of set) add(o, `--set ${o.node}.${o.param}=${typeof o.value === 'string' ? o.value : showValue(o.value)}`);
  axes.forEach((a, i) => {
    if (a.kind !== 'param') return;
    const value = a.values[coords[i]];
    add({ node: a.node, param: a.param!, value }, `${a.name}=${a.labels[coords[i]]}`);
  });
  return { index, coords, label: cellLabel(axes, coords), doc: { ...doc, nodes }, set: overrides, dropped };
}

/** Parses the grid's `--set` arguments. */
export function parseSets(sets: readonly string[]): ParamOverride[] {
  return sets.map(parseSetArg);
}

/**
 * Validates a cell's pipeline as the loader validates a file (ports, edges, composition rules, files), with the
 * overrides applied. Errors: the loader's, wrapped in one DpipeError that names the cell.
 */
export function validateCell(cell: GridCell, effective: PipelineDoc, types: ReadonlyMap<string, NodeType>, file: string, baseDir: string): void {
  const r = loadPipeline(pipelineText(effective, types), { file: `${file} [cell ${cell.index}: ${cell.label}]`, baseDir, registry: types });
  const errors: Problem[] = r.problems.filter((p) => p.severity === 'error');
  if (errors.length) {
    throw new DpipeError(errors[0].code, `grid cell ${cell.index} (${cell.label}) is not a valid pipeline: ${errors.map((e) => e.message).join('; ')}`, errors);
  }
}

/** `A-B` or `A`: the seeds of every cell, run as one batch (item b gets seed A + b). Errors: E_USAGE. */
export function parseSeeds(text: string): { first: number; count: number } {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  const a = m ? Number(m[1]) : NaN;
  const b = m?.[2] !== undefined ? Number(m[2]) : a;
  if (!m || !Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b < a || b - a >= 4096) {
    throw new DpipeError('E_USAGE', `--seeds must be a range A-B (e.g. 0-3) or one seed A, with A ≤ B and at most 4096 seeds; got "${text}". Seeds are the batch of each cell: item b gets seed A + b, as in dpipe run --seed A --batch ${'N'}, so they are consecutive.`);
  }
  return { first: a, count: b - a + 1 };
}
