/**
 * The SQL of the line block's statements (store/line-rebills.ts runs them): the `amount` pass,
 * the recent-invoices passes and the whole window, rendered from `BLOCKING_SPEC.lines`
 * (core/blocking.ts), each built once per pass.
 */
import { BLOCKING_SPEC, type LineBlockingSpec } from '../core/blocking.js';

/** The probes of a line-block statement (`p`: query `m`, new line number, code, amount, embedding). */
const PROBES_CTE = `p AS MATERIALIZED (
  SELECT u.m, u.line_number, u.code, u.amount_cents, u.embedding
    FROM unnest($2::int[], $3::int[], $4::text[], $5::bigint[], $6::vector[])
         AS u(m, line_number, code, amount_cents, embedding)
)`;

/** The queries of a line-block statement (`q`: new invoice id, vendor id, vendor key, date, `m`). */
const QUERIES = `unnest($7::text[], $8::text[], $9::text[], $10::date[]) WITH ORDINALITY
         AS q(invoice_id, vendor_id, vendor_key, invoice_date, m)`;

/**
 * The `amount` pass ({@link LineBlockPass}): per probe, the vendor's earlier lines of the probe's
 * amount in the whole window, in the spec's order (later date, invoice id, line number), the
 * first `perLine` that pass the spec's filter. The lines of the vendor key are read through
 * `invoice_lines_block_key` (migration 110) in that order and the scan stops at the `perLine`-th
 * kept, whatever the vendor's history; the lines of the vendor id under other keys (name
 * variants: usually none) through `invoice_lines_block_id`, two ranges around the query's key,
 * read only when the vendor id has invoices under another key (`other_keys`, asked once per
 * query through `invoices_vendor_id_keys`, migration 114).
 * A probe that keeps `perLine` has its whole-window rows (same amount ranks first); the others
 * are searched again by the next pass (`covered` is false), as are repeated line numbers.
 * Everything a candidate line is judged by is on its row (its invoice's document type, total
 * and service period start, its delivery reference: migration 113), so the pass reads no page
 * of `invoices` but the credit memos reversing a candidate's invoice (`invoices_reverses`).
 */
function amountPassSql(spec: LineBlockingSpec): string {
  // One index range: the lines of `vendor` (`key` or `id`) of the probe's amount in the window, the
  // spec's filter, the first perLine in the spec's order (the index's, after `extra` on the key).
  const walk = (vendor: 'key' | 'id', extra: string): string => `
          (SELECT l.invoice_pk, l.invoice_id, l.line_number, l.invoice_date, l.embedding, l.code, l.quantity,
                  l.amount_cents, l.service_date, l.service_period_start, l.delivery_reference
             FROM invoice_lines l
            WHERE l.tenant_id = $1 AND l.vendor_${vendor} = q.vendor_${vendor} AND l.amount_cents = p.amount_cents${extra}
              AND l.invoice_date BETWEEN q.invoice_date - ${spec.windowDays}::int AND q.invoice_date
              AND l.invoice_id <> q.invoice_id AND l.document_type = 'invoice'
              AND (upper(l.code) = p.code OR 1 - (l.embedding <=> p.embedding) >= ${spec.minDescriptionCosine})
              AND ${notReversed('l.invoice_pk', 'l.total_cents')}
            ORDER BY l.invoice_date DESC, l.invoice_id COLLATE "C", l.line_number
            LIMIT ${spec.perLine})`;
  // Whether the query's vendor id has invoices under another vendor key (`invoices_vendor_id_keys`,
  // migration 114), asked once per query: its lines are only under the keys of its invoices.
  const otherKeys = (op: '<' | '>'): string => `EXISTS (SELECT 1 FROM invoices r
           WHERE r.tenant_id = $1 AND r.vendor_id = q.vendor_id AND r.vendor_key ${op} q.vendor_key)`;
  return `/* line block: same amount, by index */
WITH q AS MATERIALIZED (
  SELECT q.*, ${otherKeys('<')} OR ${otherKeys('>')} AS other_keys FROM ${QUERIES}
), ${PROBES_CTE}, kept AS MATERIALIZED (
  SELECT p.m, p.line_number, k.*
    FROM p JOIN q ON q.m = p.m
    LEFT JOIN LATERAL (
      SELECT l.invoice_pk AS pk, l.invoice_id, l.line_number AS earlier_line_number, l.invoice_date,
             1 - (l.embedding <=> p.embedding) AS cosine, upper(l.code) AS code, l.quantity, l.amount_cents,
             l.service_date, COALESCE(l.service_date, l.service_period_start, l.invoice_date) AS judged_date,
             l.delivery_reference, true AS same_amount
        FROM (${walk('key', '')}
          UNION ALL${walk('id', ' AND l.vendor_key < q.vendor_key AND q.other_keys')}
          UNION ALL${walk('id', ' AND l.vendor_key > q.vendor_key AND q.other_keys')}) l
       ORDER BY l.invoice_date DESC, l.invoice_id COLLATE "C", l.line_number
       LIMIT ${spec.perLine}
    ) k ON true
${keptRowsSql('false')}`;
}

/**
 * The line block as one statement over a set of queries (`q.m`) and their probes (`p.m`). Its
 * cost is linear in the probes: each query's earlier lines (`e`: the vendor's invoices in the
 * searched dates, not reversed, and their lines) are read once, each probe keeps its at most
 * `perLine` best in a bounded top-N of its own (no sort of every probe x earlier line pair), and the
 * probe embeddings are parsed once. The probe embeddings are parameter 6, a `vector[]` ({@link VectorTransport}).
 *
 * With `recent` null the searched dates are the spec's whole window, the vendor's invoices read
 * by one join (a plan PostgreSQL caches), and a probe that keeps nothing yields no row. With
 * `recent` a count they start at the date of the query's `recent`-th most recent invoice of the
 * vendor in the window (found through the (tenant, vendor key, date) and (tenant, vendor id, date)
 * indexes alone), or at the window's start when there are fewer, and every probe yields at least
 * one row (a row of nulls but `m`, `line_number` and `covered` when it keeps nothing). `covered`
 * is true when the searched dates are the whole window, `same_amount` whether the kept line has
 * the probe's amount.
 */
function lineBlockSql(spec: LineBlockingSpec, recent: number | null): string {
  const windowStart = `q.invoice_date - ${spec.windowDays}::int`;
  // The vendor's invoices (by vendor key, or by vendor id) dated from `from` to the query's date,
  // by index only (`limit`: the most recent first, so many).
  const vendorInvoices = (column: 'vendor_key' | 'vendor_id', from: string, limit = ''): string => `
          (SELECT r.pk, r.invoice_date FROM invoices r
            WHERE r.tenant_id = $1 AND r.${column} = q.${column}
              AND r.invoice_date BETWEEN ${from} AND q.invoice_date${limit})`;
  const mostRecent = `
            ORDER BY r.invoice_date DESC LIMIT ${recent}`;
  const from =
    recent === null
      ? windowStart
      : `COALESCE((SELECT t.invoice_date FROM (${vendorInvoices('vendor_key', windowStart, mostRecent)}
          UNION${vendorInvoices('vendor_id', windowStart, mostRecent)}) t
        ORDER BY t.invoice_date DESC OFFSET ${recent - 1} LIMIT 1), ${windowStart})`;
  // The whole window: the vendor's invoices by one join on (vendor id OR vendor key), a
  // statement PostgreSQL plans once and reuses (the union of the two index scans below is planned
  // at every run, about 1 ms, which only the recent pass's saving pays for).
  const queries =
    recent === null
      ? `
  SELECT q.*
    FROM ${QUERIES}`
      : `
  SELECT q.*, f.from_date, f.from_date <= ${windowStart} AS covered
    FROM ${QUERIES}
   CROSS JOIN LATERAL (SELECT ${from} AS from_date OFFSET 0) f`;
  const invoices =
    recent === null
      ? `
    JOIN invoices i ON i.tenant_id = $1 AND (i.vendor_id = q.vendor_id OR i.vendor_key = q.vendor_key)
     AND i.invoice_date BETWEEN ${windowStart} AND q.invoice_date
     AND i.document_type = 'invoice' AND i.invoice_id <> q.invoice_id`
      : `
   CROSS JOIN LATERAL (${vendorInvoices('vendor_key', 'q.from_date')}
          UNION${vendorInvoices('vendor_id', 'q.from_date')}) w
    JOIN invoices i ON i.pk = w.pk AND i.document_type = 'invoice' AND i.invoice_id <> q.invoice_id`;
  // The comment names the pass in logs and per-statement profiles (bench/pg-statements.ts).
  return `/* line block: ${recent === null ? 'whole window' : `${recent} most recent invoices`} */
WITH q AS MATERIALIZED (${queries}
), e AS MATERIALIZED (
  SELECT q.m, i.pk, i.invoice_id, l.line_number AS earlier_line_number, i.invoice_date,
         l.embedding, upper(l.code) AS code, l.quantity, l.amount_cents, l.service_date,
         COALESCE(l.service_date, i.service_period_start, i.invoice_date) AS judged_date, l.delivery_reference
    FROM q${invoices}
    JOIN invoice_lines l ON l.invoice_pk = i.pk
   WHERE ${notReversed('i.pk', 'i.total_cents')}
), ${PROBES_CTE}, kept AS MATERIALIZED (
  SELECT p.m, p.line_number, k.*
    FROM p
    ${recent === null ? 'CROSS' : 'LEFT'} JOIN LATERAL (
      SELECT c.pk, c.invoice_id, c.earlier_line_number, c.invoice_date, c.cosine, c.code, c.quantity,
             c.amount_cents, c.service_date, c.judged_date, c.delivery_reference,
             c.amount_cents = p.amount_cents AS same_amount
        FROM (SELECT e.*, 1 - (e.embedding <=> p.embedding) AS cosine FROM e WHERE e.m = p.m OFFSET 0) c
       WHERE c.code = p.code OR c.cosine >= ${spec.minDescriptionCosine}
       ORDER BY c.amount_cents = p.amount_cents DESC, c.invoice_date DESC, c.invoice_id COLLATE "C",
                c.earlier_line_number
       LIMIT ${spec.perLine}
    ) k${recent === null ? '' : ' ON true'}
${keptRowsSql(recent === null ? 'true' : '(SELECT q.covered FROM q WHERE q.m = k.m)')}`;
}

/**
 * The SQL condition that the invoice of primary key `pk` and total `total` (SQL expressions) is
 * not fully reversed: what the credit memos reversing it (`invoices_reverses`) take back is less
 * than its total less one cent.
 */
function notReversed(pk: string, total: string): string {
  return `COALESCE((SELECT sum(-c.total_cents) FROM invoices c WHERE c.reverses_invoice_pk = ${pk}), 0)
         < ${total} - 1`;
}

/**
 * The end of a line-block statement after its `kept` CTE (each probe's kept earlier lines, with
 * their delivery references): the rows in statement order, `covered` the SQL expression of
 * whether the searched dates were the whole window.
 */
function keptRowsSql(covered: string): string {
  return `)
SELECT k.m, k.line_number, k.invoice_id, k.earlier_line_number, k.invoice_date::text AS invoice_date, k.cosine,
       k.code, k.quantity::text AS quantity, k.amount_cents::text AS amount_cents,
       k.service_date::text AS service_date, k.judged_date::text AS judged_date, k.delivery_reference,
       k.same_amount, ${covered} AS covered
  FROM kept k
 ORDER BY k.m, k.line_number, k.same_amount DESC, k.invoice_date DESC, k.invoice_id COLLATE "C",
          k.earlier_line_number`;
}

/**
 * Which earlier lines a line-block statement searches: the whole window; from the date of the
 * vendor's n-th most recent invoice of the window on (a count, e.g.
 * {@link LINE_BLOCK_RECENT_INVOICES}); or `amount`, the lines of the probe's own amount in the
 * whole window by index, the first `perLine` kept ({@link amountPassSql}).
 */
export type LineBlockPass = 'window' | 'amount' | number;

const LINE_BLOCK_SQL = new Map<string, string>();

/** The statement text of `pass`, built once. */
export function lineBlockSqlOf(pass: LineBlockPass): string {
  const key = String(pass);
  let sql = LINE_BLOCK_SQL.get(key);
  if (sql === undefined) {
    if (pass !== 'window' && pass !== 'amount' && !(Number.isSafeInteger(pass) && pass > 0))
      throw new RangeError(
        `line block pass: 'window', 'amount' or a positive count of invoices, got ${pass}`,
      );
    sql =
      pass === 'amount'
        ? amountPassSql(BLOCKING_SPEC.lines)
        : lineBlockSql(BLOCKING_SPEC.lines, pass === 'window' ? null : pass);
    LINE_BLOCK_SQL.set(key, sql);
  }
  return sql;
}
