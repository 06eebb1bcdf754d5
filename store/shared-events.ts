/**
 * Events about things every tenant shares (the model registry): one event per tenant, each on
 * its tenant's own feed and numbered in its tenant's sequence, with a pending delivery for every
 * live subscription of that tenant to the type, all in one statement inside the caller's
 * transaction (the same outbox rows {@link appendEvents} writes, so the relay and the pull feed
 * need nothing else).
 */
import type { EventInput, StoredEvent } from '../core/events.js';
import type { SqlExecutor } from './sql.js';

/**
 * Appends `event` to the feed of every tenant: each tenant with an API key (live or revoked) or
 * an event, and each of `alsoTenants`. The tenants' event heads are locked in tenant id order
 * until commit (a concurrent append of one tenant waits; two shared appends cannot deadlock).
 * @returns the stored events, one per tenant, ordered by tenant id.
 */
export async function appendEventToEveryTenant(
  tx: SqlExecutor,
  event: Omit<EventInput, 'tenantId' | 'decisionId'>,
  alsoTenants: readonly string[] = [],
): Promise<StoredEvent[]> {
  const time = new Date().toISOString();
  const rows = await tx.query<{ tenant_id: string; seq: string; id: string }>(
    `WITH t AS (
       SELECT tenant_id FROM api_keys UNION SELECT tenant_id FROM event_heads
       UNION SELECT unnest($1::text[])),
     h AS (
       INSERT INTO event_heads AS h (tenant_id, seq) SELECT tenant_id, 1 FROM t ORDER BY tenant_id
       ON CONFLICT (tenant_id) DO UPDATE SET seq = h.seq + 1 RETURNING tenant_id, seq),
     ev AS (
       INSERT INTO events (tenant_id, seq, id, type, subject, ordering_key, time, data, scope_key_id)
       SELECT h.tenant_id, h.seq, gen_random_uuid(), $2, $3, $4, $5, $6::jsonb, NULL FROM h
       RETURNING tenant_id, seq, id),
     dl AS (
       INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event_seq, event_id, ordering_key, created_at)
       SELECT gen_random_uuid(), ev.tenant_id, s.id, ev.seq, ev.id, $4, now()
       FROM ev JOIN webhook_subscriptions s ON s.tenant_id = ev.tenant_id
       WHERE s.deleted_at IS NULL AND $2 = ANY (s.event_types))
     SELECT tenant_id, seq::text AS seq, id::text AS id FROM ev ORDER BY tenant_id`,
    [[...alsoTenants], event.name, event.subject, event.orderingKey, time, JSON.stringify(event.data)],
    { name: 'append_event_every_tenant' },
  );
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    seq: Number(r.seq),
    id: r.id,
    name: event.name,
    subject: event.subject,
    orderingKey: event.orderingKey,
    time,
    data: event.data,
  }));
}
