/**
 * Turns a validated invoice into the features the scorers and the store need: blocking keys,
 * line embeddings and stems, and one invoice embedding for nearest-neighbour duplicate search.
 * Pure and deterministic.
 */
import type { Invoice } from '../core/invoice.js';
import {
  addHashedNgrams,
  EMBEDDING_DIM,
  hashedNgramCounts,
  hashedNgramEmbedding,
  l2normalise,
} from './hashing.js';
import { normaliseInvoiceNumber, type InvoiceNumberForms } from './invoice-number.js';
import { descriptionTokens, normaliseDescription } from './text.js';
import { normaliseVendorName } from './vendor.js';

/** Features of one line. */
export interface LineFeatures {
  lineNumber: number;
  /** Normalised description text (lower case, abbreviations of `w/` expanded). */
  descriptionNormalised: string;
  /** Stemmed content tokens of the description. */
  tokens: string[];
  /** L2-normalised hashed n-gram embedding of the normalised description, length {@link EMBEDDING_DIM}. */
  embedding: Float64Array;
  /** Upper-case code value, or null when the line has no code. */
  code: string | null;
  codeSystem: string | null;
  /**
   * Key used to compare lines across invoices: `CODE|amount_cents` for a coded line,
   * `~stem_stem_stem_stem|amount_cents` (first four stems) otherwise.
   */
  matchKey: string;
}

/** Features of one invoice. */
export interface InvoiceFeatures {
  vendorKey: string;
  invoiceNumber: InvoiceNumberForms;
  /** L2-normalised invoice embedding, length {@link EMBEDDING_DIM}. */
  embedding: Float64Array;
  lines: LineFeatures[];
}

/** Recipe of the invoice embedding: the weights of its parts (each a unit recipe-1 vector). */
export interface InvoiceEmbeddingRecipe {
  name: 'weighted-parts';
  version: 1;
  dim: number;
  weights: { vendor: number; number: number; total: number; date: number; lines: number };
}

/** The invoice embedding of this version (see {@link extractInvoiceFeatures}). */
export const INVOICE_EMBEDDING_RECIPE: InvoiceEmbeddingRecipe = {
  name: 'weighted-parts',
  version: 1,
  dim: EMBEDDING_DIM,
  weights: { vendor: 1.0, number: 0.8, total: 0.8, date: 0.5, lines: 1.0 },
};
const INVOICE_EMBEDDING_WEIGHTS = INVOICE_EMBEDDING_RECIPE.weights;

/** Extracts the features of one line. */
export function extractLineFeatures(line: Invoice['lines'][number]): LineFeatures {
  return lineFeaturesWithCounts(line).features;
}

/** {@link extractLineFeatures} and the line's hashed n-gram counts, which the invoice embedding sums. */
export function lineFeaturesWithCounts(line: Invoice['lines'][number]): LineFeaturesWithCounts {
  const descriptionNormalised = normaliseDescription(line.description);
  const tokens = descriptionTokens(line.description);
  const code = lineCode(line);
  const counts = hashedNgramCounts(descriptionNormalised);
  const features = {
    lineNumber: line.line_number,
    descriptionNormalised,
    tokens,
    embedding: l2normalise(Float64Array.from(counts)),
    code,
    codeSystem: line.code?.system ?? null,
    matchKey: lineMatchKey(line, code, () => tokens),
  };
  return { features, counts };
}

/** The upper-case code value of a line, or null when it has none ({@link LineFeatures.code}). */
function lineCode(line: Invoice['lines'][number]): string | null {
  return line.code ? line.code.value.toUpperCase() : null;
}

/**
 * {@link LineFeatures.matchKey} of a line whose code is `code`; `tokens` (its description's
 * stems) is called only for a line without a code.
 */
function lineMatchKey(
  line: Invoice['lines'][number],
  code: string | null,
  tokens: () => readonly string[],
): string {
  const head = code ?? `~${tokens().slice(0, 4).join('_')}`;
  return `${head}|${line.amount_cents}`;
}

/**
 * The features of a line the store indexes ({@link InvoiceIndexFeatures}), with its hashed
 * n-gram counts: the same values as {@link lineFeaturesWithCounts}, without the stems a coded
 * line's match key does not read.
 */
function lineIndexFeaturesWithCounts(line: Invoice['lines'][number]): {
  features: LineIndexFeatures;
  counts: Float64Array;
} {
  const descriptionNormalised = normaliseDescription(line.description);
  const counts = hashedNgramCounts(descriptionNormalised);
  const features = {
    lineNumber: line.line_number,
    descriptionNormalised,
    embedding: l2normalise(Float64Array.from(counts)),
    matchKey: lineMatchKey(line, lineCode(line), () => descriptionTokens(line.description)),
  };
  return { features, counts };
}

/**
 * The invoice embedding (recipe 1, {@link INVOICE_EMBEDDING_RECIPE}): the weighted sum of unit
 * hashed n-gram embeddings of the vendor key, canonical invoice number, total, invoice date and
 * the line descriptions, L2-normalised.
 * @param dim vector length; default {@link EMBEDDING_DIM} (the store's `vector(128)`); other
 *   values are for measurement only.
 */
export function invoiceEmbedding(
  inv: Invoice,
  parts: {
    vendorKey: string;
    canonicalNumber: string;
    lineTexts: readonly string[];
    /** The lines' {@link hashedNgramCounts} at `dim`, when computed already (their sum is the lines' part). */
    lineCounts?: readonly Float64Array[];
  },
  dim: number = EMBEDDING_DIM,
): Float64Array {
  const w = INVOICE_EMBEDDING_WEIGHTS;
  const acc = new Float64Array(dim);
  const addPart = (text: string, weight: number): void => {
    const v = hashedNgramEmbedding(text, { dim });
    for (let i = 0; i < acc.length; i++) acc[i]! += weight * v[i]!;
  };
  addPart(parts.vendorKey, w.vendor);
  addPart(`#${parts.canonicalNumber}`, w.number);
  addPart(`total ${inv.total_cents} ${inv.currency}`, w.total);
  addPart(`date ${inv.invoice_date}`, w.date);
  const lineAcc = new Float64Array(dim);
  if (parts.lineCounts) for (const c of parts.lineCounts) for (let i = 0; i < dim; i++) lineAcc[i]! += c[i]!;
  else for (const t of parts.lineTexts) addHashedNgrams(lineAcc, t);
  l2normalise(lineAcc);
  for (let i = 0; i < acc.length; i++) acc[i]! += w.lines * lineAcc[i]!;
  return l2normalise(acc);
}

/** A line's features with its hashed n-gram counts, which the invoice embedding sums. */
export interface LineFeaturesWithCounts {
  features: LineFeatures;
  counts: Float64Array;
}

/**
 * Extracts invoice features: blocking keys, line features and the invoice embedding
 * ({@link invoiceEmbedding}), so near-identical resubmissions land close together even with
 * OCR noise.
 */
export function extractInvoiceFeatures(inv: Invoice): InvoiceFeatures {
  return invoiceFeaturesOfLines(inv, inv.lines.map(lineFeaturesWithCounts));
}

/**
 * {@link extractInvoiceFeatures} given its lines' {@link lineFeaturesWithCounts}, one per line in
 * order (computed a slice at a time by a caller that yields between slices).
 */
export function invoiceFeaturesOfLines(
  inv: Invoice,
  withCounts: readonly LineFeaturesWithCounts[],
): InvoiceFeatures {
  return featuresOfLines(inv, withCounts);
}

/** The line features a store indexes an invoice's lines by (part of {@link LineFeatures}). */
export type LineIndexFeatures = Pick<
  LineFeatures,
  'lineNumber' | 'descriptionNormalised' | 'embedding' | 'matchKey'
>;

/** The features a store indexes an invoice by (part of {@link InvoiceFeatures}, the same values). */
export interface InvoiceIndexFeatures extends Omit<InvoiceFeatures, 'lines'> {
  lines: LineIndexFeatures[];
}

/**
 * The part of {@link extractInvoiceFeatures} a store indexes (a history import's): the same
 * blocking keys, match keys and embeddings, without the stems of coded lines.
 */
export function extractIndexFeatures(inv: Invoice): InvoiceIndexFeatures {
  return featuresOfLines(inv, inv.lines.map(lineIndexFeaturesWithCounts));
}

/** The invoice's features given its lines' (of either kind) with their hashed n-gram counts. */
function featuresOfLines<L extends LineIndexFeatures>(
  inv: Invoice,
  withCounts: readonly { features: L; counts: Float64Array }[],
): Omit<InvoiceFeatures, 'lines'> & { lines: L[] } {
  const vendorKey = normaliseVendorName(inv.vendor.name);
  const invoiceNumber = normaliseInvoiceNumber(inv.invoice_number);
  const lines = withCounts.map((l) => l.features);
  const embedding = invoiceEmbedding(inv, {
    vendorKey,
    canonicalNumber: invoiceNumber.canonical,
    lineTexts: lines.map((l) => l.descriptionNormalised),
    lineCounts: withCounts.map((l) => l.counts),
  });
  return { vendorKey, invoiceNumber, embedding, lines };
}
