/**
 * Stage 1, prepare: the invoice's features (normalised vendor and invoice number, embeddings),
 * one {@link LineRecord} per line, the keys the store indexes it by, its pair side for
 * duplicate comparisons and the idempotency fingerprint. Pure ({@link prepareInSlices}: the same
 * value, computed in slices for a long invoice).
 */
import { payloadSha256 } from '../../core/fingerprint.js';
import type { Invoice } from '../../core/invoice.js';
import {
  extractInvoiceFeatures,
  invoiceFeaturesOfLines,
  lineFeaturesWithCounts,
  type InvoiceFeatures,
  type InvoiceIndexFeatures,
} from '../../features/invoice-features.js';
import { mapInSlices } from '../../core/slices.js';
import { pairSideOfInvoice, type PairSide } from '../../features/pair.js';
import type { InvoiceIndexKeys } from '../../store/repository.js';
import type { LineRecord } from './types.js';

export { payloadSha256 };

/** A prepared invoice: what every later stage reads. */
export interface Prepared {
  invoice: Invoice;
  /** sha256 of the invoice's canonical JSON: the idempotency fingerprint. */
  sha256: string;
  features: InvoiceFeatures;
  /** One record per line, in the invoice's order, without a score yet. */
  lines: readonly Omit<LineRecord, 'score'>[];
  /** What the store indexes the invoice by (blocking keys, embeddings, line match keys). */
  keys: InvoiceIndexKeys;
  /** The invoice as one side of a candidate pair. */
  pairSide: PairSide;
  /** Scoring-lock keys: one per vendor key and vendor id. */
  lockKeys: readonly string[];
}

/** What the store indexes an invoice by, from its features (scoring and history import alike). */
export function indexKeysOf(features: InvoiceIndexFeatures): InvoiceIndexKeys {
  return {
    vendorKey: features.vendorKey,
    invoiceNumberNormalised: features.invoiceNumber.normalised,
    invoiceNumberCanonical: features.invoiceNumber.canonical,
    embedding: features.embedding,
    lines: features.lines.map((l) => ({
      lineNumber: l.lineNumber,
      matchKey: l.matchKey,
      embedding: l.embedding,
    })),
  };
}

/**
 * The scoring-lock keys of an invoice whose vendor name normalises to `vendorKey` (see
 * {@link Prepared.lockKeys}): one per vendor key and vendor id.
 */
export function scoringLockKeys(invoice: Invoice, vendorKey: string): string[] {
  return [`vendor_key:${vendorKey}`, `vendor_id:${invoice.vendor.id}`];
}

/** Prepares a validated invoice. */
export function prepare(invoice: Invoice): Prepared {
  return preparedOf(invoice, extractInvoiceFeatures(invoice));
}

/**
 * {@link prepare}, the line features computed a slice of lines at a time with a turn of the
 * event loop between slices (core/slices.ts; an invoice of one slice takes no turn). The same
 * value as {@link prepare}.
 * @throws the abort reason of `signal` when it aborts between two slices.
 */
export async function prepareInSlices(invoice: Invoice, signal?: AbortSignal): Promise<Prepared> {
  const lines = await mapInSlices(invoice.lines, (slice) => slice.map(lineFeaturesWithCounts), {
    ...(signal ? { signal } : {}),
  });
  return preparedOf(invoice, invoiceFeaturesOfLines(invoice, lines));
}

function preparedOf(invoice: Invoice, features: InvoiceFeatures): Prepared {
  return {
    invoice,
    sha256: payloadSha256(invoice),
    features,
    lines: invoice.lines.map((line, i) => ({ line, features: features.lines[i] as LineRecord['features'] })),
    keys: indexKeysOf(features),
    pairSide: pairSideOfInvoice(invoice, features),
    lockKeys: scoringLockKeys(invoice, features.vendorKey),
  };
}
