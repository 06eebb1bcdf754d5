/**
 * Line features on the shipped CMS reference data (HCPCS 2025-01, fee schedules 2025).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { InvoiceLine } from '../core/invoice.js';
import { loadReferenceData } from '../datasets/reference.js';
import { makeInvoice } from '../test/fixtures.js';
import { buildReferenceIndex, codeCategory, referenceFee, type ReferenceIndex } from './reference-index.js';
import {
  buildVendorHistory,
  lineFeatures,
  lineFeatureVector,
  lineFeatureVectors,
  lineServiceDate,
  LINE_FEATURE_SPECS,
  LINE_VECTOR_NAMES,
  type LineContext,
} from './line-features.js';
import { fitTypicalQuantities } from './typical-quantities.js';
import { dot, embedText } from './embedding.js';

let reference: ReferenceIndex;
beforeAll(() => {
  reference = buildReferenceIndex(loadReferenceData());
}, 120_000);

const line = (over: Partial<InvoiceLine>): InvoiceLine => ({
  line_number: 1,
  description: 'x',
  quantity: 1,
  unit_price_cents: 100,
  amount_cents: 100,
  ...over,
});
const hcpcs = (value: string): InvoiceLine['code'] => ({ system: 'HCPCS', value });
const ctx = (over: Partial<LineContext> = {}): LineContext => ({
  reference,
  serviceDate: '2025-03-01',
  ...over,
});
const values = (l: InvoiceLine, c: LineContext = ctx()): Record<string, number> => lineFeatures(l, c).values;

describe('line feature vector', () => {
  it('has fixed, unique names and the vector follows them', () => {
    expect(new Set(LINE_VECTOR_NAMES).size).toBe(LINE_VECTOR_NAMES.length);
    expect(LINE_FEATURE_SPECS.every((s) => s.unit.length > 0 && s.description.length > 0)).toBe(true);
    const l = line({
      description: 'Dexamethasone sodium phosphate 10 mg',
      code: hcpcs('J1100'),
      quantity: 10,
    });
    const v = lineFeatureVector(l, ctx());
    expect(v).toBeInstanceOf(Float32Array);
    expect(v).toHaveLength(LINE_VECTOR_NAMES.length);
    const named = values(l);
    LINE_VECTOR_NAMES.forEach((n, i) => expect(v[i]).toBeCloseTo(named[n]!, 5));
    expect([...v].every(Number.isFinite)).toBe(true);
  });
});

describe('line feature vectors of an invoice at once', () => {
  it('equal the vectors line by line, searched on two fresh reference views', () => {
    const data = loadReferenceData();
    const lines = [
      line({
        description: 'Dexamethasone sodium phosphate 10 mg, lot 77',
        code: hcpcs('J1100'),
        quantity: 10,
      }),
      line({ line_number: 2, description: 'Standard wheelchair fixed arms', code: hcpcs('K0001') }),
      line({ line_number: 3, description: 'freight', code: undefined }),
      line({
        line_number: 4,
        description: 'Gauze pad sterile 4x4, 25/bx',
        code: hcpcs('A6402'),
        quantity: 4,
      }),
      line({ line_number: 5, description: '', code: hcpcs('E0601') }),
      line({ line_number: 6, description: 'Walker folding wheeled', code: hcpcs('ZZZZZ') }),
      line({ line_number: 7, description: 'Standard wheelchair fixed arms', code: hcpcs('K0001') }),
    ];
    const fresh = buildReferenceIndex(data);
    const batch = lineFeatureVectors(lines.map((l) => ({ line: l, ctx: ctx({ reference: fresh }) })));
    const other = buildReferenceIndex(data);
    const one = lines.map((l) => lineFeatureVector(l, ctx({ reference: other })));
    expect(batch.map((v) => [...v])).toEqual(one.map((v) => [...v]));
    // The nearest other code was searched (not left at 0) for the described HCPCS lines.
    const best = LINE_VECTOR_NAMES.indexOf('desc_best_other_cosine');
    expect(batch[0]![best]).toBeGreaterThan(0.2);
  }, 120_000);
});

describe('a description billed again', () => {
  it('is embedded once, whatever code it was first seen with', () => {
    // First with a code the reference does not list (no embedding needed), then with two codes
    // it does: each cosine is the embedding of the text against that code's CMS descriptions.
    const text = 'Dexamethasone sodium phosphate 4 mg/ml vial, item 40417';
    expect(values(line({ description: text, code: hcpcs('ZZZZZ') })).desc_ref_cosine_short).toBe(0);
    const embedding = embedText(text);
    for (const code of ['J1100', 'K0001', 'J1100']) {
      const v = values(line({ description: text, code: hcpcs(code) }));
      expect(v.desc_ref_cosine_short).toBe(dot(embedding, reference.get(code)!.words.short));
      expect(v.desc_ref_cosine_long).toBe(dot(embedding, reference.get(code)!.words.long));
    }
    const fit = (code: string): number =>
      values(line({ description: text, code: hcpcs(code) })).desc_ref_cosine!;
    expect(fit('J1100')).toBeGreaterThan(fit('K0001'));
  });
});

describe('dose vs billing unit (J1100 dexamethasone, billed per 1 mg)', () => {
  it('10 mg billed as 10 units is consistent', () => {
    const v = values(
      line({ description: 'Dexamethasone sodium phosphate 10 mg', code: hcpcs('J1100'), quantity: 10 }),
    );
    expect(v).toMatchObject({ dose_comparable: 1, dose_consistent: 1, dose_integer_multiple: 0 });
    expect(v.dose_units_log_ratio).toBeCloseTo(0, 10);
    expect(
      lineFeatures(line({ description: 'dexamethasone 10 mg', code: hcpcs('J1100'), quantity: 10 }), ctx())
        .evidence,
    ).toMatchObject({ dose: { value: 10, unit: 'mg' }, billingUnit: { value: 1, unit: 'mg' } });
  });

  it('10 mg billed as 1 unit is flagged', () => {
    const v = values(
      line({ description: 'Dexamethasone sodium phosphate 10 mg', code: hcpcs('J1100'), quantity: 1 }),
    );
    expect(v).toMatchObject({ dose_comparable: 1, dose_consistent: 0 });
    expect(v.dose_units_log_ratio).toBeCloseTo(Math.log(0.1), 6);
    expect(v.dose_units_abs_log_ratio).toBeCloseTo(Math.log(10), 6);
    // A credit of the same line is judged on its magnitude.
    expect(
      values(
        line({ description: 'Dexamethasone sodium phosphate 10 mg', code: hcpcs('J1100'), quantity: -10 }),
      ),
    ).toMatchObject({ dose_comparable: 1, dose_consistent: 1 });
  });

  it('two 10 mg vials billed as 20 units are a whole multiple; a concentration times volume is read', () => {
    expect(
      values(line({ description: 'Dexamethasone 10 mg vial', code: hcpcs('J1100'), quantity: 20 })),
    ).toMatchObject({
      dose_consistent: 0,
      dose_integer_multiple: 1,
    });
    expect(
      values(line({ description: 'Dexamethasone 4 mg/ml, 5 ml vial', code: hcpcs('J1100'), quantity: 20 })),
    ).toMatchObject({
      dose_consistent: 1,
    });
  });

  it('a figure stating one billing unit is the unit, not a dose (HCPCS descriptor texts)', () => {
    // J1642 heparin lock flush is billed per 10 units; 30 units billed of a "per 10 units" item.
    const heparin = lineFeatures(
      line({
        description: 'Heparin sodium inj, (heparin lock flush), per 10 units',
        code: hcpcs('J1642'),
        quantity: 30,
      }),
      ctx(),
    );
    expect(heparin.evidence.billingUnit).toEqual({ value: 10, unit: 'units' });
    expect(heparin.evidence.dose).toBeNull();
    expect(heparin.values).toMatchObject({ dose_comparable: 0, dose_units_log_ratio: 0 });
    // J1745 infliximab per 10 mg, 40 units (400 mg): the descriptor's "10MG" is not a 10 mg dose.
    expect(
      values(line({ description: 'INFLIXIMAB NOT BIOSIMIL 10MG', code: hcpcs('J1745'), quantity: 40 })),
    ).toMatchObject({ dose_comparable: 0 });
    // A dose stated beside the unit is still read: "10 mg" then "400 mg" is 40 units.
    expect(
      values(
        line({
          description: 'Injection, infliximab, excludes biosimilar, 10 mg - 400 mg',
          code: hcpcs('J1745'),
          quantity: 4,
        }),
      ),
    ).toMatchObject({ dose_comparable: 1, dose_consistent: 0 });
  });

  it('no dose in the description: not comparable', () => {
    expect(
      values(line({ description: 'Dexamethasone injection', code: hcpcs('J1100'), quantity: 4 })),
    ).toMatchObject({
      dose_comparable: 0,
      dose_units_log_ratio: 0,
    });
  });
});

describe('description fit', () => {
  it('a fitting description scores higher than a wrong code, and the wrong code has a better other code', () => {
    const fits = values(line({ description: 'Nebulizer with compressor', code: hcpcs('E0570') }));
    const wrong = values(
      line({ description: 'Standard wheelchair, fixed full length arms', code: hcpcs('E0570') }),
    );
    expect(fits.desc_ref_cosine).toBeGreaterThan(0.6);
    expect(wrong.desc_ref_cosine).toBeLessThan(0.3);
    expect(fits.desc_ref_cosine).toBeGreaterThan(wrong.desc_ref_cosine! + 0.3);
    expect(wrong.desc_ref_cosine_margin).toBeLessThan(-0.3);
    expect(wrong.desc_ref_token_overlap).toBe(0);
    expect(fits.desc_ref_token_overlap).toBeGreaterThan(0.5);
    const ev = lineFeatures(
      line({ description: 'Standard wheelchair, fixed full length arms', code: hcpcs('E0570') }),
      ctx(),
    ).evidence;
    expect(ev.bestOtherCode).toMatch(/^[EK]/);
  });
});

describe('code status', () => {
  it('known, terminated, not yet effective, not payable, not separately priced', () => {
    expect(values(line({ code: hcpcs('ZZ999') }))).toMatchObject({ code_is_hcpcs: 1, code_known: 0 });
    expect(values(line({ code: { system: 'CPT', value: '99213' } }))).toMatchObject({
      code_is_hcpcs: 0,
      code_known: 0,
    });
    expect(values(line({ code: hcpcs('J0135') }))).toMatchObject({ code_known: 1, code_terminated: 1 }); // ended 2024-12-31
    expect(values(line({ code: hcpcs('J0135') }), ctx({ serviceDate: '2024-06-01' }))).toMatchObject({
      code_terminated: 0,
    });
    expect(values(line({ code: hcpcs('K0001') }), ctx({ serviceDate: '1990-01-01' }))).toMatchObject({
      code_not_yet_effective: 1,
    });
    expect(values(line({ code: hcpcs('A9270') }))).toMatchObject({
      code_not_payable: 1,
      code_not_separately_priced: 1,
    });
    expect(values(line({ code: hcpcs('K0001') }))).toMatchObject({
      code_not_payable: 0,
      code_not_separately_priced: 0,
    });
  });

  it('judges a line at its service date, else the period start, else the invoice date', () => {
    const inv = makeInvoice({ service_period: { start: '2025-02-01', end: '2025-02-28' } });
    expect(lineServiceDate(inv, inv.lines[0]!)).toBe('2025-02-01');
    expect(lineServiceDate(inv, { ...inv.lines[0]!, service_date: '2025-02-10' })).toBe('2025-02-10');
    expect(lineServiceDate(makeInvoice(), makeInvoice().lines[0]!)).toBe('2025-03-01');
  });
});

describe('price, quantity and vendor profile', () => {
  it('compares the unit price with the CMS fee for the modifier', () => {
    const ref = reference.get('E1390')!;
    const fee = referenceFee(ref.fees, ['RR'])!;
    expect(fee.modifier).toBe('RR');
    const v = values(
      line({ code: hcpcs('E1390'), modifiers: ['RR'], unit_price_cents: fee.amountCents * 4 }),
    );
    expect(v.fee_known).toBe(1);
    expect(v.unit_price_fee_log_ratio).toBeCloseTo(Math.log(4), 6);
    expect(values(line({ code: hcpcs('A9270') }))).toMatchObject({
      fee_known: 0,
      unit_price_fee_log_ratio: 0,
    });
  });

  it('compares the quantity with a typical quantity by code, else by category', () => {
    const typical = fitTypicalQuantities(
      [
        ...Array.from({ length: 5 }, () => ({ code: 'A4253', category: 'D1F', quantity: 2 })),
        ...Array.from({ length: 6 }, (_, i) => ({ code: 'A4259', category: 'D1F', quantity: 1 + (i % 2) })),
        { code: 'E0570', category: 'D1E', quantity: 1 }, // below minLines: ignored
      ],
      'unit test',
    );
    expect(typical.byCode.get('A4253')).toBe(2);
    expect(typical.byCode.has('E0570')).toBe(false);
    expect(typical.byCategory.get('D1F')).toBe(2);
    expect(
      values(line({ code: hcpcs('A4253'), quantity: 20 }), ctx({ typicalQuantities: typical })),
    ).toMatchObject({
      quantity_typical_known: 1,
    });
    expect(
      values(line({ code: hcpcs('A4253'), quantity: 20 }), ctx({ typicalQuantities: typical }))
        .quantity_typical_log_ratio,
    ).toBeCloseTo(Math.log(10), 6);
    expect(values(line({ code: hcpcs('A4253'), quantity: 20 }))).toMatchObject({ quantity_typical_known: 0 });
  });

  it("reads a quantity below the code's own median, not below an estimate from other codes", () => {
    const typical = fitTypicalQuantities(
      Array.from({ length: 5 }, () => ({ code: 'A4253', category: 'D1F', quantity: 20 })),
      'unit test',
    );
    const c = ctx({ typicalQuantities: typical });
    expect(values(line({ code: hcpcs('A4253'), quantity: 1 }), c).quantity_typical_log_ratio).toBeCloseTo(
      Math.log(1 / 20),
      6,
    );
    // The same median as a price-band estimate: one unit says nothing, sixty are three times it.
    const estimated = ctx({ typicalQuantities: { ...typical, estimated: new Set(['A4253']) } });
    expect(values(line({ code: hcpcs('A4253'), quantity: 1 }), estimated)).toMatchObject({
      quantity_typical_known: 1,
      quantity_typical_log_ratio: 0,
    });
    expect(
      values(line({ code: hcpcs('A4253'), quantity: 60 }), estimated).quantity_typical_log_ratio,
    ).toBeCloseTo(Math.log(3), 6);
  });

  it('scores the code against the vendor profile', () => {
    const cat = codeCategory(reference.get('K0001')!.code);
    expect(cat).toBe('D1D');
    const profile = buildVendorHistory(['D1D', 'D1D', 'D1D', 'D1E'], ['D1D', 'D1E']);
    const inProfile = values(line({ code: hcpcs('K0001') }), ctx({ vendorProfile: profile }));
    const outside = values(line({ code: hcpcs('J1100') }), ctx({ vendorProfile: profile }));
    expect(inProfile).toMatchObject({
      vendor_profile_present: 1,
      vendor_approved_list_present: 1,
      vendor_category_approved: 1,
    });
    expect(outside).toMatchObject({ vendor_category_approved: 0, vendor_history_present: 1 });
    expect(inProfile.vendor_category_share_log).toBeCloseTo(Math.log((3 + 1) / (4 + 2 + 1)), 10);
    expect(outside.vendor_category_share_log).toBeCloseTo(Math.log(1 / 7), 10);
    expect(values(line({ code: hcpcs('K0001') }))).toMatchObject({
      vendor_profile_present: 0,
      vendor_category_share_log: 0,
    });
  });

  it("reads the vendor's own history of the billed code (every past line, by code)", () => {
    const profile = buildVendorHistory(
      ['D1D', 'D1D', 'D1D', 'D1E'],
      ['D1D', 'D1E'],
      ['K0001', 'K0001', 'K0001', 'E0570'],
    );
    const usual = values(line({ code: hcpcs('K0001') }), ctx({ vendorProfile: profile }));
    const never = values(line({ code: hcpcs('K0003') }), ctx({ vendorProfile: profile }));
    expect(usual.vendor_lines_log).toBeCloseTo(Math.log(5), 6);
    expect(usual.vendor_code_lines_log).toBeCloseTo(Math.log(4), 6);
    expect(never.vendor_lines_log).toBeCloseTo(Math.log(5), 6);
    expect(never.vendor_code_lines_log).toBe(0);
    // a profile without per-code history (or no profile) reads as no history
    const categoriesOnly = buildVendorHistory(['D1D'], ['D1D']);
    for (const p of [categoriesOnly, undefined])
      expect(values(line({ code: hcpcs('K0001') }), ctx(p ? { vendorProfile: p } : {}))).toMatchObject({
        vendor_lines_log: 0,
        vendor_code_lines_log: 0,
      });
  });

  it('encodes the section one-hot, credit lines and amount gaps', () => {
    const v = values(line({ code: hcpcs('J1100'), quantity: -1, unit_price_cents: 100, amount_cents: -90 }));
    expect(v['code_section=J']).toBe(1);
    expect(v['code_section=E']).toBe(0);
    expect(v.is_credit_line).toBe(1);
    expect(v.line_amount_gap_rel).toBeCloseTo(10 / 90, 6);
    expect(values(line({}))['code_section=other']).toBe(1);
  });
});

describe('printed code (the PRINTED_CODE_DIFFERS check as line features)', () => {
  const printed = (description: string, code: string): Record<string, number> => {
    const v = values(line({ description, code: hcpcs(code) }));
    return { present: v.printed_code_present!, differs: v.printed_code_differs! };
  };

  it('reads the printed code whatever its formatting, and compares it with the billed one', () => {
    for (const d of [
      'A6563 - Gradient compression bandage roll',
      'HCPCS: a6563 gradient compression bandage',
      'Gradient compression bandage roll (A6563)',
    ]) {
      expect(printed(d, 'A6564')).toEqual({ present: 1, differs: 1 });
      expect(printed(d, 'a6563')).toEqual({ present: 1, differs: 0 });
    }
    expect(printed('Gradient compression bandage roll', 'A6564')).toEqual({ present: 0, differs: 0 });
  });

  it('ignores shapes the HCPCS reference does not know and lines without a HCPCS code', () => {
    expect(printed('Walker model E9999 folding', 'E0143')).toEqual({ present: 0, differs: 0 });
    const v = values(line({ description: 'A6563 - Gradient compression bandage roll', code: undefined }));
    expect([v.printed_code_present, v.printed_code_differs]).toEqual([0, 0]);
  });
});
