/**
 * Pair comparison vectors for duplicate candidates (Splink-style: each comparison is a
 * declared feature with a unit; see `PAIR_FEATURES` in schema.ts).
 */
import { distance as levenshtein } from 'fastest-levenshtein';
import { JaroWinklerDistance } from 'natural/lib/natural/distance/index.js';
import type { DocumentType, Invoice } from '../core/invoice.js';
import type { InvoiceFeatures } from './invoice-features.js';
import { daysApart } from './dates.js';

/** The side of a pair that the comparison needs, from a new invoice or a stored candidate. */
export interface PairSide {
  vendorId: string;
  vendorKey: string;
  vendorTaxId: string | null;
  vendorNpi: string | null;
  invoiceNumberNormalised: string;
  invoiceNumberCanonical: string;
  invoiceDate: string;
  totalCents: number;
  documentType: DocumentType;
  poNumber: string | null;
  servicePeriodStart: string | null;
  servicePeriodEnd: string | null;
  lineMatchKeys: readonly string[];
}

/** The pair side of a new invoice, from the invoice and its extracted features. */
export function pairSideOfInvoice(inv: Invoice, f: InvoiceFeatures): PairSide {
  return {
    vendorId: inv.vendor.id,
    vendorKey: f.vendorKey,
    vendorTaxId: inv.vendor.tax_id ?? null,
    vendorNpi: inv.vendor.npi ?? null,
    invoiceNumberNormalised: f.invoiceNumber.normalised,
    invoiceNumberCanonical: f.invoiceNumber.canonical,
    invoiceDate: inv.invoice_date,
    totalCents: inv.total_cents,
    documentType: inv.document_type,
    poNumber: inv.po_number ?? null,
    servicePeriodStart: inv.service_period?.start ?? null,
    servicePeriodEnd: inv.service_period?.end ?? null,
    lineMatchKeys: f.lines.map((l) => l.matchKey),
  };
}

/** Comparison vector of one candidate pair. Units in the names or docs. */
export interface PairComparison {
  sameVendor: boolean;
  vendorNameJw: number;
  invoiceNumberEqual: boolean;
  invoiceNumberCanonicalEqual: boolean;
  /** Levenshtein distance of the normalised numbers, in edits. */
  invoiceNumberEdit: number;
  /** |a - b| / max(|a|, |b|); 0 when both totals are 0. */
  amountRelDiff: number;
  amountEqual: boolean;
  daysApart: number;
  /** Jaccard of line match keys, [0, 1]. */
  lineOverlap: number;
  /** Both service periods given and disjoint. */
  servicePeriodsDisjoint: boolean;
  samePo: boolean | null;
  documentTypes: `${DocumentType}/${DocumentType}`;
  /** Cosine of the invoice embeddings. */
  embeddingCosine: number;
}

function jaccard(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 && b.length === 0) return 0;
  const sa = new Set(a);
  const sb = new Set(b);
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  return inter / (sa.size + sb.size - inter);
}

/** Compares a new invoice `a` with an earlier one `b`. `embeddingCosine` is passed in (from the store). */
export function comparePair(a: PairSide, b: PairSide, embeddingCosine: number): PairComparison {
  const sameVendor =
    a.vendorId === b.vendorId ||
    (a.vendorTaxId !== null && a.vendorTaxId === b.vendorTaxId) ||
    (a.vendorNpi !== null && a.vendorNpi === b.vendorNpi);
  const maxAbs = Math.max(Math.abs(a.totalCents), Math.abs(b.totalCents));
  return {
    sameVendor,
    vendorNameJw: a.vendorKey === b.vendorKey ? 1 : JaroWinklerDistance(a.vendorKey, b.vendorKey),
    invoiceNumberEqual: a.invoiceNumberNormalised === b.invoiceNumberNormalised,
    invoiceNumberCanonicalEqual: a.invoiceNumberCanonical === b.invoiceNumberCanonical,
    invoiceNumberEdit: levenshtein(a.invoiceNumberNormalised, b.invoiceNumberNormalised),
    amountRelDiff: maxAbs === 0 ? 0 : Math.abs(a.totalCents - b.totalCents) / maxAbs,
    amountEqual: a.totalCents === b.totalCents,
    daysApart: daysApart(a.invoiceDate, b.invoiceDate),
    lineOverlap: jaccard(a.lineMatchKeys, b.lineMatchKeys),
    servicePeriodsDisjoint:
      a.servicePeriodStart !== null &&
      a.servicePeriodEnd !== null &&
      b.servicePeriodStart !== null &&
      b.servicePeriodEnd !== null &&
      (a.servicePeriodEnd < b.servicePeriodStart || b.servicePeriodEnd < a.servicePeriodStart),
    samePo: a.poNumber !== null && b.poNumber !== null ? a.poNumber === b.poNumber : null,
    documentTypes: `${a.documentType}/${b.documentType}`,
    embeddingCosine,
  };
}
