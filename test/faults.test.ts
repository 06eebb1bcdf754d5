/**
 * Faults of batches against real services (test/faults-harness.ts: a private PostgreSQL cluster
 * and a private Redis, real `bin/worker.ts` processes, the real app). A worker killed mid-job,
 * PostgreSQL restarted during a batch, Redis lost and back: no invoice, decision or job is lost
 * or duplicated, and while a dependency is down the API answers 503 with Retry-After; a worker
 * stops gracefully on SIGTERM. Reviews and webhook deliveries across a PostgreSQL restart are in
 * test/faults-reviews-webhooks.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { makeInvoice } from './fixtures.js';
import { invoiceSet, waitFor } from './jobs-harness.js';
import {
  expectIntact,
  finished,
  logsOf,
  pgsrv,
  producer,
  progress,
  redis,
  s,
  sleep,
  submit,
  unavailable,
  useFaultStack,
  worker,
  workers,
} from './faults-harness.js';

describe.skipIf(unavailable !== null)('faults', () => {
  useFaultStack();

  it('a worker killed mid-job (SIGKILL): another worker finishes the batch, nothing lost or doubled', async () => {
    const a = await worker();
    const batch = await submit('kill', 240);
    // A chunk per vendor: five vendors of 48 invoices each (chunks of 20 keep a vendor whole).
    expect(batch.job_ids).toHaveLength(5);
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
      expect(post).toBeProblem(503, 'TRIAGE_STORE_UNAVAILABLE');
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
