/**
 * Fair webhook delivery (events/delivery.ts relay, store/events.ts heads) on PGlite and
 * PostgreSQL, with the in-process queue (4 delivery slots) and a real loopback receiver: a tenant
 * whose receivers hang holds at most its share of the slots, so another tenant's healthy
 * receiver is served while those requests are still open; a subscription alone with work still
 * gets every slot; a failed attempt keeps its backoff across a restart (a new queue and relay).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../core/events.js';
import { deliveryJobId, fairShare, retryDelaysMs, secretBox } from '../events/index.js';
import { createInProcessQueue, createProcessors, trainingUnavailable, type JobQueue } from '../jobs/index.js';
import { wireWebhooks, type WiredWebhooks } from '../bin/webhooks.js';
import { openDatabase, type SqlDatabase } from '../store/index.js';
import { appendEvents, createEventStore, type EventStore } from '../store/events.js';
import type { DeliveryRelay } from '../events/delivery.js';
import { engines } from './fixtures.js';
import { dropSchema } from './harness.js';
import { waitFor } from './jobs-harness.js';

const KEY = Buffer.alloc(32, 5);
const CFG = {
  allowLoopback: true,
  allowPrivate: false,
  secretKey: KEY.toString('base64'),
  secretKeyFile: '/nonexistent/unused',
  attempts: 8,
  backoffMs: 60_000,
  // Longer than any test: a hanging request stays open until the receiver closes.
  timeoutMs: 120_000,
  relayMs: 50,
};

/** Loopback receiver: `/hang/*` never answers, `/ok/*` answers 200, `/gate/*` holds requests until `gateAt` are open. */
async function startReceiver(gateAt = 4) {
  const log: { path: string; id: string; openHang: number }[] = [];
  const gate: ServerResponse[] = [];
  let openHang = 0;
  let maxGate = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '';
      log.push({ path, id: String(req.headers['webhook-id']), openHang });
      if (path.startsWith('/hang/')) {
        openHang++;
        return;
      }
      if (path.startsWith('/gate/')) {
        gate.push(res);
        maxGate = Math.max(maxGate, gate.length);
        if (gate.length >= gateAt) for (const r of gate.splice(0)) r.writeHead(200).end('ok');
        return;
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    log,
    maxGate: () => maxGate,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const created = (tenantId: string, subject: string): EventInput =>
  ({
    tenantId,
    name: 'decision.created',
    subject,
    orderingKey: `invoice:${subject}`,
    data: { invoice_id: subject },
  }) as unknown as EventInput;

describe.each(engines('webhook_fair'))('fair webhook delivery on $name', ({ config }) => {
  const cfg = config();
  let db: SqlDatabase;
  let events: EventStore;
  const box = secretBox(KEY);

  beforeAll(async () => {
    db = await openDatabase(cfg);
    events = createEventStore(db);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await dropSchema(cfg);
  });

  const subscribe = async (tenantId: string, url: string): Promise<string> => {
    const id = randomUUID();
    await events.createSubscription({
      id,
      tenantId,
      url,
      eventTypes: ['decision.created'],
      secretEnc: box.seal('whsec_fair', id),
      description: null,
      createdBy: null,
    });
    return id;
  };
  const score = async (tenantId: string, n: number) => {
    for (let i = 0; i < n; i++)
      await db.transaction((tx) => appendEvents(tx, [created(tenantId, `inv-${randomUUID().slice(0, 8)}`)]));
  };
  const rows = (tenantId: string) =>
    db.query<{ subscription_id: string; state: string; attempts: number }>(
      `SELECT subscription_id::text AS subscription_id, state, attempts FROM webhook_deliveries WHERE tenant_id = $1`,
      [tenantId],
    );
  /** A delivering process: in-process queue (4 slots) and relay over the store. */
  const startProcess = (): { webhooks: WiredWebhooks; queue: JobQueue; relay: DeliveryRelay } => {
    const webhooks = wireWebhooks(CFG, events);
    const queue = createInProcessQueue({
      processors: createProcessors({
        // Only deliver-webhook jobs run here.
        scoring: {} as never,
        batches: {} as never,
        train: trainingUnavailable,
        deliverWebhook: webhooks.jobs.processor,
      }),
      jobOptionsByName: { 'deliver-webhook': webhooks.jobs.options },
    });
    const relay = webhooks.jobs.relay(queue, () => undefined);
    return { webhooks, queue, relay };
  };
  const stopAll = async (p: ReturnType<typeof startProcess>, receiver: { close(): Promise<void> }) => {
    await p.relay.stop();
    await receiver.close();
    await p.queue.close();
    await p.webhooks.close();
  };

  it("a tenant's hanging receivers hold one slot each: another tenant's event is delivered while they hang", async () => {
    const receiver = await startReceiver();
    const slow = `slow-${randomUUID().slice(0, 8)}`;
    const healthy = `healthy-${randomUUID().slice(0, 8)}`;
    const hang = [
      await subscribe(slow, receiver.url('/hang/1')),
      await subscribe(slow, receiver.url('/hang/2')),
    ];
    const ok = await subscribe(healthy, receiver.url('/ok/1'));
    await score(slow, 20);
    await score(healthy, 1);
    const p = startProcess();
    p.relay.start();
    try {
      await waitFor(
        'the healthy tenant is delivered',
        async () => (await rows(healthy)).every((r) => r.state === 'delivered'),
        30_000,
      );
      const okHit = receiver.log.find((r) => r.path === '/ok/1')!;
      // Every hanging attempt is still open: none has timed out, failed or been retried.
      const slowRows = await rows(slow);
      expect(slowRows).toHaveLength(40);
      expect(slowRows.filter((r) => r.attempts > 0)).toEqual([]);
      // At most one request per hanging subscription was open when the healthy one arrived, and
      // no other: 3 subscriptions with work share 4 slots, 1 each.
      expect(okHit.openHang).toBeLessThanOrEqual(2);
      const before = receiver.log.slice(0, receiver.log.indexOf(okHit));
      expect(before.map((r) => r.path).filter((x) => x !== '/hang/1' && x !== '/hang/2')).toEqual([]);
      expect(new Set(before.map((r) => r.path)).size).toBe(before.length);
      expect((await rows(healthy)).map((r) => [r.subscription_id, r.attempts])).toEqual([[ok, 1]]);
    } finally {
      await stopAll(p, receiver);
      for (const s of hang) await events.deleteSubscription(slow, s, null);
    }
  });

  it('a subscription alone with work gets all 4 slots at once', async () => {
    const receiver = await startReceiver(4);
    const tenant = `alone-${randomUUID().slice(0, 8)}`;
    await subscribe(tenant, receiver.url('/gate/1'));
    await score(tenant, 8);
    const p = startProcess();
    p.relay.start();
    try {
      // The gate answers only once 4 requests are open at once: a cap below 4 never gets there.
      await waitFor(
        'every delivery delivered',
        async () => (await rows(tenant)).every((r) => r.state === 'delivered'),
        30_000,
      );
      expect(receiver.maxGate()).toBe(4);
      expect(new Set(receiver.log.map((r) => r.id)).size).toBe(8);
      expect((await rows(tenant)).map((r) => r.attempts)).toEqual(Array(8).fill(1));
    } finally {
      await stopAll(p, receiver);
    }
  });

  it('heads come in rounds over subscriptions, and a failed attempt waits out its backoff across a restart', async () => {
    const tenant = `rr-${randomUUID().slice(0, 8)}`;
    const a = await subscribe(tenant, 'http://127.0.0.1:9/a');
    await score(tenant, 3);
    const b = await subscribe(tenant, 'http://127.0.0.1:9/b');
    await score(tenant, 1); // one delivery for a, one for b
    const mine = async (opts: Parameters<EventStore['heads']>[1]) =>
      (await events.heads(200, opts)).filter((d) => d.tenantId === tenant);
    const rounds = await mine({ perSubscription: 4 });
    expect(rounds.map((d) => d.subscriptionId)).toEqual([a, b, a, a, a]);
    expect((await mine({ perSubscription: 2 })).map((d) => d.subscriptionId)).toEqual([a, b, a]);
    // Without a cap: oldest first (the last event's two deliveries share its creation time).
    const all = (await mine({})).map((d) => d.subscriptionId);
    expect(all.slice(0, 3)).toEqual([a, a, a]);
    expect(all.slice(3).sort()).toEqual([a, b].sort());

    // b's only delivery fails once: with a 60 s backoff it is no head until 60 s after that attempt.
    const failed = rounds[1]!;
    expect(await events.recordFailure(failed.id, failed.generation, { status: 500, error: 'x' }, 8)).toBe(
      'retry',
    );
    const delays = retryDelaysMs({
      attempts: 8,
      backoff: { type: 'exponential', delayMs: 60_000, jitter: 0 },
    });
    expect(delays).toEqual([60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_840_000]);
    expect((await mine({ retryDelaysMs: delays })).map((d) => d.id)).not.toContain(failed.id);
    // A fresh process (new queue and relay, as after a restart) does not send it early.
    const p = startProcess();
    try {
      await p.relay.runOnce();
      expect(await p.queue.getJob('deliver-webhook', deliveryJobId(failed.id, failed.generation))).toBeNull();
      await db.query(
        `UPDATE webhook_deliveries SET last_attempt_at = last_attempt_at - interval '61 seconds' WHERE id = $1`,
        [failed.id],
      );
      expect((await mine({ retryDelaysMs: delays })).map((d) => d.id)).toContain(failed.id);
    } finally {
      await p.relay.stop();
      await p.queue.close();
      await p.webhooks.close();
      await events.deleteSubscription(tenant, a, null);
      await events.deleteSubscription(tenant, b, null);
    }
  });

  it('shares slots evenly, at least one per subscription', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => fairShare(4, n))).toEqual([4, 2, 1, 1, 1, 1]);
    expect(fairShare(4, 0)).toBe(4);
    expect(fairShare(8, 3)).toBe(2);
  });
});
