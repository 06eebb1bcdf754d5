/**
 * A workflow key reads the decisions of the batches it submitted, as it reads those it scored
 * one by one: `GET /v1/decisions/{id}` answers 200 for every decision its batch's results list
 * and `GET /v1/events` carries the batch's invoices; another workflow key of the tenant gets 404
 * and none of those events. On both engines, with the in-process queue and with BullMQ workers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../core/events.js';
import { invoiceOrderingKey } from '../core/events.js';
import { instrumentScoring } from '../api/metrics.js';
import { createBullQueue, createProcessors, startBullWorkers, trainingUnavailable } from '../jobs/index.js';
import { engines, makeInvoice, TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import {
  deleteRedisPrefix,
  startStack,
  TEST_REDIS_URL,
  uniquePrefix,
  waitFor,
  type Stack,
} from './jobs-harness.js';
import type { StoreConfig } from '../store/index.js';

/** Two workflow-only keys of the default tenant: the batch's submitter and another. */
async function workflowKeys(s: Stack): Promise<{ mine: string; other: string }> {
  const create = async (name: string) =>
    (await s.wired.repo.keys.create({ tenantId: 'default', name, roles: ['workflow'] }, null)).key;
  return { mine: await create('submitter'), other: await create('other workflow') };
}

const as = (key: string) => ({ authorization: `Bearer ${key}` });

/**
 * Submits a batch of 3 with one workflow key, waits for `settled`, and checks what that key and
 * another workflow key read.
 */
async function checkVisibility(
  s: Stack,
  tag: string,
  settled: (batchId: string) => Promise<unknown>,
): Promise<void> {
  const keys = await workflowKeys(s);
  const invoices = [0, 1, 2].map((i) => makeInvoice({ invoice_id: `${tag}-${i}` }));
  const post = await s.app.inject({
    method: 'POST',
    url: '/v1/batches',
    headers: as(keys.mine),
    payload: { invoices },
  });
  expect(post.statusCode, post.body).toBe(202);
  const batchId = post.json<{ batch_id: string }>().batch_id;
  await settled(batchId);
  const results = await s.app.inject({
    method: 'GET',
    url: `/v1/batches/${batchId}/results`,
    headers: as(keys.mine),
  });
  const items = results.json<{ items: { state: string; decision?: { decision_id: string } }[] }>().items;
  expect(items.map((it) => it.state)).toEqual(['done', 'done', 'done']);
  for (const url of [`/v1/batches/${batchId}`, `/v1/batches/${batchId}/results`]) {
    const other = await s.app.inject({ method: 'GET', url, headers: as(keys.other) });
    expect(other.statusCode, url).toBe(404);
    expect(other.json<{ code: string }>().code).toBe('TRIAGE_BATCH_NOT_FOUND');
    expect(other.body).not.toContain('decision_id');
  }
  for (const it of items) {
    const url = `/v1/decisions/${it.decision!.decision_id}`;
    const mine = await s.app.inject({ method: 'GET', url, headers: as(keys.mine) });
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json<{ decision_id: string }>().decision_id).toBe(it.decision!.decision_id);
    const other = await s.app.inject({ method: 'GET', url, headers: as(keys.other) });
    expect(other.statusCode).toBe(404);
    expect(other.json<{ code: string }>().code).toBe('TRIAGE_DECISION_NOT_FOUND');
  }
  const events = async (key: string) =>
    (await s.app.inject({ method: 'GET', url: '/v1/events?limit=1000', headers: as(key) })).json<{
      items: CloudEvent[];
    }>().items;
  const partitions = invoices.map((inv) => invoiceOrderingKey(inv.invoice_id));
  const mineSeen = new Set((await events(keys.mine)).map((e) => e.partitionkey));
  expect(partitions.filter((p) => !mineSeen.has(p))).toEqual([]);
  const otherSeen = new Set((await events(keys.other)).map((e) => e.partitionkey));
  expect(partitions.filter((p) => otherSeen.has(p))).toEqual([]);
}

describe.each(engines('batchvis'))('batch decisions read by their workflow key on $name', ({ config }) => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack(config());
  });
  afterAll(async () => s.close());

  it('the submitting key reads its batch decisions and events (in-process queue); another gets 404', async () => {
    await checkVisibility(s, 'vis-inproc', () => s.settle());
  });

  it('scopes a batch Idempotency-Key to the submitting key: another key gets its own batch', async () => {
    const keys = await workflowKeys(s);
    const post = (key: string, invoiceIds: string[]) =>
      s.app.inject({
        method: 'POST',
        url: '/v1/batches',
        headers: { ...as(key), 'idempotency-key': 'shared-idem-1' },
        payload: { invoices: invoiceIds.map((invoice_id) => makeInvoice({ invoice_id })) },
      });
    const first = await post(keys.mine, ['idem-a']);
    expect(first.statusCode, first.body).toBe(202);
    const firstId = first.json<{ batch_id: string }>().batch_id;
    const again = await post(keys.mine, ['idem-a']);
    expect(again.json<{ batch_id: string }>().batch_id).toBe(firstId);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const other = await post(keys.other, ['idem-a']);
    expect(other.statusCode, other.body).toBe(202);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(other.json<{ batch_id: string }>().batch_id).not.toBe(firstId);
    const otherNew = await post(keys.other, ['idem-b']);
    expect(otherNew.statusCode, otherNew.body).toBe(409);
    const conflict = await post(keys.mine, ['idem-b']);
    expect(conflict.statusCode, conflict.body).toBe(409);
    await s.settle();
  });
});

describe.skipIf(!TEST_REDIS_URL)('batch decisions read by their workflow key with BullMQ workers', () => {
  const redisUrl = TEST_REDIS_URL!;
  const cfg: StoreConfig = TEST_DATABASE_URL
    ? {
        engine: 'postgres',
        connectionString: TEST_DATABASE_URL,
        schema: uniqueSchema('bullvis'),
        maxConnections: 6,
      }
    : { engine: 'pglite' };
  const prefix = uniquePrefix('batchvis');
  let s: Stack;
  beforeAll(async () => {
    s = await startStack(cfg, { queue: () => createBullQueue({ redisUrl, prefix }) });
  });
  afterAll(async () => {
    await s.close();
    await deleteRedisPrefix(redisUrl, prefix);
  });

  it('the submitting key reads its batch decisions and events; another gets 404', async () => {
    const processors = createProcessors({
      scoring: instrumentScoring(s.wired.scoring, s.metrics, 'batch'),
      batches: s.wired.batches,
      train: trainingUnavailable,
    });
    const workers = startBullWorkers({
      redisUrl,
      prefix,
      names: ['score-batch'],
      processors,
    });
    try {
      await checkVisibility(s, 'vis-bull', (batchId) =>
        waitFor(
          'the batch to settle',
          async () => (await s.wired.batches.get('default', batchId))?.completedAt,
        ),
      );
    } finally {
      await workers.close();
    }
  });
});
