/**
 * The event outbox append (store/events.ts appendEvents) writes any number of events in one
 * statement: consecutive sequence numbers after the tenant's head, in the given order, and one
 * pending delivery per matching live subscription carrying its own event's number and id, so
 * the lane order of deliveries (`heads`, `isHead`) follows the events. On PGlite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../core/events.js';
import { openDatabase, type SqlDatabase } from '../store/index.js';
import { appendEvents, createEventStore } from '../store/events.js';
import { engines } from './fixtures.js';
import { dropSchema } from './harness.js';

const event = (tenantId: string, name: EventInput['name'], subject: string): EventInput =>
  ({
    tenantId,
    name,
    subject,
    orderingKey: `invoice:${subject}`,
    data: { invoice_id: subject, name },
  }) as unknown as EventInput;

describe.each(engines('events_append'))('appendEvents on $name', ({ config }) => {
  const cfg = config();
  let db: SqlDatabase;
  beforeAll(async () => {
    db = await openDatabase(cfg);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await dropSchema(cfg);
  });

  it('numbers several events of one call after the head and gives each delivery its own event', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const sub = randomUUID();
    await db.query(
      `INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, secret_enc, created_at)
       VALUES ($1, $2, 'https://example.test/hook', ARRAY['decision.created', 'decision.released'], 'x', now())`,
      [sub, tenant],
    );
    const first = await db.transaction((tx) => appendEvents(tx, [event(tenant, 'decision.created', 'a')]));
    const many = await db.transaction((tx) =>
      appendEvents(tx, [
        event(tenant, 'decision.created', 'b'),
        event(tenant, 'decision.reviewed', 'a'),
        event(tenant, 'decision.released', 'a'),
        event(tenant, 'decision.created', 'c'),
      ]),
    );
    expect(first.map((e) => e.seq)).toEqual([1]);
    expect(many.map((e) => [e.seq, e.name, e.subject])).toEqual([
      [2, 'decision.created', 'b'],
      [3, 'decision.reviewed', 'a'],
      [4, 'decision.released', 'a'],
      [5, 'decision.created', 'c'],
    ]);
    const stored = await db.query<{ seq: number; id: string; type: string; data: unknown }>(
      `SELECT seq::int AS seq, id::text AS id, type, data FROM events WHERE tenant_id = $1 ORDER BY seq`,
      [tenant],
    );
    expect(stored).toEqual(
      [...first, ...many].map((e) => ({ seq: e.seq, id: e.id, type: e.name, data: e.data })),
    );
    // One delivery per subscribed event (not decision.reviewed), with that event's seq and id.
    const deliveries = await db.query<{ event_seq: number; event_id: string; ordering_key: string }>(
      `SELECT event_seq::int AS event_seq, event_id::text AS event_id, ordering_key FROM webhook_deliveries
       WHERE tenant_id = $1 ORDER BY event_seq`,
      [tenant],
    );
    const subscribed = [...first, ...many].filter((e) => e.name !== 'decision.reviewed');
    expect(deliveries).toEqual(
      subscribed.map((e) => ({ event_seq: e.seq, event_id: e.id, ordering_key: e.orderingKey })),
    );
    // Lane order: the release of `a` waits for its creation; `b` and `c` are heads.
    const events = createEventStore(db);
    const heads = (await events.heads(100)).filter((d) => d.tenantId === tenant).map((d) => d.eventSeq);
    expect(heads).toEqual([1, 2, 5]);
    const next = await db.transaction((tx) => appendEvents(tx, [event(tenant, 'decision.created', 'd')]));
    expect(next.map((e) => e.seq)).toEqual([6]);
  });

  it('writes nothing for no events and refuses events of several tenants', async () => {
    expect(await db.transaction((tx) => appendEvents(tx, []))).toEqual([]);
    await expect(
      db.transaction((tx) =>
        appendEvents(tx, [event('t1', 'decision.created', 'a'), event('t2', 'decision.created', 'b')]),
      ),
    ).rejects.toThrow(RangeError);
  });
});
