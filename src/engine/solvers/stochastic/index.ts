/** Stochastic solvers (SDE / ancestral samplers). Their noise sources, Brownian trees included, are in `noise/`. */
import type { NodeType } from '../../registry/node';
import { DPMPP_SDE_NODES } from './dpmpp_sde';
import { DDPM_NODES } from './ddpm';
import { SA_SOLVER_NODES } from './sa_solver';
import { ER_SDE_NODES } from './er_sde';
import { RESTART_NODES } from './restart';
import { GGF_NODES } from './gotta_go_fast';

export const STOCHASTIC_SOLVER_NODES: NodeType[] = [...DDPM_NODES, ...DPMPP_SDE_NODES, ...SA_SOLVER_NODES, ...ER_SDE_NODES, ...RESTART_NODES, ...GGF_NODES];

export { dpmpp2sAncestral, dpmppSde, dpmpp2mSde, dpmpp3mSde } from './dpmpp_sde';
export { ddpm, ddimEta } from './ddpm';
export { saSolver } from './sa_solver';
export { erSde, NOISE_SCALES } from './er_sde';
export { restart } from './restart';
export { gottaGoFast, adaptiveEnds } from './gotta_go_fast';
export { BrownianPath, brownianSampler, brownianNoise, STREAM_BROWNIAN } from '../../noise/brownian';
