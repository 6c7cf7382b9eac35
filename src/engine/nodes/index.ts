/**
 * The core blocks that are not a model, noise, schedule, solver, corrector or guidance family: latent
 * sources, the Sample block, and outputs.
 */
import type { NodeType } from '../registry/node';
import { latentEmpty, latentNpy } from './latent';
import { sample } from './sample';
import { outputImage, outputLatent } from './output';

export const CORE_NODES: NodeType[] = [latentEmpty, latentNpy, sample, outputImage, outputLatent];

export { latentToImages, imageGrid } from './image';
export type { ToImageOptions } from './image';
export { startState, expectedNfe, exactNfe } from './sample';
export type { NoiseScale } from './sample';
export { DEFAULT_VALUE_RANGE, resolveValueRange } from './output';
