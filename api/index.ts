/** HTTP API: the fastify app factory, problem+json helpers, limits and metrics. */
export * from './app.js';
export * from './problem.js';
export * from './limits.js';
export * from './metrics.js';
