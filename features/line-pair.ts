/**
 * Features of a line pair for the line-pair model (`models/line-pair.ts`): a line of a new
 * invoice and an earlier line of the same vendor from its line block (`BLOCKING_SPEC.lines`,
 * core/blocking.ts), with what their invoices say around them. Declared once: training
 * (`training/line-pair.ts`) and serving (`inference/stages/line-rebills.ts`) both call
 * {@link linePairVectors}.
 *
 * What tells a re-billed line from a legitimately repeated purchase: a re-billed line repeats
 * the earlier line's quantity, amount and service date among new lines served later (a stale
 * line), while a repeat (monthly rental, the same supply ordered again) comes with its own later
 * service date, usually with the rest of the earlier invoice, and for an item the vendor bills
 * often (its rhythm). Where the vendor prints the delivery (packing-slip or delivery-note number,
 * `delivery_reference`), a re-billed line repeats the earlier line's delivery while a re-order
 * has its own: the one signal that still tells them apart when neither line is dated.
 */
import type { Invoice } from '../core/invoice.js';
import { daysApart, epochDay } from './dates.js';
import type { LineFeatures } from './invoice-features.js';
import { lineServiceDate } from './line-features.js';

/** A line of the new invoice as the features read it. Money in cents, dates `YYYY-MM-DD`. */

/**
 * The comparison key of a printed delivery reference (packing-slip or delivery-note number):
 * trimmed, inner whitespace collapsed to one space, upper case, so that `"DN-7001 "`, `"dn-7001"`
 * and `"DN-7001"` are one delivery however the invoice arrived (JSON as given, UBL trimmed).
 * @returns the key, or `null` when nothing is printed (absent, empty or only whitespace).
 */
export function deliveryReferenceKey(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const key = raw.trim().replace(/\s+/g, ' ').toUpperCase();
  return key === '' ? null : key;
}

export interface PairLine {
  lineNumber: number;
  /** Upper-case code value, or null. */
  code: string | null;
  quantity: number;
  amountCents: number;
  /** The line's own service date, or null. */
  serviceDate: string | null;
  /** Its service date, else the invoice's service period start, else the invoice date. */
  judgedDate: string;
  /** The printed delivery (packing-slip) reference, or null. */
  deliveryReference: string | null;
}

/** An earlier line of the block (store/line-rebills.ts `EarlierLine` has these fields). */
export interface PairCandidate {
  lineNumber: number;
  invoiceId: string;
  earlierLineNumber: number;
  earlierInvoiceDate: string;
  cosine: number;
  code: string | null;
  quantity: number;
  amountCents: number;
  serviceDate: string | null;
  judgedDate: string;
  deliveryReference: string | null;
}

/** One feature: name, unit, meaning. */
export interface LinePairFeatureSpec {
  name: string;
  unit: string;
  description: string;
}

const f = (name: string, unit: string, description: string): LinePairFeatureSpec => ({
  name,
  unit,
  description,
});

/** The features, in vector order. */
export const LINE_PAIR_FEATURES: readonly LinePairFeatureSpec[] = Object.freeze([
  f('code_equal', '0/1', 'Both lines coded with the same code.'),
  f('description_cosine', 'cosine [-1,1]', 'Cosine of the description embeddings.'),
  f('amount_equal', '0/1', 'Same extended amount in cents.'),
  f('quantity_equal', '0/1', 'Same quantity.'),
  f(
    'amount_log_ratio',
    '|ln| clipped [0,3]',
    'Absolute log ratio of the amounts (3 when one is not positive).',
  ),
  f('service_date_equal', '0/1', 'Both lines carry their own service date and it is the same.'),
  f('service_date_missing', '0/1', 'One of the lines carries no service date of its own.'),
  f(
    'judged_days_apart',
    'ln(1+days)',
    'Days between the dates the lines are judged at (service date, else period start, else invoice date).',
  ),
  f('invoice_days_apart', 'ln(1+days)', 'Days from the earlier invoice date to the new invoice date.'),
  f(
    'newer_line_days',
    'ln(1+days)',
    'Days the latest other line of the new invoice is judged after this line (0 when none is later).',
  ),
  f(
    'unmatched_line_share',
    'share [0,1]',
    'Share of the new invoice\u2019s other lines with no candidate on the same earlier invoice (0 without other lines).',
  ),
  f(
    'item_billings',
    'ln(1+invoices)',
    'Distinct earlier invoices among this line\u2019s candidates: how often the vendor bills the item.',
  ),
  f('same_line', '0/1', 'Same item (same code, or description cosine at least 0.95), quantity and amount.'),
  f(
    'undated_among_new',
    'share [0,1]',
    '`service_date_missing` x `unmatched_line_share`: an undated copy among new lines.',
  ),
  f(
    'delivery_reference_equal',
    '0/1',
    'Both lines print a delivery (packing-slip) reference and it is the same: the same delivery billed again.',
  ),
  f('delivery_reference_missing', '0/1', 'One of the lines prints no delivery reference.'),
]);

/** Feature names, in vector order. */
export const LINE_PAIR_FEATURE_NAMES: readonly string[] = LINE_PAIR_FEATURES.map((s) => s.name);

const log1pDays = (a: string, b: string): number => Math.log1p(Math.abs(daysApart(a, b)));

/**
 * The feature vector of every candidate of a new invoice's lines.
 * @param lines the new invoice's lines (all of them, also those without candidates).
 * @param invoiceDate the new invoice's date.
 * @param candidates the block of its lines, in any order.
 * @returns one vector per candidate, in the order of `candidates`.
 * @throws Error when a candidate names a line the invoice does not have.
 */
export function linePairVectors(
  lines: readonly PairLine[],
  invoiceDate: string,
  candidates: readonly PairCandidate[],
): Float64Array[] {
  if (candidates.length === 0) return [];
  return candidates.map(linePairVectoriser(lines, invoiceDate, candidates));
}

/**
 * The feature vector of one candidate of the block `candidates` (see {@link linePairVectors},
 * which maps the block through it): what the vectors read of the whole block is counted once,
 * here, so the block can be vectorised a slice at a time in O(1) per candidate.
 * @throws Error from the returned function for a candidate of a line the invoice does not have.
 */
export function linePairVectoriser(
  lines: readonly PairLine[],
  invoiceDate: string,
  candidates: readonly PairCandidate[],
): (c: PairCandidate) => Float64Array {
  const byNumber = new Map(lines.map((l) => [l.lineNumber, l]));
  const onInvoice = new Map<string, Set<number>>();
  const invoicesOfLine = new Map<number, Set<string>>();
  for (const c of candidates) {
    onInvoice.set(c.invoiceId, (onInvoice.get(c.invoiceId) ?? new Set()).add(c.lineNumber));
    invoicesOfLine.set(c.lineNumber, (invoicesOfLine.get(c.lineNumber) ?? new Set()).add(c.invoiceId));
  }
  // Per earlier invoice, how many of the new invoice's lines have a candidate on it; and the
  // latest judged day of the lines but one (the two latest, with how often the latest occurs),
  // so that each candidate costs O(1) and the vectors O(lines + candidates).
  const matchedLines = new Map<string, number>();
  for (const [invoiceId, numbers] of onInvoice)
    matchedLines.set(invoiceId, [...numbers].filter((n) => byNumber.has(n)).length);
  const days = new Map(lines.map((l) => [l.lineNumber, epochDay(l.judgedDate)]));
  let latest = -Infinity;
  let atLatest = 0;
  let second = -Infinity;
  for (const d of days.values()) {
    if (d > latest) [second, latest, atLatest] = [latest, d, 1];
    else if (d === latest) atLatest += 1;
    else if (d > second) second = d;
  }
  return (c) => {
    const l = byNumber.get(c.lineNumber);
    if (!l) throw new Error(`candidate of line ${c.lineNumber}, which the invoice does not have`);
    const others = lines.length - 1;
    // The candidate's own line is among the matched lines of its invoice, never among the others.
    const unmatched = others - (matchedLines.get(c.invoiceId)! - 1);
    const own = days.get(l.lineNumber)!;
    const latestOther = own < latest || atLatest > 1 ? latest : second;
    const newer = others === 0 ? 0 : Math.max(0, latestOther - own);
    const ratio =
      l.amountCents > 0 && c.amountCents > 0
        ? Math.min(3, Math.abs(Math.log(l.amountCents / c.amountCents)))
        : 3;
    const dated = l.serviceDate !== null && c.serviceDate !== null;
    const share = others === 0 ? 0 : unmatched / others;
    const sameItem = (l.code !== null && l.code === c.code) || c.cosine >= 0.95;
    const referenced = l.deliveryReference !== null && c.deliveryReference !== null;
    return Float64Array.of(
      l.code !== null && l.code === c.code ? 1 : 0,
      c.cosine,
      l.amountCents === c.amountCents ? 1 : 0,
      l.quantity === c.quantity ? 1 : 0,
      ratio,
      dated && l.serviceDate === c.serviceDate ? 1 : 0,
      dated ? 0 : 1,
      log1pDays(l.judgedDate, c.judgedDate),
      log1pDays(invoiceDate, c.earlierInvoiceDate),
      Math.log1p(newer),
      share,
      Math.log1p(invoicesOfLine.get(l.lineNumber)!.size),
      sameItem && l.quantity === c.quantity && l.amountCents === c.amountCents ? 1 : 0,
      dated ? 0 : share,
      referenced && l.deliveryReference === c.deliveryReference ? 1 : 0,
      referenced ? 0 : 1,
    );
  };
}

/**
 * The new invoice's lines as the features read them, from the invoice and its extracted line
 * features (`extractInvoiceFeatures(inv).lines`, same order as `inv.lines`).
 */
export function pairLinesOf(inv: Invoice, features: readonly Pick<LineFeatures, 'code'>[]): PairLine[] {
  return inv.lines.map((l, i) => ({
    lineNumber: l.line_number,
    code: features[i]!.code,
    quantity: l.quantity,
    amountCents: l.amount_cents,
    serviceDate: l.service_date ?? null,
    judgedDate: lineServiceDate(inv, l),
    deliveryReference: deliveryReferenceKey(l.delivery_reference),
  }));
}
