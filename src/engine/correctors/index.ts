/**
 * CORRECTOR blocks: hooks a predictor calls after each step (`SolverContext.corrector`). Each entry declares
 * which predictors it can follow (`NodeTypeInfo.corrector.follows`). UniC comes from `solvers/unipc.ts`.
 */
import type { NodeType } from '../registry/node';
import { UNIC_CORRECTOR_NODE } from '../solvers/unipc';
import { SA_CORRECTOR_NODE } from './sa';
import { LANGEVIN_CORRECTOR_NODE } from './langevin';

const UNIC: NodeType = UNIC_CORRECTOR_NODE.corrector ? UNIC_CORRECTOR_NODE : { ...UNIC_CORRECTOR_NODE, corrector: { nfePerStep: 1, follows: 'deterministic' } };

export const CORRECTOR_NODES: NodeType[] = [UNIC, SA_CORRECTOR_NODE, LANGEVIN_CORRECTOR_NODE];

export { makeSaCorrector } from './sa';
export { makeLangevin, langevinStep } from './langevin';
