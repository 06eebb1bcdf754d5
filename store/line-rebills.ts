/**
 * Earlier lines of a vendor billed again: for each line of a new invoice, the stored lines of
 * the same vendor (vendor-master id or vendor key) on invoices dated within a window before it
 * that carry the same line key (code or description stems, with the amount in cents), the same
 * quantity and the same service date. Invoices that credit memos have fully reversed are left
 * out (their lines may be billed again). The query walks `invoice_lines_rebill_key`
 * (migration 070).
 */
import type { SqlExecutor } from './sql.js';

/** One line of the new invoice to look up. */
export interface LineRebillProbe {
  lineNumber: number;
  /** `LineFeatures.matchKey`: `CODE|amount_cents` or `~stems|amount_cents`. */
  matchKey: string;
  quantity: number;
  /** `YYYY-MM-DD`. */
  serviceDate: string;
}

/** What {@link findEarlierLines} searches. */
export interface LineRebillQuery {
  tenantId: string;
  vendorId: string;
  vendorKey: string;
  /** The new invoice's date, `YYYY-MM-DD`: earlier invoices dated within `windowDays` before it (inclusive). */
  invoiceDate: string;
  /** Days. */
  windowDays: number;
  lines: readonly LineRebillProbe[];
}

/** A stored line matching a probe. */
export interface EarlierLine {
  /** The new invoice's line. */
  lineNumber: number;
  /** Client id of the earlier invoice. */
  invoiceId: string;
  earlierLineNumber: number;
  /** `YYYY-MM-DD`. */
  earlierInvoiceDate: string;
}

/**
 * The earlier lines matching the probes, by new line number, then earlier invoice date (latest
 * first), invoice id and line number.
 */
export async function findEarlierLines(db: SqlExecutor, q: LineRebillQuery): Promise<EarlierLine[]> {
  if (q.lines.length === 0) return [];
  const rows = await db.query<{
    line_number: number;
    invoice_id: string;
    earlier_line_number: number;
    invoice_date: string;
  }>(
    `SELECT p.line_number, i.invoice_id, l.line_number AS earlier_line_number, i.invoice_date::text AS invoice_date
       FROM unnest($4::int[], $5::text[], $6::numeric[], $7::date[]) AS p(line_number, match_key, quantity, service_date)
       JOIN invoice_lines l ON l.match_key = p.match_key AND l.service_date = p.service_date AND l.quantity = p.quantity
       JOIN invoices i ON i.pk = l.invoice_pk
      WHERE i.tenant_id = $1 AND (i.vendor_id = $2 OR i.vendor_key = $3) AND i.document_type = 'invoice'
        AND i.invoice_date BETWEEN $8::date - $9::int AND $8::date
        AND COALESCE((SELECT sum(-c.total_cents) FROM invoices c WHERE c.reverses_invoice_pk = i.pk), 0) < i.total_cents - 1
      ORDER BY p.line_number, i.invoice_date DESC, i.invoice_id, l.line_number`,
    [
      q.tenantId,
      q.vendorId,
      q.vendorKey,
      q.lines.map((l) => l.lineNumber),
      q.lines.map((l) => l.matchKey),
      q.lines.map((l) => String(l.quantity)),
      q.lines.map((l) => l.serviceDate),
      q.invoiceDate,
      q.windowDays,
    ],
  );
  return rows.map(earlierLineOf);
}

function earlierLineOf(r: {
  line_number: number;
  invoice_id: string;
  earlier_line_number: number;
  invoice_date: string;
}): EarlierLine {
  return {
    lineNumber: Number(r.line_number),
    invoiceId: r.invoice_id,
    earlierLineNumber: Number(r.earlier_line_number),
    earlierInvoiceDate: r.invoice_date,
  };
}

const MANY_SQL = `
SELECT p.m, p.line_number, i.invoice_id, l.line_number AS earlier_line_number, i.invoice_date::text AS invoice_date
  FROM unnest($2::int[], $3::int[], $4::text[], $5::numeric[], $6::date[])
         AS p(m, line_number, match_key, quantity, service_date)
  JOIN unnest($7::text[], $8::text[], $9::date[], $10::int[]) WITH ORDINALITY
         AS q(vendor_id, vendor_key, invoice_date, window_days, m) ON q.m = p.m
  JOIN invoice_lines l ON l.match_key = p.match_key AND l.service_date = p.service_date AND l.quantity = p.quantity
  JOIN invoices i ON i.pk = l.invoice_pk
 WHERE i.tenant_id = $1 AND (i.vendor_id = q.vendor_id OR i.vendor_key = q.vendor_key) AND i.document_type = 'invoice'
   AND i.invoice_date BETWEEN q.invoice_date - q.window_days AND q.invoice_date
   AND COALESCE((SELECT sum(-c.total_cents) FROM invoices c WHERE c.reverses_invoice_pk = i.pk), 0) < i.total_cents - 1
 ORDER BY p.m, p.line_number, i.invoice_date DESC, i.invoice_id, l.line_number`;

/**
 * {@link findEarlierLines} of several queries of one tenant in one statement.
 * @returns per query, in order, what {@link findEarlierLines} returns for it alone.
 */
export async function findEarlierLinesMany(
  db: SqlExecutor,
  tenantId: string,
  queries: readonly Omit<LineRebillQuery, 'tenantId'>[],
): Promise<EarlierLine[][]> {
  const out: EarlierLine[][] = queries.map(() => []);
  const probes = queries.flatMap((q, j) => q.lines.map((l) => ({ m: j + 1, l })));
  if (probes.length === 0) return out;
  const rows = await db.query<{
    m: number;
    line_number: number;
    invoice_id: string;
    earlier_line_number: number;
    invoice_date: string;
  }>(
    MANY_SQL,
    [
      tenantId,
      probes.map((x) => x.m),
      probes.map((x) => x.l.lineNumber),
      probes.map((x) => x.l.matchKey),
      probes.map((x) => String(x.l.quantity)),
      probes.map((x) => x.l.serviceDate),
      queries.map((q) => q.vendorId),
      queries.map((q) => q.vendorKey),
      queries.map((q) => q.invoiceDate),
      queries.map((q) => q.windowDays),
    ],
    { name: 'earlier_lines_many' },
  );
  for (const r of rows) out[Number(r.m) - 1]!.push(earlierLineOf(r));
  return out;
}
