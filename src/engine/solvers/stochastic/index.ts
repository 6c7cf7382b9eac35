/** Stochastic solvers (SDE / ancestral samplers) and the Brownian-tree noise source. */
import type { NodeType } from '../../registry/node';
import { DPMPP_SDE_NODES } from './dpmpp_sde';

export const STOCHASTIC_SOLVER_NODES: NodeType[] = [...DPMPP_SDE_NODES];

export { dpmpp2sAncestral, dpmppSde, dpmpp2mSde, dpmpp3mSde } from './dpmpp_sde';
export { ancestralStep } from './util';
