#!/usr/bin/env node
/**
 * Worker entry point: `npm run worker` (or `node dist/bin/worker.js`). Processes the BullMQ
 * queues (`score-batch`, `retrain`, `deliver-webhook`) and runs the batch recovery sweep and the
 * webhook delivery relay. Needs `REDIS_URL` and
 * `DATABASE_URL` (PGlite cannot be shared between processes). Start as many as you like, on
 * as many machines: they share the queues, and a job whose worker dies runs again elsewhere
 * after its lock (`WORKER_LOCK_MS`) expires.
 *
 * SIGTERM / SIGINT: stop taking jobs, let active ones finish, close connections, exit 0.
 * A second signal exits at once (an interrupted job is picked up by another worker).
 */
import { createMetrics, instrumentScoring, serveMetrics, type MetricsListener } from '../api/metrics.js';
import { isTriageError } from '../core/errors.js';
import { loadConfig } from './config.js';
import { processLogger } from './logger.js';
import { processWiring, wire } from './bootstrap.js';
import { wireWorkerJobs, type WiredJobs } from './jobs.js';
import { lazyRetrain, servedRegistry } from './models-api.js';
import { wireWebhooks, type WiredWebhooks } from './webhooks.js';

const config = loadConfig();
const processLog = processLogger(config.logLevel);
const flushLogs = processLog.flush;
const logger = processLog.logger.child({ role: 'worker', pid: process.pid });
if (!config.jobs.redisUrl || config.store.engine !== 'postgres') {
  logger.fatal(
    { redis: Boolean(config.jobs.redisUrl), store: config.store.engine },
    'bin/worker needs REDIS_URL and DATABASE_URL; without Redis the server runs jobs in-process',
  );
  process.exit(2);
}

const metrics = createMetrics();
const { scoring, repo, batches, monitoring } = await wire(
  config.store,
  processWiring(config, logger, metrics.registry),
);
metrics.watchModels(() => scoring.versions.models);
let jobs: WiredJobs;
let webhooks: WiredWebhooks;
try {
  webhooks = wireWebhooks(config.webhooks, repo.events);
  jobs = wireWorkerJobs(config.jobs, {
    webhooks: webhooks.jobs,
    scoring: instrumentScoring(scoring, metrics, 'batch'),
    batches,
    history: { history: repo.history, imports: repo.historyImports },
    logger,
    train: lazyRetrain({
      registry: servedRegistry(config.models),
      repo,
      ...(config.trainingDataDir ? { dataDir: config.trainingDataDir } : {}),
      operatorTenant: config.models.operatorTenant,
    }),
  });
} catch (e) {
  logger.fatal({ code: isTriageError(e) ? e.code : null }, 'cannot start the worker');
  await repo.close();
  process.exit(2);
}
metrics.watchQueue(jobs.queue);
let metricsListener: MetricsListener | null = null;
if (config.metricsListener) {
  metricsListener = await serveMetrics(
    metrics.registry,
    config.metricsListener.port,
    config.metricsListener.host,
  );
}

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  closing = true;
  logger.info({ signal }, 'shutting down: finishing active jobs');
  await jobs!.close();
  await webhooks!.close();
  await metricsListener?.close();
  await monitoring.close();
  await repo.close();
  logger.info('worker stopped');
  flushLogs();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

logger.info(
  {
    queues: jobs.workers?.names,
    concurrency: config.jobs.workerConcurrency,
    versions: scoring.versions,
    ...(metricsListener ? { metrics: metricsListener.address } : {}),
  },
  'invoice-triage worker ready',
);
