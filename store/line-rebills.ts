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
  return rows.map((r) => ({
    lineNumber: Number(r.line_number),
    invoiceId: r.invoice_id,
    earlierLineNumber: Number(r.earlier_line_number),
    earlierInvoiceDate: r.invoice_date,
  }));
}
