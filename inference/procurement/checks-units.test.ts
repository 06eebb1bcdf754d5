/**
 * Units in the three-way match: fixed-count units (core/units.ts) convert by themselves on PO
 * lines, receipts and invoices; a fractional count, or a pack_qty contradicting a fixed count,
 * billed against a PO line is flagged.
 */
import { describe, expect, it } from 'vitest';
import type { GoodsReceipt, PoLine } from '../../core/erp.js';
import type { InvoiceLine } from '../../core/invoice.js';
import { makeDozenLine, makeLineReceipt } from '../../test/erp-fixtures.js';
import { alignLines } from './align.js';
import { checkLine, indexContracts, type LineCheckInput } from './checks.js';
import { identifierRuleMatcher } from './matcher.js';
import { DEFAULT_PROCUREMENT_TOLERANCES } from './tolerances.js';

const gloves: PoLine = makeDozenLine();
const receipt = (id: string, quantity: number, uom: string): GoodsReceipt =>
  makeLineReceipt(id, quantity, uom, 'PO-1');
const invoiceLine = (quantity: number, uom: string, unitPrice: number): InvoiceLine => ({
  line_number: 1,
  description: 'Exam gloves nitrile medium',
  item_identifiers: ['GL-DZ-100'],
  uom,
  quantity,
  unit_price_cents: unitPrice,
  amount_cents: Math.round(quantity * unitPrice),
});
const check = (line: InvoiceLine, poLine: PoLine, receipts: GoodsReceipt[]) => {
  const x: LineCheckInput = {
    line,
    poLines: [poLine],
    score: 0.95,
    receipts,
    invoiced: new Map(),
    contracts: [],
    contractIndex: indexContracts([]),
    invoiceDate: '2026-11-05',
    facilityId: null,
    tolerances: DEFAULT_PROCUREMENT_TOLERANCES,
  };
  return checkLine(x);
};
const codes = (c: ReturnType<typeof check>) => c.reasons.map((r) => r.code);

describe('fixed-count units in the three-way match', () => {
  const received = [receipt('GR-1', 1, 'DZ'), receipt('GR-2', 12, 'EA')];

  it('matches 24 EA billed against 2 DZ ordered, received as 1 DZ + 12 EA, with nothing flagged', () => {
    const c = check(invoiceLine(24, 'EA', 100), gloves, received);
    expect(codes(c)).toEqual([]);
    expect(c.conversion).toBe('1 DZ = 12 EA');
    expect(c.allocations.map((a) => a.baseQuantity)).toEqual([24]);
    expect(c.atRiskCents).toBe(0);
  });

  it('counts the dozen received as 12 each: 30 EA billed is 6 each above the 24 received', () => {
    const c = check(invoiceLine(30, 'EA', 100), gloves, received);
    expect(codes(c)).toEqual(['QUANTITY_ABOVE_RECEIVED']);
    expect(c.reasons[0]!.evidence).toMatchObject({
      billed_base_units: 30,
      received_base_units: 24,
      available_base_units: 24,
      variance_base_units: 6,
      variance_cents: 600,
    });
    expect(c.suggested).toMatchObject({ quantity: 24, uom: 'EA', basis: 'receipt' });
  });

  it('reads a dozen billed with a contradicting pack_qty as 12 each and flags it as UOM_MISMATCH', () => {
    const c = check({ ...invoiceLine(2, 'DZ', 1_200), pack_qty: 10 }, gloves, received);
    expect(codes(c)).toEqual(['UOM_MISMATCH']);
    expect(c.reasons[0]!.evidence).toMatchObject({
      billed_uom: 'DZ',
      billed_quantity: 2,
      po_uom: 'DZ',
      stated_pack_qty: 10,
      unit_fixed_count: 12,
      pack_qty_contradicts_unit: true,
    });
    expect(c.reasons[0]!.evidence).not.toHaveProperty('quantity_not_whole');
    expect(c.reasons[0]!.message).toBe(
      'The billed pack_qty 10 contradicts DZ, which holds 12 each: read as 12 each.',
    );
    expect(c.atRiskCents).toBe(0);
    expect(c.allocations.map((a) => a.baseQuantity)).toEqual([24]);
  });

  it('passes a dozen billed with pack_qty 12 or without pack_qty', () => {
    const stated = check({ ...invoiceLine(2, 'DZ', 1_200), pack_qty: 12 }, gloves, received);
    expect(codes(stated)).toEqual([]);
    expect(stated.allocations.map((a) => a.baseQuantity)).toEqual([24]);
    const bare = check(invoiceLine(2, 'DZ', 1_200), gloves, received);
    expect(codes(bare)).toEqual([]);
    expect(bare.allocations.map((a) => a.baseQuantity)).toEqual([24]);
  });

  it('reads an EA line stating its item pack size (UBL PackSizeNumeric, X12 PO401) as each, unflagged', () => {
    const each: PoLine = { ...gloves, uom: 'EA', quantity: 24, unit_price_cents: 100 };
    const eachReceived = [receipt('GR-E', 24, 'EA')];
    const c = check({ ...invoiceLine(24, 'EA', 100), pack_qty: 100 }, each, eachReceived);
    expect(codes(c)).toEqual([]);
    expect(c.allocations.map((a) => a.baseQuantity)).toEqual([24]);
  });

  it('aligns 24 EA to the 2 DZ line alone (24 each billed, not 24 dozen)', () => {
    const other: PoLine = { ...gloves, line_number: 2 };
    const [a] = alignLines([invoiceLine(24, 'EA', 100)], [gloves, other], identifierRuleMatcher, 0.5);
    expect(a!.matches.map((m) => m.poLine.line_number)).toEqual([1]);
    const [over] = alignLines([invoiceLine(30, 'EA', 100)], [gloves, other], identifierRuleMatcher, 0.5);
    expect(over!.matches.map((m) => m.poLine.line_number)).toEqual([1, 2]);
  });
});

describe('fractional quantities of count units billed against a PO line', () => {
  const each: PoLine = { ...gloves, uom: 'EA', quantity: 10, unit_price_cents: 100 };
  const received = [receipt('GR-1', 10, 'EA')];

  it('flags 2.5 EA as UOM_MISMATCH (quantity_not_whole) and passes 2 EA', () => {
    const c = check(invoiceLine(2.5, 'EA', 100), each, received);
    expect(codes(c)).toEqual(['UOM_MISMATCH']);
    expect(c.reasons[0]!.evidence).toMatchObject({
      billed_uom: 'EA',
      billed_quantity: 2.5,
      po_uom: 'EA',
      quantity_not_whole: true,
    });
    expect(c.reasons[0]!.message).toBe(
      'The billed quantity is not a whole number of EA: billed in another unit than stated, or mistyped.',
    );
    expect(c.atRiskCents).toBe(0);
    expect(codes(check(invoiceLine(2, 'EA', 100), each, received))).toEqual([]);
  });

  it('flags 0.0001 EA billed at 0 cents, and a fraction of a box', () => {
    expect(codes(check(invoiceLine(0.0001, 'EA', 100), each, received))).toEqual(['UOM_MISMATCH']);
    const boxes: PoLine = { ...each, uom: 'BX', pack_qty: 100, unit_price_cents: 10_000 };
    const c = check(invoiceLine(0.5, 'BX', 10_000), boxes, [{ ...receipt('GR-1', 10, 'BX'), pack_qty: 100 }]);
    expect(codes(c)).toEqual(['UOM_MISMATCH']);
  });

  it('accepts fractions of a measure (2.5 ML)', () => {
    const ml: PoLine = { ...each, uom: 'ML', unit_price_cents: 40 };
    expect(codes(check(invoiceLine(2.5, 'ML', 40), ml, [receipt('GR-1', 10, 'ML')]))).toEqual([]);
  });
});
