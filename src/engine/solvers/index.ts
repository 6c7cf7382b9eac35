/**
 * Deterministic SAMPLER blocks (ODE solvers) and Euler ancestral. One file per family; shared numerics in
 * `common.ts`. Stochastic solvers live in `stochastic/`.
 */
import type { NodeType } from '../registry/node';
import { DPMPP_MULTISTEP_NODES } from './dpmpp';
import { EULER_NODES } from './euler';
import { HEUN_NODES } from './heun';

export { euler, eulerAncestral } from './euler';
export { heun } from './heun';
export { dpmpp2m, dpmpp3m, dpmMultistepNoise, dpmMultistep, multistepOrder } from './dpmpp';
export * as solverCommon from './common';
export { readParams } from './params';

export const SOLVER_NODES: NodeType[] = [...EULER_NODES, ...HEUN_NODES, ...DPMPP_MULTISTEP_NODES];
