/**
 * What dataset assembly needs from the feature pipeline (`features/`), as one interface: the
 * feature names and schema version, a vector per scoreable line, the blocking keys and
 * embedding of an invoice, and the comparison vector of a candidate pair. Training code is
 * generic over it; the concrete provider wraps `features/`.
 */
import type { BlockingKeys } from '../core/blocking.js';
import type { Invoice } from '../core/invoice.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';

/** Blocking keys of an invoice (core/blocking.ts); the document type is always set. */
export interface InvoiceKeys extends BlockingKeys {
  documentType: Invoice['document_type'];
}

/** The feature pipeline as training sees it. */
export interface FeatureProvider {
  /**
   * Version (`fs-…`) of each vector's schema (`vectorSchemaVersion` in features/schema.ts); a
   * model's spec records the version of the vector it reads.
   */
  schemaVersions: Readonly<Record<'line' | 'pair', string>>;
  lineFeatureNames: readonly string[];
  pairFeatureNames: readonly string[];
  /** One vector per line the coding model scores (lines it does not score are omitted). */
  lineVectors(inv: Invoice): { lineNumber: number; x: number[] }[];
  keys(inv: Invoice): InvoiceKeys;
  /**
   * Comparison vector of a later invoice `a` against an earlier invoice `b`; `intervalDays` is
   * `a`'s vendor's billing interval from `a`'s blocking candidates (`vendorBillingIntervalDays`
   * of core/blocking.ts, as the service computes it), null when unknown.
   */
  pairVector(a: Invoice, b: Invoice, ka: InvoiceKeys, kb: InvoiceKeys, intervalDays: number | null): number[];
}

/** Blocking keys from the skeleton's invoice features (`features/invoice-features.ts`). */
export function invoiceKeys(inv: Invoice): InvoiceKeys {
  const f = extractInvoiceFeatures(inv);
  return {
    vendorKey: f.vendorKey,
    vendorId: inv.vendor.id,
    invoiceNumberCanonical: f.invoiceNumber.canonical,
    totalCents: inv.total_cents,
    invoiceDate: inv.invoice_date,
    documentType: inv.document_type,
    embedding: f.embedding,
  };
}
