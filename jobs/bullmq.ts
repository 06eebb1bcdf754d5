/**
 * BullMQ on Redis (`REDIS_URL`): the production {@link JobQueue} (producer side, used by the API)
 * and the workers (`bin/worker.ts`, any number of processes on the same queues). This file is the
 * only importer of bullmq. One Redis queue per job name, under a key prefix.
 *
 * Producer calls fail fast when Redis is down (no offline queue, a time limit per call) and
 * raise `TRIAGE_QUEUE_UNAVAILABLE`; workers reconnect on their own. A job whose worker dies is
 * detected as stalled once its lock expires and is run again by another worker.
 */
import { Queue, UnrecoverableError, WaitingError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { TriageError } from '../core/errors.js';
import {
  checkOptions,
  emptyCounts,
  isPermanent,
  isShutdownCancellation,
  JOB_NAMES,
  RETRAIN_LOCK_MS,
  WORKER_DEFAULTS,
  JOB_STATES,
  jobInfo,
  resolveJobOptionsByName,
  type AddOptions,
  type AttemptFailure,
  type ConfiguredJobQueue,
  type JobInfo,
  type JobMap,
  type JobName,
  type JobOptions,
  type JobState,
  type Processors,
  type QueueJobOptions,
  DELIVER_WEBHOOK_CONCURRENCY,
} from './types.js';
import { withTimeout } from '../core/timeout.js';

/**
 * An ioredis client for a `redis://` or `rediss://` URL (ioredis parses host, port, database,
 * credentials and TLS from it).
 * @param options ioredis options laid over what the URL gives.
 * @throws TypeError when the URL is not a Redis URL.
 */
export function redisClient(url: string, options: RedisOptions = {}): Redis {
  if (!/^rediss?:\/\//i.test(url)) throw new TypeError('not a redis:// URL');
  const client = new Redis(url, options);
  // Connection errors surface through the calls that use the client; an unhandled 'error'
  // event would crash the process.
  client.on('error', () => undefined);
  return client;
}

/** Default key prefix of every queue in Redis. */
export const DEFAULT_QUEUE_PREFIX = 'invoice-triage';

/** Options of {@link createBullQueue}. */
export interface BullQueueOptions extends QueueJobOptions {
  redisUrl: string;
  /** Redis key prefix; default {@link DEFAULT_QUEUE_PREFIX}. Tests use a unique one. */
  prefix?: string;
  /** Time limit of each producer call to Redis, milliseconds; default 2000. */
  timeoutMs?: number;
}

/** BullMQ options of every job, from validated {@link JobOptions}. */
export function bullJobOptions(o: JobOptions): JobsOptions {
  return {
    attempts: o.attempts,
    backoff: { type: o.backoff.type, delay: o.backoff.delayMs, jitter: o.backoff.jitter },
    removeOnComplete: { count: o.keepCompleted.count, age: o.keepCompleted.ageSeconds },
    removeOnFail: { count: o.keepFailed.count, age: o.keepFailed.ageSeconds },
  };
}

const timedOut = (what: string, ms: number) => () => new Error(`${what} timed out after ${ms} ms`);

function unavailable(what: string, cause: unknown): TriageError {
  return new TriageError(
    'TRIAGE_QUEUE_UNAVAILABLE',
    `the job queue (Redis) does not answer (${what}); retry later`,
    [],
    {
      cause,
    },
  );
}

function toState(s: string): JobState | null {
  if (s === 'waiting-children') return 'waiting';
  return (JOB_STATES as readonly string[]).includes(s) ? (s as JobState) : null;
}

/** The BullMQ producer: a {@link ConfiguredJobQueue}. */
export interface BullQueue extends ConfiguredJobQueue {
  readonly kind: 'bullmq';
}

/**
 * Creates the producer side: one BullMQ `Queue` per job name, with the validated job options
 * as `defaultJobOptions`. Nothing is processed here (see {@link startBullWorkers}).
 * @throws TriageError `TRIAGE_CONFIG_INVALID` for invalid job options; TypeError for a bad URL.
 */
export function createBullQueue(opts: BullQueueOptions): BullQueue {
  const byName = resolveJobOptionsByName(opts.jobOptions, opts.jobOptionsByName);
  const options = byName['score-batch'];
  const timeoutMs = opts.timeoutMs ?? 2000;
  // One connection shared by the queues (BullMQ does not close a connection it was given).
  const connection = redisClient(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  const prefix = opts.prefix ?? DEFAULT_QUEUE_PREFIX;
  const queues = Object.fromEntries(
    JOB_NAMES.map((name) => {
      const q = new Queue(name, { connection, prefix, defaultJobOptions: bullJobOptions(byName[name]) });
      // Connection errors surface through the calls below; an unhandled 'error' event would crash.
      q.on('error', () => undefined);
      return [name, q];
    }),
  ) as Record<JobName, Queue>;

  const call = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await withTimeout(f(), timeoutMs, timedOut(what, timeoutMs));
    } catch (e) {
      throw unavailable(what, e);
    }
  };

  return {
    kind: 'bullmq',
    options,

    async add<N extends JobName>(name: N, data: JobMap[N]['data'], addOpts: AddOptions = {}) {
      const job = await call('add', () =>
        queues[name].add(name, data, addOpts.jobId ? { jobId: addOpts.jobId } : {}),
      );
      return String(job.id);
    },

    async getJob<N extends JobName>(name: N, id: string): Promise<JobInfo<N> | null> {
      return call('getJob', async () => {
        const job = (await queues[name].getJob(id)) as Job | undefined;
        if (!job) return null;
        const state = toState(await job.getState());
        return state
          ? jobInfo(name, {
              id: String(job.id),
              state,
              attemptsMade: job.attemptsMade,
              progress: job.progress,
              data: job.data,
              result: job.returnvalue,
              failedReason: job.failedReason,
            })
          : null;
      });
    },

    async remove(name, id) {
      await call('remove', () => queues[name].remove(id));
    },

    async counts() {
      const out = emptyCounts();
      for (const name of JOB_NAMES) {
        const c = await call('counts', () => queues[name].getJobCounts(...JOB_STATES));
        for (const state of JOB_STATES) out[name][state] = Number(c[state] ?? 0);
      }
      return out;
    },

    async ping() {
      // A real round trip (a cheap read of one counter), not the client's cached status.
      await call('ping', () => queues['score-batch'].getJobCounts('waiting'));
    },

    async close() {
      await Promise.allSettled(JOB_NAMES.map((n) => queues[n].close()));
      connection.disconnect();
    },
  };
}

/** Options of {@link startBullWorkers}. */
export interface BullWorkerOptions {
  redisUrl: string;
  /** Same prefix as the producer's. */
  prefix?: string;
  processors: Processors;
  /** Job names served by this process; default every name with a processor. */
  names?: readonly JobName[];
  /**
   * Jobs of one name run at the same time in this process; default `score-batch` 2, `retrain` 1,
   * `deliver-webhook` 4, `import-history` 1.
   */
  concurrency?: Partial<Record<JobName, number>>;
  /**
   * Lock of an active job, milliseconds, renewed while the process lives; when a worker dies
   * its job is run again by another one after at most about this long. Default 30 000.
   */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for, milliseconds; default 30 000. */
  stalledIntervalMs?: number;
  /** Stalls tolerated before a job fails (the recovery sweep re-adds failed batch chunks); default 1. */
  maxStalledCount?: number;
  /** Attempt failures (for logging). */
  onFailure?: (info: AttemptFailure) => void;
  /** Worker-level errors such as a lost connection (for logging). */
  onError?: (error: Error) => void;
}

const WorkerSettings = Type.Object({
  concurrency: Type.Object({
    'score-batch': Type.Integer({ minimum: 1, maximum: 256 }),
    retrain: Type.Integer({ minimum: 1, maximum: 256 }),
    'deliver-webhook': Type.Integer({ minimum: 1, maximum: 256 }),
    'import-history': Type.Integer({ minimum: 1, maximum: 256 }),
  }),
  lockDurationMs: Type.Integer({ minimum: 1000, maximum: 3_600_000 }),
  stalledIntervalMs: Type.Integer({ minimum: 500, maximum: 3_600_000 }),
  maxStalledCount: Type.Integer({ minimum: 0, maximum: 100 }),
});
const checkWorkerSettings = Compile(WorkerSettings);

/**
 * Spreads the worker options over their defaults (concurrency `score-batch` 2, `retrain` 1,
 * `deliver-webhook` 4 and `import-history` 1,
 * lock 30 s, stalled check every 30 s, 1 stall tolerated) and validates them.
 * @throws TriageError `TRIAGE_CONFIG_INVALID` naming each bad option.
 */
export function resolveWorkerSettings(opts: Partial<BullWorkerOptions>): Static<typeof WorkerSettings> {
  const merged = {
    concurrency: {
      'score-batch': 2,
      retrain: 1,
      'deliver-webhook': DELIVER_WEBHOOK_CONCURRENCY,
      'import-history': 1,
      ...opts.concurrency,
    },
    lockDurationMs: opts.lockDurationMs ?? WORKER_DEFAULTS.lockDurationMs,
    stalledIntervalMs: opts.stalledIntervalMs ?? WORKER_DEFAULTS.stalledIntervalMs,
    maxStalledCount: opts.maxStalledCount ?? WORKER_DEFAULTS.maxStalledCount,
  };
  return checkOptions(checkWorkerSettings, merged, 'worker options');
}

/** A job running in this process: its queue and id (never its data). */
export interface ActiveJob {
  name: JobName;
  id: string;
}

/**
 * Running workers; `close()` aborts the jobs' `signal` (JobContext; a retrain stops training, a
 * long import or batch chunk at its next safe point, and goes back to its queue, see
 * {@link WORKER_DEFAULTS}), lets active jobs finish, then disconnects.
 */
export interface RunningWorkers {
  readonly names: readonly JobName[];
  /** The jobs running now, in the order they started. */
  active(): ActiveJob[];
  /**
   * Hands the jobs still running back to their queues (`moveToWait`), for a process about to
   * exit with them unfinished: another worker runs them without waiting for their lock to
   * expire. Their processors keep running here; call it only right before exiting.
   * @returns the jobs handed back (a job that finished meanwhile is not).
   */
  release(): Promise<ActiveJob[]>;
  close(): Promise<void>;
}

/**
 * Starts one BullMQ `Worker` per job name. Processors get `{ id, attempt, updateProgress }`;
 * a non-retryable {@link TriageError} fails the job at once (BullMQ `UnrecoverableError`),
 * anything else is retried with the producer's backoff.
 */
export function startBullWorkers(opts: BullWorkerOptions): RunningWorkers {
  const names = opts.names ?? JOB_NAMES.filter((n) => opts.processors[n] !== undefined);
  const settings = resolveWorkerSettings(opts);
  const { concurrency } = settings;
  // Shared by the workers for their commands; BullMQ duplicates it for each blocking connection.
  const connection = redisClient(opts.redisUrl, { maxRetriesPerRequest: null });
  const closing = new AbortController();
  const running = new Map<string, { name: JobName; job: Job; token: string | undefined }>();
  /** Puts a job its processor stopped for the shutdown back on its queue; false when it could not. */
  const requeue = async (
    name: JobName,
    job: Job,
    token: string | undefined,
    e: unknown,
  ): Promise<boolean> => {
    try {
      await job.moveToWait(token);
    } catch {
      return false;
    }
    opts.onFailure?.({ name, id: String(job.id), attempt: job.attemptsMade + 1, willRetry: true, error: e });
    return true;
  };
  const workers = names.map((name) => {
    const processor = opts.processors[name] as (d: unknown, c: unknown) => Promise<unknown>;
    const w = new Worker(
      name,
      async (job: Job, token?: string) => {
        const key = `${name}/${String(job.id)}`;
        running.set(key, { name, job, token });
        try {
          return await processor(job.data, {
            id: String(job.id),
            attempt: job.attemptsMade + 1,
            updateProgress: (p: number) => job.updateProgress(p),
            signal: closing.signal,
          });
        } catch (e) {
          if (isPermanent(e)) {
            const te = e as TriageError;
            throw new UnrecoverableError(`${te.code}: ${te.message}`);
          }
          // Stopped for the shutdown: back to the head of the queue, no attempt used (BullMQ
          // leaves a job moved to wait alone when its processor throws WaitingError).
          if (closing.signal.aborted && isShutdownCancellation(e) && (await requeue(name, job, token, e)))
            throw new WaitingError();
          throw e;
        } finally {
          running.delete(key);
        }
      },
      {
        connection,
        prefix: opts.prefix ?? DEFAULT_QUEUE_PREFIX,
        concurrency: concurrency[name],
        // Training holds the event loop for long stretches (dataset assembly, tfjs epochs), so a
        // retrain job's lock outlives them: a renewal missed under load must not make BullMQ
        // think the worker died and run the job again (a second challenger).
        lockDuration:
          name === 'retrain' ? Math.max(settings.lockDurationMs, RETRAIN_LOCK_MS) : settings.lockDurationMs,
        stalledInterval: settings.stalledIntervalMs,
        maxStalledCount: settings.maxStalledCount,
      },
    );
    w.on('error', (e) => opts.onError?.(e));
    w.on('failed', (job, error) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      opts.onFailure?.({
        name,
        id: String(job.id),
        attempt: job.attemptsMade,
        willRetry: !(error instanceof UnrecoverableError) && job.attemptsMade < attempts,
        error,
      });
    });
    return w;
  });
  return {
    names,
    active: () => [...running.values()].map((r) => ({ name: r.name, id: String(r.job.id) })),
    async release() {
      const out: ActiveJob[] = [];
      for (const [key, r] of [...running]) {
        running.delete(key);
        try {
          await r.job.moveToWait(r.token);
          out.push({ name: r.name, id: String(r.job.id) });
        } catch {
          // Finished meanwhile, or Redis is unreachable: the stalled-job check takes it over.
        }
      }
      return out;
    },
    async close() {
      closing.abort();
      await Promise.allSettled(workers.map((w) => w.close()));
      connection.disconnect();
    },
  };
}
