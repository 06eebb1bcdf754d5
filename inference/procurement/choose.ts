/**
 * Choosing the PO of an invoice that cites none when its vendor has several open ones: each
 * candidate's lines are aligned to the invoice's (./align.ts) and the candidate scores the mean,
 * over the invoice lines, of the matcher's P(same item) for the PO line each is aligned to (0
 * for a line left unmatched at the threshold). The best candidate is chosen when it scores at
 * least {@link PO_CHOICE_MIN} and beats the runner-up by at least {@link PO_CHOICE_MARGIN};
 * otherwise the choice is ambiguous (`PO_AMBIGUOUS`, routed to procurement).
 */
import type { PurchaseOrder } from '../../core/erp.js';
import type { InvoiceLine } from '../../core/invoice.js';
import { alignLines } from './align.js';
import type { ProcurementMatcher } from './matcher.js';

/** Lowest mean line score of a PO chosen for an invoice that cites none. */
export const PO_CHOICE_MIN = 0.5;
/** Lead of the chosen PO's mean line score over the runner-up's. */
export const PO_CHOICE_MARGIN = 0.25;

/** Result of {@link choosePo}: the chosen PO, or none, with every candidate's score (3 decimals, best first). */
export interface PoChoice {
  chosen: PurchaseOrder | null;
  candidates: { po_number: string; score: number }[];
}

/** Chooses among the vendor's open POs (see the module doc). An empty list chooses nothing. */
export function choosePo(
  lines: readonly InvoiceLine[],
  candidates: readonly PurchaseOrder[],
  matcher: ProcurementMatcher,
  threshold: number,
): PoChoice {
  const scored = candidates
    .map((po) => {
      const aligned = alignLines(lines, po.lines, matcher, threshold);
      const sum = aligned.reduce((a, l) => a + (l.matches[0]?.score ?? 0), 0);
      return { po, score: lines.length === 0 ? 0 : sum / lines.length };
    })
    .sort((a, b) => b.score - a.score || a.po.po_number.localeCompare(b.po.po_number));
  const [best, second] = scored;
  const clear =
    best !== undefined &&
    best.score >= PO_CHOICE_MIN &&
    best.score - (second?.score ?? 0) >= PO_CHOICE_MARGIN;
  return {
    chosen: clear ? best.po : null,
    candidates: scored.map((s) => ({ po_number: s.po.po_number, score: Math.round(s.score * 1000) / 1000 })),
  };
}
