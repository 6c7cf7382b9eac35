/**
 * Guidance blocks (GUIDER outputs). `guider.cfg` carries the refinements that only change the scale or
 * post-process the guided prediction (schedule, interval, rescale); APG and CFG++ change the combination
 * rule and are their own blocks; thresholding wraps any guider.
 */
import type { NodeType } from '../registry/node';
import { GUIDER_BASIC, GUIDER_CFG } from './guiders';
import { GUIDER_CFGPP } from './cfgpp';
import { GUIDER_APG } from './apg';
import { GUIDER_THRESHOLD } from './threshold';

export const GUIDANCE_NODES: NodeType[] = [GUIDER_BASIC, GUIDER_CFG, GUIDER_APG, GUIDER_CFGPP, GUIDER_THRESHOLD];

export { basicGuider, cfgGuider, cfgCombine, rescaleCfg, scheduledScale, inInterval } from './guiders';
export type { CfgOptions, ScaleSchedule } from './guiders';
export { cfgppGuider } from './cfgpp';
export { apgGuider, apgCombine } from './apg';
export type { ApgOptions } from './apg';
export { thresholdGuider, threshold } from './threshold';
export type { ThresholdOptions } from './threshold';
export { quantile, itemStd, toSpace, fromSpace } from './math';
