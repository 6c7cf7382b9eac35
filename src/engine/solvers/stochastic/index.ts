/** Stochastic solvers (SDE / ancestral samplers) and the Brownian-tree noise source. */
import type { NodeType } from '../../registry/node';
import { DPMPP_SDE_NODES } from './dpmpp_sde';
import { DDPM_NODES } from './ddpm';
import { SA_SOLVER_NODES } from './sa_solver';

export const STOCHASTIC_SOLVER_NODES: NodeType[] = [...DDPM_NODES, ...DPMPP_SDE_NODES, ...SA_SOLVER_NODES];

export { dpmpp2sAncestral, dpmppSde, dpmpp2mSde, dpmpp3mSde } from './dpmpp_sde';
export { ddpm, ddimEta } from './ddpm';
export { saSolver } from './sa_solver';
export { ancestralStep } from './util';
