/** Loaders for the public entity-resolution benchmarks in the team's shared folder (tests and measurement only). */
export * from './shared.js';
export * from './amazon-google.js';
export * from './febrl.js';
