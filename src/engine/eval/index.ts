/** FD-MNIST sample-quality scoring: Fréchet distance on classifier features, and class accuracy. */
export * from './frechet';
export * from './classifier';
export * from './score';
export * from './pipeline';
