/**
 * Job contracts shared by the API (which enqueues), the workers (which process) and both queue
 * implementations: BullMQ on Redis (`REDIS_URL`) and the in-process queue of the embedded
 * default. A {@link JobMap} maps each job name to its `{ data, result }` types, as BullMQ's
 * typed jobs do; both queues take the same validated {@link JobOptions}.
 */
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { TriageError } from '../core/errors.js';
import type { LabelProvenance } from '../core/labels.js';
import { toFieldErrors, type SchemaErrorLike } from '../core/validate.js';

/** Data of a `score-batch` job: one chunk of a stored batch (its items stored with that chunk number). */
export interface ScoreBatchData {
  tenantId: string;
  batchId: string;
  /** Chunk number, from 0 (store/batches.ts, inference/batch-partition.ts). */
  chunk: number;
}

/** What a `score-batch` job did with the pending items of its chunk. */
export interface ScoreBatchResult {
  /** Items scored into a new decision. */
  scored: number;
  /** Items whose invoice id had been scored before: the stored decision was reused. */
  replayed: number;
  /** Items that failed for good (e.g. invoice id reused with other content). */
  failed: number;
  /** Items already settled by an earlier run of the same chunk. */
  skipped: number;
}

/** Scorer tasks that can be retrained. */
export type RetrainTask = 'coding-mismatch' | 'duplicate';

/** Arguments of a retraining run (the `retrain` job's data). */
export interface RetrainData {
  tenantId: string;
  task: RetrainTask;
  /** Seed of every random choice in training, for reproducible models. */
  seed: number;
  /** Who asked (API key id or CLI user), for the audit trail. */
  requestedBy?: string;
  /** Only the tenant's labels of these provenances (core/labels.ts); default all. */
  labelSources?: LabelProvenance[];
  /** Weight per provenance against a benchmark row; provenances absent weigh 3. */
  labelWeights?: Partial<Record<LabelProvenance, number>>;
}

/** What a retraining run registered: a challenger version and its headline metrics. */
export interface RetrainResult {
  task: RetrainTask;
  /** Registered model version, e.g. `coding-mismatch@3`. */
  version: string;
  /** Held-out metrics by name (e.g. `pr_auc`, `ece`), unitless. */
  metrics: Record<string, number>;
}

/** Data of a `deliver-webhook` job: one webhook delivery (store/events.ts) in one generation. */
export interface DeliverWebhookData {
  tenantId: string;
  deliveryId: string;
  /** Redelivery generation; a job of an older generation does nothing. */
  generation: number;
}

/** What a `deliver-webhook` job did (a store error throws instead, and the queue retries it). */
export interface DeliverWebhookResult {
  /**
   * delivered (2xx), dead (last attempt failed), retry (the attempt failed and was recorded: the
   * delivery relay enqueues it again once its backoff has passed), blocked (an earlier event of
   * the same ordering key is still pending: the relay enqueues it again later), skipped (no
   * longer pending in this generation).
   */
  outcome: 'delivered' | 'dead' | 'retry' | 'blocked' | 'skipped';
  /** HTTP status of the attempt, when one was answered. */
  status?: number;
}

/** Data of an `import-history` job: one staged history import (store/history-imports.ts). */
export interface ImportHistoryData {
  tenantId: string;
  importId: string;
}

/** What an `import-history` job did, over the whole import (earlier runs included). */
export interface ImportHistoryResult {
  /** Records of the import. */
  records: number;
  /** Invoices written. */
  imported: number;
  /** Invoices already stored with the same content. */
  skipped: number;
  /** Records not imported (an invoice id stored with other content meanwhile). */
  refused: number;
}

/** Job name -> `{ data, result }`. Adding a job is one entry here and one processor. */
export interface JobMap {
  'score-batch': { data: ScoreBatchData; result: ScoreBatchResult };
  retrain: { data: RetrainData; result: RetrainResult };
  'deliver-webhook': { data: DeliverWebhookData; result: DeliverWebhookResult };
  'import-history': { data: ImportHistoryData; result: ImportHistoryResult };
}

/** A job name. Each name has its own queue (so a long retraining never delays batches). */
export type JobName = keyof JobMap;
/** Every job name, in a stable order. */
export const JOB_NAMES: readonly JobName[] = ['score-batch', 'retrain', 'deliver-webhook', 'import-history'];

/** Job states reported by both queues (BullMQ's names). */
export type JobState = 'waiting' | 'active' | 'delayed' | 'prioritized' | 'completed' | 'failed';
/** Every job state, in a stable order (for metrics). */
export const JOB_STATES: readonly JobState[] = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'completed',
  'failed',
];
/** States in which a job will still run (so re-adding it would be redundant). */
export const LIVE_STATES: ReadonlySet<JobState> = new Set(['waiting', 'active', 'delayed', 'prioritized']);

/** What a processor learns about its job. */
export interface JobContext {
  id: string;
  /** 1 for the first run, 2 for the first retry, ... */
  attempt: number;
  /** Reports progress, 0-100 (percent). */
  updateProgress(percent: number): Promise<void>;
  /**
   * Aborted when the queue or worker running the job is closing: a long job (`import-history`,
   * `retrain`) stops at its next safe point by throwing, and is resumed later (retried, or
   * re-enqueued by the recovery sweep; an in-process queue's job fails with the error).
   */
  signal?: AbortSignal;
}

/** Processes one job; throws to fail the attempt (retried unless the error is not retryable). */
export type Processor<N extends JobName> = (
  data: JobMap[N]['data'],
  ctx: JobContext,
) => Promise<JobMap[N]['result']>;

/**
 * Default `deliver-webhook` jobs in flight per process (both queues), and the slots the delivery
 * relay shares among subscriptions.
 */
export const DELIVER_WEBHOOK_CONCURRENCY = 4;

/** Job names a process may leave without a processor (see {@link Processors}). */
export type OptionalJobName = 'deliver-webhook' | 'import-history';

/**
 * One processor per job name. `deliver-webhook` may be left out by a process that does not
 * deliver webhooks, and `import-history` by one without a store of history imports: BullMQ
 * workers then do not serve that queue, and the in-process queue fails such jobs at once (the
 * delivery relay and the recovery sweep add them again once a process that runs them does).
 */
export type Processors = { [N in Exclude<JobName, OptionalJobName>]: Processor<N> } & {
  [N in OptionalJobName]?: Processor<N>;
};

/** A job as the queue reports it. */
export interface JobInfo<N extends JobName = JobName> {
  id: string;
  name: N;
  state: JobState;
  /** Attempts that have finished (failed or succeeded). */
  attemptsMade: number;
  /** Progress the processor last reported, 0-100 (percent); 0 before any report. */
  progress: number;
  /** The job's arguments (e.g. the tenant that asked for it). */
  data?: JobMap[N]['data'];
  result?: JobMap[N]['result'];
  failedReason?: string;
}

/** A {@link JobInfo}, leaving out a result or failure reason that is absent (null or undefined). */
export function jobInfo<N extends JobName>(
  name: N,
  j: {
    id: string;
    state: JobState;
    attemptsMade: number;
    progress?: unknown;
    data?: unknown;
    result?: unknown;
    failedReason?: string | null;
  },
): JobInfo<N> {
  const progress = typeof j.progress === 'number' && Number.isFinite(j.progress) ? j.progress : 0;
  return {
    id: j.id,
    name,
    state: j.state,
    attemptsMade: j.attemptsMade,
    progress: Math.min(100, Math.max(0, progress)),
    ...(j.data !== undefined && j.data !== null ? { data: j.data as JobMap[N]['data'] } : {}),
    ...(j.result !== undefined && j.result !== null ? { result: j.result as JobMap[N]['result'] } : {}),
    ...(j.failedReason ? { failedReason: j.failedReason } : {}),
  };
}

/** Job counts of every name and state, all 0. */
export function emptyCounts(): Record<JobName, Record<JobState, number>> {
  const out = {} as Record<JobName, Record<JobState, number>>;
  for (const n of JOB_NAMES)
    out[n] = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  return out;
}

/** One failed attempt, as reported to `onFailure` (for logging). */
export interface AttemptFailure {
  name: JobName;
  id: string;
  /** Attempts made so far, this one included. */
  attempt: number;
  /** Whether the job will run again (false: it is now failed). */
  willRetry: boolean;
  error: unknown;
}

/** Options of one `add`. */
export interface AddOptions {
  /** Deterministic id: adding a job whose id still exists (any state) is a no-op returning it. */
  jobId?: string;
}

/** The queue contract both implementations satisfy. */
export interface JobQueue {
  readonly kind: 'bullmq' | 'in-process';
  /**
   * Enqueues a job.
   * @returns the job id.
   * @throws TriageError `TRIAGE_QUEUE_UNAVAILABLE` when the queue backend does not answer.
   */
  add<N extends JobName>(name: N, data: JobMap[N]['data'], opts?: AddOptions): Promise<string>;
  /** The job, or null when it does not exist (never added, removed, or lost with Redis). */
  getJob<N extends JobName>(name: N, id: string): Promise<JobInfo<N> | null>;
  /** Removes a finished job so that its id can be reused; no-op when absent. */
  remove(name: JobName, id: string): Promise<void>;
  /** Job counts by state, per job name. */
  counts(): Promise<Record<JobName, Record<JobState, number>>>;
  /** Rejects when the backend is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Retry, backoff and retention options of every job; see {@link DEFAULT_JOB_OPTIONS}. */
export const JobOptions = Type.Object(
  {
    /** Total attempts including the first run (1 = no retry). */
    attempts: Type.Integer({ minimum: 1, maximum: 100 }),
    backoff: Type.Object(
      {
        type: Type.Union([Type.Literal('exponential'), Type.Literal('fixed')]),
        /** Base delay, milliseconds: exponential waits delay × 2^(retry − 1). */
        delayMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
        /** Fraction of each delay drawn at random (0 = none), as BullMQ's `jitter`. */
        jitter: Type.Number({ minimum: 0, maximum: 1 }),
      },
      { additionalProperties: false },
    ),
    /** Finished jobs kept for inspection: at most `count`, for at most `ageSeconds`. */
    keepCompleted: Type.Object(
      { count: Type.Integer({ minimum: 0 }), ageSeconds: Type.Integer({ minimum: 1 }) },
      { additionalProperties: false },
    ),
    keepFailed: Type.Object(
      { count: Type.Integer({ minimum: 0 }), ageSeconds: Type.Integer({ minimum: 1 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
/** Validated job options. */
export type JobOptions = Static<typeof JobOptions>;

/** A {@link JobQueue} and the validated options it applies to every job. */
export interface ConfiguredJobQueue extends JobQueue {
  readonly options: Readonly<JobOptions>;
}

/**
 * Defaults: 5 attempts, exponential backoff from 2 s (2, 4, 8, 16 s) with 20 % jitter, the last
 * 1000 completed jobs kept for a day and the last 5000 failed ones for a week.
 */
export const DEFAULT_JOB_OPTIONS: Readonly<JobOptions> = Object.freeze({
  attempts: 5,
  backoff: { type: 'exponential' as const, delayMs: 2000, jitter: 0.2 },
  keepCompleted: { count: 1000, ageSeconds: 24 * 3600 },
  keepFailed: { count: 5000, ageSeconds: 7 * 24 * 3600 },
});

/** Partial options (each group may be given in part). */
export interface JobOptionsInput {
  attempts?: number;
  backoff?: Partial<JobOptions['backoff']>;
  keepCompleted?: Partial<JobOptions['keepCompleted']>;
  keepFailed?: Partial<JobOptions['keepFailed']>;
}

/** The job options either queue is created with (the in-process one and BullMQ's). */
export interface QueueJobOptions {
  /** Spread over `DEFAULT_JOB_OPTIONS` and validated. */
  jobOptions?: JobOptionsInput;
  /** Options of one job name, spread over `jobOptions` (e.g. webhook attempts and backoff). */
  jobOptionsByName?: Partial<Record<JobName, JobOptionsInput>>;
}

const checkJobOptions = Compile(JobOptions);

/** Options per job name: `byName[name]` spread over `base` (each group in part), then validated. */
export function resolveJobOptionsByName(
  base: JobOptionsInput = {},
  byName: Partial<Record<JobName, JobOptionsInput>> = {},
): Record<JobName, JobOptions> {
  const out = {} as Record<JobName, JobOptions>;
  for (const name of JOB_NAMES) {
    const o = byName[name] ?? {};
    out[name] = resolveJobOptions({
      ...base,
      ...o,
      backoff: { ...base.backoff, ...o.backoff },
      keepCompleted: { ...base.keepCompleted, ...o.keepCompleted },
      keepFailed: { ...base.keepFailed, ...o.keepFailed },
    });
  }
  return out;
}

/**
 * Spreads `input` over {@link DEFAULT_JOB_OPTIONS} and validates the result.
 * @throws TriageError `TRIAGE_CONFIG_INVALID` naming each bad option (e.g. `/attempts`).
 */
export function resolveJobOptions(input: JobOptionsInput = {}): JobOptions {
  const d = DEFAULT_JOB_OPTIONS;
  const merged = {
    attempts: input.attempts ?? d.attempts,
    backoff: { ...d.backoff, ...input.backoff },
    keepCompleted: { ...d.keepCompleted, ...input.keepCompleted },
    keepFailed: { ...d.keepFailed, ...input.keepFailed },
  };
  return checkOptions(checkJobOptions, merged, 'job options');
}

/**
 * Returns `value` when the compiled schema accepts it.
 * @throws TriageError `TRIAGE_CONFIG_INVALID` naming each bad option (JSON pointers).
 */
export function checkOptions<T>(
  check: { Check(v: unknown): boolean; Errors(v: unknown): unknown[] },
  value: T,
  what: string,
): T {
  if (check.Check(value)) return value;
  const errors = toFieldErrors(check.Errors(value) as SchemaErrorLike[]);
  throw new TriageError(
    'TRIAGE_CONFIG_INVALID',
    `invalid ${what}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
    errors,
  );
}

/**
 * Delay before the next attempt, milliseconds, after `attemptsMade` attempts failed (≥ 1):
 * BullMQ's built-in strategies, `fixed` = delay and `exponential` = round(2^(attemptsMade−1) ×
 * delay), with `jitter` j drawing uniformly from [(1 − j) × d, d).
 */
export function backoffDelayMs(
  backoff: JobOptions['backoff'],
  attemptsMade: number,
  random: () => number = Math.random,
): number {
  const d =
    backoff.type === 'fixed' ? backoff.delayMs : Math.round(2 ** (attemptsMade - 1) * backoff.delayMs);
  if (backoff.jitter <= 0) return d;
  return Math.floor(random() * d * backoff.jitter + d * (1 - backoff.jitter));
}

/** True when an error should end the job at once instead of being retried. */
export function isPermanent(e: unknown): boolean {
  return e instanceof TriageError && !e.retryable;
}

/**
 * Thrown by a processor that stops at a safe point because its job's `signal` aborted (the
 * process is shutting down): the work done so far is committed and a later run resumes it.
 * Retryable; a BullMQ worker puts the job back on its queue without using up an attempt.
 */
export class JobStopped extends Error {
  override readonly name = 'JobStopped';
}

/**
 * True when `e` is a job's answer to its cancelled `signal`: {@link JobStopped}, or a retrain's
 * `TRIAGE_TRAINING_CANCELLED`.
 */
export function isShutdownCancellation(e: unknown): boolean {
  return e instanceof JobStopped || (e instanceof TriageError && e.code === 'TRIAGE_TRAINING_CANCELLED');
}

/**
 * What BullMQ does with a worker's jobs when the worker stops, and the settings that decide it
 * (the defaults of jobs/bullmq.ts `startBullWorkers`; `WORKER_LOCK_MS` and
 * `WORKER_STALLED_INTERVAL_MS` override the first two in `bin/worker.ts`):
 *
 * - **Graceful stop** (`Worker.close()`): the worker takes no new job and waits for its active
 *   ones. Their processors see the job's `signal` abort; a job that stops for it
 *   ({@link isShutdownCancellation}) is put back at the head of its queue's wait list by
 *   `startBullWorkers` (`moveToWait`: no attempt used, no backoff), so the next worker runs it
 *   at once. Left to BullMQ, a processor rejecting during `close()` fails the attempt like any
 *   other error: the job waits out its backoff in `delayed` and uses up one of its `JOB_ATTEMPTS`.
 * - **Process gone with the job active** (SIGKILL, a crash): nobody renews the job's lock, which
 *   expires after `lockDurationMs` ({@link RETRAIN_LOCK_MS} for `retrain`). Every live worker
 *   looks for active jobs without a lock every `stalledIntervalMs`; such a job goes back to
 *   `wait` and runs again, unless it stalls more than `maxStalledCount` times: then it fails
 *   (`job stalled more than allowable limit`; the recovery sweep re-adds a failed batch chunk or
 *   history import, not a retrain). A worker past its shutdown deadline hands its active jobs
 *   back before it exits (`RunningWorkers.release`), so they need not wait for their lock.
 */
export const WORKER_DEFAULTS = {
  /** Lock of an active job, ms; renewed while the worker lives. */
  lockDurationMs: 30_000,
  /** How often a worker looks for stalled jobs (expired lock, still active), ms. */
  stalledIntervalMs: 30_000,
  /** Stalls a job survives; one more fails it. */
  maxStalledCount: 1,
} as const;

/** Lock of a `retrain` job, ms (2 h): longer than any training run; see jobs/bullmq.ts `startBullWorkers`. */
export const RETRAIN_LOCK_MS = 2 * 60 * 60 * 1000;
