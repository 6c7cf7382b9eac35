/**
 * SCHEDULE blocks. One file per family: `kdiffusion.ts` (σ-range schedules), `timeUniform.ts` (diffusers'
 * spacings over training timesteps), `dpmSolver.ts` (the DPM-Solver/UniPC repositories' time grids), `comfy.ts` (schedules over the
 * model's own levels: normal, sgm_uniform, simple, ddim_uniform, beta, linear-quadratic, KL-optimal, AYS, cosine,
 * logSNR-uniform), `flow.ts` (rectified-flow schedules and time shift, image-to-image strength), `ops.ts`
 * (explicit list, truncate, split, last steps, discard penultimate, set one σ, flip, concatenate).
 */
import type { NodeType } from '../registry/node';
import { KDIFFUSION_SCHEDULES } from './kdiffusion';
import { SCHEDULE_OP_NODES } from './ops';
import { TIME_UNIFORM_SCHEDULES } from './timeUniform';
import { DPM_SOLVER_SCHEDULES } from './dpmSolver';
import { COMFY_SCHEDULES } from './comfy';
import { FLOW_SCHEDULES } from './flow';

export * from './kdiffusion';
export * from './timeUniform';
export * from './ops';
export * from './dpmSolver';
export * from './comfy';
export * from './flow';
export { finish, linspace, FINAL_MODES, type FinalMode } from './common';

export const SCHEDULE_NODES: NodeType[] = [...KDIFFUSION_SCHEDULES, ...TIME_UNIFORM_SCHEDULES, ...DPM_SOLVER_SCHEDULES, ...COMFY_SCHEDULES, ...FLOW_SCHEDULES, ...SCHEDULE_OP_NODES];
