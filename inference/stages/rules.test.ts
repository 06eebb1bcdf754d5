import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Invoice } from '../../core/invoice.js';
import { packageRoot } from '../../core/paths.js';
import type { VendorProfile } from '../../core/vendor.js';
import { loadReferenceData } from '../../datasets/reference.js';
import { makeInvoice } from '../../test/fixtures.js';
import { reason } from '../explain.js';
import { buildReferenceIndex, type ReferenceIndex } from '../../features/reference-index.js';
import { prepare } from './prepare.js';
import {
  applyRules,
  applyVendorProfile,
  invoiceChecks,
  lineAmountCheck,
  printedCodeCheck,
  totalCheck,
} from './rules.js';
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

  it('flags a line that prints another HCPCS code than it bills, lifted with its line number', () => {
    const base = makeInvoice();
    const wrong = {
      ...base.lines[1]!,
      description: 'a-6563 Gradient compression bandage roll, elastic',
      code: { system: 'HCPCS' as const, value: 'A6564' },
    };
    const own = { ...base.lines[0]!, description: '[E1390] Oxygen concentrator, single delivery port' };
    const inv = { ...base, lines: [own, wrong] };
    expect(printedCodeCheck(own, ref)).toBeNull();
    const r = printedCodeCheck(wrong, ref);
    expect(r).toMatchObject({
      code: 'PRINTED_CODE_DIFFERS',
      weight: 0.8,
      evidence: { line_number: 2, billed_code: 'A6564', printed_codes: ['A6563'] },
    });
    // A code-shaped model number that is no HCPCS code is not read as a printed code.
    expect(printedCodeCheck({ ...wrong, description: 'Wrap model Z9999' }, ref)).toBeNull();
    const { reasons } = applyRules(inv, records(inv), null, ref);
    expect(
      reasons.filter((x) => x.code === 'PRINTED_CODE_DIFFERS').map((x) => x.evidence.line_number),
    ).toEqual([2]);
  });

  it('does not call a total that includes a tax a mismatch, and says how the tax is known', () => {
    // A tax-inclusive Malaysian receipt: RM 20.00 + RM 5.00 of goods, RM 26.50 paid (6% GST, 2017).
    const receipt = makeInvoice({
      currency: 'MYR',
      invoice_date: '2017-05-02',
      total_cents: 2_650,
      lines: [
        {
          line_number: 1,
          description: 'PLASTIC BAG',
          quantity: 1,
          unit_price_cents: 2_000,
          amount_cents: 2_000,
        },
        { line_number: 2, description: 'TAPE', quantity: 1, unit_price_cents: 500, amount_cents: 500 },
      ],
    });
    const r = totalCheck(receipt);
    expect(r).toMatchObject({
      code: 'TOTAL_INCLUDES_TAX',
      weight: 0,
      evidence: {
        basis: 'rate_table',
        tax_cents: 150,
        rate: 0.06,
        jurisdiction: 'MY',
        sum_of_lines_cents: 2_500,
      },
    });
    expect(invoiceChecks(receipt).map((x) => x.code)).toEqual(['TOTAL_INCLUDES_TAX']);
    // Lines priced with the tax in them: total = lines, nothing to say even with a stated tax.
    expect(totalCheck({ ...receipt, total_cents: 2_500, tax_cents: 142 })).toBeNull();
    // A US invoice with its sales tax stated.
    const us = makeInvoice({ total_cents: 23_005, tax_cents: 1_505 });
    expect(totalCheck(us)).toMatchObject({
      code: 'TOTAL_INCLUDES_TAX',
      evidence: { basis: 'stated', tax_cents: 1_505 },
    });
    // Without the stated amount the same gap is a mismatch (no US rate table).
    expect(totalCheck({ ...us, tax_cents: undefined })?.code).toBe('TOTAL_MISMATCH');
    // A stated tax that does not close the gap: the mismatch names it and the gap after it.
    expect(totalCheck({ ...us, tax_cents: 1_000 })).toMatchObject({
      code: 'TOTAL_MISMATCH',
      evidence: { stated_tax_cents: 1_000, gap_cents: 505 },
    });
  });

  it('explains the un-itemised GST of the SROIE receipts as tax (96 -> 66 total mismatches of 626)', () => {
    const receipts = readFileSync(join(packageRoot(), 'datasets', 'samples', 'sroie_invoices.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Invoice);
    const codes = receipts.map((inv) => totalCheck(inv)?.code);
    expect(receipts).toHaveLength(626);
    expect(codes.filter((c) => c === 'TOTAL_MISMATCH')).toHaveLength(66);
    expect(codes.filter((c) => c === 'TOTAL_INCLUDES_TAX')).toHaveLength(30);
  });
});
