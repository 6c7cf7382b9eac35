/**
 * Deterministic SAMPLER blocks (ODE solvers) and Euler ancestral. One file per family; shared numerics in
 * `common.ts`. Stochastic solvers live in `stochastic/`.
 */
import type { NodeType } from '../registry/node';
import type { Params } from '../registry/types';
import { DPMPP_MULTISTEP_NODES } from './dpmpp';
import { EULER_NODES } from './euler';
import { HEUN_NODES } from './heun';
import { LMS_NODES } from './lms';
import { SINGLESTEP_NODES } from './singlestep';
import { UNIPC_NODES } from './unipc';
import { DEIS_NODES } from './deis';
import { PNDM_NODES } from './pndm';
import { DPM_FAST_NODES } from './dpmFast';
import { restartNfe } from './stochastic/restart';

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
export { readParams } from './params';

import { EULER_PRESETS, EULER_ANCESTRAL_PRESETS } from './euler';
import { HEUN_PRESETS } from './heun';
import { LMS_PRESETS } from './lms';
import { DPMPP_2M_PRESETS, DPMPP_3M_PRESETS, DPM_MULTISTEP_PRESETS } from './dpmpp';
import { DPM_SINGLESTEP_PRESETS, DPMPP_2S_PRESETS } from './singlestep';
import { UNIPC_PRESETS } from './unipc';
import { DEIS_PRESETS } from './deis';
import { PNDM_PRESETS } from './pndm';
import { withPreset, type PresetTable } from './params';

/** The named presets of each deterministic solver block (and Euler ancestral), by block type. */
export const SOLVER_PRESETS: Readonly<Record<string, PresetTable>> = {
  'solver.euler': EULER_PRESETS,
  'solver.euler_ancestral': EULER_ANCESTRAL_PRESETS,
  'solver.heun': HEUN_PRESETS,
  'solver.lms': LMS_PRESETS,
  'solver.dpmpp_2m': DPMPP_2M_PRESETS,
  'solver.dpmpp_3m': DPMPP_3M_PRESETS,
  'solver.dpm_multistep': DPM_MULTISTEP_PRESETS,
  'solver.dpm_singlestep': DPM_SINGLESTEP_PRESETS,
  'solver.dpmpp_2s': DPMPP_2S_PRESETS,
  'solver.unipc': UNIPC_PRESETS,
  'solver.deis': DEIS_PRESETS,
  'solver.pndm': PNDM_PRESETS,
};
export { presetParam, readPresetParams, withPreset, PRESET_CUSTOM } from './params';
export type { PresetTable, SolverPreset } from './params';

export const SOLVER_NODES: NodeType[] = [...EULER_NODES, ...HEUN_NODES, ...LMS_NODES, ...DPMPP_MULTISTEP_NODES, ...SINGLESTEP_NODES, ...DPM_FAST_NODES, ...DEIS_NODES, ...PNDM_NODES, ...UNIPC_NODES];

/**
 * Exact number of model evaluations a solver of this family will make on `sigmas` with `params` (correctors
 * not included), for progress displays and NFE checks; undefined when it depends on the run (adaptive step
 * size). The per-step figure in the registry (`nfePerStep`) is the nominal cost.
 */
export function solverNfe(type: string, sigmas: Float64Array, raw: Params): number | undefined {
  const params = withPreset(SOLVER_PRESETS[type], raw);
  const n = sigmas.length - 1;
  const toZero = sigmas[n] === 0 ? 1 : 0;
  const p = (name: string, def: unknown) => (params[name] ?? def) as never;
  switch (type) {
    case 'solver.heun':
    case 'solver.dpm_2':
    case 'solver.dpmpp_2s':
    case 'solver.dpmpp_2s_ancestral':
    case 'solver.dpmpp_sde':
      return 2 * n - toZero;
    case 'solver.restart':
      return restartNfe(sigmas, params);
    case 'solver.dpm_singlestep': {
      if (p('stages', 'interior') !== 'interior') return n;
      const order = p('order', 3) as number;
      return order * n - (order - 1) * toZero;
    }
    case 'solver.pndm': {
      if (p('warmup', 'plms') === 'prk') {
        let extra = 0;
        for (let i = 0; i < Math.min(3, n); i++) if (sigmas[i + 1] > 0) extra += 3;
        return n + extra;
      }
      return n + (n > 0 && sigmas[1] > 0 ? 1 : 0);
    }
    case 'solver.dpm_fast':
      return (p('nfe', 10) as number) + toZero;
    case 'solver.dpm_adaptive':
    case 'solver.gotta_go_fast':
      return undefined;
    default:
      return n;
  }
}
