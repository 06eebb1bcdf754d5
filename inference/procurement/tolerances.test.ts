import { describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import {
  DEFAULT_PROCUREMENT_TOLERANCES,
  ProcurementPolicy,
  priceExceeds,
  priceVariance,
  procurementTolerances,
} from './tolerances.js';

const policy = Compile(ProcurementPolicy);

/** A line billed at `unit` cents per unit for `quantity` units (amount = quantity x unit). */
const line = (quantity: number, unit: number) => ({
  quantity,
  unit_price_cents: unit,
  amount_cents: quantity * unit,
});
const beyond = (l: ReturnType<typeof line>, expected: number, t = DEFAULT_PROCUREMENT_TOLERANCES.pricePo) =>
  priceExceeds(l.unit_price_cents, expected, priceVariance(l, expected).lineCents, t);

describe('price tolerances: a unit tolerance and a line (net-to-net) tolerance, both exceeded', () => {
  it('defaults: 0.5 % per unit and 5 cents per line, no cents per unit', () => {
    expect(DEFAULT_PROCUREMENT_TOLERANCES.pricePo).toEqual({ abs: 0, percent: 0.5, lineCents: 5 });
    expect(DEFAULT_PROCUREMENT_TOLERANCES.priceContract).toEqual({ abs: 0, percent: 0.5, lineCents: 5 });
  });

  it('flags 5 cents per unit over on a cheap item (84 against 79 each, +6.3 %, 300 units: 1 500 cents)', () => {
    expect(priceVariance(line(300, 84), 79)).toEqual({ perUnitCents: 5, lineCents: 1_500 });
    expect(beyond(line(300, 84), 79)).toBe(true);
  });

  it('passes a variance within the percent per unit whatever the line total (1 288 against 1 285 x 20)', () => {
    expect(priceVariance(line(20, 1_288), 1_285).lineCents).toBe(60);
    expect(beyond(line(20, 1_288), 1_285)).toBe(false);
    // 1 292 is 0.54 % over: beyond both.
    expect(beyond(line(20, 1_292), 1_285)).toBe(true);
  });

  it('passes a few cents on the line whatever the percent (a cent over on 5 units), not on 6', () => {
    expect(beyond(line(5, 80), 79)).toBe(false);
    expect(beyond(line(6, 80), 79)).toBe(true);
  });

  it('compares the billed amount, not quantity x unit price: a rounded unit price with the right amount passes', () => {
    // 3 000 EA of a box of 100 at 745 (7.45 each) billed at 8 per unit but 22 350 on the line.
    const l = { quantity: 3_000, unit_price_cents: 8, amount_cents: 22_350 };
    expect(priceVariance(l, 7.45).lineCents).toBeCloseTo(0, 9);
    expect(
      priceExceeds(8, 7.45, priceVariance(l, 7.45).lineCents, DEFAULT_PROCUREMENT_TOLERANCES.pricePo),
    ).toBe(false);
  });

  it('reads a negative quantity by its size', () => {
    expect(priceVariance(line(-10, 90), 80).lineCents).toBe(100);
  });
});

describe('price tolerances in a policy document', () => {
  it('takes line_cents per check, with the unit tolerance', () => {
    const p = { price_contract: { abs: 0, percent: 2, line_cents: 100 } };
    expect(policy.Check(p)).toBe(true);
    const t = procurementTolerances(p);
    expect(t.priceContract).toEqual({ abs: 0, percent: 2, lineCents: 100 });
    expect(t.pricePo).toEqual(DEFAULT_PROCUREMENT_TOLERANCES.pricePo);
    expect(policy.Check({ price_po: { abs: 0, percent: 1, line_cents: -1 } })).toBe(false);
    expect(policy.Check({ price_po: { abs: 0, percent: 1, line_cents: 2.5 } })).toBe(false);
    expect(policy.Check({ price_contract: { abs: 0.5, percent: 1 } })).toBe(false);
    expect(policy.Check({ price_po: { abs: 2.5, percent: 1, line_cents: 5 } })).toBe(false);
  });

  it('keeps a tolerance written before line_cents (5 cents per unit) as it was, with the default line cents', () => {
    const legacy = { price_contract: { abs: 5, percent: 0.5 } };
    expect(policy.Check(legacy)).toBe(true);
    const t = procurementTolerances(legacy).priceContract;
    expect(t).toEqual({ abs: 5, percent: 0.5, lineCents: 5 });
    expect(beyond(line(300, 84), 79, t)).toBe(false);
    expect(beyond(line(300, 85), 79, t)).toBe(true);
  });
});
