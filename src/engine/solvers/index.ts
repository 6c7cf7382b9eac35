/**
 * Deterministic SAMPLER blocks (ODE solvers) and Euler ancestral. One file per family; shared numerics in
 * `common.ts`. Stochastic solvers live in `stochastic/`. Each block is one entry (`defineSolver`, registry/node.ts)
 * holding its parameters, presets, order, NFE and test declarations; this file only lists the families.
 */
import type { NodeType } from '../registry/node';
import { DPMPP_MULTISTEP_NODES } from './dpmpp';
import { EULER_NODES } from './euler';
import { HEUN_NODES } from './heun';
import { LMS_NODES } from './lms';
import { SINGLESTEP_NODES } from './singlestep';
import { UNIPC_NODES } from './unipc';
import { DEIS_NODES } from './deis';
import { PNDM_NODES } from './pndm';
import { DPM_FAST_NODES } from './dpmFast';

export { euler, eulerAncestral } from './euler';
export { heun } from './heun';
export { dpmpp2m, dpmpp3m, dpmMultistepNoise, dpmMultistep, multistepOrder } from './dpmpp';
export { lms } from './lms';
export { dpmSinglestepSolver, dpm2, dpmpp2s, singlestepUpdate } from './singlestep';
export { unipc, uniP, uniC, makeUniC, UNIC_CORRECTOR_NODE } from './unipc';
export { deis } from './deis';
export { pndm, ipndm } from './pndm';
export { dpmFast, dpmAdaptive } from './dpmFast';
export { resMultistep } from './dpmpp';
export * as solverCommon from './common';
export { readParams } from '../registry/params';
export { presetParam, readPresetParams, PRESET_CUSTOM } from '../registry/presets';
export type { PresetTable, SolverPreset } from '../registry/presets';

/** The SAMPLER blocks of this folder and UniC (registered with UniPC, where it is defined). */
export const SOLVER_NODES: NodeType[] = [...EULER_NODES, ...HEUN_NODES, ...LMS_NODES, ...DPMPP_MULTISTEP_NODES, ...SINGLESTEP_NODES, ...DPM_FAST_NODES, ...DEIS_NODES, ...PNDM_NODES, ...UNIPC_NODES];
