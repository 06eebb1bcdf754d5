/**
 * Webhook delivery fairness, A/B in one run (`npx tsx bench/webhook-fairness.ts --base /work/main`):
 * the base tree's processor and relay (`fifo`) against this tree's (`fair`), and this tree's relay
 * with 2 slots (`cap2`, a plain cap of 2 per subscription), over one PostgreSQL schema
 * (`DATABASE_URL`), the in-process queue (4 delivery slots) and a loopback receiver.
 *
 * - trial: tenant A scores 20 invoices with 2 subscriptions that never answer
 *   (timeout 3000 ms), then tenant B's 1 invoice to a receiver that answers at once; the figure
 *   is B's delay, ms, from its event's append to its receipt.
 * - lone: one subscription, `--lone` deliveries, a receiver answering after 50 ms; deliveries/s.
 * Rounds alternate the variants' order.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import type { EventInput } from '../core/events.js';
import * as fairDelivery from '../events/delivery.js';
import { createPoster, secretBox } from '../events/index.js';
import { createInProcessQueue, createProcessors, trainingUnavailable } from '../jobs/index.js';
import { openDatabase, type SqlDatabase } from '../store/index.js';
import { appendEvents, createEventStore, type EventStore } from '../store/events.js';

type Delivery = typeof fairDelivery;
interface Variant {
  name: string;
  impl: Delivery;
  slots?: number;
}

const KEY = Buffer.alloc(32, 3);
const box = secretBox(KEY);

async function receiver() {
  const arrived = new Map<string, number>();
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      if (!arrived.has(id)) arrived.set(id, performance.now());
      if (req.url === '/hang') return void held.push(res);
      const ms = Number(req.url?.split('/')[2] ?? 0);
      setTimeout(() => res.writeHead(200).end('ok'), ms);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    arrived,
    url: (p: string) => `http://127.0.0.1:${port}${p}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const created = (tenantId: string): EventInput =>
  ({
    tenantId,
    name: 'decision.created',
    subject: randomUUID(),
    orderingKey: `invoice:${randomUUID()}`,
    data: {},
  }) as unknown as EventInput;

async function subscribe(events: EventStore, tenantId: string, url: string): Promise<string> {
  const id = randomUUID();
  const secretEnc = box.seal('whsec_bench', id);
  await events.createSubscription({
    id,
    tenantId,
    url,
    eventTypes: ['decision.created'],
    secretEnc,
    description: null,
    createdBy: null,
  });
  return id;
}

/** One delivering process of variant `v` with `timeoutMs`; `run` gets its store. */
async function withProcess<T>(
  db: SqlDatabase,
  v: Variant,
  timeoutMs: number,
  run: (events: EventStore) => Promise<T>,
): Promise<T> {
  const events = createEventStore(db);
  const poster = createPoster({ policy: { allowLoopback: true, allowPrivate: false }, timeoutMs });
  // eslint-disable-next-line prefer-const -- assigned after the processor that kicks it
  let relay: fairDelivery.DeliveryRelay | undefined;
  const processor = v.impl.createDeliverProcessor({
    events,
    poster,
    secrets: box,
    maxAttempts: 8,
    onSettled: () => relay?.kick(),
  });
  const queue = createInProcessQueue({
    processors: createProcessors({
      scoring: {} as never,
      batches: {} as never,
      train: trainingUnavailable,
      deliverWebhook: processor,
    }),
    jobOptionsByName: {
      'deliver-webhook': { attempts: 8, backoff: { type: 'exponential', delayMs: 10_000 } },
    },
  });
  relay = v.impl.createDeliveryRelay({
    events,
    queue,
    intervalMs: 1000,
    ...(v.slots ? { slots: v.slots } : {}),
    retry: { attempts: 8, backoff: { type: 'exponential', delayMs: 10_000, jitter: 0 } },
  });
  relay.start();
  try {
    return await run(events);
  } finally {
    await relay.stop();
    await queue.close();
    await poster.close();
  }
}

async function until(f: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await f())) {
    if (performance.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function trial(db: SqlDatabase, v: Variant): Promise<number> {
  const rx = await receiver();
  const slow = `bench-a-${randomUUID().slice(0, 6)}`;
  const ok = `bench-b-${randomUUID().slice(0, 6)}`;
  const events = createEventStore(db);
  const subs = [
    await subscribe(events, slow, rx.url('/hang')),
    await subscribe(events, slow, rx.url('/hang')),
  ];
  const okSub = await subscribe(events, ok, rx.url('/ok/0'));
  try {
    return await withProcess(db, v, 3000, async () => {
      for (let i = 0; i < 20; i++) await db.transaction((tx) => appendEvents(tx, [created(slow)]));
      const t0 = performance.now();
      const [e] = await db.transaction((tx) => appendEvents(tx, [created(ok)]));
      await until(() => rx.arrived.has(e!.id), 300_000);
      const ms = rx.arrived.get(e!.id)! - t0;
      await rx.close();
      return ms;
    });
  } finally {
    await rx.close();
    for (const s of subs) await events.deleteSubscription(slow, s, null);
    await events.deleteSubscription(ok, okSub, null);
  }
}

async function lone(db: SqlDatabase, v: Variant, n: number): Promise<number> {
  const rx = await receiver();
  const tenant = `bench-l-${randomUUID().slice(0, 6)}`;
  const events = createEventStore(db);
  const sub = await subscribe(events, tenant, rx.url('/ok/50'));
  await db.transaction((tx) =>
    appendEvents(
      tx,
      Array.from({ length: n }, () => created(tenant)),
    ),
  );
  try {
    return await withProcess(db, v, 10_000, async () => {
      const t0 = performance.now();
      await until(async () => {
        const r = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 AND state = 'delivered'`,
          [sub],
        );
        return r[0]!.n === n;
      }, 600_000);
      return (n / (performance.now() - t0)) * 1000;
    });
  } finally {
    await rx.close();
    await events.deleteSubscription(tenant, sub, null);
  }
}

const o = new Command()
  .requiredOption('--base <dir>', 'tree of the base (fifo) delivery code')
  .option('--rounds <n>', 'rounds', '2')
  .option('--lone <n>', 'deliveries of the lone subscriber', '400')
  .parse()
  .opts<{ base: string; rounds: string; lone: string }>();
const base = (await import(pathToFileURL(resolve(o.base, 'events/delivery.ts')).href)) as Delivery;
const variants: Variant[] = [
  { name: 'fifo', impl: base },
  { name: 'fair', impl: fairDelivery },
  { name: 'cap2', impl: fairDelivery, slots: 2 },
];
const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');
const schema = `bench_whfair_${randomUUID().slice(0, 8)}`;
const db = await openDatabase({ engine: 'postgres', connectionString: url, schema, maxConnections: 8 });
try {
  for (let r = 0; r < Number(o.rounds); r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const t = v.name === 'cap2' ? null : await trial(db, v);
      const l = await lone(db, v, Number(o.lone));
      console.log(
        JSON.stringify({
          round: r + 1,
          variant: v.name,
          trial_delay_ms: t && Math.round(t),
          lone_per_s: +l.toFixed(1),
        }),
      );
    }
  }
} finally {
  await db.close();
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
}
