/**
 * Stage 6c's read-and-match step: reads the tenant's ERP context for one invoice in the scoring
 * transaction and runs the procurement stage on it. When the invoice cites no PO and its vendor
 * has several open ones, the line matcher chooses among them ({@link choosePo}) and the chosen
 * PO's context is read, or the lookup becomes `po_ambiguous`.
 */
import type { Invoice } from '../../core/invoice.js';
import type { ProcurementLookup } from '../../core/erp.js';
import type { ProcurementQuery } from '../../store/erp-context.js';
import { matchProcurement, matchThresholdOf } from '../stages/procurement.js';
import { choosePo } from './choose.js';
import { identifierRuleMatcher, type ProcurementMatcher } from './matcher.js';
import { DEFAULT_PROCUREMENT_TOLERANCES, type ProcurementTolerances } from './tolerances.js';

/** Reads the ERP context of one invoice (the scoring transaction's `procurementContext`). */
export type ProcurementContextReader = (q: Omit<ProcurementQuery, 'tenantId'>) => Promise<ProcurementLookup>;

/**
 * Matches `invoice` against the tenant's ERP data.
 *
 * @param read - the transaction's ERP context reader.
 * @param lineMatcher - the served PO-line matcher and its card threshold; absent: the identifier rule.
 * @param tolerances - the policy's procurement tolerances; absent: the documented defaults.
 * @returns the procurement stage's result (see {@link matchProcurement}).
 */
export async function matchInvoiceProcurement(
  read: ProcurementContextReader,
  invoice: Invoice,
  lineMatcher: { matcher: ProcurementMatcher; threshold: number | null } | undefined,
  tolerances: ProcurementTolerances | undefined,
): Promise<ReturnType<typeof matchProcurement>> {
  const query = { invoiceId: invoice.invoice_id, vendorId: invoice.vendor.id };
  const matcher = lineMatcher?.matcher ?? identifierRuleMatcher;
  const tol = tolerances ?? DEFAULT_PROCUREMENT_TOLERANCES;
  const cardThreshold = lineMatcher?.threshold ?? null;
  let lookup = await read({ ...query, poNumber: invoice.po_number });
  if (lookup.kind === 'po_choice' && invoice.document_type !== 'credit_memo') {
    const choice = choosePo(invoice.lines, lookup.candidates, matcher, matchThresholdOf(tol, cardThreshold));
    if (!choice.chosen) lookup = { kind: 'po_ambiguous', candidates: choice.candidates };
    else {
      lookup = await read({ ...query, poNumber: choice.chosen.po_number });
      if (lookup.kind === 'context') lookup.context.chosenBy = 'matcher';
    }
  }
  return matchProcurement(invoice, lookup, matcher, tol, cardThreshold);
}
