/** Guidance blocks (GUIDER outputs). */
import type { NodeType } from '../registry/node';
import { GUIDER_BASIC, GUIDER_CFG } from './guiders';

export const GUIDANCE_NODES: NodeType[] = [GUIDER_BASIC, GUIDER_CFG];

export { basicGuider, cfgGuider, cfgCombine } from './guiders';
export type { CfgOptions } from './guiders';
