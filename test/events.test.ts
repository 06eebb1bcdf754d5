/**
 * Events out, end to end: a real HTTP receiver on 127.0.0.1 (node:http) subscribed over the
 * API; invoices scored, reviewed and released through the API; deliveries by the in-process
 * queue and by BullMQ workers on Redis (TEST_REDIS_URL), on PGlite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../core/events.js';
import type { Invoice } from '../core/invoice.js';
import { verifyWebhook } from '../events/index.js';
import {
  createBullQueue,
  createInProcessQueue,
  createProcessors,
  startBullWorkers,
  trainingUnavailable,
  type JobQueue,
  type RunningWorkers,
} from '../jobs/index.js';
import type { DeliveryRelay } from '../events/delivery.js';
import { modelAudit } from '../bin/models-api.js';
import { wireWebhooks, type WiredWebhooks } from '../bin/webhooks.js';
import { startHarness, type Harness } from './harness.js';
import { startReceiver, type Received } from './webhook-receiver.js';
import { decisionFor, engines, keysOf, makeInvoice } from './fixtures.js';
import { deleteRedisPrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from './jobs-harness.js';

const TEST_WEBHOOKS = {
  allowLoopback: true,
  allowPrivate: false,
  secretKey: Buffer.alloc(32, 7).toString('base64'),
  secretKeyFile: '/nonexistent/unused',
  attempts: 6,
  backoffMs: 20,
  // Generous: the shared test machine can be slow to answer even on loopback.
  timeoutMs: 2000,
  relayMs: 50,
};

// BullMQ runs beside PostgreSQL only: workers cannot share an embedded PGlite store.
const cases = engines('events').flatMap((e) => [
  { ...e, queue: 'in-process' as const },
  ...(TEST_REDIS_URL && e.name === 'postgres' ? [{ ...e, queue: 'bullmq' as const }] : []),
]);

describe.each(cases)('events out on $name with the $queue queue', ({ config, queue: kind }) => {
  let h: Harness;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let webhooks: WiredWebhooks;
  let queue: JobQueue;
  let relay: DeliveryRelay;
  let workers: RunningWorkers | null = null;
  const prefix = uniquePrefix('events');
  const tag = randomUUID().slice(0, 8);

  beforeAll(async () => {
    receiver = await startReceiver();
    h = await startHarness(config(), {
      app: (wired) => {
        webhooks = wireWebhooks(TEST_WEBHOOKS, wired.repo.events);
        const processors = createProcessors({
          scoring: wired.scoring,
          batches: wired.batches,
          train: trainingUnavailable,
          deliverWebhook: webhooks.jobs.processor,
        });
        if (kind === 'bullmq') {
          queue = createBullQueue({
            redisUrl: TEST_REDIS_URL!,
            prefix,
            jobOptionsByName: { 'deliver-webhook': webhooks.jobs.options },
          });
          workers = startBullWorkers({
            redisUrl: TEST_REDIS_URL!,
            prefix,
            processors,
            names: ['deliver-webhook'],
          });
        } else {
          queue = createInProcessQueue({
            processors,
            jobOptionsByName: { 'deliver-webhook': webhooks.jobs.options },
          });
        }
        relay = webhooks.jobs.relay(queue, () => undefined);
        relay.start();
        return { webhooks: webhooks.routes };
      },
    });
  });

  afterAll(async () => {
    await relay?.stop();
    await workers?.close();
    await queue?.close();
    await webhooks?.close();
    await receiver?.close();
    await h?.close();
    if (kind === 'bullmq') await deleteRedisPrefix(TEST_REDIS_URL!, prefix);
  });

  const subscribe = async (path: string, eventTypes: string[]) => {
    const r = await h.call('admin', {
      method: 'POST',
      url: '/v1/webhooks',
      payload: { url: receiver.url(path), event_types: eventTypes },
    });
    expect(r.statusCode, r.body).toBe(201);
    return r.json<{ id: string; secret: string }>();
  };
  const review = async (decisionId: string, outcome: string) => {
    const r = await h.call('reviewer', {
      method: 'POST',
      url: '/v1/reviews',
      payload: { decision_id: decisionId, outcome, idempotency_key: `rev-${decisionId}` },
    });
    expect(r.statusCode, r.body).toBe(201);
  };
  const feed = async (after = 0): Promise<CloudEvent[]> => {
    const r = await h.call('auditor', { method: 'GET', url: `/v1/events?after=${after}&limit=1000` });
    expect(r.statusCode, r.body).toBe(200);
    return r.json<{ items: CloudEvent[] }>().items;
  };
  const deliveries = async (subId: string) => {
    const r = await h.call('admin', { method: 'GET', url: `/v1/webhooks/${subId}/deliveries` });
    expect(r.statusCode, r.body).toBe(200);
    return r.json<{
      items: { id: string; state: string; attempts: number; generation: number; event_id: string }[];
    }>().items;
  };
  const invoice = (id: string, over: Partial<Invoice> = {}) =>
    makeInvoice({ invoice_id: `${tag}-${id}`, invoice_number: `INV-${tag}-${id}`, ...over });

  let all: { id: string; secret: string };

  it('scores, reviews and releases: every event arrives once after dedup, signed, in order per invoice', async () => {
    all = await subscribe('/ok', [
      'decision.created',
      'decision.reviewed',
      'decision.released',
      'decision.confirmed',
      'model.promoted',
    ]);
    const a = invoice('a');
    await h.scoreOk(a);
    const held1 = await h.scoreOk({ ...a, invoice_id: `${tag}-a-copy1` });
    const held2 = await h.scoreOk({ ...a, invoice_id: `${tag}-a-copy2` });
    const other = await h.scoreOk(invoice('b', { vendor: { id: 'V-900', name: 'Other Supply LLC' } }));
    expect([held1.decision, held2.decision]).toEqual(['HOLD', 'HOLD']);
    await review(held1.decision_id, 'false_positive');
    await review(held2.decision_id, 'confirmed');
    await review(other.decision_id, 'confirmed');

    const events = (await feed()).filter((e) => e.subject.startsWith(tag));
    const types = events.map((e) => `${e.type.replace('com.invoice-triage.', '')} ${e.subject}`);
    expect(types).toEqual(
      expect.arrayContaining([
        `decision.created.v1 ${tag}-a`,
        `decision.released.v1 ${tag}-a-copy1`,
        `decision.confirmed.v1 ${tag}-a-copy2`,
        `decision.reviewed.v1 ${tag}-b`,
      ]),
    );
    expect(events.length).toBe(4 + 3 + 2);
    const ids = new Set(events.map((e) => e.id));

    const fromOk = () =>
      receiver.received.filter((r) => r.path === '/ok' && ids.has(String(r.headers['webhook-id'])));
    await waitFor(
      'webhook deliveries',
      async () => new Set(fromOk().map((r) => r.headers['webhook-id'])).size === ids.size,
      60_000,
    );
    // Dedup by webhook-id: each event once, equal to the feed's copy, signed with the secret.
    const firstById = new Map<string, Received>();
    for (const r of fromOk())
      if (!firstById.has(String(r.headers['webhook-id']))) firstById.set(String(r.headers['webhook-id']), r);
    for (const e of events) {
      const r = firstById.get(e.id)!;
      expect(JSON.parse(r.body)).toEqual(e);
      expect(r.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
      expect(
        verifyWebhook({
          secret: all.secret,
          body: r.body,
          timestamp: String(r.headers['webhook-timestamp']),
          signature: String(r.headers['webhook-signature']),
        }),
      ).toBe(true);
      expect(
        verifyWebhook({
          secret: all.secret,
          body: r.body + ' ',
          timestamp: String(r.headers['webhook-timestamp']),
          signature: String(r.headers['webhook-signature']),
        }),
      ).toBe(false);
    }
    // In order per invoice: arrival order within each partition key follows the sequence.
    const arrivals = [...firstById.values()].map((r) => JSON.parse(r.body) as CloudEvent);
    for (const key of new Set(arrivals.map((e) => e.partitionkey))) {
      const seqs = arrivals.filter((e) => e.partitionkey === key).map((e) => Number(e.sequence));
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    // The receiver records a request before it answers, and the delivery is marked after the
    // answer: the last one may still be settling, so wait for the states, then check them all.
    const mine = async () => (await deliveries(all.id)).filter((d) => ids.has(d.event_id));
    await waitFor(
      'deliveries marked delivered',
      async () => (await mine()).every((d) => d.state !== 'pending'),
      30_000,
    ).catch(() => undefined);
    const settled = await mine();
    expect(settled.length).toBe(ids.size);
    expect(
      settled.map((d) => d.state),
      JSON.stringify(settled),
    ).toEqual(Array(ids.size).fill('delivered'));
  });

  it('the README snippet verifies a real delivery', async () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const block = /<!-- webhook-verify-snippet -->\s*```js\n([\s\S]*?)```/.exec(readme);
    expect(block, 'README has the verification snippet').not.toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'it-snippet-'));
    const file = join(dir, 'verify.mjs');
    writeFileSync(file, `${block![1]}\nexport { verifyWebhook };\n`);
    const { verifyWebhook: fromReadme } = (await import(pathToFileURL(file).href)) as {
      verifyWebhook: (secret: string, headers: IncomingHttpHeaders, rawBody: string) => boolean;
    };
    const delivered = receiver.received.find((r) => r.path === '/ok')!;
    expect(fromReadme(all.secret, delivered.headers, delivered.body)).toBe(true);
    expect(fromReadme(all.secret, delivered.headers, delivered.body.replace('"1.0"', '"1.1"'))).toBe(false);
    expect(fromReadme('whsec_wrong', delivered.headers, delivered.body)).toBe(false);
  });

  it('a receiver that answers 500 five times then 200 gets the event exactly once after retries', async () => {
    const sub = await subscribe('/flaky', ['decision.created']);
    const d = await h.scoreOk(invoice('flaky', { vendor: { id: 'V-901', name: 'Flaky Medical' } }));
    const event = (await feed()).find(
      (e) => e.subject === d.invoice_id && e.type.endsWith('decision.created.v1'),
    )!;
    await waitFor(
      'webhook deliveries',
      async () => (await deliveries(sub.id))[0]?.state === 'delivered',
      60_000,
    );
    const got = receiver.received.filter((r) => r.path === '/flaky' && r.headers['webhook-id'] === event.id);
    expect(got.map((r) => r.status)).toEqual([500, 500, 500, 500, 500, 200]);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    expect((await deliveries(sub.id))[0]).toMatchObject({ state: 'delivered', attempts: 6 });
  });

  it('a receiver that never answers ends in dead-letter, never slows scoring, and can be redelivered', async () => {
    const sub = await subscribe('/never', ['decision.created']);
    const d = await h.scoreOk(invoice('never', { vendor: { id: 'V-902', name: 'Silent Supply' } }));
    // While the receiver holds a delivery open, scoring still answers.
    await waitFor(
      'webhook deliveries',
      async () => receiver.received.some((r) => r.path === '/never' && r.status === null),
      30_000,
    );
    const during = await h.scoreOk(invoice('during', { vendor: { id: 'V-903', name: 'Busy Supply' } }));
    expect(during.decision_id).toBeTruthy();
    expect(receiver.received.some((r) => r.path === '/never' && r.status === null)).toBe(true);

    await waitFor(
      'webhook deliveries',
      async () => (await deliveries(sub.id)).some((x) => x.state === 'dead'),
      90_000,
    );
    const dead = (await deliveries(sub.id)).find((x) => x.state === 'dead')!;
    expect(dead.attempts).toBe(TEST_WEBHOOKS.attempts);
    const detail = await h.call('admin', {
      method: 'GET',
      url: `/v1/webhooks/${sub.id}/deliveries?state=dead`,
    });
    expect(detail.json().items[0].last_error).toMatch(/no answer within 2000 ms/);

    receiver.answerNever(false);
    const again = await h.call('admin', {
      method: 'POST',
      url: `/v1/webhooks/${sub.id}/deliveries/${dead.id}/redeliver`,
    });
    expect(again.statusCode, again.body).toBe(202);
    expect(again.json()).toMatchObject({ state: 'pending', attempts: 0, generation: 1 });
    await waitFor(
      'webhook deliveries',
      async () => (await deliveries(sub.id)).find((x) => x.id === dead.id)?.state === 'delivered',
      60_000,
    );
    const answered = receiver.received.filter((r) => r.path === '/never' && r.status === 200);
    expect(answered.length).toBeGreaterThanOrEqual(1);
    expect(new Set(answered.map((r) => r.headers['webhook-id']))).toContain(dead.event_id);
    // A pending or delivered one: delivered can be sent again, an unknown id is a 404.
    const missing = await h.call('admin', {
      method: 'POST',
      url: `/v1/webhooks/${sub.id}/deliveries/${randomUUID()}/redeliver`,
    });
    expect(missing).toBeProblem(404, 'TRIAGE_DELIVERY_NOT_FOUND');
    expect(d.invoice_id).toBe(`${tag}-never`);
  });

  it('a rolled-back scoring write leaves no event and no delivery; a committed one leaves one of each', async () => {
    const repo = h.wired.repo;
    const before = await feed();
    const deliveriesBefore = (await deliveries(all.id)).length;
    const inv = invoice('rollback', { vendor: { id: 'V-904', name: 'Rollback Medical' } });
    await expect(
      repo.withScoringLock('default', [], async (tx) => {
        await tx.insert(inv, 'h', keysOf(inv), decisionFor(inv));
        throw new Error('crash after the write');
      }),
    ).rejects.toThrow('crash after the write');
    expect(await repo.findByInvoiceId('default', inv.invoice_id)).toBeNull();
    expect((await feed()).length).toBe(before.length);
    expect((await deliveries(all.id)).length).toBe(deliveriesBefore);

    await repo.withScoringLock('default', [], (tx) => tx.insert(inv, 'h', keysOf(inv), decisionFor(inv)));
    const after = await feed(Number(before[before.length - 1]!.sequence));
    expect(after.map((e) => [e.type, e.subject])).toEqual([
      ['com.invoice-triage.decision.created.v1', inv.invoice_id],
    ]);
    expect((await deliveries(all.id)).length).toBe(deliveriesBefore + 1);
  });

  it('a model promotion is audited and emits model.promoted in the same transaction', async () => {
    const promoted = {
      type: 'model.promoted' as const,
      at: new Date().toISOString(),
      name: 'duplicate',
      version: '7',
      previousChampion: '1',
      actor: h.keyIds.ds,
      reason: null,
      forced: false,
      overriddenRefusal: null,
      rollback: false,
    };
    await modelAudit(h.wired.repo)(promoted, h.keyIds.ds, 'default');
    const last = (await feed()).at(-1)!;
    expect(last).toMatchObject({
      type: 'com.invoice-triage.model.promoted.v1',
      subject: 'duplicate@7',
      partitionkey: 'model:duplicate',
      data: { name: 'duplicate', version: '7', previous_champion: '1', forced: false, actor: h.keyIds.ds },
    });
    const audited = await h.wired.repo.audit.list('default', { subjectId: 'duplicate@7' });
    expect(audited.map((a) => a.kind)).toEqual(['model.promoted']);
    await waitFor('the promotion delivered', async () =>
      receiver.received.some((r) => r.headers['webhook-id'] === last.id),
    );
  });

  it('the feed pages by sequence, per tenant, and a workflow key reads only the invoices it scored', async () => {
    const everything = await feed();
    const seqs = everything.map((e) => Number(e.sequence));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const page1 = await h.call('auditor', { method: 'GET', url: '/v1/events?limit=2' });
    const p1 = page1.json<{ items: CloudEvent[]; next_after: number; has_more: boolean }>();
    expect(p1.items.map((e) => e.sequence)).toEqual(['1', '2']);
    expect(p1).toMatchObject({ next_after: 2, has_more: true });
    const page2 = await h.call('auditor', {
      method: 'GET',
      url: `/v1/events?after=${p1.next_after}&limit=2`,
    });
    expect(page2.json<{ items: CloudEvent[] }>().items.map((e) => e.sequence)).toEqual(['3', '4']);

    const mine = await h.call('workflow2', { method: 'GET', url: '/v1/events' });
    expect(mine.statusCode).toBe(200);
    expect(mine.json().items).toEqual([]);
    const workflow = await h.call('workflow', { method: 'GET', url: '/v1/events?limit=1000' });
    expect(workflow.json().items.length).toBeGreaterThan(0);
    expect(
      workflow.json().items.every((e: CloudEvent) => e.type.startsWith('com.invoice-triage.decision.')),
    ).toBe(true);
    // Tenant other sees none of default's events but the shared model's promotion.
    const other = await h.call('other_auditor', { method: 'GET', url: '/v1/events' });
    expect(other.json().items.map((e: CloudEvent) => [e.type, e.subject, e.sequence])).toEqual([
      ['com.invoice-triage.model.promoted.v1', 'duplicate@7', '1'],
    ]);
    expect((await h.call('reviewer', { method: 'GET', url: '/v1/events' })).statusCode).toBe(403);
    expect((await h.call('workflow', { method: 'GET', url: '/v1/webhooks' })).statusCode).toBe(403);
  });

  it('refuses bad subscriptions with 400 problem+json naming the field', async () => {
    const bad = async (payload: unknown) => {
      const r = await h.call('admin', { method: 'POST', url: '/v1/webhooks', payload: payload as object });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      return r.json<{ errors: { path: string; message: string }[] }>().errors;
    };
    const types = ['decision.created'];
    expect((await bad({ url: 'http://example.com/hook', event_types: types }))[0]).toMatchObject({
      path: '/url',
      message: expect.stringMatching(/https/),
    });
    expect((await bad({ url: 'https://10.1.2.3/hook', event_types: types }))[0]).toMatchObject({
      path: '/url',
      message: expect.stringMatching(/private/),
    });
    expect((await bad({ url: 'https://169.254.169.254/latest', event_types: types }))[0]).toMatchObject({
      path: '/url',
      message: expect.stringMatching(/linkLocal/),
    });
    expect((await bad({ url: 'https://[fd00::1]/hook', event_types: types }))[0]).toMatchObject({
      path: '/url',
    });
    expect((await bad({ url: 'https://0.0.0.0/hook', event_types: types }))[0]).toMatchObject({
      path: '/url',
    });
    expect((await bad({ url: 'https://user:pw@example.com/hook', event_types: types }))[0]).toMatchObject({
      path: '/url',
      message: expect.stringMatching(/credentials/),
    });
    expect((await bad({ url: 'not a url', event_types: types }))[0]).toMatchObject({ path: '/url' });
    expect(
      (await bad({ url: 'https://example.com/hook', event_types: ['decision.exploded'] }))[0]!.path,
    ).toMatch(/^\/event_types/);
    expect((await bad({ url: 'https://example.com/hook', event_types: [] }))[0]!.path).toBe('/event_types');
    expect(
      (await bad({ url: 'https://example.com/hook', event_types: types, secret: 'mine' }))[0]!.path,
    ).toMatch(/secret/);
    expect((await bad({ url: 'https://127.0.0.1/a\u0000b', event_types: types }))[0]!.path).toBe('/url');
    const query = async (key: 'admin' | 'auditor', url: string, path: string) => {
      const r = await h.call(key, { method: url.includes('redeliver') ? 'POST' : 'GET', url });
      expect(r.statusCode, `${url}: ${r.body}`).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toContain(path);
    };
    await query('auditor', '/v1/events?after=-1', '/querystring/after');
    await query('auditor', '/v1/events?after=9223372036854775808', '/querystring/after');
    await query('auditor', '/v1/events?after=abc', '/querystring/after');
    await query('auditor', '/v1/events?limit=0', '/querystring/limit');
    await query('auditor', '/v1/events?cursor=1', '/querystring/cursor');
    await query('admin', '/v1/webhooks/not-a-uuid', '/params/id');
    await query('admin', '/v1/webhooks/a%00b/deliveries', '/params/id');
    await query('admin', `/v1/webhooks/${all.id}/deliveries?state=lost`, '/querystring/state');
    await query('admin', `/v1/webhooks/${all.id}/deliveries/x/redeliver`, '/params/delivery_id');
    const list = await h.call('admin', { method: 'GET', url: '/v1/webhooks' });
    expect(list.json().items.every((s: { url: string }) => s.url.startsWith('http://127.0.0.1'))).toBe(true);
    expect(JSON.stringify(list.json())).not.toMatch(/whsec_/);
  });

  it('the OpenAPI document lists the routes and the CloudEvents schema of the feed', async () => {
    const doc = (await h.app.inject({ url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/webhooks',
        '/v1/webhooks/{id}',
        '/v1/webhooks/{id}/deliveries',
        '/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver',
        '/v1/events',
      ]),
    );
    const feedSchema = JSON.stringify(doc.paths['/v1/events']!.get!.responses['200']);
    for (const field of [
      'specversion',
      'datacontenttype',
      'partitionkey',
      'reason_codes',
      'previous_champion',
    ])
      expect(feedSchema).toContain(field);
  });

  it('delete cancels pending deliveries; another tenant sees a 404', async () => {
    const sub = await subscribe('/never', ['decision.created']);
    expect(
      (await h.call('other_admin', { method: 'DELETE', url: `/v1/webhooks/${sub.id}` })).statusCode,
    ).toBe(404);
    const del = await h.call('admin', { method: 'DELETE', url: `/v1/webhooks/${sub.id}` });
    expect(del.statusCode).toBe(200);
    expect((await h.call('admin', { method: 'GET', url: `/v1/webhooks/${sub.id}` })).json().code).toBe(
      'TRIAGE_WEBHOOK_NOT_FOUND',
    );
  });
});
