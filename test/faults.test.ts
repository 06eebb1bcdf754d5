/**
 * Faults against real services: a private PostgreSQL cluster and a private Redis (throwaway,
 * on free ports, never the shared ones), real `bin/worker.ts` processes, the real app. A worker
 * killed mid-job, PostgreSQL restarted during a batch, Redis lost and back: no invoice, decision
 * or job is lost or duplicated, and while a dependency is down the API answers 503 with
 * Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullQueue, type BullQueue } from '../jobs/index.js';
import { makeInvoice } from './fixtures.js';
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

const unavailable = faultSuiteUnavailable();
if (unavailable) console.warn(`fault suite skipped: ${unavailable}`);

const PREFIX = 'faults';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(unavailable !== null)('faults', () => {
  let pgsrv: PrivatePostgres;
  let redis: PrivateRedis;
  let s: Stack;
  let producer: BullQueue;
  const workers: WorkerProcess[] = [];

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
        app: { pingQueue: () => producer.ping() },
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
  });
  const worker = async (): Promise<WorkerProcess> => {
    const w = await startWorker(workerEnv());
    workers.push(w);
    return w;
  };
  const submit = async (tag: string, n: number) => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: { invoices: invoiceSet(tag, n) },
    });
    expect(res.statusCode, res.body).toBe(202);
    return res.json<{ batch_id: string; job_ids: string[]; enqueued: boolean }>();
  };
  const progress = async (id: string) => (await s.wired.batches.get('default', id))!;
  const finished = (id: string, logs: () => string) =>
    waitFor(
      `batch ${id} to complete\n${logs().slice(-3000)}`,
      async () => (await progress(id)).completedAt,
      120_000,
      250,
    );
  const logsOf = () => workers.map((w) => w.log()).join('\n----\n');

  /** Exactly `n` invoices with ids `${tag}-*`, each with exactly one decision; every batch item points at one. */
  async function expectIntact(tag: string, n: number, batchId?: string): Promise<void> {
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

  it('a worker killed mid-job (SIGKILL): another worker finishes the batch, nothing lost or doubled', async () => {
    const a = await worker();
    const batch = await submit('kill', 240);
    expect(batch.job_ids).toHaveLength(12);
    // Kill while a chunk job is active (its lock held by the dying worker).
    await waitFor(
      'a job in progress',
      async () =>
        (await progress(batch.batch_id)).counts.done >= 10 &&
        (await producer.counts())['score-batch'].active > 0,
      60_000,
      20,
    );
    await a.kill();
    const atKill = (await progress(batch.batch_id)).counts;
    expect(atKill.done).toBeLessThan(240);
    const b = await worker();
    await finished(batch.batch_id, logsOf);
    await expectIntact('kill', 240, batch.batch_id);
    for (const id of batch.job_ids) {
      expect((await producer.getJob('score-batch', id))?.state, id).toBe('completed');
    }
    expect(b.log()).not.toMatch(/"level":(50|60)/);
  }, 180_000);

  it('PostgreSQL restarted during a batch: the API answers 503 + Retry-After meanwhile; the batch completes intact', async () => {
    const batch = await submit('pgr', 160);
    await waitFor(
      'first decisions',
      async () => (await progress(batch.batch_id)).counts.done >= 10,
      60_000,
      50,
    );
    expect((await progress(batch.batch_id)).counts.pending, 'the batch is still running').toBeGreaterThan(0);
    // Requests in flight when the server goes down: each either completes or gets a 503, never a 500.
    const flight = Array.from({ length: 8 }, (_, i) =>
      s.app.inject({
        method: 'POST',
        url: '/v1/invoices/score',
        payload: makeInvoice({ invoice_id: `pgflight-${i}` }),
      }),
    );
    await sleep(30);
    pgsrv.stop('fast');
    const flown = await Promise.all(flight);
    expect(
      flown.map((r) => r.statusCode).every((c) => c === 200 || c === 503),
      flown.map((r) => r.body).join('\n'),
    ).toBe(true);
    try {
      const direct = makeInvoice({ invoice_id: 'pgdirect-1' });
      const score = await s.app.inject({ method: 'POST', url: '/v1/invoices/score', payload: direct });
      expect(score.statusCode, score.body).toBe(503);
      expect(score.headers['retry-after']).toBe('5');
      expect(score.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(score.json()).toMatchObject({ code: 'TRIAGE_STORE_UNAVAILABLE', retryable: true });
      const ready = await s.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.headers['retry-after']).toBe('5');
      expect(ready.json()).toMatchObject({
        code: 'TRIAGE_STORE_UNAVAILABLE',
        checks: { store: 'down', queue: 'ok' },
      });
      const post = await s.app.inject({
        method: 'POST',
        url: '/v1/batches',
        payload: { invoices: invoiceSet('pgdown', 2) },
      });
      expect(post.statusCode).toBe(503);
      expect(post.json().code).toBe('TRIAGE_STORE_UNAVAILABLE');
      const status = await s.app.inject({ url: `/v1/batches/${batch.batch_id}` });
      expect(status.statusCode).toBe(503);
      await sleep(1500);
    } finally {
      pgsrv.start();
    }
    // The client retries what was refused: stored once.
    const retry = await s.app.inject({
      method: 'POST',
      url: '/v1/invoices/score',
      payload: makeInvoice({ invoice_id: 'pgdirect-1' }),
    });
    expect(retry.statusCode, retry.body).toBe(200);
    for (let i = 0; i < 8; i++) {
      const again = await s.app.inject({
        method: 'POST',
        url: '/v1/invoices/score',
        payload: makeInvoice({ invoice_id: `pgflight-${i}` }),
      });
      expect(again.statusCode).toBe(200);
      expect(again.headers['idempotent-replayed'] === 'true').toBe(flown[i]!.statusCode === 200);
    }
    await expectIntact('pgflight', 8);
    await finished(batch.batch_id, logsOf);
    await expectIntact('pgr', 160, batch.batch_id);
    await expectIntact('pgdirect', 1);
    expect((await s.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  }, 180_000);

  it('Redis lost and back (its data gone): batches stay accepted and stored, the sweep re-enqueues them', async () => {
    const inflight = await submit('rds', 120);
    await waitFor(
      'first decisions',
      async () => (await progress(inflight.batch_id)).counts.done >= 10,
      60_000,
      50,
    );
    expect((await progress(inflight.batch_id)).counts.pending, 'the batch is still running').toBeGreaterThan(
      0,
    );
    await redis.stop();
    let whileDown: { batch_id: string; enqueued: boolean };
    try {
      whileDown = await submit('rdsdown', 40);
      expect(whileDown.enqueued).toBe(false);
      const ready = await s.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.headers['retry-after']).toBe('5');
      expect(ready.json()).toMatchObject({
        code: 'TRIAGE_QUEUE_UNAVAILABLE',
        checks: { store: 'ok', queue: 'down' },
      });
      // Scoring needs no queue.
      const score = await s.app.inject({
        method: 'POST',
        url: '/v1/invoices/score',
        payload: makeInvoice({ invoice_id: 'rdsdirect-1' }),
      });
      expect(score.statusCode).toBe(200);
      expect((await s.app.inject({ url: '/metrics' })).body).toContain('invoice_triage_queue_up 0');
      await sleep(1000);
    } finally {
      await redis.start();
    }
    await finished(inflight.batch_id, logsOf);
    await finished(whileDown.batch_id, logsOf);
    await expectIntact('rds', 120, inflight.batch_id);
    await expectIntact('rdsdown', 40, whileDown.batch_id);
    expect((await s.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  }, 180_000);

  it('a worker stops gracefully on SIGTERM (exit 0)', async () => {
    const w = workers.find((x) => x.child.exitCode === null && x.child.signalCode === null)!;
    expect(await w.stop()).toBe(0);
    expect(w.log()).toContain('worker stopped');
  }, 60_000);
});
