/**
 * Credit memos against a PO: a credit memo citing a PO the tenant has (of its own vendor) gives
 * back what it credits on the PO lines its lines align to (./align.ts; the line's cited
 * `po_line_number` first), so later invoices against those lines may bill it again. Each credit
 * line counts `-|quantity|` in base units and `-|amount_cents|`, and never more than earlier
 * invoices billed against the PO line (a credit for goods never billed gives nothing back). A
 * line whose unit does not convert to the PO line's (./checks.ts `invoicePack`) credits nothing.
 * Pure.
 */
import type { InvoicedSoFar, PoLine } from '../../core/erp.js';
import type { InvoiceLine } from '../../core/invoice.js';
import { alignLines } from './align.js';
import { invoicePack } from './checks.js';
import type { ProcurementMatcher } from './matcher.js';

/** One PO line's share of a credit: negative base units (each) and negative cents. */
export interface CreditAllocation {
  poLineNumber: number;
  baseQuantity: number;
  amountCents: number;
}

/** A credit line as a positive line, so the matcher compares quantities and prices as billed. */
const positive = (l: InvoiceLine): InvoiceLine => ({
  ...l,
  quantity: Math.abs(l.quantity),
  unit_price_cents: Math.abs(l.unit_price_cents),
  amount_cents: Math.abs(l.amount_cents),
});

/** The negative allocations of a credit memo's lines against the PO lines (see the module doc). */
export function creditAllocations(
  lines: readonly InvoiceLine[],
  poLines: readonly PoLine[],
  invoiced: ReadonlyMap<number, InvoicedSoFar>,
  matcher: ProcurementMatcher,
  threshold: number,
): CreditAllocation[] {
  const left = new Map([...invoiced].map(([n, v]) => [n, { base: v.baseQuantity, cents: v.amountCents }]));
  const out: CreditAllocation[] = [];
  for (const a of alignLines(lines.map(positive), poLines, matcher, threshold)) {
    const po = a.matches[0]?.poLine;
    if (!po) continue;
    const unit = invoicePack(a.invoiceLine, po, []);
    const had = left.get(po.line_number);
    if (!unit || !had) continue;
    const base = Math.min(a.invoiceLine.quantity * unit.pack, had.base);
    const cents = Math.min(a.invoiceLine.amount_cents, had.cents);
    if (base <= 0 && cents <= 0) continue;
    had.base -= Math.max(0, base);
    had.cents -= Math.max(0, cents);
    out.push({
      poLineNumber: po.line_number,
      baseQuantity: -Math.max(0, base),
      amountCents: -Math.max(0, cents),
    });
  }
  return out;
}
