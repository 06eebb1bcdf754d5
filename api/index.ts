/** HTTP API: the fastify app factory and problem+json helpers. */
export * from './app.js';
export * from './problem.js';
