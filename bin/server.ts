#!/usr/bin/env node
/**
 * HTTP server entry point: `npm start`. Embedded defaults (PGlite in ./data/pglite, jobs
 * in-process) when no DATABASE_URL / REDIS_URL is set. On a store without API keys, an admin
 * and a workflow key for tenant `default` are written once to ./data/bootstrap-keys.json
 * (mode 0600); only the path is logged. Logs are JSON (pino) without invoice contents or keys.
 */
import { Redis } from 'ioredis';
import { isTriageError } from '../core/errors.js';
import { buildApp } from '../api/app.js';
import { certifiedBoundOf } from '../api/routes/kpis.js';
import { withDeadline } from '../api/limits.js';
import { withGroupCommit } from '../inference/group-commit.js';
import { createMetrics, instrumentScoring, serveMetrics, type MetricsListener } from '../api/metrics.js';
import { loadConfig } from './config.js';
import { processLogger } from './logger.js';
import { ensureBootstrapKeys, processWiring, wire } from './bootstrap.js';
import { wireServerJobs } from './jobs.js';
import { lazyRetrain, servedRegistry, wireModelsApi } from './models-api.js';
import { onShutdownSignals } from './shutdown.js';
import { wireWebhooks } from './webhooks.js';

const config = loadConfig();
const { logger, flush: flushLogs } = processLogger(config.logLevel, {
  redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
});
const metrics = createMetrics();
logger.info({ store: config.store.engine }, 'starting: loading reference data, models and the store');
const { scoring, repo, batches, served, closeModels, monitoring, monitoringStore } = await wire(
  config.store,
  {
    ...processWiring(config, logger, metrics.registry),
    onStep: (step, ms) => logger.info({ step, ms }, `start-up step done: ${step}`),
  },
).catch((e: unknown) => {
  // A refusal the operator can act on (the embedded store held by another process, a store that
  // cannot be reached) is one fatal log line and exit code 1; anything else is a bug, thrown.
  if (!isTriageError(e)) throw e;
  logger.fatal({ code: e.code }, `cannot start: ${e.message}`);
  flushLogs();
  process.exit(1);
});
const keysFile = await ensureBootstrapKeys(repo, config.bootstrapKeysFile);
if (keysFile)
  logger.warn(
    { file: keysFile },
    'no API keys existed: bootstrap admin and workflow keys for tenant "default" were written to this file (mode 0600)',
  );
metrics.watchModels(() => scoring.versions.models);
// The registry of model management (list, promote, retrain): the served one, with the served
// feature schemas enforced and every registration checked in ONNX Runtime (read-only when
// MODELS_DIR=none: the shipped registry is never written).
const registry = servedRegistry(config.models);
const webhooks = wireWebhooks(config.webhooks, repo.events);
const jobs = wireServerJobs(config.jobs, {
  webhooks: webhooks.jobs,
  scoring: instrumentScoring(scoring, metrics, 'batch'),
  batches,
  history: { history: repo.history, imports: repo.historyImports },
  logger,
  train: lazyRetrain({
    registry,
    repo,
    ...(config.trainingDataDir ? { dataDir: config.trainingDataDir } : {}),
    operatorTenant: config.models.operatorTenant,
  }),
});
metrics.watchQueue(jobs.queue);
const { limits } = config;
// Rate-limit counters shared by every replica when Redis is configured. Fail fast when Redis is
// down (no offline queue): the limiter then lets requests through rather than blocking scoring.
const rateLimitRedis = config.jobs.redisUrl
  ? new Redis(config.jobs.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
    })
  : null;
rateLimitRedis?.on('error', () => undefined);
const app = await buildApp({
  // Concurrent requests of a tenant are scored together, a group per transaction (group commit).
  scoring: instrumentScoring(withDeadline(withGroupCommit(scoring), limits.scoreDeadlineMs), metrics, 'api'),
  store: repo,
  ping: (o) => repo.ping(o),
  engine: repo.engine,
  logger,
  bodyLimitBytes: config.bodyLimitBytes,
  listen: { host: config.host, port: config.port },
  requestTimeoutMs: limits.requestTimeoutMs,
  admission: { maxInFlight: limits.scoreMaxInFlight },
  rateLimit: {
    max: limits.rateLimitMax,
    windowMs: limits.rateLimitWindowMs,
    ...(rateLimitRedis ? { redis: rateLimitRedis } : {}),
  },
  metrics,
  ...(jobs.queue.kind === 'bullmq' ? { pingQueue: () => jobs.queue.ping() } : {}),
  batches: {
    batches,
    jobs: jobs.queue,
    maxInvoices: limits.batchMaxInvoices,
    bodyLimitBytes: limits.batchBodyLimitBytes,
    chunkSize: config.jobs.batchChunkSize,
    deadlineMs: limits.scoreDeadlineMs,
    rateLimitMax: limits.rateLimitBatchMax,
    rateLimitWindowMs: limits.rateLimitWindowMs,
  },
  historyImports: { imports: repo.historyImports, jobs: jobs.queue },
  models: {
    ...wireModelsApi({ registry, repo, queue: jobs.queue, served: () => served }),
    operatorTenant: config.models.operatorTenant,
    beforePromote: (tenantId, name, version) => monitoring.checkPromotion(tenantId, name, version),
  },
  webhooks: webhooks.routes,
  monitoring: { monitoring, store: monitoringStore, defaultAuditRate: config.monitoring.defaultAuditRate },
  certifiedBounds: () => [...served.values()].flatMap((m) => certifiedBoundOf(m.current.card) ?? []),
});
let metricsListener: MetricsListener | null = null;

/**
 * Stops the server (bin/shutdown.ts): in-flight requests finish, running jobs are cancelled (the
 * in-process queue aborts their signal: a retrain stops training and registers nothing), then
 * the stores close. Past `SHUTDOWN_TIMEOUT_MS` the process exits with code 1 whatever is still
 * running.
 */
onShutdownSignals({
  logger,
  timeoutMs: config.shutdownTimeoutMs,
  flushLogs,
  stoppedMessage: 'server stopped',
  atDeadline: async () => ({ active_jobs: await activeJobs() }),
  async close(signal) {
    const active = await activeJobs();
    logger.info(
      { signal, shutdown_timeout_ms: config.shutdownTimeoutMs, active_jobs: active },
      active?.retrain
        ? 'shutting down: cancelling the running retrain job (no model version will be registered)'
        : 'shutting down',
    );
    await app.close();
    await metricsListener?.close();
    await jobs.close();
    await webhooks.close();
    rateLimitRedis?.disconnect();
    await monitoring.close();
    await repo.close();
    await closeModels();
  },
});

/**
 * Active jobs per name of the in-process queue, or null (with Redis, workers run the jobs and
 * stop on their own).
 */
async function activeJobs(): Promise<Record<string, number> | null> {
  const counts = jobs.queue.kind === 'in-process' ? await jobs.queue.counts().catch(() => null) : null;
  return counts
    ? Object.fromEntries(
        Object.entries(counts).flatMap(([name, c]) => (c.active > 0 ? [[name, c.active]] : [])),
      )
    : null;
}

const address = await app.listen({ port: config.port, host: config.host });
if (config.metricsListener) {
  metricsListener = await serveMetrics(
    metrics.registry,
    config.metricsListener.port,
    config.metricsListener.host,
  );
  logger.info({ metrics: metricsListener.address }, 'metrics listener up');
}
logger.info(
  { store: repo.engine, jobs: jobs.queue.kind, address, versions: scoring.versions },
  `invoice-triage listening on ${address} (OpenAPI at ${address}/docs)`,
);
