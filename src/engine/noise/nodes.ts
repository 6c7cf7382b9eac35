import type { NodeType } from '../registry/node';

// Scaffold: the family's owner fills this list.
export const NOISE_NODES: NodeType[] = [];
