import { beforeAll, describe, expect, it } from 'vitest';
import type { VendorProfile } from '../../core/vendor.js';
import { loadReferenceData } from '../../datasets/reference.js';
import { makeInvoice } from '../../test/fixtures.js';
import { reason } from '../explain.js';
import { buildReferenceIndex, type ReferenceIndex } from '../reference-index.js';
import { prepare } from './prepare.js';
import { applyRules, applyVendorProfile, invoiceChecks, lineAmountCheck } from './rules.js';
import type { LineRecord } from './types.js';

let ref: ReferenceIndex;
beforeAll(() => {
  ref = buildReferenceIndex(loadReferenceData());
});

const profile = (over: Partial<VendorProfile> = {}): VendorProfile => ({
  vendor_id: 'V-100',
  name: 'Acme',
  category: 'lab',
  approved_betos: [],
  approved_hcpcs_prefixes: ['8'],
  version: 2,
  updated_at: '2025-01-01T00:00:00.000Z',
  ...over,
});

function records(inv = makeInvoice()): LineRecord[] {
  return prepare(inv).lines.map((l) => ({
    ...l,
    score: {
      lineNumber: l.line.line_number,
      score: 0.4,
      reasons: [reason('DESCRIPTION_CODE_MISMATCH', 0.4, { billed: l.features.code })],
      suggestedCodes: [{ system: 'HCPCS' as const, value: 'E0570', description: 'x', similarity: 0.9 }],
    },
  }));
}

describe('rules stage', () => {
  it('flags a code outside the vendor profile and suggests only approved codes, leaving the input unchanged', () => {
    const [rec] = records();
    const out = applyVendorProfile(rec!, profile({ approved_hcpcs_prefixes: ['E0'] }), ref);
    const outside = out.score.reasons.find((r) => r.code === 'CODE_OUTSIDE_VENDOR_PROFILE');
    expect(outside?.weight).toBe(0.6);
    expect(outside?.evidence).toMatchObject({
      code: 'E1390',
      vendor_category: 'lab',
      vendor_profile_version: 2,
    });
    expect(out.score.suggestedCodes.length).toBeGreaterThanOrEqual(3);
    expect(out.score.suggestedCodes.every((s) => s.value.startsWith('E0'))).toBe(true);
    const mismatch = out.score.reasons.find((r) => r.code === 'DESCRIPTION_CODE_MISMATCH');
    expect(mismatch?.evidence.best_suggestion).toBe(out.score.suggestedCodes[0]!.value);
    expect(rec!.score.reasons).toHaveLength(1);
    expect(rec!.score.suggestedCodes[0]!.value).toBe('E0570');
  });

  it('passes an approved code and leaves a line alone without a profile', () => {
    const [rec] = records();
    const approved = applyVendorProfile(rec!, profile({ approved_hcpcs_prefixes: ['E'] }), ref);
    expect(approved.score.reasons.map((r) => r.code)).toEqual(['DESCRIPTION_CODE_MISMATCH']);
    expect(applyVendorProfile(rec!, null, ref)).toBe(rec);
  });

  it('checks line arithmetic within 0.5% or 1 cent', () => {
    const line = makeInvoice().lines[0]!;
    expect(
      lineAmountCheck({ ...line, quantity: 2, unit_price_cents: 10_000, amount_cents: 20_050 }),
    ).toBeNull();
    expect(
      lineAmountCheck({ ...line, quantity: 2, unit_price_cents: 10_000, amount_cents: 20_101 })?.evidence,
    ).toEqual({
      line_number: 1,
      amount_cents: 20_101,
      expected_cents: 20_000,
      gap_cents: 101,
    });
  });

  it('checks the total, its sign and the NPI', () => {
    expect(invoiceChecks(makeInvoice())).toEqual([]);
    const bad = invoiceChecks(
      makeInvoice({ total_cents: -5, vendor: { id: 'V', name: 'A', npi: '1234567890' } }),
    );
    expect(bad.map((r) => r.code)).toEqual(['TOTAL_MISMATCH', 'NEGATIVE_TOTAL', 'NPI_INVALID']);
    expect(bad[0]!.evidence).toEqual({ total_cents: -5, sum_of_lines_cents: 21_500, gap_cents: -21_505 });
  });

  it('lifts line reasons with their line number after the line-amount reasons', () => {
    const base = makeInvoice();
    const inv = { ...base, lines: [base.lines[0]!, { ...base.lines[1]!, amount_cents: 2_000 }] };
    const lines = records(inv);
    const { lines: out, reasons } = applyRules(inv, lines, null, ref);
    expect(reasons.map((r) => [r.code, r.evidence.line_number])).toEqual([
      ['LINE_AMOUNT_MISMATCH', 2],
      ['DESCRIPTION_CODE_MISMATCH', 1],
      ['DESCRIPTION_CODE_MISMATCH', 2],
      ['TOTAL_MISMATCH', undefined],
    ]);
    expect(out[1]!.score.reasons.map((r) => r.code)).toEqual([
      'DESCRIPTION_CODE_MISMATCH',
      'LINE_AMOUNT_MISMATCH',
    ]);
    expect(lines[1]!.score.reasons).toHaveLength(1);
  });
});
