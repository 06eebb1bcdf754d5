#!/usr/bin/env node
/**
 * HTTP server entry point: `npm start`. Embedded defaults (PGlite in ./data/pglite) when no
 * DATABASE_URL is set. Logs are JSON (pino) without invoice contents.
 */
import { pino } from 'pino';
import { buildApp } from '../api/app.js';
import { loadConfig } from './config.js';
import { wire } from './bootstrap.js';

const config = loadConfig();
const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] });
const { scoring, repo } = await wire(config.store);
const app = await buildApp({
  scoring,
  ping: () => repo.ping(),
  engine: repo.engine,
  logger,
  bodyLimitBytes: config.bodyLimitBytes,
});

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  logger.info({ signal }, 'shutting down');
  await app.close();
  await repo.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

const address = await app.listen({ port: config.port, host: config.host });
logger.info(
  { store: repo.engine, address, versions: scoring.versions },
  `invoice-triage listening on ${address} (OpenAPI at ${address}/docs)`,
);
