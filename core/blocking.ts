/**
 * Duplicate blocking declared once (in the style of Splink's blocking rules): which earlier
 * invoices a new invoice is compared with. The store renders this spec to SQL
 * (`store/candidates.ts`) and training evaluates it in memory (`training/blocking.ts`), so the
 * pair model is trained on the pairs the service scores. `test/blocking-parity.test.ts` runs
 * both on the same invoices and compares the candidate sets.
 *
 * A candidate is an earlier invoice that is
 * 1. among the `k` nearest by cosine distance of the invoice embeddings (tenant-wide kNN);
 * 2. among the `k` nearest of the **same vendor** (vendor id or vendor key equal) dated within
 *    `vendorWindowDays` days of the new invoice, ranked among the vendor's `vendorRecentLimit`
 *    invoices dated nearest to the new invoice's date (vendor kNN; the bound keeps its cost
 *    independent of the vendor's history, see {@link vendorRecentPool});
 * 3. or matched by one of the `exactKeys` rules (at most `exactLimit`, most recent first).
 *
 * kNN ties go to the earlier invoice.
 *
 * The vendor's billing rhythm (its typical interval between invoices) is read from the
 * candidates this spec returns ({@link vendorBillingIntervalDays}), so that training and
 * serving, which both hold the candidate set, compute it from the same history.
 */
import type { Invoice } from './invoice.js';

/** The fields of an invoice that blocking reads. Money in cents, dates `YYYY-MM-DD`. */
export interface BlockingKeys {
  vendorKey: string;
  vendorId: string;
  invoiceNumberCanonical: string;
  totalCents: number;
  invoiceDate: string;
  /** Default `invoice`. */
  documentType?: Invoice['document_type'];
  /** L2-normalised invoice embedding. */
  embedding: ArrayLike<number>;
}

/** How the vendor of a candidate must match: by vendor key only, or by vendor key or vendor id. */
export type VendorMatch = 'key' | 'key_or_id';

/** An exact-key rule: every condition holds between the new invoice and the candidate. */
export interface ExactKeyRule {
  /** Name of the rule (documentation and tests). */
  name: string;
  vendor: VendorMatch;
  /** Fields that are equal. */
  equal: readonly ('invoiceNumberCanonical' | 'invoiceDate')[];
  /** `same`: equal totals; `negated`: the candidate's total is minus the new one's; absent: not compared. */
  total?: 'same' | 'negated';
  /** The rule applies only when the new document is of this type. */
  queryDocumentType?: Invoice['document_type'];
  /** Only candidates of this document type match. */
  candidateDocumentType?: Invoice['document_type'];
}

/** The whole blocking specification. */
export interface BlockingSpec {
  /** Nearest neighbours per kNN search (tenant-wide and vendor). */
  k: number;
  /** Vendor kNN looks at the vendor's invoices dated within this many days (inclusive). */
  vendorWindowDays: number;
  /**
   * Vendor kNN ranks at most this many of those invoices: the ones dated nearest to the new
   * invoice's date, ties broken by {@link compareVendorRecent} (the order of the store's
   * (tenant, vendor, date, pk) indexes, migration 096), so a search reads at most `limit` index
   * rows per side and vendor match however long the vendor's history is. 300: the largest vendor window of the seed-42 benchmark holds 245
   * earlier invoices, so training's pairs are those of the unbounded window; at 1M indexed
   * invoices (20,000 per vendor in the window) the vendor block reads about 14 times fewer rows
   * (BENCHMARKS.md "Bounded vendor block"). A vendor that bills more than about 150 invoices
   * around a date loses the invoices of its further dates from this block (the tenant kNN and
   * the exact keys still search them).
   */
  vendorRecentLimit: number;
  exactKeys: readonly ExactKeyRule[];
  /** Most exact-key candidates per invoice (the most recently stored first). */
  exactLimit: number;
  /**
   * Tenants with at most this many indexed invoices are searched exactly (a scan of the
   * tenant); larger ones by HNSW with pgvector's iterative scan. Does not change the candidate
   * set of small tenants, only the cost. 2,000 from measured costs (BENCHMARKS.md "Store cost
   * against history"): the exact scan costs about 0.7-1.2 ms per 1,000 invoices, an HNSW query
   * 1.3-3.6 ms at p50. Must stay below 10,000, where the tenant counter of migration 060
   * stops counting.
   */
  exactSearchMaxRows: number;
  /**
   * Fewest distinct earlier invoice dates of the vendor among the candidates that give a
   * billing interval ({@link vendorBillingIntervalDays}); fewer give none.
   */
  rhythmMinDates: number;
  /** The line block: which earlier lines a new line is compared with ({@link LineBlockingSpec}). */
  lines: LineBlockingSpec;
}

/**
 * Line-level blocking: the earlier lines a line of a new invoice is compared with by the
 * line-pair model (`features/line-pair.ts`). An earlier line is a candidate when its invoice
 * 1. is of the **same vendor** (vendor id or vendor key equal), an invoice (not a credit memo),
 *    not the new invoice itself, and not fully reversed by credit memos (their sum within a cent
 *    of its total);
 * 2. is dated within `windowDays` days before the new invoice's date (inclusive, same day too);
 * and the two lines carry the **same code** (both coded, code values equal ignoring case) or
 * **near descriptions** (cosine of the stored description embeddings, `LineFeatures.embedding`,
 * at least `minDescriptionCosine`). Per new line at most `perLine` candidates are kept, in this
 * order: equal amount in cents first, then the later earlier invoice date, the smaller invoice
 * id, the smaller line number. The store renders it to SQL (`store/line-rebills.ts`), training
 * evaluates it in memory ({@link lineCandidates}); `test/line-blocking-parity.test.ts` compares them.
 */
export interface LineBlockingSpec {
  /** Days before the new invoice's date searched (inclusive). */
  windowDays: number;
  /** Description cosine (in [-1, 1]) at or above which lines of different or missing codes are compared. */
  minDescriptionCosine: number;
  /** Most candidates per new line. */
  perLine: number;
}

/** The blocking of the service and of training. */
export const BLOCKING_SPEC: BlockingSpec = Object.freeze({
  k: 10,
  vendorWindowDays: 400,
  vendorRecentLimit: 300,
  exactKeys: Object.freeze([
    { name: 'vendor_number', vendor: 'key_or_id', equal: ['invoiceNumberCanonical'] },
    { name: 'vendor_total_date', vendor: 'key', equal: ['invoiceDate'], total: 'same' },
    {
      name: 'credit_memo_reversal',
      vendor: 'key_or_id',
      equal: [],
      total: 'negated',
      queryDocumentType: 'credit_memo',
      candidateDocumentType: 'invoice',
    },
  ] satisfies ExactKeyRule[]),
  exactLimit: 50,
  exactSearchMaxRows: 2_000,
  rhythmMinDates: 3,
  // 365 days: the window of the earlier line-rebill rule; 0.8: a reworded copy of a benchmark
  // line (abbreviated, reordered, re-cased) scores 0.8-1.0 against its original, another item of
  // the vendor mostly below 0.6 (`training/line-pair.ts` reports the recall of the block); 8:
  // a vendor billing one item monthly keeps the last 8 months of it.
  lines: Object.freeze({ windowDays: 365, minDescriptionCosine: 0.8, perLine: 8 }),
});

/** True when the candidate's vendor matches the new invoice's as `how` requires. */
export function vendorMatches(
  how: VendorMatch,
  q: Pick<BlockingKeys, 'vendorKey' | 'vendorId'>,
  c: Pick<BlockingKeys, 'vendorKey' | 'vendorId'>,
): boolean {
  return q.vendorKey === c.vendorKey || (how === 'key_or_id' && q.vendorId === c.vendorId);
}

/** True when the rule matches the new invoice `q` with the earlier invoice `c`. */
export function exactKeyMatches(rule: ExactKeyRule, q: BlockingKeys, c: BlockingKeys): boolean {
  if (rule.queryDocumentType && (q.documentType ?? 'invoice') !== rule.queryDocumentType) return false;
  if (rule.candidateDocumentType && (c.documentType ?? 'invoice') !== rule.candidateDocumentType)
    return false;
  if (rule.total === 'same' && q.totalCents !== c.totalCents) return false;
  if (rule.total === 'negated' && c.totalCents !== -q.totalCents) return false;
  return rule.equal.every((f) => q[f] === c[f]) && vendorMatches(rule.vendor, q, c);
}

/** Whole days from `a` to `b` (`YYYY-MM-DD`, UTC). */
function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** True when `c` is a vendor-kNN candidate of `q` by vendor and date window (the distance aside). */
export function inVendorWindow(spec: BlockingSpec, q: BlockingKeys, c: BlockingKeys): boolean {
  return (
    vendorMatches('key_or_id', q, c) &&
    Math.abs(daysBetween(q.invoiceDate, c.invoiceDate)) <= spec.vendorWindowDays
  );
}

/**
 * The tie rule of the vendor block's bound, in the order of the store's (tenant, vendor, date,
 * pk) indexes: the vendor's invoices sorted by date and then by storage order, with the new
 * invoice `q` placed after every invoice dated on or before its date (it is stored last). An
 * invoice comes before another when it is
 * 1. dated nearer to `q` (whole days either way); then
 * 2. dated earlier (at equal distance the day before `q`'s date goes ahead of the day after); then
 * 3. on the same date, nearer to `q` in storage order: the later stored for dates on or before
 *    `q`'s date, the earlier stored for dates after it.
 *
 * So each side of `q` is a prefix of one scan of the index (backwards from `q` for the dates on
 * or before, forwards for the dates after) and a search reads exactly the bound per side.
 * @param x,y the two invoices: their date (`YYYY-MM-DD`) and storage rank (smaller = stored earlier).
 * @returns negative when `x` goes first, positive when `y` does, 0 only for the same rank.
 */
export function compareVendorRecent(
  qDate: string,
  x: { invoiceDate: string; stored: number },
  y: { invoiceDate: string; stored: number },
): number {
  const dx = daysBetween(qDate, x.invoiceDate);
  const dy = daysBetween(qDate, y.invoiceDate);
  if (Math.abs(dx) !== Math.abs(dy)) return Math.abs(dx) - Math.abs(dy);
  if (dx !== dy) return dx - dy;
  return dx <= 0 ? y.stored - x.stored : x.stored - y.stored;
}

/**
 * The invoices the vendor kNN of `q` ranks: of `pool` (earlier invoices, in storage order), those
 * in `q`'s vendor window ({@link inVendorWindow}), bounded to the `spec.vendorRecentLimit` first
 * by {@link compareVendorRecent} (a pool index is its storage rank).
 * @param pool indexes into `keys` of the earlier invoices, in storage order.
 * @returns a subset of `pool` (in no particular order).
 */
export function vendorRecentPool(
  spec: BlockingSpec,
  q: BlockingKeys,
  pool: readonly number[],
  keys: readonly BlockingKeys[],
): number[] {
  const inWindow = pool.filter((b) => inVendorWindow(spec, q, keys[b]!));
  if (inWindow.length <= spec.vendorRecentLimit) return inWindow;
  const at = (b: number): { invoiceDate: string; stored: number } => ({
    invoiceDate: keys[b]!.invoiceDate,
    stored: b,
  });
  return inWindow
    .sort((x, y) => compareVendorRecent(q.invoiceDate, at(x), at(y)))
    .slice(0, spec.vendorRecentLimit);
}

/**
 * The vendor's typical interval between invoices, in days, as the candidates of a new invoice
 * `q` show it: the median gap between consecutive distinct invoice dates of the candidates of
 * the same vendor (vendor key or id) dated on or before `q`'s date. The new invoice itself is
 * left out, so a copy dated a day later does not shorten its own vendor's rhythm.
 * @param candidates the blocking candidates of `q` (in any order).
 * @returns days (> 0), or null with fewer than `spec.rhythmMinDates` such dates.
 */
export function vendorBillingIntervalDays(
  spec: BlockingSpec,
  q: Pick<BlockingKeys, 'vendorKey' | 'vendorId' | 'invoiceDate'>,
  candidates: readonly Pick<BlockingKeys, 'vendorKey' | 'vendorId' | 'invoiceDate'>[],
): number | null {
  const dates = [
    ...new Set(
      candidates
        .filter((c) => vendorMatches('key_or_id', q, c) && c.invoiceDate <= q.invoiceDate)
        .map((c) => c.invoiceDate),
    ),
  ].sort();
  if (dates.length < Math.max(2, spec.rhythmMinDates)) return null;
  const gaps = dates
    .slice(1)
    .map((d, i) => daysBetween(dates[i]!, d))
    .sort((x, y) => x - y);
  const mid = gaps.length >> 1;
  return gaps.length % 2 === 1 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2;
}

/** SQL placeholders (e.g. `$4`) of the new invoice's fields, for {@link exactKeysSql}. */
export interface BlockingSqlParams {
  vendorKey: string;
  vendorId: string;
  invoiceNumberCanonical: string;
  totalCents: string;
  invoiceDate: string;
  documentType: string;
}

/**
 * The exact-key rules as one SQL condition over the candidate row alias `i`
 * (columns vendor_key, vendor_id, invoice_number_canonical, total_cents, invoice_date,
 * document_type), with the new invoice's fields as the given placeholders.
 */
export function exactKeysSql(spec: BlockingSpec, p: BlockingSqlParams, alias = 'i'): string {
  return `(${exactKeyRulesSql(spec, p, alias).join(' OR ')})`;
}

/**
 * Each exact-key rule of `spec` as its own SQL condition (same columns and placeholders as
 * {@link exactKeysSql}, whose OR they make), in the spec's order.
 */
export function exactKeyRulesSql(spec: BlockingSpec, p: BlockingSqlParams, alias = 'i'): string[] {
  const column = { invoiceNumberCanonical: 'invoice_number_canonical', invoiceDate: 'invoice_date' } as const;
  const cast = { invoiceNumberCanonical: '::text', invoiceDate: '::date' } as const;
  return spec.exactKeys.map((r) => {
    const c: string[] = [];
    if (r.queryDocumentType) c.push(`${p.documentType}::text = '${r.queryDocumentType}'`);
    if (r.candidateDocumentType) c.push(`${alias}.document_type = '${r.candidateDocumentType}'`);
    for (const f of r.equal) c.push(`${alias}.${column[f]} = ${p[f]}${cast[f]}`);
    if (r.total === 'same') c.push(`${alias}.total_cents = ${p.totalCents}::bigint`);
    if (r.total === 'negated') c.push(`${alias}.total_cents = -(${p.totalCents}::bigint)`);
    c.push(
      r.vendor === 'key'
        ? `${alias}.vendor_key = ${p.vendorKey}::text`
        : `(${alias}.vendor_key = ${p.vendorKey}::text OR ${alias}.vendor_id = ${p.vendorId}::text)`,
    );
    return `(${c.join(' AND ')})`;
  });
}

/**
 * The vendor-kNN filter over the candidate row alias `i`: the vendor (`either` its key or its id,
 * as the blocking spec matches vendors; or only `key` or only `id`, one side of that OR) and the
 * date window of `windowDays` days either side of the new invoice's date.
 */
export function vendorWindowSql(
  p: Pick<BlockingSqlParams, 'vendorKey' | 'vendorId' | 'invoiceDate'>,
  windowDays: string,
  alias = 'i',
  vendor: 'either' | 'key' | 'id' = 'either',
): string {
  const byId = `${alias}.vendor_id = ${p.vendorId}::text`;
  const byKey = `${alias}.vendor_key = ${p.vendorKey}::text`;
  const who = vendor === 'key' ? byKey : vendor === 'id' ? byId : `(${byId} OR ${byKey})`;
  return `${who}
    AND ${alias}.invoice_date BETWEEN ${p.invoiceDate}::date - ${windowDays}::int AND ${p.invoiceDate}::date + ${windowDays}::int`;
}

/** The two sides of the new invoice's date that the vendor block's bound reads separately. */
export type VendorRecentSide = 'before' | 'after';

/**
 * One side of the vendor block's bound as SQL over the row alias `alias` (columns invoice_date,
 * pk): the date condition of the side (`before`: on or before the new invoice's date; `after`:
 * after it) and the ORDER BY that lists it by {@link compareVendorRecent}, which is one scan of
 * the (tenant, vendor, date, pk) index (backwards for `before`).
 */
export function vendorRecentSideSql(
  side: VendorRecentSide,
  invoiceDate: string,
  alias = 'i',
): { where: string; orderBy: string } {
  return side === 'before'
    ? {
        where: `${alias}.invoice_date <= ${invoiceDate}::date`,
        orderBy: `${alias}.invoice_date DESC, ${alias}.pk DESC`,
      }
    : {
        where: `${alias}.invoice_date > ${invoiceDate}::date`,
        orderBy: `${alias}.invoice_date ASC, ${alias}.pk ASC`,
      };
}

/**
 * {@link compareVendorRecent} as an SQL ORDER BY list over rows of both sides (alias `alias`,
 * columns invoice_date and pk; `invoiceDate` the new invoice's date placeholder).
 */
export function vendorRecentOrderSql(invoiceDate: string, alias = 'w'): string {
  const d = `${alias}.invoice_date`;
  return `abs(${d} - ${invoiceDate}::date), ${d}, (CASE WHEN ${d} <= ${invoiceDate}::date THEN ${alias}.pk END) DESC NULLS LAST, ${alias}.pk`;
}

/** The fields of a line that line blocking reads. Money in cents, dates `YYYY-MM-DD`. */
export interface LineBlockingKeys {
  lineNumber: number;
  /** Upper-case code value, or null. */
  code: string | null;
  amountCents: number;
  /** L2-normalised description embedding (stored as float32). */
  embedding: ArrayLike<number>;
}

/** An invoice as line blocking reads it. */
export interface LineBlockingInvoice {
  invoiceId: string;
  vendorKey: string;
  vendorId: string;
  invoiceDate: string;
  documentType: Invoice['document_type'];
  totalCents: number;
  /** Cents credited against it by credit memos (a positive sum); 0 when none. */
  reversedCents: number;
  lines: readonly LineBlockingKeys[];
}

/** One candidate of a new line: the earlier invoice and line, and the description cosine. */
export interface LineCandidate {
  lineNumber: number;
  invoiceId: string;
  earlierLineNumber: number;
  /** Cosine of the description embeddings, float32 inputs summed in double precision. */
  cosine: number;
}

/** True when the earlier invoice `c` can hold candidates for the new invoice `q` (rules 1 and 2 of {@link LineBlockingSpec}). */
export function lineBlockInvoice(
  spec: LineBlockingSpec,
  q: LineBlockingInvoice,
  c: LineBlockingInvoice,
): boolean {
  if (c.documentType !== 'invoice' || c.invoiceId === q.invoiceId) return false;
  if (!vendorMatches('key_or_id', q, c)) return false;
  if (c.reversedCents >= c.totalCents - 1) return false;
  const days = daysBetween(c.invoiceDate, q.invoiceDate);
  return days >= 0 && days <= spec.windowDays;
}

/** Cosine of two stored embeddings: each value rounded to float32 as the store keeps it. */
export function storedCosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.fround(a[i]!) * Math.fround(b[i]!);
  return s;
}

/**
 * The line block of `q` evaluated in memory over `earlier` invoices (any order).
 * @returns candidates by new line number, each line's in the spec's order, at most `perLine` each.
 */
export function lineCandidates(
  spec: LineBlockingSpec,
  q: LineBlockingInvoice,
  earlier: readonly LineBlockingInvoice[],
): LineCandidate[] {
  const pool = earlier.filter((c) => lineBlockInvoice(spec, q, c));
  const out: LineCandidate[] = [];
  for (const l of [...q.lines].sort((x, y) => x.lineNumber - y.lineNumber)) {
    const found: (LineCandidate & { sameAmount: boolean; date: string })[] = [];
    for (const c of pool)
      for (const e of c.lines) {
        const sameCode = l.code !== null && e.code !== null && l.code === e.code;
        const cosine = storedCosine(l.embedding, e.embedding);
        if (!sameCode && !(cosine >= spec.minDescriptionCosine)) continue;
        found.push({
          lineNumber: l.lineNumber,
          invoiceId: c.invoiceId,
          earlierLineNumber: e.lineNumber,
          cosine,
          sameAmount: e.amountCents === l.amountCents,
          date: c.invoiceDate,
        });
      }
    found.sort(
      (x, y) =>
        Number(y.sameAmount) - Number(x.sameAmount) ||
        (x.date < y.date ? 1 : x.date > y.date ? -1 : 0) ||
        (x.invoiceId < y.invoiceId ? -1 : x.invoiceId > y.invoiceId ? 1 : 0) ||
        x.earlierLineNumber - y.earlierLineNumber,
    );
    for (const f of found.slice(0, spec.perLine))
      out.push({
        lineNumber: f.lineNumber,
        invoiceId: f.invoiceId,
        earlierLineNumber: f.earlierLineNumber,
        cosine: f.cosine,
      });
  }
  return out;
}
