/**
 * Wires the job queue for the server and the worker from configuration:
 *
 * - server without `REDIS_URL` (embedded default): the in-process queue runs the processors,
 *   and the recovery sweep runs here (at start-up, then every `RECOVERY_SWEEP_MS`);
 * - server with `REDIS_URL`: a BullMQ producer only; worker processes do the work;
 * - worker (`bin/worker.ts`, needs `REDIS_URL`): BullMQ workers on every queue, a producer for
 *   the recovery sweep, and the sweep itself.
 *
 * With `deps.webhooks`, the process that runs jobs (the embedded server, or a worker) also
 * delivers webhooks and runs the delivery relay (outbox to the `deliver-webhook` queue).
 */
import type { Logger } from 'pino';
import type { DeliveryRelay } from '../events/delivery.js';
import { TriageError } from '../core/errors.js';
import type { ScoringService } from '../inference/pipeline.js';
import type { BatchRepository } from '../store/batches.js';
import {
  createBullQueue,
  createInProcessQueue,
  createProcessors,
  createRecoverySweep,
  JobStopped,
  startBullWorkers,
  trainingUnavailable,
  type AttemptFailure,
  type JobName,
  type Processors,
  type JobOptionsInput,
  type JobQueue,
  type RecoverySweep,
  type RunningWorkers,
  type TrainFn,
  type HistoryImportDeps,
} from '../jobs/index.js';
import type { JobsConfig } from './config.js';
import type { WebhookJobs } from './webhooks.js';

/** What the job wiring needs. */
export interface JobDeps {
  scoring: ScoringService;
  batches: BatchRepository;
  logger: Logger;
  /** Retraining; default: fails with TRIAGE_TRAINING_UNAVAILABLE until training is wired in. */
  train?: TrainFn;
  /** Webhook delivery (processor, job options, relay); absent: this process delivers none. */
  webhooks?: WebhookJobs;
  /** History imports run as jobs (POST /v1/history with Prefer: respond-async); absent: none. */
  history?: HistoryImportDeps;
}

/** A wired queue and what runs around it. */
export interface WiredJobs {
  queue: JobQueue;
  sweep: RecoverySweep | null;
  workers: RunningWorkers | null;
  /** The webhook delivery relay of this process, or null. */
  relay: DeliveryRelay | null;
  /** Stops the sweep and the relay, lets active jobs finish, closes the queue. */
  close(): Promise<void>;
}

function jobOptions(cfg: JobsConfig): JobOptionsInput {
  return { attempts: cfg.attempts, backoff: { delayMs: cfg.backoffMs } };
}

function byName(deps: JobDeps): Partial<Record<JobName, JobOptionsInput>> {
  return deps.webhooks ? { 'deliver-webhook': deps.webhooks.options } : {};
}

function processorsOf(deps: JobDeps): Processors {
  return createProcessors({
    ...deps,
    train: deps.train ?? trainingUnavailable,
    ...(deps.webhooks ? { deliverWebhook: deps.webhooks.processor } : {}),
  });
}

function relayFor(queue: JobQueue, deps: JobDeps): DeliveryRelay | null {
  const relay =
    deps.webhooks?.relay(queue, (e) =>
      deps.logger.warn({ err: { code: (e as { code?: string }).code ?? null } }, 'webhook relay pass failed'),
    ) ?? null;
  relay?.start();
  return relay;
}

function logFailures(logger: Logger) {
  return (f: AttemptFailure): void => {
    const e = f.error as { code?: string; message?: string };
    if (e.code === 'TRIAGE_TRAINING_CANCELLED') {
      logger.warn(
        { job: f.name, job_id: f.id, attempt: f.attempt, will_retry: f.willRetry, code: e.code },
        f.willRetry
          ? 'retrain job cancelled by shutdown: no model version registered; it will run again'
          : 'retrain job cancelled by shutdown: no model version registered; the job is failed, request a new one',
      );
      return;
    }
    if (f.error instanceof JobStopped) {
      logger.info(
        { job: f.name, job_id: f.id, attempt: f.attempt, will_retry: f.willRetry },
        'job stopped by shutdown: its progress is committed; it resumes when it runs again',
      );
      return;
    }
    logger.warn(
      { job: f.name, job_id: f.id, attempt: f.attempt, will_retry: f.willRetry, code: e.code ?? null },
      'job attempt failed',
    );
  };
}

function sweepFor(cfg: JobsConfig, queue: JobQueue, deps: JobDeps): RecoverySweep {
  return createRecoverySweep({
    queue,
    batches: deps.batches,
    ...(deps.history ? { imports: deps.history.imports } : {}),
    intervalMs: cfg.recoverySweepMs,
    // Younger batches are left to the request that stored them (it is enqueuing them).
    graceMs: Math.min(10_000, cfg.recoverySweepMs),
    onError: (e) =>
      deps.logger.warn(
        { err: { code: (e as { code?: string }).code ?? null } },
        'recovery sweep could not finish',
      ),
  });
}

/** The queue of the API server (see the module comment). */
export function wireServerJobs(cfg: JobsConfig, deps: JobDeps): WiredJobs {
  if (cfg.redisUrl) {
    const queue = createBullQueue({
      redisUrl: cfg.redisUrl,
      prefix: cfg.queuePrefix,
      jobOptions: jobOptions(cfg),
      jobOptionsByName: byName(deps),
    });
    return { queue, sweep: null, workers: null, relay: null, close: () => queue.close() };
  }
  const queue = createInProcessQueue({
    processors: processorsOf(deps),
    jobOptions: jobOptions(cfg),
    jobOptionsByName: byName(deps),
    concurrency: { 'score-batch': cfg.workerConcurrency },
    onFailure: logFailures(deps.logger),
  });
  const sweep = sweepFor(cfg, queue, deps);
  sweep.start();
  const relay = relayFor(queue, deps);
  return {
    queue,
    sweep,
    workers: null,
    relay,
    async close() {
      await sweep.stop();
      await relay?.stop();
      await queue.close();
    },
  };
}

/**
 * The worker process's queue and workers.
 * @throws TriageError `TRIAGE_CONFIG_INVALID` without `REDIS_URL`.
 */
export function wireWorkerJobs(cfg: JobsConfig, deps: JobDeps): WiredJobs {
  if (!cfg.redisUrl) {
    throw new TriageError(
      'TRIAGE_CONFIG_INVALID',
      'bin/worker needs REDIS_URL (and DATABASE_URL); without Redis the server runs jobs in-process',
      [{ path: 'REDIS_URL', message: 'is required' }],
    );
  }
  const queue = createBullQueue({
    redisUrl: cfg.redisUrl,
    prefix: cfg.queuePrefix,
    jobOptions: jobOptions(cfg),
    jobOptionsByName: byName(deps),
  });
  const workers = startBullWorkers({
    redisUrl: cfg.redisUrl,
    prefix: cfg.queuePrefix,
    processors: processorsOf(deps),
    concurrency: { 'score-batch': cfg.workerConcurrency },
    lockDurationMs: cfg.workerLockMs,
    stalledIntervalMs: cfg.workerStalledIntervalMs,
    onFailure: logFailures(deps.logger),
    onError: (e) => deps.logger.warn({ err: { message: e.message } }, 'worker connection error'),
  });
  const sweep = sweepFor(cfg, queue, deps);
  sweep.start();
  const relay = relayFor(queue, deps);
  return {
    queue,
    sweep,
    workers,
    relay,
    async close() {
      await sweep.stop();
      await relay?.stop();
      await workers.close();
      await queue.close();
    },
  };
}
