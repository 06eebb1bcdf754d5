#!/usr/bin/env node
/**
 * HTTP server entry point: `npm start`. Embedded defaults (PGlite in ./data/pglite) when no
 * DATABASE_URL is set. On a store without API keys, an admin and a workflow key for tenant
 * `default` are written once to ./data/bootstrap-keys.json (mode 0600); only the path is
 * logged. Logs are JSON (pino) without invoice contents or keys.
 */
import { pino } from 'pino';
import { buildApp } from '../api/app.js';
import { loadConfig } from './config.js';
import { ensureBootstrapKeys, wire } from './bootstrap.js';

const config = loadConfig();
const logger = pino({
  level: config.logLevel,
  redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
});
const { scoring, repo } = await wire(
  config.store,
  config.policyFile ? { policyFile: config.policyFile } : {},
);
const keysFile = await ensureBootstrapKeys(repo, config.bootstrapKeysFile);
if (keysFile)
  logger.warn(
    { file: keysFile },
    'no API keys existed: bootstrap admin and workflow keys for tenant "default" were written to this file (mode 0600)',
  );
const app = await buildApp({
  scoring,
  store: repo,
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
