/**
 * CORRECTOR blocks: hooks a predictor calls after each step (`SolverContext.corrector`). Each entry declares
 * which predictors it can follow (`NodeTypeInfo.corrector.follows`). UniC is registered with UniPC
 * (`solvers/unipc.ts`), where it is defined.
 */
import type { NodeType } from '../registry/node';
import { SA_CORRECTOR_NODE } from './sa';
import { LANGEVIN_CORRECTOR_NODE } from './langevin';

export const CORRECTOR_NODES: NodeType[] = [SA_CORRECTOR_NODE, LANGEVIN_CORRECTOR_NODE];

export { makeSaCorrector } from './sa';
export { makeLangevin, langevinStep } from './langevin';
