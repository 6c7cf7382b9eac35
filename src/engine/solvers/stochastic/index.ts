/** Stochastic solvers (SDE / ancestral samplers) and the Brownian-tree noise source. */
import type { NodeType } from '../../registry/node';
import { DPMPP_SDE_NODES } from './dpmpp_sde';
import { DDPM_NODES } from './ddpm';
import { SA_SOLVER_NODES } from './sa_solver';
import { ER_SDE_NODES } from './er_sde';
import { RESTART_NODES } from './restart';
import { GGF_NODES } from './gotta_go_fast';
import { NOISE_BROWNIAN } from './brownian';

export const STOCHASTIC_SOLVER_NODES: NodeType[] = [
  ...DDPM_NODES, ...DPMPP_SDE_NODES, ...SA_SOLVER_NODES, ...ER_SDE_NODES, ...RESTART_NODES, ...GGF_NODES, NOISE_BROWNIAN,
];

export { dpmpp2sAncestral, dpmppSde, dpmpp2mSde, dpmpp3mSde } from './dpmpp_sde';
export { ddpm, ddimEta } from './ddpm';
export { saSolver } from './sa_solver';
export { erSde, NOISE_SCALES } from './er_sde';
export { restart } from './restart';
export { gottaGoFast, adaptiveEnds } from './gotta_go_fast';
export { BrownianPath, brownianSampler, brownianNoise, STREAM_BROWNIAN } from './brownian';

import { DPMPP_2M_SDE_PRESETS } from './dpmpp_sde';
import { SA_SOLVER_PRESETS } from './sa_solver';
import { DDIM_ETA_PRESETS } from './ddpm';
import type { PresetTable } from '../params';

/** The named presets of the stochastic solver blocks, by block type. */
export const STOCHASTIC_SOLVER_PRESETS: Readonly<Record<string, PresetTable>> = {
  'solver.dpmpp_2m_sde': DPMPP_2M_SDE_PRESETS,
  'solver.sa_solver': SA_SOLVER_PRESETS,
  'solver.ddim_eta': DDIM_ETA_PRESETS,
};
