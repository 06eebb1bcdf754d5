/**
 * The reviewers' worklist: open exceptions (REVIEW and HOLD decisions not yet closed by a
 * review) of one tenant, ordered by priority as of a date, paginated with a keyset cursor.
 *
 * Priority is computed in SQL as of the requested date, mirroring `inference/priority.ts`
 * (`priorityAsOf`), in cents:
 *
 *     expected_loss_cents
 *     + (discount_deadline >= as_of ? discount_cents / (1 + (discount_deadline - as_of)) : 0)
 *     + sla_cents_per_day * max(0, as_of - received_date)
 *
 * rounded to 2 decimals of a cent; ties broken by decision id (descending).
 */
import type { Queue } from '../core/decision.js';
import type { SqlExecutor } from './sql.js';

/** One open exception. Money in dollars (priority) or cents; dates `YYYY-MM-DD`. */
export interface WorklistItem {
  decision_id: string;
  invoice_id: string;
  /** AUTO_APPROVE only for an auto-approved invoice the ERP then rejected. */
  decision: 'REVIEW' | 'HOLD' | 'AUTO_APPROVE';
  queue: Queue;
  /** Expected cost in dollars as of `as_of` (see module doc). */
  priority: number;
  priority_components: { expected_loss: number; discount: number; sla_age: number };
  vendor: { id: string; name: string };
  /** The facility the invoice is for, when given. */
  facility_id: string | null;
  invoice_number: string;
  invoice_date: string;
  received_date: string | null;
  discount_deadline: string | null;
  days_open: number;
  total_cents: number;
  currency: string;
  reason_codes: string[];
  duplicate_of: string | null;
  created_at: string;
}

/** Keyset position: the last item's priority (cents, exact decimal text) and decision id. */
export interface WorklistCursor {
  asOf: string;
  priorityCents: string;
  decisionId: string;
}

/** Query of {@link listWorklist}. */
export interface WorklistQuery {
  tenantId: string;
  queue?: Queue;
  /** Date the priority is computed for, `YYYY-MM-DD`. */
  asOf: string;
  /** Page size, 1-500. */
  limit: number;
  after?: WorklistCursor;
}

/** A page of the worklist and the cursor of the next page (null on the last page). */
export interface WorklistPage {
  items: WorklistItem[];
  next: WorklistCursor | null;
}

const dollars = (cents: unknown): number => Math.round(Number(cents)) / 100;

/** One page of open exceptions, highest priority first. */
export async function listWorklist(db: SqlExecutor, q: WorklistQuery): Promise<WorklistPage> {
  const rows = await db.query(
    `WITH w AS (
       SELECT d.id, d.decision, d.queue, d.reason_codes, d.created_at, d.received_date, d.discount_deadline,
         d.response #>> '{duplicates,0,invoice_id}' AS duplicate_of,
         i.invoice_id, i.vendor_id, i.vendor_name, i.facility_id, i.invoice_number, i.invoice_date, i.total_cents, i.currency,
         d.expected_loss_cents::numeric AS loss,
         CASE WHEN d.discount_deadline IS NOT NULL AND d.discount_deadline >= $2::date
              THEN d.discount_cents::numeric / (1 + (d.discount_deadline - $2::date)) ELSE 0 END AS discount,
         (d.sla_cents_per_day * GREATEST(0, $2::date - COALESCE(d.received_date, d.created_at::date)))::numeric AS sla
       FROM decisions d JOIN invoices i ON i.pk = d.invoice_pk
       WHERE d.tenant_id = $1 AND d.review_status = 'open' AND ($3::text IS NULL OR d.queue = $3)
     ), p AS (SELECT w.*, round(loss + discount + sla, 2) AS priority_cents FROM w)
     SELECT p.*, priority_cents::text AS priority_text, id::text AS id_text,
       invoice_date::text AS invoice_date_text, received_date::text AS received_text,
       discount_deadline::text AS deadline_text,
       ($2::date - COALESCE(received_date, created_at::date)) AS days_open
     FROM p
     WHERE ($4::numeric IS NULL OR (priority_cents, id) < ($4::numeric, $5::uuid))
     ORDER BY priority_cents DESC, id DESC
     LIMIT $6`,
    [
      q.tenantId,
      q.asOf,
      q.queue ?? null,
      q.after?.priorityCents ?? null,
      q.after?.decisionId ?? null,
      q.limit + 1,
    ],
  );
  const more = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  const items: WorklistItem[] = page.map((r) => ({
    decision_id: String(r.id_text),
    invoice_id: String(r.invoice_id),
    decision: r.decision as WorklistItem['decision'],
    queue: r.queue as Queue,
    priority: dollars(r.priority_text),
    priority_components: {
      expected_loss: dollars(r.loss),
      discount: dollars(r.discount),
      sla_age: dollars(r.sla),
    },
    vendor: { id: String(r.vendor_id), name: String(r.vendor_name) },
    facility_id: (r.facility_id as string | null) ?? null,
    invoice_number: String(r.invoice_number),
    invoice_date: String(r.invoice_date_text),
    received_date: (r.received_text as string | null) ?? null,
    discount_deadline: (r.deadline_text as string | null) ?? null,
    days_open: Math.max(0, Number(r.days_open)),
    total_cents: Number(r.total_cents),
    currency: String(r.currency).trim(),
    reason_codes: r.reason_codes as string[],
    duplicate_of: (r.duplicate_of as string | null) ?? null,
    created_at: r.created_at instanceof Date ? r.created_at.toISOString() : String(r.created_at),
  }));
  const last = page[page.length - 1];
  return {
    items,
    next:
      more && last
        ? { asOf: q.asOf, priorityCents: String(last.priority_text), decisionId: String(last.id_text) }
        : null,
  };
}
