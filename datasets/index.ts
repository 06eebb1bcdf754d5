/** Reference data (with provenance, shipped in `datasets/reference/`) and its typed loader. */
export * from './reference.js';
/** SROIE receipts converted to invoices, and where the shared public datasets live. */
export * from './sroie.js';
export * from './sroie-fields.js';
export * from './sroie-items.js';
export * from './shared.js';
