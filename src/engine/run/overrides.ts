/**
 * Run-time overrides of a pipeline's parameters: `--set NODE.PARAM=VALUE`, `--seed N`, `--batch N`. They are
 * applied to a copy of the document, so the pipeline recorded in the run record and in every PNG is the one
 * that ran. Values are read and checked by the parameter codec (`registry/params.ts`), as the loader and the
 * editor read them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../core/errors';
import { closestNames, findParam } from '../format/registry';
import { checkParamValue, decodeParamText, parseParamText, showParamValue, type ParsedParam } from '../registry/params';
import type { PipelineDoc, PipelineNode } from '../format/types';
import type { NodeTypeInfo, ParamSpec, ParamValue } from '../registry/types';

/** One `--set`: the node, the parameter and the value as text (or already typed). */
export interface ParamOverride {
  readonly node: string;
  readonly param: string;
  readonly value: string | ParamValue;
}

export interface Overrides {
  /** `NODE.PARAM=VALUE` strings or parsed overrides, applied in order. */
  readonly set?: readonly (string | ParamOverride)[];
  /** Replaces the value of every `seed` parameter (the seeded noise blocks). */
  readonly seed?: number;
  /** Replaces every integer `batch` parameter (latent blocks). */
  readonly batch?: number;
}

export interface AppliedOverrides {
  readonly doc: PipelineDoc;
  /** What changed, `node.param=value` with the typed value, for the run record. */
  readonly applied: readonly string[];
  /** Things the user may want to know (e.g. --seed with no seeded block). */
  readonly warnings: readonly string[];
}

/** Parses `NODE.PARAM=VALUE` (node ids contain no '.'; the value may contain anything, '=' included). */
export function parseSetArg(arg: string): ParamOverride {
  const m = /^([^.=\s]+)\.([^.=\s]+)=(.*)$/s.exec(arg);
  if (!m) throw new DpipeError('E_USAGE', `--set ${arg}: expected NODE.PARAM=VALUE, e.g. --set sched.steps=20`);
  return { node: m[1], param: m[2], value: m[3] };
}

/**
 * Converts the text of a `--set` value to the parameter's type (the parameter codec's text form); returns the text
 * itself when it is not of that type, so that `checkParamValue` names what was written.
 */
export function coerceParamText(spec: ParamSpec, text: string): unknown {
  const r = decodeParamText(spec, text);
  return r.ok ? r.value : text;
}

/** An already typed override value, checked. */
function check(spec: ParamSpec, value: ParamValue): ParsedParam {
  const why = checkParamValue(spec, value);
  return why ? { ok: false, error: why } : { ok: true, value };
}

/**
 * Applies overrides to a copy of `doc`. Unknown nodes or parameters and values the parameter does not allow are
 * DpipeErrors naming what is allowed. `baseDir` resolves file parameters (which must exist when the block says so).
 */
export function applyOverrides(
  doc: PipelineDoc,
  types: ReadonlyMap<string, NodeTypeInfo>,
  overrides: Overrides,
  baseDir: string,
): AppliedOverrides {
  const nodes: PipelineNode[] = doc.nodes.map((n) => ({ ...n, params: { ...n.params } }));
  const applied: string[] = [];
  const warnings: string[] = [];
  const setParam = (node: PipelineNode, name: string, value: ParamValue) => {
    (node.params as Record<string, ParamValue>)[name] = value;
    applied.push(`${node.id}.${name}=${showParamValue(value)}`);
  };

  for (const o of overrides.set ?? []) {
    const { node: nodeId, param, value } = typeof o === 'string' ? parseSetArg(o) : o;
    const what = `--set ${nodeId}.${param}`;
    const node = nodes.find((n) => n.id === nodeId);
    if (!node) {
      const near = closestNames(nodeId, nodes.map((n) => n.id));
      throw new DpipeError('E_NODE_ID', `${what}: the pipeline has no node "${nodeId}"${near.length ? ` (did you mean ${near.map((s) => `"${s}"`).join(', ')}?)` : ''}; its nodes are ${nodes.map((n) => n.id).join(', ')}`);
    }
    const info = types.get(node.type);
    if (!info) throw new DpipeError('E_NODE_TYPE', `${what}: node "${nodeId}" has the unknown type ${node.type}`);
    const spec = findParam(info, param);
    if (!spec) {
      const names = info.params.map((p) => p.name);
      throw new DpipeError('E_PARAM', `${what}: ${info.type} has no parameter "${param}"; its parameters are ${names.length ? names.join(', ') : '(none)'}`);
    }
    const parsed = typeof value === 'string' ? parseParamText(spec, value) : check(spec, value);
    if (!parsed.ok) throw new DpipeError('E_PARAM_VALUE', `${what}: ${param} ${parsed.error}`);
    const typed = parsed.value;
    if (spec.type === 'file' && spec.mustExist && typed !== '' && !fs.existsSync(path.resolve(baseDir, typed as string))) {
      throw new DpipeError('E_FILE_MISSING', `${what}: ${path.resolve(baseDir, typed as string)} does not exist (paths are relative to the .dpipe file)`);
    }
    setParam(node, param, typed);
  }

  const replaceAll = (flag: string, value: number, match: (s: ParamSpec) => boolean) => {
    let n = 0;
    for (const node of nodes) {
      const info = types.get(node.type);
      for (const spec of info?.params ?? []) {
        if (!match(spec)) continue;
        const why = checkParamValue(spec, value);
        if (why) throw new DpipeError('E_USAGE', `${flag} ${value}: ${node.id}.${spec.name} ${why}`);
        setParam(node, spec.name, value);
        n++;
      }
    }
    return n;
  };
  if (overrides.seed !== undefined) {
    if (!Number.isSafeInteger(overrides.seed) || overrides.seed < 0) throw new DpipeError('E_USAGE', `--seed must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}; got ${overrides.seed}`);
    if (replaceAll('--seed', overrides.seed, (s) => s.type === 'seed') === 0) warnings.push('--seed: the pipeline has no seeded block; the seed changes nothing');
  }
  if (overrides.batch !== undefined) {
    if (!Number.isInteger(overrides.batch) || overrides.batch < 1) throw new DpipeError('E_USAGE', `--batch must be an integer ≥ 1; got ${overrides.batch}`);
    replaceAll('--batch', overrides.batch, (s) => s.name === 'batch' && s.type === 'integer');
  }
  return { doc: { ...doc, nodes }, applied, warnings };
}
