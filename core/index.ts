/** Domain types, the error catalog and validation. Imports nothing of ours. */
export * from './invoice.js';
export * from './errors.js';
export * from './validate.js';
export * from './reference.js';
export * from './decision.js';
export * from './paths.js';
