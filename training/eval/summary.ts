/**
 * Invoice summaries for the evaluation report's confusion examples: the fields a reader compares
 * between a flagged invoice and the earlier one it was matched to.
 */
import type { Invoice } from '../../core/invoice.js';

/** The fields of an invoice shown in confusion examples. */
export interface InvoiceSummary {
  invoice_id: string;
  vendor_id: string;
  vendor_name: string;
  invoice_number: string;
  invoice_date: string;
  total_cents: number;
  currency: string;
  document_type: string;
  po_number: string | null;
  service_period: string | null;
  line_count: number;
}

/** Summary of an invoice. */
export function summarise(inv: Invoice): InvoiceSummary {
  return {
    invoice_id: inv.invoice_id,
    vendor_id: inv.vendor.id,
    vendor_name: inv.vendor.name,
    invoice_number: inv.invoice_number,
    invoice_date: inv.invoice_date,
    total_cents: inv.total_cents,
    currency: inv.currency,
    document_type: inv.document_type,
    po_number: inv.po_number ?? null,
    service_period: inv.service_period ? `${inv.service_period.start}/${inv.service_period.end}` : null,
    line_count: inv.lines.length,
  };
}

/** Fields that differ between two invoice summaries, as `field: a -> b`. */
export function summaryDifferences(a: InvoiceSummary, b: InvoiceSummary): string[] {
  const out: string[] = [];
  for (const k of Object.keys(a) as (keyof InvoiceSummary)[]) {
    if (k === 'invoice_id') continue;
    if (a[k] !== b[k]) out.push(`${k}: ${JSON.stringify(b[k])} -> ${JSON.stringify(a[k])}`);
  }
  return out;
}
