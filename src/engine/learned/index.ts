import type { NodeType } from '../registry/node';
import { DC_NODE } from './dcsolver';
import { DPMV3_NODE } from './dpmv3';
import { GITS_NODE } from './gits';

// Blocks whose statistics or schedule are fitted on the user's model (DPM-Solver-v3, GITS, DC-Solver).
// The fitting procedures (`fitGits`, …) are plain functions; `capture.ts` runs them on a pipeline's own model
// (it imports the runner, so it is not re-exported here: the registry imports this file).
export { fitGits, gitsCostMatrix, gitsDp, gitsSigmas, teacherTrajectory, GITS_METRICS, type GitsFit, type GitsFitOptions, type GitsMetric } from './gits';

export {
  computeEms, degenerateEms, dpmSolverV3, emsFromJson, emsToJson, readEmsFile, EmsAccumulator, DPMV3_PARAMS, type Ems, type EmsOptions, type Dpmv3Options,
} from './dpmv3';

export { compensate, dcSolver, fitDcRatios, referenceStates, DC_PARAMS, type DcOptions, type DcFitOptions } from './dcsolver';

export const LEARNED_NODES: NodeType[] = [GITS_NODE, DPMV3_NODE, DC_NODE];
