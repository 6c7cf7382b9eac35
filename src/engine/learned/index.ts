import type { NodeType } from '../registry/node';

// Blocks whose statistics or schedule are fitted on the user's model (DPM-Solver-v3, GITS, DC-Solver).
export const LEARNED_NODES: NodeType[] = [];
