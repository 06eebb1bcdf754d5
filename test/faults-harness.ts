/**
 * The stack the fault test files share (test/faults.test.ts: batches, workers and Redis;
 * test/faults-reviews-webhooks.test.ts: reviews and webhook deliveries across a PostgreSQL
 * restart): a private PostgreSQL cluster and a private Redis (test/faults-services.ts: throwaway,
 * on free ports, never the shared ones), the app with a BullMQ producer on them, `bin/worker.ts`
 * processes, and the checks the tests make.
 *
 * {@link useFaultStack} starts them before a suite's tests and stops them after; the exported
 * `let` bindings ({@link pgsrv}, {@link redis}, {@link s}, {@link producer}) are live ES module
 * bindings set by its `beforeAll`: read them inside tests only.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { secretBox } from '../events/index.js';
import { createBullQueue, type BullQueue } from '../jobs/index.js';
import { invoiceSet, startStack, waitFor, type Stack } from './jobs-harness.js';
import {
  faultSuiteUnavailable,
  startPrivatePostgres,
  startPrivateRedis,
  startWorker,
  type PrivatePostgres,
  type PrivateRedis,
  type WorkerProcess,
} from './faults-services.js';

/** Why the fault suite cannot run here (warned once per file), or null when it can. */
export const unavailable = faultSuiteUnavailable();
if (unavailable) console.warn(`fault suite skipped: ${unavailable}`);

const PREFIX = 'faults';
/** Key of the webhook secrets, shared by the app under test and the worker processes. */
const WEBHOOK_KEY = Buffer.alloc(32, 3);
/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The private PostgreSQL cluster (stop and start it to fault the store). */
export let pgsrv: PrivatePostgres;
/** The private Redis (stop and start it to lose the queue's data). */
export let redis: PrivateRedis;
/** The app and its stores on {@link pgsrv}, with {@link producer} as its queue. */
export let s: Stack;
/** The app's BullMQ queue on {@link redis} (8 attempts, 200 ms backoff). */
export let producer: BullQueue;
/** The worker processes started by {@link worker}, killed after the suite. */
export const workers: WorkerProcess[] = [];

/**
 * Registers the suite's `beforeAll` (private PostgreSQL and Redis, the app on them with batch
 * chunks of 20) and `afterAll` (kills the workers, closes the app, destroys both servers).
 */
export function useFaultStack(): void {
  beforeAll(async () => {
    [pgsrv, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    s = await startStack(
      { engine: 'postgres', connectionString: pgsrv.url, maxConnections: 4 },
      {
        queue: () => {
          producer = createBullQueue({
            redisUrl: redis.url,
            prefix: PREFIX,
            timeoutMs: 1000,
            jobOptions: { attempts: 8, backoff: { delayMs: 200 } },
          });
          return producer;
        },
        app: {
          pingQueue: () => producer.ping(),
          webhooks: { policy: { allowLoopback: true, allowPrivate: false }, secrets: secretBox(WEBHOOK_KEY) },
        },
        batches: { chunkSize: 20 },
      },
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await s?.close();
    await redis?.destroy();
    pgsrv?.destroy();
  });
}

/** The environment of a worker process on the private servers (short locks, sweeps and backoffs). */
const workerEnv = (): Record<string, string> => ({
  DATABASE_URL: pgsrv.url,
  REDIS_URL: redis.url,
  QUEUE_PREFIX: PREFIX,
  WORKER_CONCURRENCY: '2',
  WORKER_LOCK_MS: '2000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  RECOVERY_SWEEP_MS: '1000',
  JOB_ATTEMPTS: '8',
  JOB_BACKOFF_MS: '200',
  WEBHOOK_SECRET_KEY: WEBHOOK_KEY.toString('base64'),
  WEBHOOK_ALLOW_LOOPBACK: '1',
  WEBHOOK_ATTEMPTS: '30',
  WEBHOOK_BACKOFF_MS: '100',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_RELAY_MS: '200',
});

/** Starts one more worker process (ready when it resolves). */
export const worker = async (): Promise<WorkerProcess> => {
  const w = await startWorker(workerEnv());
  workers.push(w);
  return w;
};

/** Submits a batch of `n` invoices with ids `${tag}-*`; expects 202. */
export const submit = async (tag: string, n: number) => {
  const res = await s.app.inject({
    method: 'POST',
    url: '/v1/batches',
    payload: { invoices: invoiceSet(tag, n) },
  });
  expect(res.statusCode, res.body).toBe(202);
  return res.json<{ batch_id: string; job_ids: string[]; enqueued: boolean }>();
};

/** The stored progress of batch `id` of tenant `default`. */
export const progress = async (id: string) => (await s.wired.batches.get('default', id))!;

/** Waits (up to 120 s) until batch `id` completes; the timeout names the last of `logs()`. */
export const finished = (id: string, logs: () => string) =>
  waitFor(
    `batch ${id} to complete\n${logs().slice(-3000)}`,
    async () => (await progress(id)).completedAt,
    120_000,
    250,
  );

/** The logs of every worker started, separated. */
export const logsOf = () => workers.map((w) => w.log()).join('\n----\n');

/** Exactly `n` invoices with ids `${tag}-*`, each with exactly one decision; every batch item points at one. */
export async function expectIntact(tag: string, n: number, batchId?: string): Promise<void> {
  const [r] = await s.wired.db.query(
    `SELECT count(*) AS invoices, count(DISTINCT i.invoice_id) AS ids, count(d.id) AS decisions
     FROM invoices i LEFT JOIN decisions d ON d.invoice_pk = i.pk
     WHERE i.tenant_id = 'default' AND i.invoice_id LIKE $1`,
    [`${tag}-%`],
  );
  expect({ invoices: Number(r!.invoices), ids: Number(r!.ids), decisions: Number(r!.decisions) }).toEqual({
    invoices: n,
    ids: n,
    decisions: n,
  });
  if (batchId) {
    const b = await progress(batchId);
    expect(b.counts).toEqual({ pending: 0, done: n, failed: 0 });
    const [j] = await s.wired.db.query(
      `SELECT count(*) AS n FROM batch_items bi JOIN decisions d ON d.id = bi.decision_id WHERE bi.batch_id = $1`,
      [batchId],
    );
    expect(Number(j!.n)).toBe(n);
  }
}
