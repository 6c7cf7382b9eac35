/**
 * The block registry: every node type of the engine, assembled from one list per block family.
 * Each family owns its own list; this file only concatenates them.
 */
import { DpipeError } from '../core/errors';
import type { NodeType } from './node';
import type { NodeTypeInfo, Params } from './types';
import { MODEL_NODES } from '../model/nodes';
import { NOISE_NODES } from '../noise/nodes';
import { SCHEDULE_NODES } from '../schedules/index';
import { SOLVER_NODES } from '../solvers/index';
import { STOCHASTIC_SOLVER_NODES } from '../solvers/stochastic/index';
import { CORRECTOR_NODES } from '../correctors/index';
import { GUIDANCE_NODES } from '../guidance/index';
import { CORE_NODES } from '../nodes/index';
import { LEARNED_NODES } from '../learned/index';
import { MODEL_FOLDER } from '../model/folderNodes';
import { TEXT_NODES } from '../text/nodes';
import { VAE_NODES } from '../vae/nodes';

let table: Map<string, NodeType> | undefined;

function build(): Map<string, NodeType> {
  const all = [
    ...MODEL_NODES, MODEL_FOLDER, ...TEXT_NODES, ...VAE_NODES, ...NOISE_NODES, ...SCHEDULE_NODES, ...SOLVER_NODES, ...STOCHASTIC_SOLVER_NODES,
    ...CORRECTOR_NODES, ...GUIDANCE_NODES, ...CORE_NODES, ...LEARNED_NODES,
  ];
  const m = new Map<string, NodeType>();
  for (const n of all) {
    if (m.has(n.type)) throw new DpipeError('E_INTERNAL', `node type ${n.type} is registered twice`);
    m.set(n.type, n);
  }
  return m;
}

export function nodeTypes(): ReadonlyMap<string, NodeType> {
  return (table ??= build());
}

export function getNodeType(type: string): NodeType | undefined {
  return nodeTypes().get(type);
}

/**
 * Exact model evaluations of the SAMPLER block `type` on `sigmas` with `params` (its entry's count, preset applied;
 * correctors not included); undefined when the run decides (adaptive step size).
 */
export function solverNfe(type: string, sigmas: Float64Array, params: Params = {}): number | undefined {
  const entry = getNodeType(type)?.solverEntry;
  if (!entry) throw new DpipeError('E_NODE_TYPE', `${type} is not a solver block of the registry`);
  return entry.nfe(sigmas, params);
}

/** The registry as plain JSON (palette, `dpipe blocks --json`, schema generation). */
export function registryInfo(): NodeTypeInfo[] {
  return [...nodeTypes().values()].map(({ evaluate: _e, solverEntry: _s, ...info }) => JSON.parse(JSON.stringify(info)) as NodeTypeInfo);
}

export type { NodeType } from './node';
