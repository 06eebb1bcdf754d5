/**
 * Batches and jobs end to end: `POST /v1/batches` -> stored -> chunk jobs -> decisions, on both
 * store engines with the in-process queue (BullMQ on Redis: test/jobs-bullmq.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TriageError } from '../core/errors.js';
import type { DecisionResponse } from '../core/decision.js';
import {
  chunkJobId,
  createProcessors,
  createRecoverySweep,
  trainingUnavailable,
  type JobQueue,
} from '../jobs/index.js';
import { engines, makeInvoice } from './fixtures.js';
import { inProcessQueue, invoiceSet, startStack, waitFor, type Stack } from './jobs-harness.js';
import type { Accepted, ResultsPage } from './jobs-harness.js';

describe.each(engines('jobs'))('batches on $name with the in-process queue', ({ config }) => {
  let s: Stack;
  /** While false, the queue's add() fails as if Redis were unreachable. */
  let queueUp = true;
  const cfg = config();
  beforeAll(async () => {
    s = await startStack(cfg, {
      tenantHeader: true,
      queue: (wired, metrics) => {
        const real = inProcessQueue(wired, metrics);
        return Object.assign(Object.create(real) as typeof real, {
          add: (async (...args: Parameters<JobQueue['add']>) => {
            if (!queueUp) throw new TriageError('TRIAGE_QUEUE_UNAVAILABLE', 'down');
            return real.add(...args);
          }) as JobQueue['add'],
        });
      },
    });
  });
  afterAll(async () => s.close());

  /** Stores a batch of `n` invoices while the queue is down (so no job runs it); returns its id. */
  const storedOnly = async (tag: string, n: number): Promise<string> => {
    queueUp = false;
    const res = await post({ invoices: invoiceSet(tag, n) });
    expect(res.json<Accepted>()).toMatchObject({ enqueued: false, job_ids: [] });
    return res.json<Accepted>().batch_id;
  };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    s.app.inject({ method: 'POST', url: '/v1/batches', payload: body as object, headers });
  const get = (url: string, headers: Record<string, string> = {}) =>
    s.app.inject({ method: 'GET', url, headers });
  const finished = (id: string) =>
    waitFor(`batch ${id}`, async () => {
      const r = get(`/v1/batches/${id}`);
      const b = (await r).json<{ state: string }>();
      return b.state === 'completed' ? b : null;
    });

  it('scores a batch: 202 with job ids, progress, paginated results; replays and conflicts per item', async () => {
    // One invoice scored before through the sync API (replayed in the batch), one id reused with other content.
    const before = makeInvoice({ invoice_id: 'jb-pre' });
    const pre = (
      await s.app.inject({ method: 'POST', url: '/v1/invoices/score', payload: before })
    ).json<DecisionResponse>();
    await s.app.inject({
      method: 'POST',
      url: '/v1/invoices/score',
      payload: makeInvoice({ invoice_id: 'jb-clash' }),
    });
    const invoices = [
      ...invoiceSet('jb', 118),
      before,
      makeInvoice({ invoice_id: 'jb-clash', total_cents: 1 }),
    ];
    const c0 = await s.counts();

    const res = await post({ invoices });
    expect(res.statusCode).toBe(202);
    const acc = res.json<Accepted>();
    expect(res.headers.location).toBe(`/v1/batches/${acc.batch_id}`);
    expect(acc).toMatchObject({ total: 120, enqueued: true });
    // Six vendors, fewer than a chunk gathers before its size bounds it: one chunk.
    expect(acc.job_ids).toEqual([chunkJobId(acc.batch_id, 0)]);
    // Stored before the answer: batch and every item are there.
    const c1 = await s.counts();
    expect(c1.batches - c0.batches).toBe(1);
    expect(c1.batch_items - c0.batch_items).toBe(120);

    const done = await finished(acc.batch_id);
    expect(done).toMatchObject({ total: 120, counts: { pending: 0, done: 119, failed: 1 } });
    const c2 = await s.counts();
    expect(c2.decisions - c0.decisions).toBe(118); // the replayed invoice reuses its decision

    const pages: ResultsPage[] = [];
    let after = -1;
    for (;;) {
      const page = (
        await get(`/v1/batches/${acc.batch_id}/results?limit=50&after=${after}`)
      ).json<ResultsPage>();
      pages.push(page);
      if (page.next_after === null) break;
      after = page.next_after;
    }
    expect(pages.map((p) => p.items.length)).toEqual([50, 50, 20]);
    const items = pages.flatMap((p) => p.items);
    expect(items.map((i) => i.index)).toEqual([...Array(120).keys()]);
    expect(items[118]).toMatchObject({ invoice_id: 'jb-pre', state: 'done', replayed: true });
    expect(items[118]!.decision!.decision_id).toBe(pre.decision_id);
    expect(items[119]).toMatchObject({ state: 'failed', error: { code: 'TRIAGE_INVOICE_CONFLICT' } });
    expect(items[119]!.decision).toBeUndefined();
    const one = items[7]!;
    expect(one).toMatchObject({ invoice_id: 'jb-7', state: 'done', replayed: false });
    const stored = (await get(`/v1/decisions/${one.decision!.decision_id}`)).json<DecisionResponse>();
    // The stored decision carries the batch result's fields, plus the explanation for auditors.
    expect(stored).toMatchObject(one.decision!);
  });

  it('replays an Idempotency-Key with the same invoices and refuses it with others', async () => {
    const invoices = invoiceSet('idem', 3);
    const key = { 'idempotency-key': 'client-batch-0001' };
    const a = await post({ invoices }, key);
    expect(a.statusCode).toBe(202);
    const c0 = await s.counts();
    const b = await post({ invoices }, key);
    expect(b.statusCode).toBe(202);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(b.json<Accepted>().batch_id).toBe(a.json<Accepted>().batch_id);
    const c = await post({ invoices: invoiceSet('idem-other', 3) }, key);
    expect(c.statusCode).toBe(409);
    expect(c.json()).toMatchObject({
      code: 'TRIAGE_IDEMPOTENCY_CONFLICT',
      errors: [{ path: '/headers/idempotency-key' }],
    });
    const c1 = await s.counts();
    expect(c1.batches).toBe(c0.batches);
    expect(c1.batch_items).toBe(c0.batch_items);
    const bad = await post({ invoices }, { 'idempotency-key': 'has space' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/headers/idempotency-key');
  });

  it('rejects the whole batch, naming each bad field by index, and stores nothing', async () => {
    await s.settle();
    const c0 = await s.counts();
    const invoices: unknown[] = invoiceSet('bad', 5);
    invoices[3] = { ...(invoices[3] as object), total_cents: '12.50' };
    invoices[4] = { ...(invoices[4] as object), invoice_id: 'bad-1' };
    const res = await post({ invoices });
    expect(res).toBeProblem(400, 'TRIAGE_INPUT_INVALID');
    // Every bad invoice is named: the schema fault of item 3 and the rule fault (an invoice_id
    // repeated within the batch) of item 4 in one answer.
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual([
      '/invoices/3/total_cents',
      '/invoices/4/invoice_id',
    ]);
    invoices[3] = { ...(invoices[3] as object), total_cents: 1250 };
    const dup = await post({ invoices });
    expect(dup.json().errors).toEqual([
      { path: '/invoices/4/invoice_id', message: 'duplicates invoice_id of /invoices/1' },
    ]);
    expect((await post({ invoices: [] })).json().errors[0].path).toBe('/invoices');
    expect((await post({ invoices: invoiceSet('x', 1), extra: 1 })).json().errors[0].path).toBe('/extra');
    expect(await s.counts()).toEqual(c0);
  });

  it('caps the listed field errors at 100 and says how many there were', async () => {
    // Rule errors (an unknown ISO 4217 code) are all counted; schema errors stop at TypeBox's 8.
    const invoices = invoiceSet('many', 300).map((inv) => ({ ...inv, currency: 'ZZZ' }));
    const res = await s.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: { invoices },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toHaveLength(100);
    expect(res.json().detail).toMatch(/^300 fields invalid/);
  });

  it('keeps batches of one tenant invisible to another', async () => {
    const res = await post({ invoices: invoiceSet('tenant-a', 2) }, { 'x-test-tenant': 'tenant-a' });
    const id = res.json<Accepted>().batch_id;
    await waitFor(
      'tenant batch',
      async () =>
        (await get(`/v1/batches/${id}`, { 'x-test-tenant': 'tenant-a' })).json().state === 'completed',
    );
    for (const url of [`/v1/batches/${id}`, `/v1/batches/${id}/results`]) {
      const other = await get(url, { 'x-test-tenant': 'tenant-b' });
      expect(other).toBeProblem(404, 'TRIAGE_BATCH_NOT_FOUND');
    }
    const mine = (
      await get(`/v1/batches/${id}/results`, { 'x-test-tenant': 'tenant-a' })
    ).json<ResultsPage>();
    expect(mine.items.map((i) => i.state)).toEqual(['done', 'done']);
    expect((await get(`/v1/batches/00000000-0000-4000-8000-000000000000`)).statusCode).toBe(404);
    expect((await get(`/v1/batches/not-a-uuid`)).json().errors[0].path).toBe('/params/id');
  });

  it('counts batch decisions, queue depth and model versions in /metrics', async () => {
    const text = (await get('/metrics')).body;
    expect(text).toMatch(
      /invoice_triage_decisions_total\{decision="[A-Z_]+",queue="[a-z]+",source="batch"\} \d+/,
    );
    expect(text).toMatch(/invoice_triage_queue_jobs\{queue="score-batch",state="completed"\} [1-9]/);
    expect(text).toContain(
      'invoice_triage_model_info{task="coding-mismatch",version="heuristic-coding@1"} 1',
    );
    expect(text).toMatch(
      /invoice_triage_http_request_duration_seconds_count\{method="POST",route="\/v1\/batches",status_code="202"\} [1-9]/,
    );
    expect(text).toContain('invoice_triage_queue_up 1');
  });

  it('documents the batch, readiness and metrics routes in OpenAPI', async () => {
    const doc = (await get('/docs/json')).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/batches',
        '/v1/batches/{id}',
        '/v1/batches/{id}/results',
        '/readyz',
        '/metrics',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/batches']!.post!.responses)).toEqual(
      expect.arrayContaining(['202', '400', '409', '413', '429', '503']),
    );
  });

  it('accepts a batch while the queue is down and the sweep enqueues it once it is back', async () => {
    queueUp = false;
    const res = await post({ invoices: invoiceSet('rec', 60) });
    expect(res.statusCode).toBe(202);
    const acc = res.json<Accepted>();
    expect(acc).toMatchObject({ enqueued: false, job_ids: [], state: 'queued', counts: { pending: 60 } });
    const sweep = createRecoverySweep({ queue: s.queue, batches: s.wired.batches, graceMs: 0 });
    await expect(sweep.runOnce()).rejects.toThrow(TriageError);
    queueUp = true;
    expect(await sweep.runOnce()).toEqual({ requeued: 1, completed: 0 });
    await waitFor(
      'recovered batch',
      async () => (await s.wired.batches.get('default', acc.batch_id))?.completedAt,
    );
    const b = await s.wired.batches.get('default', acc.batch_id);
    expect(b!.counts).toEqual({ pending: 0, done: 60, failed: 0 });
    // Nothing left to do: a second sweep adds nothing.
    expect(await sweep.runOnce()).toEqual({ requeued: 0, completed: 0 });
  });

  it('never writes a second decision when a chunk runs twice, even at the same time', async () => {
    const id = await storedOnly('twice', 30);
    const c0 = await s.counts();
    const p = createProcessors({
      scoring: s.wired.scoring,
      batches: s.wired.batches,
      train: trainingUnavailable,
    });
    const data = { tenantId: 'default', batchId: id, chunk: 0, from: 0, to: 30 };
    const ctx = { id: 'x', attempt: 1, updateProgress: async () => undefined };
    const [a, b] = await Promise.all([p['score-batch'](data, ctx), p['score-batch'](data, ctx)]);
    expect(a.scored + b.scored).toBe(30);
    expect(a.scored + a.replayed + b.scored + b.replayed + a.skipped + b.skipped).toBe(60);
    const again = await p['score-batch'](data, ctx);
    expect(again).toEqual({ scored: 0, replayed: 0, failed: 0, skipped: 30 });
    const c1 = await s.counts();
    expect(c1.decisions - c0.decisions).toBe(30);
    expect(c1.invoices - c0.invoices).toBe(30);
    expect((await s.wired.batches.get('default', id))!.completedAt).not.toBeNull();
  });

  it('gives up on an item that keeps failing, after the configured attempts', async () => {
    const id = await storedOnly('poison', 2);
    const flaky = {
      score: async (inv: Parameters<typeof s.wired.scoring.score>[0], t?: string) => {
        if (inv.invoice_id === 'poison-1') throw new Error('bug');
        return s.wired.scoring.score(inv, t);
      },
    };
    const p = createProcessors({
      scoring: flaky,
      batches: s.wired.batches,
      train: trainingUnavailable,
      maxItemAttempts: 3,
    });
    const data = { tenantId: 'default', batchId: id, chunk: 0, from: 0, to: 2 };
    const ctx = { id: 'x', attempt: 1, updateProgress: async () => undefined };
    await expect(p['score-batch'](data, ctx)).rejects.toThrow('bug');
    await expect(p['score-batch'](data, ctx)).rejects.toThrow('bug');
    expect(await p['score-batch'](data, ctx)).toEqual({ scored: 0, replayed: 0, failed: 1, skipped: 1 });
    const page = await s.wired.batches.results('default', id, -1, 10);
    expect(page!.items.map((i) => [i.state, i.error?.code ?? null])).toEqual([
      ['done', null],
      ['failed', 'TRIAGE_BATCH_ITEM_ABANDONED'],
    ]);
  });
});

/** A small real trainer: 1-D logistic regression by gradient descent on seeded synthetic data. */
