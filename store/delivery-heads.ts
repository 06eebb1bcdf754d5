/**
 * The lane heads of webhook deliveries ({@link queryHeads}): the ordering rule of
 * store/events.ts, the backoff of failed attempts, and the rounds over subscriptions that the
 * fair delivery relay (events/delivery.ts) enqueues from.
 */
import type { SqlExecutor } from './sql.js';

/** Options of `EventStore.heads` (store/events.ts). */
export interface HeadsOptions {
  /** Heads per subscription at most (its oldest); absent: all. */
  perSubscription?: number;
  /**
   * Backoff, ms: element n−1 is the wait after n failed attempts (counted from the last attempt,
   * `last_attempt_at`); beyond the last element, the last one. A delivery whose wait has not
   * passed is not a head yet. Absent or empty: no wait. Stored times make the backoff outlive a
   * restart.
   */
  retryDelaysMs?: readonly number[];
}

/** An earlier pending delivery in the same lane (subscription + ordering key) of `d`. */
export const EARLIER_PENDING = `EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.subscription_id = d.subscription_id
  AND e.ordering_key = d.ordering_key AND e.state = 'pending' AND e.event_seq < d.event_seq)`;

/**
 * Rows of the due lane heads, `columns` of `webhook_deliveries d` each, ordered as
 * {@link HeadsOptions} says (with `perSubscription`: by rank within the subscription, then
 * oldest first; without: oldest first), at most `limit`.
 */
export function queryHeads(
  db: SqlExecutor,
  columns: string,
  limit: number,
  opts: HeadsOptions,
): Promise<Record<string, unknown>[]> {
  const delays = (opts.retryDelaysMs ?? []).map((ms) => Math.max(0, Math.round(ms)));
  return db.query(
    `SELECT * FROM (
       SELECT ${columns}, d.event_seq AS seq_order, d.created_at AS created_order,
         row_number() OVER (PARTITION BY d.subscription_id ORDER BY d.created_at, d.event_seq) AS lane_rank
       FROM webhook_deliveries d
       WHERE d.state = 'pending' AND NOT ${EARLIER_PENDING}
         AND (d.attempts = 0 OR cardinality($3::bigint[]) = 0 OR d.last_attempt_at IS NULL
           OR d.last_attempt_at + ($3::bigint[])[LEAST(d.attempts, cardinality($3::bigint[]))]
             * interval '1 millisecond' <= now())) h
     WHERE $2::int IS NULL OR h.lane_rank <= $2::int
     ORDER BY CASE WHEN $2::int IS NULL THEN 0 ELSE h.lane_rank END, h.created_order, h.seq_order
     LIMIT $1`,
    [limit, opts.perSubscription ?? null, delays],
  );
}
