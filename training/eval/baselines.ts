/**
 * The two rule baselines every duplicate detector must beat, as ERP systems ship them:
 *
 * - **SAP-style exact check** (MM invoice verification / FI duplicate invoice check): an
 *   invoice is a duplicate when an earlier one has the same vendor, reference (invoice number
 *   exactly as keyed), gross amount, invoice date and currency. Credit memos are not checked
 *   (and are not matched against).
 * - **Oracle-style check** (Oracle Payables): the invoice number must be unique per supplier;
 *   an invoice is a duplicate when the same supplier already has an invoice with that number,
 *   whatever its amount, date or document type.
 *
 * Both answer 1 or 0 and never score coding exceptions.
 */
import type { Invoice } from '../../core/invoice.js';
import { detectorFromScorer, type Detector } from './detector.js';

/** Builds a detector that flags an invoice whose key was seen on an earlier invoice. */
function exactKeyDetector(
  name: string,
  version: string,
  key: (inv: Invoice) => string | null,
  indexed: (inv: Invoice) => boolean,
): Detector {
  const seen = new Map<string, string>();
  return detectorFromScorer({
    name,
    version,
    tasks: { duplicate: true, coding: false },
    thresholds: { duplicate: 0.5, coding: 0.5 },
    score(inv) {
      const k = key(inv);
      const earlier = k === null ? undefined : seen.get(k);
      if (k !== null && earlier === undefined && indexed(inv)) seen.set(k, inv.invoice_id);
      return {
        invoiceId: inv.invoice_id,
        duplicateScore: earlier ? 1 : 0,
        duplicateOf: earlier ?? null,
        lines: [],
      };
    },
  });
}

/** The SAP-style rule: vendor + reference + amount + invoice date + currency; credit memos not checked. */
export function createSapDetector(): Detector {
  return exactKeyDetector(
    'sap-exact',
    'sap-style-exact@1',
    (inv) =>
      inv.document_type === 'credit_memo'
        ? null
        : [inv.vendor.id, inv.invoice_number, inv.total_cents, inv.invoice_date, inv.currency].join('\u0001'),
    (inv) => inv.document_type !== 'credit_memo',
  );
}

/** The Oracle-style rule: supplier + invoice number, every document type. */
export function createOracleDetector(): Detector {
  return exactKeyDetector(
    'oracle-number',
    'oracle-style-number@1',
    (inv) => `${inv.vendor.id}\u0001${inv.invoice_number}`,
    () => true,
  );
}
