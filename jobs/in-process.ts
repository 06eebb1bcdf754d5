/**
 * The in-process queue of the embedded default (no `REDIS_URL`): the same {@link ConfiguredJobQueue}
 * contract and the same retry semantics as BullMQ (attempts, exponential or fixed backoff with
 * jitter, permanent errors fail at once, a re-added id is a no-op), processed in this process.
 * Jobs live in memory: work that must survive a restart is stored first (batches are in the
 * database) and re-enqueued by the recovery sweep at start-up.
 */
import { randomUUID } from 'node:crypto';
import { TriageError } from '../core/errors.js';
import {
  backoffDelayMs,
  emptyCounts,
  isPermanent,
  JOB_NAMES,
  jobInfo,
  resolveJobOptionsByName,
  type AddOptions,
  type AttemptFailure,
  type ConfiguredJobQueue,
  type JobInfo,
  type JobMap,
  type JobName,
  type JobState,
  type Processors,
  type QueueJobOptions,
  DELIVER_WEBHOOK_CONCURRENCY,
} from './types.js';

/** Options of {@link createInProcessQueue}. */
export interface InProcessQueueOptions extends QueueJobOptions {
  processors: Processors;
  /**
   * Jobs of one name run at the same time; default `score-batch` 2, `retrain` 1,
   * `deliver-webhook` 4, `import-history` 1.
   */
  concurrency?: Partial<Record<JobName, number>>;
  /** Start processing at once; default true. With false, jobs wait until {@link InProcessQueue.start}. */
  autorun?: boolean;
  /** Called when an attempt fails (for logging); `willRetry` tells whether it will run again. */
  onFailure?: (info: AttemptFailure) => void;
  /** Random source of the backoff jitter (tests pass a seeded one). */
  random?: () => number;
}

/** The in-process queue: a {@link ConfiguredJobQueue} that also runs the processors. */
export interface InProcessQueue extends ConfiguredJobQueue {
  readonly kind: 'in-process';
  /** Starts processing (when created with `autorun: false`). */
  start(): void;
  /** Resolves once nothing is waiting, delayed or active. */
  drained(): Promise<void>;
}

interface Entry {
  id: string;
  name: JobName;
  data: unknown;
  state: JobState;
  attemptsMade: number;
  /** Last reported progress, percent. */
  progress: number;
  result?: unknown;
  failedReason?: string;
  finishedAt?: number;
  timer?: NodeJS.Timeout;
}

/** The processor of a job name this process was given none for (only an {@link OptionalJobName}). */
const notServed = (name: JobName) => async (): Promise<never> => {
  if (name === 'deliver-webhook')
    throw new TriageError(
      'TRIAGE_WEBHOOKS_NOT_CONFIGURED',
      'this process has no webhook delivery wired in; the delivery relay enqueues the job again',
    );
  throw new TriageError(
    'TRIAGE_QUEUE_UNAVAILABLE',
    `this process runs no ${name} jobs; the recovery sweep enqueues the job again`,
  );
};

const DEFAULT_CONCURRENCY: Record<JobName, number> = {
  'score-batch': 2,
  retrain: 1,
  'deliver-webhook': DELIVER_WEBHOOK_CONCURRENCY,
  'import-history': 1,
};

/**
 * Creates the in-process queue.
 * @throws TriageError `TRIAGE_CONFIG_INVALID` for invalid job options or concurrency.
 */
export function createInProcessQueue(opts: InProcessQueueOptions): InProcessQueue {
  const byName = resolveJobOptionsByName(opts.jobOptions, opts.jobOptionsByName);
  const options = byName['score-batch'];
  const concurrency = { ...DEFAULT_CONCURRENCY, ...opts.concurrency };
  for (const n of JOB_NAMES) {
    if (!Number.isInteger(concurrency[n]) || concurrency[n] < 1) {
      throw new RangeError(`concurrency of ${n} must be a positive integer`);
    }
  }
  const random = opts.random ?? Math.random;
  const jobs = new Map<string, Entry>();
  const waiting = Object.fromEntries(JOB_NAMES.map((n) => [n, [] as string[]])) as Record<JobName, string[]>;
  const active = Object.fromEntries(JOB_NAMES.map((n) => [n, 0])) as Record<JobName, number>;
  const running = new Set<Promise<void>>();
  let started = opts.autorun ?? true;
  let closed = false;
  const closing = new AbortController();
  let idleWaiters: (() => void)[] = [];
  /** Jobs not yet completed or failed. */
  let live = 0;

  const key = (name: JobName, id: string): string => `${name}\u0000${id}`;

  function settleIdle(force = false): void {
    if (live > 0 && !force) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  }

  function prune(name: JobName, state: 'completed' | 'failed'): void {
    const keep = state === 'completed' ? byName[name].keepCompleted : byName[name].keepFailed;
    const now = Date.now();
    const done = [...jobs.entries()]
      .filter(([, j]) => j.state === state && j.name === name)
      .sort((a, b) => (b[1].finishedAt ?? 0) - (a[1].finishedAt ?? 0));
    done.forEach(([k, j], i) => {
      if (i >= keep.count || now - (j.finishedAt ?? now) > keep.ageSeconds * 1000) jobs.delete(k);
    });
  }

  async function run(entry: Entry): Promise<void> {
    entry.state = 'active';
    const processor = (opts.processors[entry.name] ?? notServed(entry.name)) as (
      d: unknown,
      c: unknown,
    ) => Promise<unknown>;
    try {
      const result = await processor(entry.data, {
        id: entry.id,
        attempt: entry.attemptsMade + 1,
        updateProgress: async (percent: number) => {
          entry.progress = percent;
        },
        signal: closing.signal,
      });
      entry.attemptsMade++;
      entry.state = 'completed';
      live--;
      entry.result = result;
      entry.finishedAt = Date.now();
      prune(entry.name, 'completed');
    } catch (e) {
      entry.attemptsMade++;
      const willRetry = !closed && !isPermanent(e) && entry.attemptsMade < byName[entry.name].attempts;
      opts.onFailure?.({ name: entry.name, id: entry.id, attempt: entry.attemptsMade, willRetry, error: e });
      entry.failedReason = e instanceof Error ? e.message : String(e);
      if (willRetry) {
        entry.state = 'delayed';
        entry.timer = setTimeout(
          () => {
            entry.timer = undefined;
            if (closed) return;
            entry.state = 'waiting';
            waiting[entry.name].push(key(entry.name, entry.id));
            pump();
          },
          backoffDelayMs(byName[entry.name].backoff, entry.attemptsMade, random),
        );
      } else {
        entry.state = 'failed';
        live--;
        entry.finishedAt = Date.now();
        prune(entry.name, 'failed');
      }
    }
  }

  function pump(): void {
    if (!started || closed) return;
    for (const name of JOB_NAMES) {
      while (active[name] < concurrency[name] && waiting[name].length > 0) {
        const entry = jobs.get(waiting[name].shift()!);
        if (!entry || entry.state !== 'waiting') continue;
        active[name]++;
        const p: Promise<void> = run(entry).finally(() => {
          active[name]--;
          running.delete(p);
          pump();
          settleIdle();
        });
        running.add(p);
      }
    }
  }

  return {
    kind: 'in-process',
    options,

    async add<N extends JobName>(name: N, data: JobMap[N]['data'], addOpts: AddOptions = {}) {
      if (closed) throw new Error('the queue is closed');
      const id = addOpts.jobId ?? randomUUID();
      const k = key(name, id);
      if (jobs.has(k)) return id;
      jobs.set(k, { id, name, data, state: 'waiting', attemptsMade: 0, progress: 0 });
      live++;
      waiting[name].push(k);
      queueMicrotask(pump);
      return id;
    },

    async getJob<N extends JobName>(name: N, id: string): Promise<JobInfo<N> | null> {
      const j = jobs.get(key(name, id));
      return j ? jobInfo(name, j) : null;
    },

    async remove(name, id) {
      const k = key(name, id);
      const j = jobs.get(k);
      if (j && (j.state === 'completed' || j.state === 'failed')) jobs.delete(k);
    },

    async counts() {
      const out = emptyCounts();
      for (const j of jobs.values()) out[j.name][j.state]++;
      return out;
    },

    async ping() {
      if (closed) throw new Error('the queue is closed');
    },

    start() {
      started = true;
      pump();
    },

    drained() {
      if (live === 0 || closed) return Promise.resolve();
      return new Promise<void>((r) => idleWaiters.push(r));
    },

    async close() {
      closed = true;
      closing.abort();
      for (const j of jobs.values()) {
        if (j.timer) clearTimeout(j.timer);
      }
      await Promise.allSettled([...running]);
      settleIdle(true);
    },
  };
}
