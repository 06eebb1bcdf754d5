/**
 * Pair comparison vectors declared as data, in the manner of Splink's comparison levels: each
 * comparison names the measurements it encodes as numbers and an ordered list of levels whose
 * predicates are tried in turn (the first that holds is the pair's level, the last always
 * holds). The model vector, its names, units and order all come from {@link COMPARISONS}: add or
 * reorder a comparison here and the vector, the schema and its version hash follow.
 *
 * Vector layout, comparison by comparison in spec order: its numeric features (each with a
 * `<name>_missing` 0/1 flag after it when it can be null, the value then being 0), then the
 * one-hot of its levels. Names: `<comparison>.<numeric>` and `<comparison>=<level>`.
 */
import type { PairComparison } from './pair.js';
import {
  always,
  num,
  type ComparisonSpec,
  type NumericFeature,
  type VectorFeature,
} from './comparison-spec.js';
import { docKindLevels, orderedLevels, unpaddedNumbers } from './comparison-builders.js';

/** Largest gap between two numbers of one series that counts as a sequence step (look-alike rule `sequential_numbers`). */
export const MAX_SEQUENCE_STEP = 20;

/** The comparisons of this version, in vector order. */
export const COMPARISONS: readonly ComparisonSpec[] = [
  {
    name: 'vendor_identity',
    description: 'Vendor identifiers: client vendor-master id, tax id, NPI.',
    numeric: [],
    agreementOrder: ['same_id', 'same_tax_or_npi', 'ids_differ', 'identifiers_differ'],
    levels: [
      { label: 'same_id', description: 'Same vendor-master id.', when: (c) => c.vendorIdEqual },
      {
        label: 'same_tax_or_npi',
        description: 'Other ids, same tax id or NPI.',
        when: (c) => c.vendorTaxOrNpiEqual === true,
      },
      {
        label: 'identifiers_differ',
        description: 'Tax id or NPI given on both sides and different.',
        when: (c) => c.vendorTaxOrNpiEqual === false,
      },
      {
        label: 'ids_differ',
        description: 'Different vendor-master ids, no shared identifier to check.',
        when: always,
      },
    ],
  },
  {
    name: 'vendor_name',
    description: 'Normalised vendor names (legal forms dropped, abbreviations expanded).',
    agreementOrder: ['exact', 'jw_ge_0.95', 'jw_ge_0.88', 'different'],
    numeric: [
      num('jw', 'Jaro-Winkler [0,1]', 'Jaro-Winkler of the vendor keys.', (c) => c.vendorNameFullJw, {
        agreement: 1,
      }),
      num(
        'distinctive_jw',
        'Jaro-Winkler [0,1]',
        'Jaro-Winkler of the distinctive parts (generic business words removed).',
        (c) => c.vendorNameDistinctiveJw,
        { agreement: 1 },
      ),
    ],
    levels: [
      { label: 'exact', description: 'Same vendor key.', when: (c) => c.vendorNameFullJw === 1 },
      {
        label: 'jw_ge_0.95',
        description: 'Guarded similarity >= 0.95.',
        when: (c) => c.vendorNameJw >= 0.95,
      },
      {
        label: 'jw_ge_0.88',
        description: 'Guarded similarity >= 0.88.',
        when: (c) => c.vendorNameJw >= 0.88,
      },
      {
        label: 'different',
        description: 'Names differ (a shared business word alone lands here).',
        when: always,
      },
    ],
  },
  {
    name: 'invoice_number',
    description:
      'Invoice numbers: raw, normalised (prefixes, separators, leading zeros) and canonical (OCR-folded).',
    agreementOrder: [
      'exact_raw',
      'exact_normalised',
      'exact_canonical',
      'affix_variant',
      'one_edit',
      'two_edits',
      'different',
    ],
    numeric: [
      num(
        'raw_edits',
        'ln(1 + edits)',
        'Levenshtein of the raw numbers (upper-cased).',
        (c) => c.invoiceNumberRawEdits,
        { transform: 'log1p', nullable: true, agreement: -1 },
      ),
      num(
        'normalised_edits',
        'ln(1 + edits)',
        'Levenshtein of the normalised numbers.',
        (c) => c.invoiceNumberEdit,
        { transform: 'log1p', agreement: -1 },
      ),
      num(
        'canonical_edits',
        'ln(1 + edits)',
        'Levenshtein of the canonical numbers.',
        (c) => c.invoiceNumberCanonicalEdit,
        { transform: 'log1p', agreement: -1 },
      ),
      num(
        'canonical_edit_ratio',
        'edits / characters [0,1]',
        'Canonical edits over the longer normalised number.',
        (c) => (c.invoiceNumberLength === 0 ? 0 : c.invoiceNumberCanonicalEdit / c.invoiceNumberLength),
        { clip: [0, 1], agreement: -1 },
      ),
    ],
    levels: [
      {
        label: 'exact_raw',
        description: 'Same number as printed.',
        when: (c) => c.invoiceNumberRawEqual === true,
      },
      {
        label: 'exact_normalised',
        description: 'Equal after removing prefixes, separators, leading zeros.',
        when: (c) => c.invoiceNumberEqual,
      },
      {
        label: 'exact_canonical',
        description: 'Equal only after OCR folding (O/0, I/1, B/8, S/5, Z/2).',
        when: (c) => c.invoiceNumberCanonicalEqual,
      },
      {
        label: 'affix_variant',
        description: 'One is the other plus 1-3 characters at an end.',
        when: (c) => c.invoiceNumberAffixVariant,
      },
      {
        label: 'one_edit',
        description: 'Canonical forms one edit apart.',
        when: (c) => c.invoiceNumberCanonicalEdit === 1,
      },
      {
        label: 'two_edits',
        description: 'Canonical forms two edits apart.',
        when: (c) => c.invoiceNumberCanonicalEdit === 2,
      },
      { label: 'different', description: 'Three or more edits apart.', when: always },
    ],
  },
  {
    name: 'amount',
    description: 'Invoice totals, integer cents.',
    agreementOrder: ['exact', 'within_1pct', 'within_10pct', 'different'],
    numeric: [
      num(
        'abs_diff',
        'ln(1 + |total_a - total_b| / 100) (dollars)',
        'Absolute difference of the totals.',
        (c) => c.amountAbsDiffCents / 100,
        { transform: 'log1p', agreement: -1 },
      ),
      num('rel_diff', 'ratio [0,2]', '|a - b| / max(|a|, |b|).', (c) => c.amountRelDiff, {
        clip: [0, 2],
        agreement: -1,
      }),
    ],
    levels: [
      {
        label: 'currency_differs',
        description: 'Totals in different currencies.',
        when: (c) => c.currencyDiffers === true,
      },
      { label: 'exact', description: 'Same total.', when: (c) => c.amountEqual },
      {
        label: 'sign_flipped',
        description: 'Same magnitude, opposite sign (a reversal).',
        when: (c) => c.amountSignFlipped,
      },
      {
        label: 'within_1pct',
        description: 'Relative difference <= 1%.',
        when: (c) => c.amountRelDiff <= 0.01,
      },
      {
        label: 'within_10pct',
        description: 'Relative difference <= 10%.',
        when: (c) => c.amountRelDiff <= 0.1,
      },
      { label: 'different', description: 'More than 10% apart.', when: always },
    ],
  },
  {
    name: 'invoice_date',
    description: 'Invoice dates.',
    agreementOrder: ['same_day', 'within_7_days', 'within_30_days', 'within_90_days', 'over_90_days'],
    numeric: [
      num('days_apart', 'ln(1 + days)', 'Absolute difference, days.', (c) => c.daysApart, {
        transform: 'log1p',
        agreement: -1,
      }),
    ],
    levels: [
      { label: 'same_day', description: 'Same date.', when: (c) => c.daysApart === 0 },
      { label: 'within_7_days', description: '1-7 days apart.', when: (c) => c.daysApart <= 7 },
      { label: 'within_30_days', description: '8-30 days apart.', when: (c) => c.daysApart <= 30 },
      { label: 'within_90_days', description: '31-90 days apart.', when: (c) => c.daysApart <= 90 },
      { label: 'over_90_days', description: 'More than 90 days apart.', when: always },
    ],
  },
  {
    name: 'service_period',
    description: 'Service periods (recurring services, rentals).',
    agreementOrder: ['identical', 'overlapping', 'missing', 'disjoint'],
    numeric: [
      num(
        'overlap_days',
        'ln(1 + days)',
        'Shared service days, inclusive.',
        (c) => c.servicePeriodOverlapDays,
        { transform: 'log1p', nullable: true, agreement: 1 },
      ),
      num(
        'overlap_ratio',
        'ratio [0,1]',
        'Shared days / days covered by either period.',
        (c) => c.servicePeriodOverlapRatio,
        { nullable: true, agreement: 1 },
      ),
    ],
    levels: [
      {
        label: 'missing',
        description: 'A side has no service period.',
        when: (c) => c.servicePeriodOverlapRatio === null,
      },
      { label: 'identical', description: 'Same period.', when: (c) => c.servicePeriodOverlapRatio === 1 },
      {
        label: 'overlapping',
        description: 'Periods share at least one day.',
        when: (c) => (c.servicePeriodOverlapDays ?? 0) > 0,
      },
      {
        label: 'disjoint',
        description: 'Periods share no day (e.g. consecutive monthly rentals).',
        when: always,
      },
    ],
  },
  {
    name: 'lines',
    description: 'Invoice lines: keys (code or description stems, with amount), codes, description stems.',
    agreementOrder: ['all_keys', 'most_keys', 'some_keys', 'no_keys'],
    numeric: [
      num('key_jaccard', 'Jaccard [0,1]', 'Jaccard of the line keys.', (c) => c.lineOverlap, {
        agreement: 1,
      }),
      num('code_jaccard', 'Jaccard [0,1]', 'Jaccard of the billed codes.', (c) => c.lineCodeJaccard, {
        nullable: true,
        agreement: 1,
      }),
      num(
        'description_jaccard',
        'Jaccard [0,1]',
        'Jaccard of the description stems of all lines.',
        (c) => c.lineDescriptionJaccard,
        { nullable: true, agreement: 1 },
      ),
      num('count_diff', 'ln(1 + lines)', 'Difference of the line counts.', (c) => c.lineCountDiff, {
        transform: 'log1p',
        agreement: -1,
      }),
    ],
    levels: [
      { label: 'all_keys', description: 'Same line keys.', when: (c) => c.lineOverlap === 1 },
      { label: 'most_keys', description: 'Key Jaccard >= 0.5.', when: (c) => c.lineOverlap >= 0.5 },
      { label: 'some_keys', description: 'Some line key shared.', when: (c) => c.lineOverlap > 0 },
      { label: 'no_keys', description: 'No line key shared.', when: always },
    ],
  },
  {
    name: 'document_kinds',
    description: 'Unordered pair of document kinds (invoice, credit_memo, debit_memo).',
    numeric: [],
    levels: docKindLevels,
  },
  {
    name: 'po',
    description: 'Purchase-order numbers (normalised: PO prefix, separators, leading zeros removed).',
    agreementOrder: ['same', 'missing', 'different'],
    numeric: [],
    levels: [
      { label: 'missing', description: 'A side has no PO.', when: (c) => c.samePo === null },
      { label: 'same', description: 'Same PO.', when: (c) => c.samePo === true },
      { label: 'different', description: 'Different POs.', when: always },
    ],
  },
  {
    name: 'embedding',
    description: 'Invoice embeddings (vendor, number, total, date, lines).',
    agreementOrder: ['ge_0.95', 'ge_0.85', 'lower'],
    numeric: [
      num('cosine', 'cosine [-1,1]', 'Cosine of the invoice embeddings.', (c) => c.embeddingCosine, {
        clip: [-1, 1],
        agreement: 1,
      }),
    ],
    levels: [
      { label: 'ge_0.95', description: 'Cosine >= 0.95.', when: (c) => c.embeddingCosine >= 0.95 },
      { label: 'ge_0.85', description: 'Cosine >= 0.85.', when: (c) => c.embeddingCosine >= 0.85 },
      { label: 'lower', description: 'Cosine below 0.85.', when: always },
    ],
  },
  {
    name: 'billing_rhythm',
    description:
      "Days apart in the new invoice's vendor's billing cycles (its typical interval between invoices, " +
      '`vendorBillingIntervalDays` of core/blocking.ts): a whole number of cycles apart is evidence of two ' +
      'bills, a fraction of a cycle of one bill sent twice. No agreement direction.',
    since: 3,
    numeric: [
      num(
        'cycles',
        'ln(1 + cycles) [0,3]',
        'Days apart / the vendor billing interval.',
        (c) => c.rhythmCycles,
        { transform: 'log1p', clip: [0, 3], nullable: true },
      ),
      num(
        'cycle_offset',
        'cycles [0,0.5]',
        'Distance of the cycles from the nearest whole number.',
        (c) => (c.rhythmCycles === null ? null : Math.abs(c.rhythmCycles - Math.round(c.rhythmCycles))),
        { clip: [0, 0.5], nullable: true },
      ),
    ],
    levels: [
      {
        label: 'no_rhythm',
        description: 'The vendor shows too few invoice dates for an interval.',
        when: (c) => c.rhythmCycles === null,
      },
      {
        label: 'within_quarter_cycle',
        description: 'Less than a quarter of a cycle apart.',
        when: (c) => c.rhythmCycles! < 0.25,
      },
      {
        label: 'whole_cycles',
        description: 'Within 0.2 cycles of a whole number (>= 1) of cycles.',
        when: (c) => Math.abs(c.rhythmCycles! - Math.round(c.rhythmCycles!)) <= 0.2,
      },
      { label: 'between_cycles', description: 'Between whole cycles.', when: always },
    ],
  },
  orderedLevels(
    'vendor_number',
    'Same vendor (id, tax id or NPI) AND the same invoice number: an AND of two agreements, itself an ' +
      'agreement, so that a monotone model can weigh it whatever the date and total say.',
    3,
    [
      [
        'same_vendor_same_number',
        'Same vendor, normalised numbers equal.',
        (c) => c.sameVendor && c.invoiceNumberEqual,
      ],
      [
        'same_vendor_same_canonical_number',
        'Same vendor, numbers equal only after OCR folding.',
        (c) => c.sameVendor && c.invoiceNumberCanonicalEqual,
      ],
    ],
    ['other', 'Another vendor or another number.'],
  ),
  unpaddedNumbers(
    'invoice_number_unpadded',
    'Invoice numbers with the zero padding of every numeric run dropped (`unpadNumericRuns` of ' +
      'features/invoice-number.ts): "61ME00233812" and "61ME233812" agree; equal numbers agree too.',
    false,
    ['equal', 'Normalised numbers equal once unpadded.'],
    ['equal_canonical', 'Canonical (OCR-folded) numbers equal once unpadded.'],
    ['different', 'Different once unpadded.'],
  ),
  unpaddedNumbers(
    'vendor_number_unpadded',
    'Same vendor (id, tax id or NPI) AND invoice numbers equal once unpadded: the AND of two ' +
      'agreements, as `vendor_number`, for numbers re-keyed with other zero padding.',
    true,
    ['same_vendor_equal', 'Same vendor, normalised numbers equal once unpadded.'],
    ['same_vendor_equal_canonical', 'Same vendor, canonical numbers equal once unpadded.'],
    ['other', 'Another vendor or a number different once unpadded.'],
  ),
  orderedLevels(
    'invoice_date_years',
    'Invoice dates more than a year apart (beside `invoice_date`, whose levels stop at over_90_days): ' +
      'a number reused by its vendor years later is two bills.',
    4,
    [['within_365_days', 'At most 365 days apart.', (c) => c.daysApart <= 365]],
    ['over_365_days', 'More than 365 days apart.'],
  ),
];

/** The vector entries of a comparison spec, in order. */
export function comparisonVectorFeatures(specs: readonly ComparisonSpec[] = COMPARISONS): VectorFeature[] {
  const out: VectorFeature[] = [];
  for (const s of specs) {
    for (const n of s.numeric) {
      out.push({ name: `${s.name}.${n.name}`, unit: n.unit, description: n.description });
      if (n.nullable)
        out.push({
          name: `${s.name}.${n.name}_missing`,
          unit: 'bool',
          description: `${n.name} unavailable.`,
        });
    }
    for (const l of s.levels)
      out.push({ name: `${s.name}=${l.label}`, unit: 'one-hot', description: l.description });
  }
  return out;
}

/** Names of the pair vector, in order (the ONNX pair model's input order). */
export const PAIR_VECTOR_NAMES: readonly string[] = comparisonVectorFeatures().map((f) => f.name);

/** The edition that added each pair-vector entry (its comparison's `since`; absent: none given), by name. */
export function pairFeatureSince(
  specs: readonly ComparisonSpec[] = COMPARISONS,
): Map<string, number | undefined> {
  return new Map(specs.flatMap((s) => comparisonVectorFeatures([s]).map((f) => [f.name, s.since] as const)));
}

function encodeNumeric(n: NumericFeature, v: number): number {
  let x = n.transform === 'log1p' ? Math.log1p(Math.max(0, v)) : v;
  if (n.clip) x = Math.min(n.clip[1], Math.max(n.clip[0], x));
  return Number.isFinite(x) ? x : 0;
}

/** The level each comparison puts a pair in, by comparison name (for explanations and reports). */
export function comparisonLevels(
  c: PairComparison,
  specs: readonly ComparisonSpec[] = COMPARISONS,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs)
    out[s.name] = (s.levels.find((l) => l.when(c)) ?? s.levels[s.levels.length - 1]!).label;
  return out;
}

/** The length of {@link pairFeatureVector}'s vector, by spec list. */
const VECTOR_WIDTHS = new WeakMap<readonly ComparisonSpec[], number>();

/**
 * The pair comparison vector in {@link PAIR_VECTOR_NAMES} order: numeric encodings (with their
 * missing flags) and level one-hots of every comparison in {@link COMPARISONS}.
 * @returns `Float32Array` of length `PAIR_VECTOR_NAMES.length`; every value finite.
 */
export function pairFeatureVector(
  c: PairComparison,
  specs: readonly ComparisonSpec[] = COMPARISONS,
): Float32Array {
  let width = VECTOR_WIDTHS.get(specs);
  if (width === undefined) VECTOR_WIDTHS.set(specs, (width = comparisonVectorFeatures(specs).length));
  // Written in place: each value is rounded to float32 on the store, as `Float32Array.from` rounds.
  const out = new Float32Array(width);
  let at = 0;
  for (const s of specs) {
    for (const n of s.numeric) {
      const v = n.value(c);
      out[at++] = v === null ? 0 : encodeNumeric(n, v);
      if (n.nullable) out[at++] = v === null ? 1 : 0;
    }
    const hit = s.levels.findIndex((l) => l.when(c));
    out[hit < 0 ? at + s.levels.length - 1 : at + hit] = 1;
    at += s.levels.length;
  }
  return out;
}
