#!/usr/bin/env node
/**
 * Worker entry point: `npm run worker` (or `node dist/bin/worker.js`). Processes the BullMQ
 * queues (`score-batch`, `retrain`, `deliver-webhook`) and runs the batch recovery sweep and the
 * webhook delivery relay. Needs `REDIS_URL` and
 * `DATABASE_URL` (PGlite cannot be shared between processes). Start as many as you like, on
 * as many machines: they share the queues, and a job whose worker dies runs again elsewhere
 * after its lock (`WORKER_LOCK_MS`) expires.
 *
 * SIGTERM / SIGINT (bin/shutdown.ts, shared with the server): stop taking jobs, abort the
 * running jobs' signal (a retrain stops training and registers nothing; a batch chunk or history
 * import stops at its next safe point, its progress committed) and put the stopped jobs back on
 * their queues for the next worker, close connections, exit 0. Past `SHUTDOWN_TIMEOUT_MS` the
 * jobs still running are handed back to their queues and named in the log, and the process
 * exits 1. A second signal exits 1 at once (an interrupted job runs again elsewhere once its
 * lock expires; see jobs/types.ts `WORKER_DEFAULTS`).
 */
import { createMetrics, instrumentScoring, serveMetrics, type MetricsListener } from '../api/metrics.js';
import { isTriageError } from '../core/errors.js';
import type { ActiveJob } from '../jobs/index.js';
import { loadConfig } from './config.js';
import { processLogger } from './logger.js';
import { processWiring, wire } from './bootstrap.js';
import { wireWorkerJobs, type WiredJobs } from './jobs.js';
import { lazyRetrain, servedRegistry } from './models-api.js';
import { onShutdownSignals } from './shutdown.js';
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

onShutdownSignals({
  logger,
  timeoutMs: config.shutdownTimeoutMs,
  flushLogs,
  secondSignal: 'exit',
  stoppedMessage: 'worker stopped',
  // Jobs that ignored the abort go back to their queues for the next worker (see the module doc).
  atDeadline: async () => {
    const named = (list: ActiveJob[]) => list.map((j) => `${j.name} ${j.id}`);
    const stillRunning = named(jobs.workers!.active());
    return { still_running: stillRunning, handed_back: named(await jobs.workers!.release()) };
  },
  async close(signal) {
    logger.info(
      {
        signal,
        shutdown_timeout_ms: config.shutdownTimeoutMs,
        active_jobs: jobs.workers!.active().map((j) => `${j.name} ${j.id}`),
      },
      'shutting down: cancelling active jobs',
    );
    await jobs.close();
    await webhooks.close();
    await metricsListener?.close();
    await monitoring.close();
    await repo.close();
  },
});

logger.info(
  {
    queues: jobs.workers?.names,
    concurrency: config.jobs.workerConcurrency,
    versions: scoring.versions,
    ...(metricsListener ? { metrics: metricsListener.address } : {}),
  },
  'invoice-triage worker ready',
);
