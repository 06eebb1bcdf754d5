/** Feature pipelines: pure, versioned functions from invoices to features and embeddings. */
export * from './hashing.js';
export * from './text.js';
export * from './vendor.js';
export * from './invoice-number.js';
export * from './schema.js';
export * from './invoice-features.js';
export * from './npi.js';
export * from './edits.js';
export * from './dates.js';
export * from './pair.js';
export * from './amount.js';
export * from './strings.js';
