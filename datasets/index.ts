/** Reference data (with provenance, shipped in `datasets/reference/`) and its typed loader. */
export * from './reference.js';
