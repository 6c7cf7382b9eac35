/**
 * The Brownian tree is a noise source: it lives in `noise/brownian.ts` with the `noise.brownian` block. This
 * module keeps the old import path working until the folder clean-up removes it.
 */
export { BrownianPath, brownianSampler, brownianNoise, STREAM_BROWNIAN, BROWNIAN_DEPTH } from '../../noise/brownian';
