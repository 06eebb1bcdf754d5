/**
 * The event outbox and webhook bookkeeping.
 *
 * {@link appendEvents} writes event rows inside the caller's transaction (the scoring write,
 * the review write, the model-promotion audit), numbering them per tenant under a row lock of
 * `event_heads` held until commit, and adds a pending delivery for every live subscription of
 * the tenant to that type. A rolled-back change therefore leaves no event and no delivery; a
 * committed one always has both.
 *
 * Ordering rule of deliveries: within one subscription, a delivery is attempted only when every
 * delivery of an earlier event (smaller `event_seq`) with the same ordering key is `delivered`,
 * `dead` or `cancelled` ({@link EventStore.heads}, {@link EventStore.isHead}).
 */
import { randomUUID } from 'node:crypto';
import type { DecisionResponse } from '../core/decision.js';
import {
  invoiceOrderingKey,
  type EventInput,
  type EventName,
  type HoldSettledData,
  type StoredEvent,
} from '../core/events.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import type { ReviewRecord } from './reviews.js';
import { EARLIER_PENDING, queryHeads, type HeadsOptions } from './delivery-heads.js';

export type { HeadsOptions } from './delivery-heads.js';

/** Delivery states: pending -> delivered | dead (attempts used up) | cancelled (subscription deleted). */
export type DeliveryState = 'pending' | 'delivered' | 'dead' | 'cancelled';

/**
 * Appends events to the outbox inside `tx`, with a pending delivery per matching live
 * subscription, in one statement whatever their number: the tenant's head moves by the number
 * of events, and event `j` (1-based) takes sequence number `head - n + j`, so the events keep
 * their order and every delivery carries its own event's number. Call it in the transaction of
 * the change the events report; the events of one call belong to one tenant.
 * @returns the stored events, in order.
 * @throws RangeError when the events belong to more than one tenant.
 */
export async function appendEvents(tx: SqlExecutor, events: readonly EventInput[]): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  const tenantId = events[0]!.tenantId;
  if (events.some((e) => e.tenantId !== tenantId)) throw new RangeError('events of one tenant per append');
  const time = new Date().toISOString();
  const ids = events.map(() => randomUUID());
  const rows = await tx.query<{ seq: string }>(
    `WITH h AS (
       INSERT INTO event_heads AS h (tenant_id, seq) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET seq = h.seq + $2 RETURNING seq),
     e AS (
       SELECT h.seq - $2 + u.ord AS seq, u.*
       FROM h, unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::uuid[])
         WITH ORDINALITY AS u(id, type, subject, ordering_key, data, decision_id, ord)),
     ev AS (
       INSERT INTO events (tenant_id, seq, id, type, subject, ordering_key, time, data, scope_key_id)
       SELECT $1, e.seq, e.id, e.type, e.subject, e.ordering_key, $9, e.data::jsonb,
         (SELECT d.scored_by_key_id FROM decisions d WHERE d.id = e.decision_id AND d.tenant_id = $1)
       FROM e),
     dl AS (
       INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event_seq, event_id, ordering_key, created_at)
       SELECT gen_random_uuid(), $1, s.id, e.seq, e.id, e.ordering_key, now() FROM e, webhook_subscriptions s
       WHERE s.tenant_id = $1 AND s.deleted_at IS NULL AND e.type = ANY (s.event_types))
     SELECT seq::text AS seq FROM e ORDER BY e.ord`,
    [
      tenantId,
      events.length,
      ids,
      events.map((e) => e.name),
      events.map((e) => e.subject),
      events.map((e) => e.orderingKey),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => e.decisionId ?? null),
      time,
    ],
    { name: 'append_events' },
  );
  return events.map((e, j) => ({
    tenantId,
    seq: Number(rows[j]!.seq),
    id: ids[j]!,
    name: e.name,
    subject: e.subject,
    orderingKey: e.orderingKey,
    time,
    data: e.data,
  }));
}

/** The `decision.created` event of a newly stored decision. */
export function decisionCreatedEvent(tenantId: string, d: DecisionResponse): EventInput<'decision.created'> {
  return {
    tenantId,
    name: 'decision.created',
    subject: d.invoice_id,
    orderingKey: invoiceOrderingKey(d.invoice_id),
    decisionId: d.decision_id,
    data: {
      decision_id: d.decision_id,
      invoice_id: d.invoice_id,
      decision: d.decision,
      queue: d.queue ?? null,
      reason_codes: d.reasons.map((r) => r.code),
      scores: { coding_mismatch: d.scores.coding_mismatch, duplicate: d.scores.duplicate },
      duplicate_of: d.duplicates.map((x) => x.invoice_id),
      policy: d.versions.policy,
      models: { ...d.versions.models },
    },
  };
}

/**
 * The events of a stored review: `decision.reviewed`, and when it settles a HOLD, `decision.released`
 * (`false_positive`) or `decision.confirmed` (`confirmed`, `corrected_code`). Reads the reviewer key's roles.
 * @param settles non-null when this review settles a HOLD: it closed the open item (`supersedes` null), or
 *   the item was closed by a review that settled it the other way, named in `supersedes` (the ERP must hear
 *   it); `by`: the line review the event names instead, whose exception holds back this `false_positive`.
 */
export async function reviewEvents(
  tx: SqlExecutor,
  tenantId: string,
  review: ReviewRecord,
  decision: Pick<DecisionResponse, 'decision_id' | 'invoice_id' | 'queue'>,
  settles: { supersedes: HoldSettledData['supersedes'] | null; by?: ReviewRecord | null } | null,
): Promise<EventInput[]> {
  const keyRows = await tx.query<{ roles: string[] }>('SELECT roles FROM api_keys WHERE id::text = $1', [
    review.reviewer_key_id,
  ]);
  const base = { tenantId, subject: review.invoice_id, orderingKey: invoiceOrderingKey(review.invoice_id) };
  const events: EventInput[] = [
    {
      ...base,
      name: 'decision.reviewed',
      decisionId: review.decision_id,
      data: {
        decision_id: review.decision_id,
        invoice_id: review.invoice_id,
        review_id: review.review_id,
        task: review.task,
        outcome: review.outcome,
        label: review.task === 'other' ? null : review.outcome === 'false_positive' ? 0 : 1,
        line_number: review.line_number,
        corrected_code: review.corrected_code,
        duplicate_of_invoice_id: review.duplicate_of_invoice_id,
        reviewer: { key_id: review.reviewer_key_id, roles: keyRows[0]?.roles ?? [] },
        item_status: review.item_status,
      },
    },
  ];
  if (settles) {
    const settler = settles.by ?? review;
    events.push({
      ...base,
      name: settler.outcome === 'false_positive' ? 'decision.released' : 'decision.confirmed',
      decisionId: review.decision_id,
      data: {
        decision_id: review.decision_id,
        invoice_id: review.invoice_id,
        review_id: settler.review_id,
        queue: decision.queue ?? null,
        outcome: settler.outcome,
        task: settler.task,
        duplicate_of_invoice_id: settler.duplicate_of_invoice_id,
        ...(settles.supersedes ? { supersedes: settles.supersedes } : {}),
      },
    });
  }
  return events;
}

/** A webhook subscription as stored (the secret stays encrypted). Dates ISO 8601. */
export interface SubscriptionRecord {
  id: string;
  tenantId: string;
  url: string;
  eventTypes: EventName[];
  description: string | null;
  createdAt: string;
  createdBy: string | null;
  deletedAt: string | null;
}

/** A delivery as stored. Dates ISO 8601. */
export interface DeliveryRecord {
  id: string;
  tenantId: string;
  subscriptionId: string;
  eventSeq: number;
  eventId: string;
  orderingKey: string;
  state: DeliveryState;
  attempts: number;
  generation: number;
  /** HTTP status of the last attempt; null when no answer (timeout, refused, blocked address). */
  lastStatus: number | null;
  /** Why the last attempt failed (a short technical reason, never the response body). */
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

/** What a delivery attempt needs: the delivery, its subscription and its event. */
export interface DeliveryWork {
  delivery: DeliveryRecord;
  subscription: SubscriptionRecord & { secretEnc: string };
  event: StoredEvent;
}

/** Outcome of {@link EventStore.recordFailure}. */
export type FailureOutcome = 'retry' | 'dead' | 'stale';

/** Event feed, subscriptions and deliveries. */
export interface EventStore {
  /**
   * A page of the tenant's events with `seq > afterSeq`, oldest first. With `scopeKeyId`, only
   * events about decisions that key scored (the feed of a workflow-only key).
   */
  feed(
    tenantId: string,
    opts: { afterSeq: number; limit: number; scopeKeyId?: string },
  ): Promise<StoredEvent[]>;
  createSubscription(s: {
    id: string;
    tenantId: string;
    url: string;
    eventTypes: readonly EventName[];
    secretEnc: string;
    description: string | null;
    createdBy: string | null;
  }): Promise<SubscriptionRecord>;
  /** Live subscriptions of the tenant, oldest first. */
  listSubscriptions(tenantId: string): Promise<SubscriptionRecord[]>;
  /** A live subscription of the tenant, or null. */
  getSubscription(tenantId: string, id: string): Promise<SubscriptionRecord | null>;
  /** Deletes a subscription and cancels its pending deliveries; null when the tenant has no such live one. */
  deleteSubscription(tenantId: string, id: string, by: string | null): Promise<SubscriptionRecord | null>;
  /** Deliveries of a subscription by event seq (ascending), after `afterSeq`, optionally of one state. */
  listDeliveries(
    tenantId: string,
    subscriptionId: string,
    opts: { afterSeq: number; limit: number; state?: DeliveryState },
  ): Promise<DeliveryRecord[]>;
  /** One delivery of the tenant's subscription, or null. */
  getDelivery(tenantId: string, subscriptionId: string, deliveryId: string): Promise<DeliveryRecord | null>;
  /** Delivery, subscription (with the encrypted secret) and event, or null when the delivery is gone. */
  work(deliveryId: string): Promise<DeliveryWork | null>;
  /** True when no earlier delivery of the same subscription and ordering key is still pending. */
  isHead(deliveryId: string): Promise<boolean>;
  /**
   * Pending deliveries that may be attempted now, all tenants: lane heads (see the ordering rule)
   * whose backoff has passed. Without options, every head oldest first. With `perSubscription`,
   * at most that many per subscription (its oldest), in rounds: the oldest head of every
   * subscription first (oldest first), then the second of each, and so on.
   */
  heads(limit: number, opts?: HeadsOptions): Promise<DeliveryRecord[]>;
  /** Marks a pending delivery of `generation` delivered; false when it was not pending in that generation. */
  markDelivered(deliveryId: string, generation: number, status: number): Promise<boolean>;
  /**
   * Records a failed attempt of a pending delivery of `generation`: `dead` once `attempts`
   * reaches `maxAttempts`, else `retry`; `stale` when it was not pending in that generation.
   */
  recordFailure(
    deliveryId: string,
    generation: number,
    failure: { status: number | null; error: string },
    maxAttempts: number,
  ): Promise<FailureOutcome>;
  /**
   * Puts a delivered or dead delivery back to pending: attempts 0, generation + 1.
   * @returns the delivery, or null when the tenant's subscription has no such delivery.
   */
  redeliver(tenantId: string, subscriptionId: string, deliveryId: string): Promise<DeliveryRecord | null>;
}

type Row = Record<string, unknown>;

const iso = (v: unknown): string | null =>
  v === null || v === undefined
    ? null
    : v instanceof Date
      ? v.toISOString()
      : new Date(String(v)).toISOString();

function toEvent(r: Row): StoredEvent {
  return {
    tenantId: String(r.tenant_id),
    seq: Number(r.seq),
    id: String(r.id),
    name: r.type as EventName,
    subject: String(r.subject),
    orderingKey: String(r.ordering_key),
    time: String(r.time),
    data: r.data,
  };
}

function toSubscription(r: Row): SubscriptionRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    url: String(r.url),
    eventTypes: r.event_types as EventName[],
    description: (r.description as string | null) ?? null,
    createdAt: iso(r.created_at)!,
    createdBy: (r.created_by as string | null) ?? null,
    deletedAt: iso(r.deleted_at),
  };
}

function toDelivery(r: Row): DeliveryRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    subscriptionId: String(r.subscription_id),
    eventSeq: Number(r.event_seq),
    eventId: String(r.event_id),
    orderingKey: String(r.ordering_key),
    state: r.state as DeliveryState,
    attempts: Number(r.attempts),
    generation: Number(r.generation),
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastError: (r.last_error as string | null) ?? null,
    lastAttemptAt: iso(r.last_attempt_at),
    deliveredAt: iso(r.delivered_at),
    createdAt: iso(r.created_at)!,
  };
}

const EVENT_COLUMNS = 'tenant_id, seq::text AS seq, id::text AS id, type, subject, ordering_key, time, data';
const SUB_COLUMNS =
  'id::text AS id, tenant_id, url, event_types, description, created_at, created_by, deleted_at, secret_enc';
const DELIVERY_COLUMNS = `id::text AS id, tenant_id, subscription_id::text AS subscription_id, event_seq::text AS event_seq,
  event_id::text AS event_id, ordering_key, state, attempts, generation, last_status, last_error, last_attempt_at,
  delivered_at, created_at`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The event store over an opened, migrated database. */
export function createEventStore(db: SqlDatabase): EventStore {
  const getDelivery: EventStore['getDelivery'] = async (tenantId, subscriptionId, deliveryId) => {
    if (!UUID.test(deliveryId) || !UUID.test(subscriptionId)) return null;
    const rows = await db.query(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND subscription_id = $2 AND id = $3`,
      [tenantId, subscriptionId, deliveryId],
    );
    return rows[0] ? toDelivery(rows[0]) : null;
  };
  return {
    async feed(tenantId, opts) {
      const rows = await db.query(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = $1 AND seq > $2
           AND ($4::text IS NULL OR scope_key_id = $4) ORDER BY events.seq LIMIT $3`,
        [tenantId, opts.afterSeq, opts.limit, opts.scopeKeyId ?? null],
      );
      return rows.map(toEvent);
    },

    async createSubscription(s) {
      const rows = await db.query(
        `INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, secret_enc, description, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, now(), $7) RETURNING ${SUB_COLUMNS}`,
        [s.id, s.tenantId, s.url, [...s.eventTypes], s.secretEnc, s.description, s.createdBy],
      );
      return toSubscription(rows[0]!);
    },

    async listSubscriptions(tenantId) {
      const rows = await db.query(
        `SELECT ${SUB_COLUMNS} FROM webhook_subscriptions WHERE tenant_id = $1 AND deleted_at IS NULL
         ORDER BY created_at, id`,
        [tenantId],
      );
      return rows.map(toSubscription);
    },

    async getSubscription(tenantId, id) {
      if (!UUID.test(id)) return null;
      const rows = await db.query(
        `SELECT ${SUB_COLUMNS} FROM webhook_subscriptions WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`,
        [tenantId, id],
      );
      return rows[0] ? toSubscription(rows[0]) : null;
    },

    deleteSubscription: (tenantId, id, by) =>
      db.transaction(async (tx) => {
        if (!UUID.test(id)) return null;
        const rows = await tx.query(
          `UPDATE webhook_subscriptions SET deleted_at = now(), deleted_by = $3
           WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${SUB_COLUMNS}`,
          [tenantId, id, by],
        );
        if (!rows[0]) return null;
        await tx.query(
          `UPDATE webhook_deliveries SET state = 'cancelled', last_error = 'subscription deleted'
           WHERE subscription_id = $1 AND state = 'pending'`,
          [id],
        );
        return toSubscription(rows[0]);
      }),

    async listDeliveries(tenantId, subscriptionId, opts) {
      const rows = await db.query(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE tenant_id = $1 AND subscription_id = $2
           AND event_seq > $3 AND ($5::text IS NULL OR state = $5) ORDER BY d.event_seq LIMIT $4`,
        [tenantId, subscriptionId, opts.afterSeq, opts.limit, opts.state ?? null],
      );
      return rows.map(toDelivery);
    },

    getDelivery,

    async work(deliveryId) {
      const d = await db.query(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1`, [
        deliveryId,
      ]);
      if (!d[0]) return null;
      const delivery = toDelivery(d[0]);
      const s = await db.query(`SELECT ${SUB_COLUMNS} FROM webhook_subscriptions WHERE id = $1`, [
        delivery.subscriptionId,
      ]);
      const e = await db.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1`, [delivery.eventId]);
      if (!s[0] || !e[0]) return null;
      return {
        delivery,
        subscription: { ...toSubscription(s[0]), secretEnc: String(s[0].secret_enc) },
        event: toEvent(e[0]),
      };
    },

    async isHead(deliveryId) {
      const rows = await db.query(
        `SELECT ${EARLIER_PENDING} AS blocked FROM webhook_deliveries d WHERE d.id = $1`,
        [deliveryId],
      );
      return rows[0] ? !rows[0].blocked : false;
    },

    async heads(limit, opts = {}) {
      return (await queryHeads(db, DELIVERY_COLUMNS, limit, opts)).map(toDelivery);
    },

    async markDelivered(deliveryId, generation, status) {
      const rows = await db.query(
        `UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = $3,
           last_error = NULL, last_attempt_at = now(), delivered_at = now()
         WHERE id = $1 AND generation = $2 AND state = 'pending' RETURNING id`,
        [deliveryId, generation, status],
      );
      return rows.length > 0;
    },

    async recordFailure(deliveryId, generation, failure, maxAttempts) {
      const rows = await db.query<{ state: DeliveryState }>(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $3, last_error = $4,
           last_attempt_at = now(), state = CASE WHEN attempts + 1 >= $5 THEN 'dead' ELSE 'pending' END
         WHERE id = $1 AND generation = $2 AND state = 'pending' RETURNING state`,
        [deliveryId, generation, failure.status, failure.error.slice(0, 200), maxAttempts],
      );
      if (!rows[0]) return 'stale';
      return rows[0].state === 'dead' ? 'dead' : 'retry';
    },

    async redeliver(tenantId, subscriptionId, deliveryId) {
      if (!UUID.test(deliveryId) || !UUID.test(subscriptionId)) return null;
      const rows = await db.query(
        `UPDATE webhook_deliveries d SET state = 'pending', attempts = 0, generation = generation + 1,
           delivered_at = NULL
         WHERE tenant_id = $1 AND subscription_id = $2 AND id = $3 AND state IN ('delivered', 'dead')
           AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.id = d.subscription_id AND s.deleted_at IS NULL)
         RETURNING ${DELIVERY_COLUMNS}`,
        [tenantId, subscriptionId, deliveryId],
      );
      if (rows[0]) return toDelivery(rows[0]);
      return getDelivery(tenantId, subscriptionId, deliveryId);
    },
  };
}

/** The `model.promoted` event of a registry promotion (ordering key `model:<name>`). */
export function modelPromotedEvent(
  tenantId: string,
  p: { name: string; version: string; previousChampion: string | null; forced: boolean; actor: string },
): EventInput<'model.promoted'> {
  return {
    tenantId,
    name: 'model.promoted',
    subject: `${p.name}@${p.version}`,
    orderingKey: `model:${p.name}`,
    data: {
      name: p.name,
      version: p.version,
      previous_champion: p.previousChampion,
      forced: p.forced,
      actor: p.actor,
    },
  };
}
