/** The seeded invoice benchmark: record format, generator, reader, vendor profiles. */
export * from './types.js';
export * from './generator.js';
export * from './read.js';
export * from './profiles.js';
export * from './vendors.js';
export * from './number-edits.js';
