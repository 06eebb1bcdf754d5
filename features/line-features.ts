/**
 * Line feature vectors for the coding-mismatch model: does the description fit the billed
 * HCPCS code (and is it the code the description prints), does the code fit the vendor, is the
 * price, quantity and dose plausible for the code, and is the code billable at the date of service. Names, units and order are fixed in
 * {@link LINE_FEATURE_SPECS}; {@link lineFeatureVector} returns them as a `Float32Array`.
 *
 * Reference data: CMS HCPCS Level II 2025-01 and CMS 2025 fee schedules, through
 * {@link ReferenceIndex}. Vendor profiles and typical quantities come from the caller (fitted on
 * the client's own history; see `fitTypicalQuantities` in features/typical-quantities.ts and
 * {@link buildVendorHistory}).
 */
import { LRUCache } from 'lru-cache';
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { dot, embedWords } from './embedding.js';
import { LINE_VECTOR_NAMES } from './line-feature-specs.js';
import { printedCodeFinding } from './printed-code.js';
import {
  HCPCS_SECTIONS,
  feeNotComparable,
  referenceFee,
  type CodeReference,
  type NearestQuery,
  type ReferenceIndex,
} from './reference-index.js';
import {
  RECENT_DESCRIPTIONS,
  analyseDescription,
  totalDose,
  type AnalysedDescription,
  type DescriptionQuantities,
  type DoseUnit,
  type ParsedDose,
} from './text.js';

/**
 * What a vendor has been approved for and has billed before (from the client's vendor master
 * and history). Categories are those of `codeCategory` (BETOS, else `SEC:<letter>`).
 */
export interface VendorHistory {
  /** Categories the vendor is contracted / approved for. */
  approvedCategories?: readonly string[];
  /** Number of the vendor's past lines per category. */
  categoryCounts?: Readonly<Record<string, number>>;
  /**
   * Number of the vendor's past lines per upper-case HCPCS code (every stored line, as
   * `vendor_code_counts` keeps them); absent when the caller has no per-code history.
   */
  codeCounts?: ReadonlyMap<string, number>;
}

/**
 * Typical billed quantity per line, by code and by category (medians of accepted past lines;
 * see `fitTypicalQuantities` in features/typical-quantities.ts). `source` names the data they were fitted on; it is the
 * caller's: no CMS file gives typical quantities (the NCCI MUE table is not in the reference data).
 * The line features read `byCode`, and `byCategory` only for a code without an entry there.
 */
export interface TypicalQuantities {
  source: string;
  byCode: ReadonlyMap<string, number>;
  byCategory: ReadonlyMap<string, number>;
  /** Codes whose `byCode` entry is an estimate from other codes (their price band), not their own lines. */
  estimated?: ReadonlySet<string>;
}

/** Context of one line. */
export interface LineContext {
  reference: ReferenceIndex;
  /** Date the line is judged at, ISO: the line's service date, else the service period start, else the invoice date. */
  serviceDate: string;
  vendorProfile?: VendorHistory;
  typicalQuantities?: TypicalQuantities;
  /** The invoice's currency (ISO 4217); the fee is known only in the fee schedules' currency ({@link feeNotComparable}). Absent: USD. */
  currency?: string;
}

/** The date a line is judged at: its service date, else the invoice's service period start, else the invoice date. */
export function lineServiceDate(inv: Invoice, line: InvoiceLine): string {
  return line.service_date ?? inv.service_period?.start ?? inv.invoice_date;
}

/** Coverage codes meaning Medicare does not pay: I (not payable), M (non-covered), S (statutory non-coverage). */
const NOT_PAYABLE_COVERAGE = new Set(['I', 'M', 'S']);
/** Pricing indicators meaning no national price: carrier priced (13, 22, 46, 57) or not established (99). */
const CARRIER_PRICED = new Set(['13', '22', '46', '57', '99']);

/** Column of each line feature in {@link LINE_VECTOR_NAMES}. */
const COLUMN: ReadonlyMap<string, number> = new Map(LINE_VECTOR_NAMES.map((n, i) => [n, i]));

/** Sets the feature `name` (one of {@link LINE_VECTOR_NAMES}) of a line's row. */
function put(row: Float64Array, name: string, x: number): void {
  row[COLUMN.get(name)!] = x;
}

/** Sets every feature of `values` (names of {@link LINE_VECTOR_NAMES}) in a line's row. */
function putAll(row: Float64Array, values: Readonly<Record<string, number>>): void {
  for (const name in values) row[COLUMN.get(name)!] = values[name]!;
}

/** A line's feature row as named values, in vector order. */
function namedValues(row: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  LINE_VECTOR_NAMES.forEach((n, i) => (out[n] = row[i]!));
  return out;
}

/** Evidence behind a line's features, for explanations. */
export interface LineFeatureEvidence {
  code: string | null;
  category: string | null;
  feeCents: number | null;
  feeSource: string | null;
  bestOtherCode: string | null;
  dose: { value: number; unit: DoseUnit } | null;
  billingUnit: { value: number; unit: DoseUnit } | null;
  typicalQuantity: number | null;
}

/** Named feature values of one line and their evidence. */
export interface LineFeatureValues {
  values: Record<string, number>;
  evidence: LineFeatureEvidence;
}

/**
 * A line's feature values as computed: `row[i]` is the feature `LINE_VECTOR_NAMES[i]` (float64,
 * before the vector's float32 rounding and its non-finite check).
 */
interface LineFeatureRow {
  row: Float64Array;
  evidence: LineFeatureEvidence;
}

const clip = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * The dose a description states beside the code's billing unit: {@link totalDose} of the
 * description's doses without those that state exactly one billing unit (same unit, within
 * 0.5%), such as `"Heparin sodium inj, (heparin lock flush), per 10 units"` for J1642 (10 units)
 * or `"Denosumab inj, 1 mg"` for J0897 (1 mg). HCPCS descriptors and item masters print the
 * billing unit in the text, and a figure equal to one unit cannot tell that unit's name from a
 * dose of one unit, so it is no evidence of the dose: the quantity billed is then compared with
 * nothing rather than read as 40 units for a "10 mg" dose.
 * @param billingUnit the code's billing unit (`parseBillingUnit` in features/text.ts), or null (then every
 *   dose counts, as in {@link totalDose}).
 * @returns null when no other dose is stated.
 */
function doseBesideBillingUnit(
  q: DescriptionQuantities,
  billingUnit: { value: number; unit: DoseUnit } | null,
): { value: number; unit: DoseUnit } | null {
  if (!billingUnit || !(billingUnit.value > 0)) return totalDose(q);
  const statesUnit = (d: ParsedDose): boolean =>
    d.per === undefined &&
    d.unit === billingUnit.unit &&
    Math.abs(d.value - billingUnit.value) <= 0.005 * billingUnit.value;
  return totalDose({ ...q, doses: q.doses.filter((d) => !statesUnit(d)) });
}

function doseFeatures(
  quantity: number,
  dose: { value: number; unit: DoseUnit } | null,
  unit: { value: number; unit: DoseUnit } | null,
): Record<string, number> {
  const out = {
    dose_comparable: 0,
    dose_units_log_ratio: 0,
    dose_units_abs_log_ratio: 0,
    dose_consistent: 0,
    dose_integer_multiple: 0,
  };
  // A credit line (negative quantity) is judged on its magnitude.
  const q = Math.abs(quantity);
  if (!dose || !unit || dose.unit !== unit.unit || unit.value <= 0 || dose.value <= 0 || q === 0) return out;
  const implied = dose.value / unit.value;
  const ratio = q / implied;
  const nearest = Math.round(ratio);
  out.dose_comparable = 1;
  out.dose_units_log_ratio = clip(Math.log(ratio), -10, 10);
  out.dose_units_abs_log_ratio = Math.abs(out.dose_units_log_ratio);
  out.dose_consistent = Math.abs(Math.log(ratio)) <= Math.log(1.1) ? 1 : 0;
  out.dose_integer_multiple =
    ratio > 1.1 && nearest >= 2 && Math.abs(ratio - nearest) / nearest <= 0.05 ? 1 : 0;
  return out;
}

function vendorFeatures(
  code: string | null,
  category: string | null,
  profile: VendorHistory | undefined,
): Record<string, number> {
  const out = {
    vendor_profile_present: profile ? 1 : 0,
    vendor_approved_list_present: 0,
    vendor_category_approved: 0,
    vendor_history_present: 0,
    vendor_category_share_log: 0,
    vendor_lines_log: 0,
    vendor_code_lines_log: 0,
  };
  if (!profile) return out;
  const codes = profile.codeCounts;
  if (codes && codes.size > 0) {
    let total = 0;
    for (const n of codes.values()) total += n;
    out.vendor_lines_log = Math.log1p(total);
    out.vendor_code_lines_log = code === null ? 0 : Math.log1p(codes.get(code) ?? 0);
  }
  if (profile.approvedCategories) {
    out.vendor_approved_list_present = 1;
    out.vendor_category_approved = category !== null && profile.approvedCategories.includes(category) ? 1 : 0;
  }
  const counts = profile.categoryCounts;
  if (counts && category !== null) {
    const values = Object.values(counts);
    const total = values.reduce((a, b) => a + b, 0);
    if (total > 0) {
      out.vendor_history_present = 1;
      out.vendor_category_share_log = Math.log(((counts[category] ?? 0) + 1) / (total + values.length + 1));
    }
  }
  return out;
}

function descriptionFeatures(
  ref: CodeReference,
  embedding: Float32Array,
  tokens: readonly string[],
  other: { code: string; cosine: number } | null,
): { values: Record<string, number>; bestOther: string | null } {
  const cs = dot(embedding, ref.words.short);
  const cl = dot(embedding, ref.words.long);
  const c = Math.max(cs, cl);
  const stems = new Set(tokens);
  let inRef = 0;
  for (const t of stems) if (ref.words.stems.has(t)) inRef++;
  let covered = 0;
  for (const t of ref.words.shortStems) if (stems.has(t)) covered++;
  const best = other?.cosine ?? 0;
  return {
    values: {
      desc_ref_cosine_short: cs,
      desc_ref_cosine_long: cl,
      desc_ref_cosine: c,
      desc_ref_token_overlap: stems.size === 0 ? 0 : inRef / stems.size,
      desc_ref_short_coverage: ref.words.shortStems.size === 0 ? 0 : covered / ref.words.shortStems.size,
      desc_best_other_cosine: best,
      desc_ref_cosine_margin: c - best,
    },
    bestOther: other?.code ?? null,
  };
}

/**
 * What the line features read of a description alone: its text pipeline, its recipe-2
 * embedding (made on the first line whose code is in the reference) and the reference
 * search's memo key. Shared by every line that bills the description; never changed.
 */
interface DescribedText {
  desc: AnalysedDescription;
  embedding: Float32Array | null;
  /** The content words joined by spaces: the nearest-other-code memo key. */
  cacheKey: string;
}

/** Recently seen descriptions' {@link DescribedText}, keyed by the exact text. */
const describedTexts = new LRUCache<string, DescribedText>({ max: RECENT_DESCRIPTIONS });

function describedText(text: string): DescribedText {
  let d = describedTexts.get(text);
  if (d === undefined) {
    const desc = analyseDescription(text);
    d = { desc, embedding: null, cacheKey: desc.words.join(' ') };
    describedTexts.set(text, d);
  }
  return d;
}

/** What a line's features need before the nearest-other-code search, and that search's query. */
interface LineSearch {
  desc: AnalysedDescription;
  code: string | null;
  ref: CodeReference | undefined;
  /** Recipe-2 embedding of the description; null when the code is not in the reference. */
  embedding: Float32Array | null;
  /** The search for the nearest other code; null when there is nothing to search. */
  query: NearestQuery | null;
}

function lineSearch(line: InvoiceLine, ctx: LineContext): LineSearch {
  const text = describedText(line.description);
  const { desc } = text;
  const code = line.code?.system === 'HCPCS' ? line.code.value.toUpperCase() : null;
  const ref = code === null ? undefined : ctx.reference.get(code);
  const embedding = ref ? (text.embedding ??= embedWords(desc.words)) : null;
  const query =
    ref && embedding && desc.tokens.length > 0
      ? { embedding, exclude: ref.code.code, cacheKey: text.cacheKey }
      : null;
  return { desc, code, ref, embedding, query };
}

/**
 * Computes the named line features and their evidence (see {@link LINE_FEATURE_SPECS}) of
 * several lines, with one nearest-other-code search for all of them per reference (one batched
 * scan of the ~7,000 active codes for the descriptions not memoised in the reference view).
 * Pure given its inputs; the same values as {@link lineFeatures} line by line.
 */
export function lineFeaturesMany(
  items: readonly { line: InvoiceLine; ctx: LineContext }[],
): LineFeatureValues[] {
  return lineFeatureRows(items).map(({ row, evidence }) => ({ values: namedValues(row), evidence }));
}

/** {@link lineFeaturesMany} as rows in vector order (no named record per line). */
function lineFeatureRows(items: readonly { line: InvoiceLine; ctx: LineContext }[]): LineFeatureRow[] {
  const searched = items.map(({ line, ctx }) => ({
    line,
    ctx,
    search: lineSearch(line, ctx),
    other: null as { code: string; cosine: number } | null,
  }));
  const byReference = new Map<ReferenceIndex, { query: NearestQuery; item: (typeof searched)[number] }[]>();
  for (const item of searched) {
    const { query } = item.search;
    if (query === null) continue;
    const ref = item.ctx.reference;
    const group = byReference.get(ref);
    if (group) group.push({ query, item });
    else byReference.set(ref, [{ query, item }]);
  }
  for (const [reference, group] of byReference) {
    const found = reference.nearest(
      'words',
      group.map((g) => g.query),
      1,
    );
    group.forEach(({ item }, j) => {
      const top = found[j]?.[0];
      item.other = top ? { code: top.code.code, cosine: top.cosine } : null;
    });
  }
  return searched.map(({ line, ctx, search, other }) => lineFeaturesOf(line, ctx, search, other));
}

/**
 * Computes the named line features and their evidence (see {@link LINE_FEATURE_SPECS}).
 * Pure given its inputs (the nearest-other-code search is memoised per description inside the
 * reference view; a miss scans the ~7,000 active codes).
 */
export function lineFeatures(line: InvoiceLine, ctx: LineContext): LineFeatureValues {
  return lineFeaturesMany([{ line, ctx }])[0]!;
}

function lineFeaturesOf(
  line: InvoiceLine,
  ctx: LineContext,
  search: LineSearch,
  other: { code: string; cosine: number } | null,
): LineFeatureRow {
  const v = new Float64Array(LINE_VECTOR_NAMES.length);
  const evidence: LineFeatureEvidence = {
    code: null,
    category: null,
    feeCents: null,
    feeSource: null,
    bestOtherCode: null,
    dose: null,
    billingUnit: null,
    typicalQuantity: null,
  };
  const { desc, code, ref } = search;
  put(v, 'desc_token_count', Math.log1p(desc.tokens.length));
  put(v, 'quantity_log1p', Math.sign(line.quantity) * Math.log1p(Math.abs(line.quantity)));
  put(v, 'unit_price_log1p', Math.log1p(Math.abs(line.unit_price_cents) / 100));
  const expected = Math.round(line.quantity * line.unit_price_cents);
  put(
    v,
    'line_amount_gap_rel',
    clip((line.amount_cents - expected) / Math.max(Math.abs(line.amount_cents), 1), -1, 1),
  );
  put(v, 'is_credit_line', line.quantity < 0 || line.amount_cents < 0 ? 1 : 0);
  const section =
    code !== null && (HCPCS_SECTIONS as readonly string[]).includes(code[0]!) ? code[0]! : 'other';
  put(v, `code_section=${section}`, 1);
  putAll(v, vendorFeatures(code, null, ctx.vendorProfile));
  if (code === null) return { row: v, evidence };
  evidence.code = code;
  put(v, 'code_is_hcpcs', 1);
  const printed = printedCodeFinding(line.description, code, ctx.reference);
  put(v, 'printed_code_present', printed.printed.length > 0 ? 1 : 0);
  put(v, 'printed_code_differs', printed.differs ? 1 : 0);
  if (!ref) return { row: v, evidence };
  put(v, 'code_known', 1);
  const c = ref.code;
  put(v, 'code_terminated', c.terminationDate !== null && c.terminationDate < ctx.serviceDate ? 1 : 0);
  put(v, 'code_not_yet_effective', c.addedDate !== null && c.addedDate > ctx.serviceDate ? 1 : 0);
  put(v, 'code_not_payable', NOT_PAYABLE_COVERAGE.has(c.coverage) ? 1 : 0);
  const pi = c.pricingIndicators ?? [];
  put(v, 'code_not_separately_priced', pi.includes('00') ? 1 : 0);
  put(v, 'code_carrier_priced', pi.some((p) => CARRIER_PRICED.has(p)) ? 1 : 0);
  evidence.category = ref.category;
  const d = descriptionFeatures(ref, search.embedding!, desc.tokens, other);
  putAll(v, d.values);
  evidence.bestOtherCode = d.bestOther;
  putAll(v, vendorFeatures(code, ref.category, ctx.vendorProfile));
  const fee = referenceFee(ref.fees, line.modifiers ?? []);
  if (fee && fee.amountCents > 0 && feeNotComparable(ctx.currency) === null) {
    evidence.feeCents = fee.amountCents;
    evidence.feeSource = fee.source;
    put(v, 'fee_known', 1);
    if (line.unit_price_cents > 0)
      put(v, 'unit_price_fee_log_ratio', clip(Math.log(line.unit_price_cents / fee.amountCents), -10, 10));
  }
  // The code's own or price band's median, else its category's (unpriced codes only: a priced
  // code billed too rarely has its band's). Below an estimate (band, category) the ratio is 0:
  // the quantities of other codes billed at the price bound how many units are too many, not
  // how few (a heparin flush of 10 units is not a short dose of a USD 0.02 drug).
  const tq = ctx.typicalQuantities;
  const own = tq?.byCode.get(code);
  const typical = own ?? tq?.byCategory.get(ref.category);
  if (typical !== undefined && typical > 0 && line.quantity !== 0) {
    const estimate = own === undefined || tq?.estimated?.has(code) === true;
    evidence.typicalQuantity = typical;
    put(v, 'quantity_typical_known', 1);
    put(
      v,
      'quantity_typical_log_ratio',
      clip(Math.log(Math.abs(line.quantity) / typical), estimate ? 0 : -10, 10),
    );
  }
  const dose = doseBesideBillingUnit(desc.quantities, ref.billingUnit);
  evidence.dose = dose;
  evidence.billingUnit = ref.billingUnit;
  putAll(v, doseFeatures(line.quantity, dose, ref.billingUnit));
  return { row: v, evidence };
}

/**
 * The line feature vector in {@link LINE_VECTOR_NAMES} order.
 * @returns `Float32Array` of length `LINE_VECTOR_NAMES.length`; every value finite.
 */
export function lineFeatureVector(line: InvoiceLine, ctx: LineContext): Float32Array {
  return lineFeatureVectors([{ line, ctx }])[0]!;
}

/**
 * The line feature vectors of several lines ({@link lineFeatureVector} each), with one
 * nearest-other-code search for all of them (see {@link lineFeaturesMany}).
 */
export function lineFeatureVectors(
  items: readonly { line: InvoiceLine; ctx: LineContext }[],
): Float32Array[] {
  return lineFeatureRows(items).map((f) => toVector(f.row));
}

function toVector(row: Float64Array): Float32Array {
  const out = new Float32Array(row.length);
  for (let i = 0; i < out.length; i++) {
    const x = row[i]!;
    out[i] = Number.isFinite(x) ? x : 0;
  }
  return out;
}

/**
 * A vendor profile from the categories of the vendor's past lines (and, optionally, its approved
 * categories from the vendor master, and the upper-case HCPCS codes of the same past lines for
 * the per-code history features).
 */
export function buildVendorHistory(
  pastCategories: Iterable<string>,
  approvedCategories?: readonly string[],
  pastCodes?: Iterable<string>,
): VendorHistory {
  const counts: Record<string, number> = {};
  for (const c of pastCategories) counts[c] = (counts[c] ?? 0) + 1;
  let codeCounts: Map<string, number> | undefined;
  if (pastCodes) {
    codeCounts = new Map();
    for (const c of pastCodes) codeCounts.set(c, (codeCounts.get(c) ?? 0) + 1);
  }
  return {
    categoryCounts: counts,
    ...(approvedCategories ? { approvedCategories } : {}),
    ...(codeCounts ? { codeCounts } : {}),
  };
}

export * from './line-feature-specs.js';
