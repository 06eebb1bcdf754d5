import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeInvoice } from '../test/fixtures.js';
import type { Invoice } from '../core/invoice.js';
import {
  COMPARISONS,
  comparisonLevels,
  comparisonVectorFeatures,
  pairFeatureVector,
  PAIR_VECTOR_NAMES,
} from './comparisons.js';
import { servedPairVector } from './served-pair-vector.js';
import { extractInvoiceFeatures } from './invoice-features.js';
import { comparePair, compareSides, pairSideKeys, pairSideOfInvoice, type PairSide } from './pair.js';

const side = (inv: Invoice): PairSide => pairSideOfInvoice(inv, extractInvoiceFeatures(inv));
const compare = (a: Invoice, b: Invoice, cos = 0.9) => comparePair(side(a), side(b), cos);
const valueOf = (v: Float32Array, name: string): number => v[PAIR_VECTOR_NAMES.indexOf(name)]!;

describe('COMPARISONS spec', () => {
  it('declares unique names, a catch-all last level and a vector layout that matches the names', () => {
    const names = comparisonVectorFeatures().map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect(PAIR_VECTOR_NAMES).toEqual(names);
    for (const s of COMPARISONS) expect(s.levels.length).toBeGreaterThanOrEqual(2);
    const c = compare(makeInvoice(), makeInvoice());
    expect(pairFeatureVector(c)).toHaveLength(PAIR_VECTOR_NAMES.length);
  });

  it('puts every pair in exactly one level per comparison (one-hot)', () => {
    const c = compare(makeInvoice(), makeInvoice({ invoice_number: 'INV-10O8', total_cents: 21_400 }));
    const v = pairFeatureVector(c);
    for (const s of COMPARISONS) {
      const sum = s.levels.reduce((acc, l) => acc + valueOf(v, `${s.name}=${l.label}`), 0);
      expect(sum, s.name).toBe(1);
    }
    expect([...v].every(Number.isFinite)).toBe(true);
  });
});

describe('servedPairVector', () => {
  it('is pairFeatureVector, computed once per comparison object', () => {
    const c = compare(makeInvoice(), makeInvoice({ invoice_number: 'INV-10O8', total_cents: 21_400 }));
    const v = servedPairVector(c);
    expect([...v]).toEqual([...pairFeatureVector(c)]);
    expect(servedPairVector(c)).toBe(v);
    // An equal comparison in another object is computed on its own.
    const copy = { ...c };
    expect(servedPairVector(copy)).not.toBe(v);
    expect([...servedPairVector(copy)]).toEqual([...v]);
    // Another pair's vector is its own.
    expect([...servedPairVector(compare(makeInvoice(), makeInvoice()))]).not.toEqual([...v]);
  });
});

describe('comparePair and its levels', () => {
  it('an exact resubmission', () => {
    const c = compare(makeInvoice(), makeInvoice({ invoice_id: 'other' }), 1);
    expect(comparisonLevels(c)).toMatchObject({
      vendor_identity: 'same_id',
      vendor_name: 'exact',
      invoice_number: 'exact_raw',
      amount: 'exact',
      invoice_date: 'same_day',
      lines: 'all_keys',
      document_kinds: 'invoice|invoice',
      po: 'same',
      embedding: 'ge_0.95',
      service_period: 'missing',
    });
    const v = pairFeatureVector(c);
    expect(valueOf(v, 'invoice_number.raw_edits')).toBe(0);
    expect(valueOf(v, 'invoice_number.raw_edits_missing')).toBe(0);
    expect(valueOf(v, 'lines.code_jaccard')).toBe(1);
    expect(valueOf(v, 'lines.description_jaccard')).toBe(1);
  });

  it('an OCR re-key and a prefix change', () => {
    expect(
      comparisonLevels(compare(makeInvoice(), makeInvoice({ invoice_number: 'INV-10O8' }))).invoice_number,
    ).toBe('exact_canonical');
    expect(
      comparisonLevels(compare(makeInvoice(), makeInvoice({ invoice_number: 'No. 001008' }))).invoice_number,
    ).toBe('exact_normalised');
    expect(
      comparisonLevels(compare(makeInvoice(), makeInvoice({ invoice_number: 'INV-1008A' }))).invoice_number,
    ).toBe('affix_variant');
    expect(
      comparisonLevels(compare(makeInvoice(), makeInvoice({ invoice_number: 'INV-1009' }))).invoice_number,
    ).toBe('one_edit');
    const c = compare(makeInvoice(), makeInvoice({ invoice_number: 'INV-1008' }));
    expect(c.invoiceNumberRawEdits).toBe(0);
  });

  it('does not merge vendors that share only a business word (pinned false merge)', () => {
    const a = makeInvoice({ vendor: { id: 'V-1', name: 'ABC Enterprise' } });
    const b = makeInvoice({ vendor: { id: 'V-2', name: 'XYZ Enterprise' } });
    const c = compare(a, b);
    expect(c.vendorNameFullJw).toBeGreaterThan(0.8);
    expect(c.vendorNameJw).toBeLessThan(0.5);
    expect(comparisonLevels(c)).toMatchObject({ vendor_identity: 'ids_differ', vendor_name: 'different' });
    const d = compare(
      makeInvoice({ vendor: { id: 'V-1', name: 'Acme Solutions LLC' } }),
      makeInvoice({ vendor: { id: 'V-2', name: 'Apex Solutions Inc' } }),
    );
    expect(comparisonLevels(d).vendor_name).toBe('different');
    const e = compare(
      makeInvoice({ vendor: { id: 'V-1', name: 'Acme Medical Supply, Inc.', tax_id: '12-345' } }),
      makeInvoice({ vendor: { id: 'V-9', name: 'ACME MEDICAL SUPPLY LLC', tax_id: '12-345' } }),
    );
    expect(comparisonLevels(e)).toMatchObject({ vendor_identity: 'same_tax_or_npi', vendor_name: 'exact' });
  });

  it('keeps "Bank of the West" and "Bank of the East" apart (generic words swapped, not dropped)', () => {
    const c = compare(
      makeInvoice({ vendor: { id: 'V-1', name: 'Bank of the West' } }),
      makeInvoice({ vendor: { id: 'V-2', name: 'Bank of the East' } }),
    );
    expect(c.vendorNameFullJw).toBeGreaterThan(0.95);
    expect(c.vendorNameDistinctiveJw).toBe(0.6);
    expect(comparisonLevels(c).vendor_name).toBe('different');
    // an added generic word is still the same business
    const d = compare(
      makeInvoice({ vendor: { id: 'V-1', name: 'Acme Medical' } }),
      makeInvoice({ vendor: { id: 'V-2', name: 'Acme' } }),
    );
    expect(d.vendorNameDistinctiveJw).toBe(1);
  });

  it('numbers equal once the zero padding inside them is dropped (pair edition 4)', () => {
    const padded = makeInvoice({ invoice_number: '61ME00233812' });
    const levels = (a: Invoice, b: Invoice) => comparisonLevels(compare(a, b));
    expect(levels(padded, makeInvoice({ invoice_number: '61ME233812' }))).toMatchObject({
      invoice_number: 'two_edits',
      invoice_number_unpadded: 'equal',
      vendor_number_unpadded: 'same_vendor_equal',
    });
    expect(levels(padded, padded)).toMatchObject({
      invoice_number_unpadded: 'equal',
      vendor_number_unpadded: 'same_vendor_equal',
    });
    expect(
      levels(makeInvoice({ invoice_number: 'GL0E-0233812' }), makeInvoice({ invoice_number: 'GLOE233812' })),
    ).toMatchObject({ invoice_number_unpadded: 'equal_canonical' });
    expect(
      levels(padded, makeInvoice({ invoice_number: '61ME233812', vendor: { id: 'V-9', name: 'Other Co' } })),
    ).toMatchObject({ invoice_number_unpadded: 'equal', vendor_number_unpadded: 'other' });
    expect(
      levels(makeInvoice({ invoice_number: '2024-0099' }), makeInvoice({ invoice_number: '2024-0100' })),
    ).toMatchObject({ invoice_number_unpadded: 'different', vendor_number_unpadded: 'other' });
  });

  it('dates more than a year apart', () => {
    const years = (date: string) =>
      comparisonLevels(
        compare(makeInvoice({ invoice_date: date }), makeInvoice({ invoice_date: '2023-01-10' })),
      ).invoice_date_years;
    expect(years('2024-01-10')).toBe('within_365_days');
    expect(years('2024-01-11')).toBe('over_365_days');
    expect(years('2023-01-10')).toBe('within_365_days');
    expect(years('2026-02-01')).toBe('over_365_days');
  });

  it('measures the step between numbers of one series', () => {
    expect(compare(makeInvoice(), makeInvoice({ invoice_number: 'INV-1009' })).invoiceNumberSequenceGap).toBe(
      1,
    );
    expect(compare(makeInvoice(), makeInvoice({ invoice_number: 'INV-1080' })).invoiceNumberSequenceGap).toBe(
      72,
    );
    expect(compare(makeInvoice(), makeInvoice()).invoiceNumberSequenceGap).toBeNull();
    expect(
      compare(makeInvoice(), makeInvoice({ invoice_number: 'CR-1009' })).invoiceNumberSequenceGap,
    ).toBeNull();
  });

  it('a credit memo reversing an invoice', () => {
    const c = compare(makeInvoice({ document_type: 'credit_memo', total_cents: -21_500 }), makeInvoice());
    expect(comparisonLevels(c)).toMatchObject({
      amount: 'sign_flipped',
      document_kinds: 'credit_memo|invoice',
    });
    expect(c.amountAbsDiffCents).toBe(43_000);
  });

  it('consecutive monthly rentals: disjoint service periods', () => {
    const c = compare(
      makeInvoice({ service_period: { start: '2025-04-01', end: '2025-04-30' }, invoice_date: '2025-04-30' }),
      makeInvoice({ service_period: { start: '2025-03-01', end: '2025-03-31' } }),
    );
    expect(c.servicePeriodOverlapDays).toBe(0);
    expect(comparisonLevels(c)).toMatchObject({ service_period: 'disjoint', invoice_date: 'within_90_days' });
    const v = pairFeatureVector(c);
    expect(valueOf(v, 'service_period.overlap_ratio_missing')).toBe(0);
    expect(c.servicePeriodsDisjoint).toBe(true);
  });

  it('a store candidate without optional fields lands in the null levels', () => {
    const full = side(makeInvoice());
    const stored: PairSide = { ...full };
    delete stored.invoiceNumber;
    delete stored.lineDescriptionStems;
    delete stored.currency;
    const c = comparePair(full, stored, 0.97);
    expect(c.invoiceNumberRawEdits).toBeNull();
    expect(c.lineDescriptionJaccard).toBeNull();
    expect(c.currencyDiffers).toBeNull();
    expect(comparisonLevels(c).invoice_number).toBe('exact_normalised');
    const v = pairFeatureVector(c);
    expect(valueOf(v, 'invoice_number.raw_edits_missing')).toBe(1);
    expect(valueOf(v, 'lines.description_jaccard_missing')).toBe(1);
    expect(valueOf(v, 'lines.description_jaccard')).toBe(0);
  });

  it('amounts, POs, currencies and line codes', () => {
    const c = compare(
      makeInvoice(),
      makeInvoice({ total_cents: 21_600, po_number: 'PO 0077', currency: 'CAD', invoice_date: '2025-03-04' }),
    );
    expect(c.amountRelDiff).toBeCloseTo(100 / 21_600, 10);
    expect(c.samePo).toBe(true);
    expect(comparisonLevels(c)).toMatchObject({
      amount: 'currency_differs',
      po: 'same',
      invoice_date: 'within_7_days',
    });
    const v = pairFeatureVector(c);
    expect(valueOf(v, 'amount.abs_diff')).toBeCloseTo(Math.log1p(1), 6);
    expect(valueOf(v, 'invoice_date.days_apart')).toBeCloseTo(Math.log1p(3), 6);
    const lines = makeInvoice().lines;
    const d = compare(makeInvoice(), makeInvoice({ lines: [lines[0]!] }));
    expect(d.lineCodeJaccard).toBe(0.5);
    expect(d.lineCountDiff).toBe(1);
  });
});

describe("the vendor's billing rhythm of a pair", () => {
  const at = (date: string): Invoice => makeInvoice({ invoice_date: date });
  const cycles = (a: Invoice, b: Invoice, interval: number | null): number | null =>
    comparePair(side(a), side(b), 0.95, interval).rhythmCycles;

  it("measures days apart in the vendor's billing cycles", () => {
    // a monthly vendor (interval 30 days): the next month's bill is one cycle later, a copy a day later 1/30
    expect(cycles(at('2024-08-01'), at('2024-07-02'), 30)).toBeCloseTo(1, 9);
    expect(cycles(at('2024-07-03'), at('2024-07-02'), 30)).toBeCloseTo(1 / 30, 9);
    expect(comparePair(side(at('2024-08-01')), side(at('2024-07-02')), 0.9, 30).vendorIntervalDays).toBe(30);
  });

  it('is null without an interval (the default) or with a non-positive one', () => {
    expect(cycles(at('2024-08-01'), at('2024-07-02'), null)).toBeNull();
    expect(cycles(at('2024-08-01'), at('2024-07-02'), 0)).toBeNull();
    expect(compare(at('2024-08-01'), at('2024-07-02')).vendorIntervalDays).toBeNull();
  });
});

/** The pair vector as a list of numbers converted at the end: the vector's definition, kept as the reference. */
function referencePairVector(c: ReturnType<typeof compare>): Float32Array {
  const out: number[] = [];
  for (const s of COMPARISONS) {
    for (const n of s.numeric) {
      const v = n.value(c);
      let x = v === null ? 0 : n.transform === 'log1p' ? Math.log1p(Math.max(0, v)) : v;
      if (v !== null && n.clip) x = Math.min(n.clip[1], Math.max(n.clip[0], x));
      out.push(Number.isFinite(x) ? x : 0);
      if (n.nullable) out.push(v === null ? 1 : 0);
    }
    const hit = s.levels.findIndex((l) => l.when(c));
    const level = hit < 0 ? s.levels.length - 1 : hit;
    for (let i = 0; i < s.levels.length; i++) out.push(i === level ? 1 : 0);
  }
  return Float32Array.from(out);
}

describe('pairFeatureVector against its reference', () => {
  it('equals the reference bit for bit on every pair of the HCPCS samples, in every document-kind pair', () => {
    const samples = readFileSync(new URL('../datasets/samples/hcpcs_invoices.jsonl', import.meta.url), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Invoice);
    const kinds = ['invoice', 'credit_memo', 'debit_memo'] as const;
    const sides = samples.map((inv, i) => side({ ...inv, document_type: kinds[i % 3]! }));
    let pairs = 0;
    const levels = new Set<string>();
    for (let i = 0; i < sides.length; i++)
      for (let j = 0; j < sides.length; j += 7) {
        const c = comparePair(sides[i]!, sides[j]!, 0.5 + ((i * j) % 50) / 100);
        const got = pairFeatureVector(c);
        const want = referencePairVector(c);
        expect(got.length).toBe(want.length);
        // Bytes, so that a -0 or a NaN written differently would count as a difference.
        expect(Buffer.from(got.buffer)).toEqual(Buffer.from(want.buffer));
        levels.add(comparisonLevels(c).document_kinds!);
        pairs++;
      }
    expect(pairs).toBe(540);
    expect(levels.size).toBe(6);
  });

  it('compares one side derived once with many candidates as comparePair does pair by pair', () => {
    const samples = readFileSync(new URL('../datasets/samples/hcpcs_invoices.jsonl', import.meta.url), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Invoice);
    const sides = samples.map((inv) => side(inv));
    // A side without a raw number and one whose PO differs only in its printed form.
    const { invoiceNumber: _, ...unnumbered } = sides[0]!;
    sides.push(unnumbered, {
      ...sides[1]!,
      poNumber: sides[1]!.poNumber === null ? 'PO-0042' : ` p.o.${sides[1]!.poNumber}`,
    });
    for (const a of [sides[0]!, sides[1]!, sides[sides.length - 1]!, unnumbered]) {
      const mine = pairSideKeys(a);
      for (const b of sides) expect(compareSides(mine, b, 0.7, 30)).toStrictEqual(comparePair(a, b, 0.7, 30));
    }
  });
});
