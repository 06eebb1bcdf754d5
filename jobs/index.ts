/**
 * Jobs: typed job contracts, BullMQ queues and workers on Redis (the only importer of bullmq),
 * the in-process queue of the embedded default, the processors and the batch recovery sweep.
 */
export * from './types.js';
export * from './in-process.js';
export * from './bullmq.js';
export * from './processors.js';
export * from './batches.js';
export * from './history-import.js';
