/**
 * Pair comparison of duplicate candidates: the measurements between a new invoice and an
 * earlier one ({@link comparePair}). The declarative comparison levels and the fixed-order model
 * vector built from these measurements are in `comparisons.ts`.
 */
import type { DocumentType, Invoice } from '../core/invoice.js';
import type { InvoiceFeatures } from './invoice-features.js';
import { daysApart, spanOverlap } from './dates.js';
import { invoiceNumberDistances, unpadNumericRuns } from './invoice-number.js';
import { jaccard, jaroWinkler } from './strings.js';
import { GENERIC_BUSINESS_WORDS } from './vendor.js';

/**
 * The side of a pair that the comparison needs, from a new invoice ({@link pairSideOfInvoice})
 * or a stored candidate (the store's `CandidateInvoice` satisfies it). Optional fields are
 * compared when both sides carry them and give the comparison's null level otherwise, so a
 * training set must build both sides the way serving does (or the model sees values in training
 * that it never sees in production).
 */
export interface PairSide {
  vendorId: string;
  /** `normaliseVendorName` of the vendor name. */
  vendorKey: string;
  vendorTaxId: string | null;
  vendorNpi: string | null;
  /** Invoice number as printed (raw edits); optional. */
  invoiceNumber?: string;
  invoiceNumberNormalised: string;
  invoiceNumberCanonical: string;
  invoiceDate: string;
  totalCents: number;
  /** ISO 4217 currency of `totalCents`; optional. */
  currency?: string;
  documentType: DocumentType;
  poNumber: string | null;
  servicePeriodStart: string | null;
  servicePeriodEnd: string | null;
  /** Line keys `CODE|amount_cents` or `~stems|amount_cents` (see `LineFeatures.matchKey`). */
  lineMatchKeys: readonly string[];
  /** Distinct description stems over all lines; optional (the store does not return them yet). */
  lineDescriptionStems?: readonly string[];
}

/** The pair side of a new invoice, from the invoice and its extracted features. */
export function pairSideOfInvoice(inv: Invoice, f: InvoiceFeatures): PairSide {
  return {
    vendorId: inv.vendor.id,
    vendorKey: f.vendorKey,
    vendorTaxId: inv.vendor.tax_id ?? null,
    vendorNpi: inv.vendor.npi ?? null,
    invoiceNumber: inv.invoice_number,
    invoiceNumberNormalised: f.invoiceNumber.normalised,
    invoiceNumberCanonical: f.invoiceNumber.canonical,
    invoiceDate: inv.invoice_date,
    totalCents: inv.total_cents,
    currency: inv.currency,
    documentType: inv.document_type,
    poNumber: inv.po_number ?? null,
    servicePeriodStart: inv.service_period?.start ?? null,
    servicePeriodEnd: inv.service_period?.end ?? null,
    lineMatchKeys: f.lines.map((l) => l.matchKey),
    lineDescriptionStems: [...new Set(f.lines.flatMap((l) => l.tokens))],
  };
}

/**
 * Measurements of one candidate pair (a = new invoice, b = earlier one). Units in the names or
 * docs; null where a side lacks the data.
 */
export interface PairComparison {
  /** Same vendor id, tax id or NPI. */
  sameVendor: boolean;
  /** Same client vendor-master id. */
  vendorIdEqual: boolean;
  /** Same tax id or NPI; null when no identifier is present on both sides. */
  vendorTaxOrNpiEqual: boolean | null;
  /**
   * Guarded name similarity in [0, 1]: min(Jaro-Winkler of the vendor keys, Jaro-Winkler of
   * their distinctive parts), so "ABC Enterprise" vs "XYZ Enterprise" scores low.
   */
  vendorNameJw: number;
  /** Jaro-Winkler of the full vendor keys, in [0, 1]. */
  vendorNameFullJw: number;
  /** Jaro-Winkler of the distinctive parts (generic business words removed), in [0, 1]. */
  vendorNameDistinctiveJw: number;
  /** Raw numbers equal after upper-casing and trimming; null when a raw number is missing. */
  invoiceNumberRawEqual: boolean | null;
  /** Normalised invoice numbers equal. */
  invoiceNumberEqual: boolean;
  /** Canonical (OCR-folded) invoice numbers equal. */
  invoiceNumberCanonicalEqual: boolean;
  /** Normalised invoice numbers equal once the zero padding of every numeric run is dropped (`unpadNumericRuns`). */
  invoiceNumberUnpaddedEqual: boolean;
  /** Canonical invoice numbers equal once the zero padding of every numeric run is dropped. */
  invoiceNumberCanonicalUnpaddedEqual: boolean;
  /** Levenshtein distance of the raw numbers (upper-cased), in edits; null when a raw number is missing. */
  invoiceNumberRawEdits: number | null;
  /** Levenshtein distance of the normalised numbers, in edits. */
  invoiceNumberEdit: number;
  /** Levenshtein distance of the canonical numbers, in edits. */
  invoiceNumberCanonicalEdit: number;
  /** Longer of the two normalised numbers, in characters (scales the edit counts). */
  invoiceNumberLength: number;
  /** One normalised number is the other plus 1-3 characters at an end ("1008" / "1008A"). */
  invoiceNumberAffixVariant: boolean;
  /**
   * |n_a - n_b| of the trailing numbers when the normalised numbers share everything before
   * them and the trailing numbers differ ("BSW20411" / "BSW20412" -> 1); null otherwise.
   */
  invoiceNumberSequenceGap: number | null;
  /** |a - b| / max(|a|, |b|), in [0, 2]; 0 when both totals are 0. */
  amountRelDiff: number;
  /** |total_a - total_b|, cents. */
  amountAbsDiffCents: number;
  amountEqual: boolean;
  /** total_a = -total_b != 0: a reversal (credit memo against invoice). */
  amountSignFlipped: boolean;
  /** Currencies differ; null when a side has none. */
  currencyDiffers: boolean | null;
  /** Absolute difference of invoice dates, days. */
  daysApart: number;
  /** Jaccard of the line keys (code or description stems, with amount), [0, 1]; 0 when both are empty. */
  lineOverlap: number;
  /** Jaccard of the billed codes; null when a side has no coded line. */
  lineCodeJaccard: number | null;
  /** Jaccard of the description stems of all lines; null when a side lacks them. */
  lineDescriptionJaccard: number | null;
  /** |line count a - line count b|. */
  lineCountDiff: number;
  /** Both service periods given and disjoint. */
  servicePeriodsDisjoint: boolean;
  /** Shared service days (inclusive); null unless both periods are given. */
  servicePeriodOverlapDays: number | null;
  /** Shared days / days of either period, [0, 1]; null unless both periods are given. */
  servicePeriodOverlapRatio: number | null;
  /** Same PO number after normalisation; null when a side has none. */
  samePo: boolean | null;
  documentTypes: `${DocumentType}/${DocumentType}`;
  /** Cosine of the invoice embeddings, [-1, 1]. */
  embeddingCosine: number;
  /**
   * The new invoice's vendor's typical interval between invoices, days (> 0), from its blocking
   * candidates (`vendorBillingIntervalDays` of core/blocking.ts); null when they show too few dates.
   * Computed by the service and by training from the same candidates (test/blocking-parity.test.ts);
   * encoded as the `billing_rhythm` comparison (pair-vector edition 3, features/comparisons.ts).
   */
  vendorIntervalDays: number | null;
  /** `daysApart / vendorIntervalDays`, in the vendor's billing cycles; null without an interval. */
  rhythmCycles: number | null;
}

/** Distinctive part of a vendor key (generic business words removed; the key itself when nothing is left). */
function distinctive(key: string): string {
  const kept = key.split(' ').filter((t) => t.length > 0 && !GENERIC_BUSINESS_WORDS.has(t));
  return kept.length > 0 ? kept.join(' ') : key;
}

/**
 * Similarity of the distinctive parts of two vendor keys, in [0, 1]: Jaro-Winkler of the parts;
 * when both parts are equal but the keys are not, the names differ only in generic words, and a
 * generic word in place of another ("Bank of the West" / "Bank of the East", both "bank") tells
 * two businesses apart: then the token Jaccard of the keys. An added or dropped generic word
 * ("Acme" / "Acme Medical") keeps 1.
 */
export function distinctiveSimilarity(keyA: string, keyB: string): number {
  return similarityOfParts(keyA, distinctive(keyA), keyB, distinctive(keyB));
}

/** {@link distinctiveSimilarity} of two keys given with their distinctive parts `da`, `db`. */
function similarityOfParts(keyA: string, da: string, keyB: string, db: string): number {
  if (da !== db) return jaroWinkler(da, db);
  if (keyA === keyB) return 1;
  const ta = keyA.split(' ');
  const tb = keyB.split(' ');
  const substituted = ta.some((t) => !tb.includes(t)) && tb.some((t) => !ta.includes(t));
  return substituted ? (jaccard(ta, tb) ?? 0) : 1;
}

/** Longest trailing number compared as a sequence (longer ones are not counters). */
const MAX_SEQUENCE_DIGITS = 15;

/** See {@link PairComparison.invoiceNumberSequenceGap}. */
export function sequenceGap(a: string, b: string): number | null {
  const ma = /^(.*?)(\d+)$/.exec(a);
  const mb = /^(.*?)(\d+)$/.exec(b);
  if (!ma || !mb || ma[1] !== mb[1]) return null;
  if (ma[2]!.length > MAX_SEQUENCE_DIGITS || mb[2]!.length > MAX_SEQUENCE_DIGITS) return null;
  const gap = Math.abs(Number(ma[2]) - Number(mb[2]));
  return gap > 0 ? gap : null;
}

/** Code heads of the line keys (keys of coded lines: `CODE|amount`). */
function lineCodes(keys: readonly string[]): string[] {
  return keys.filter((k) => !k.startsWith('~')).map((k) => k.slice(0, k.lastIndexOf('|')));
}

function normalisePo(po: string): string {
  return po
    .normalize('NFKC')
    .toUpperCase()
    .replace(/^(?:PO|P\.O\.)(?![A-Z])/, '')
    .replace(/[^A-Z0-9]/g, '')
    .replace(/^0+(?=.)/, '');
}

/** The forms of one side's vendor, invoice and PO numbers that {@link comparePair} compares. */
interface SideForms {
  /** The vendor key without generic business words. */
  distinctiveKey: string;
  /** `unpadNumericRuns` of the normalised and of the canonical number. */
  unpaddedNormalised: string;
  unpaddedCanonical: string;
  /** The raw number NFKC-normalised, trimmed and upper-cased; null without a raw number. */
  rawNumber: string | null;
  /** The normalised PO number; null without one. */
  po: string | null;
}

/** The {@link SideForms} of one side. */
function sideForms(side: PairSide): SideForms {
  return {
    distinctiveKey: distinctive(side.vendorKey),
    unpaddedNormalised: unpadNumericRuns(side.invoiceNumberNormalised),
    unpaddedCanonical: unpadNumericRuns(side.invoiceNumberCanonical),
    rawNumber:
      side.invoiceNumber === undefined ? null : side.invoiceNumber.normalize('NFKC').trim().toUpperCase(),
    po: side.poNumber === null ? null : normalisePo(side.poNumber),
  };
}

/**
 * What {@link comparePair} derives from the new invoice's side alone (its sets and number
 * forms), made once with {@link pairSideKeys} for all its candidates. Read-only: it describes
 * `side` as it was when made.
 */
export interface PairSideKeys extends SideForms {
  side: PairSide;
  /** `lineMatchKeys` as a set. */
  keys: ReadonlySet<string>;
  /** The code heads of the coded lines' keys, as a set. */
  codes: ReadonlySet<string>;
  /** `lineDescriptionStems` as a set; null when the side has none. */
  stems: ReadonlySet<string> | null;
}

/** The {@link PairSideKeys} of `side`. */
export function pairSideKeys(side: PairSide): PairSideKeys {
  return {
    side,
    keys: new Set(side.lineMatchKeys),
    codes: new Set(lineCodes(side.lineMatchKeys)),
    stems: side.lineDescriptionStems === undefined ? null : new Set(side.lineDescriptionStems),
    ...sideForms(side),
  };
}

/**
 * Compares a new invoice `a` with an earlier one `b`.
 * @param embeddingCosine cosine of the two invoice embeddings (the store returns it with the candidate).
 * @param vendorIntervalDays `a`'s vendor's billing interval in days (`vendorBillingIntervalDays` of
 *   core/blocking.ts over `a`'s blocking candidates), or null when unknown.
 */
export function comparePair(
  a: PairSide,
  b: PairSide,
  embeddingCosine: number,
  vendorIntervalDays: number | null = null,
): PairComparison {
  return compareSides(pairSideKeys(a), b, embeddingCosine, vendorIntervalDays);
}

/** {@link comparePair} of the new invoice's {@link PairSideKeys} `ka` and an earlier invoice `b`. */
export function compareSides(
  ka: PairSideKeys,
  b: PairSide,
  embeddingCosine: number,
  vendorIntervalDays: number | null = null,
): PairComparison {
  const a = ka.side;
  const kb = sideForms(b);
  const vendorIdEqual = a.vendorId === b.vendorId;
  const taxKnown = a.vendorTaxId !== null && b.vendorTaxId !== null;
  const npiKnown = a.vendorNpi !== null && b.vendorNpi !== null;
  const vendorTaxOrNpiEqual =
    taxKnown || npiKnown
      ? (taxKnown && a.vendorTaxId === b.vendorTaxId) || (npiKnown && a.vendorNpi === b.vendorNpi)
      : null;
  const fullJw = a.vendorKey === b.vendorKey ? 1 : jaroWinkler(a.vendorKey, b.vendorKey);
  const distinctJw = similarityOfParts(a.vendorKey, ka.distinctiveKey, b.vendorKey, kb.distinctiveKey);
  const num = invoiceNumberDistances(
    {
      raw: a.invoiceNumber ?? '',
      normalised: a.invoiceNumberNormalised,
      canonical: a.invoiceNumberCanonical,
    },
    {
      raw: b.invoiceNumber ?? '',
      normalised: b.invoiceNumberNormalised,
      canonical: b.invoiceNumberCanonical,
    },
  );
  const rawKnown = ka.rawNumber !== null && kb.rawNumber !== null;
  const maxAbs = Math.max(Math.abs(a.totalCents), Math.abs(b.totalCents));
  const periods =
    a.servicePeriodStart !== null &&
    a.servicePeriodEnd !== null &&
    b.servicePeriodStart !== null &&
    b.servicePeriodEnd !== null
      ? spanOverlap(
          { start: a.servicePeriodStart, end: a.servicePeriodEnd },
          { start: b.servicePeriodStart, end: b.servicePeriodEnd },
        )
      : null;
  const codesB = lineCodes(b.lineMatchKeys);
  const days = daysApart(a.invoiceDate, b.invoiceDate);
  const interval = vendorIntervalDays !== null && vendorIntervalDays > 0 ? vendorIntervalDays : null;
  return {
    sameVendor: vendorIdEqual || vendorTaxOrNpiEqual === true,
    vendorIdEqual,
    vendorTaxOrNpiEqual,
    vendorNameJw: Math.min(fullJw, distinctJw),
    vendorNameFullJw: fullJw,
    vendorNameDistinctiveJw: distinctJw,
    invoiceNumberRawEqual: rawKnown ? ka.rawNumber === kb.rawNumber : null,
    invoiceNumberEqual: a.invoiceNumberNormalised === b.invoiceNumberNormalised,
    invoiceNumberCanonicalEqual: a.invoiceNumberCanonical === b.invoiceNumberCanonical,
    invoiceNumberUnpaddedEqual: ka.unpaddedNormalised === kb.unpaddedNormalised,
    invoiceNumberCanonicalUnpaddedEqual: ka.unpaddedCanonical === kb.unpaddedCanonical,
    invoiceNumberRawEdits: rawKnown ? num.rawEdits : null,
    invoiceNumberEdit: num.normalisedEdits,
    invoiceNumberCanonicalEdit: num.canonicalEdits,
    invoiceNumberLength: Math.max(a.invoiceNumberNormalised.length, b.invoiceNumberNormalised.length),
    invoiceNumberAffixVariant: num.affixVariant,
    invoiceNumberSequenceGap: sequenceGap(a.invoiceNumberNormalised, b.invoiceNumberNormalised),
    amountRelDiff: maxAbs === 0 ? 0 : Math.abs(a.totalCents - b.totalCents) / maxAbs,
    amountAbsDiffCents: Math.abs(a.totalCents - b.totalCents),
    amountEqual: a.totalCents === b.totalCents,
    amountSignFlipped: a.totalCents !== 0 && a.totalCents === -b.totalCents,
    currencyDiffers: a.currency !== undefined && b.currency !== undefined ? a.currency !== b.currency : null,
    daysApart: days,
    lineOverlap: jaccard(ka.keys, b.lineMatchKeys) ?? 0,
    lineCodeJaccard: ka.codes.size > 0 && codesB.length > 0 ? jaccard(ka.codes, codesB) : null,
    lineDescriptionJaccard:
      ka.stems !== null && b.lineDescriptionStems !== undefined
        ? jaccard(ka.stems, b.lineDescriptionStems)
        : null,
    lineCountDiff: Math.abs(a.lineMatchKeys.length - b.lineMatchKeys.length),
    servicePeriodsDisjoint: periods !== null && periods.days === 0,
    servicePeriodOverlapDays: periods?.days ?? null,
    servicePeriodOverlapRatio: periods?.ratio ?? null,
    samePo: ka.po !== null && kb.po !== null ? ka.po === kb.po : null,
    documentTypes: `${a.documentType}/${b.documentType}`,
    embeddingCosine,
    vendorIntervalDays: interval,
    rhythmCycles: interval === null ? null : days / interval,
  };
}
