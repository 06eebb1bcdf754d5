import { describe, expect, it } from 'vitest';
import { explainTax, plausibleTaxRates } from './tax.js';

/** The rules stage's tolerance: 1 cent or 0.5% of the total. */
const within = (total: number) => (gap: number) => Math.abs(gap) <= Math.max(1, Math.abs(total) * 0.005);

describe('tax in a total', () => {
  it('lists the rates in force for a currency and date', () => {
    expect(plausibleTaxRates('MYR', '2017-06-01').map((r) => [r.name, r.rate])).toEqual([
      ['GST standard rate', 0.06],
    ]);
    expect(plausibleTaxRates('MYR', '2018-07-01')).toEqual([]);
    expect(plausibleTaxRates('MYR', '2024-06-01').map((r) => r.rate)).toEqual([0.05, 0.1, 0.06, 0.08]);
    expect(plausibleTaxRates('USD', '2025-03-01')).toEqual([]);
  });

  it('explains an un-itemised 6% GST on a Malaysian receipt by the rate table', () => {
    // RM 50.00 of goods, RM 53.00 paid: 6% GST in force on 2017-03-20.
    expect(explainTax(5300, 5000, 'MYR', '2017-03-20', undefined, within(5300))).toEqual({
      basis: 'rate_table',
      tax_cents: 300,
      rate: 0.06,
      name: 'GST standard rate',
      jurisdiction: 'MY',
      source: 'Goods and Services Tax Act 2014 (Act 762); GST (Rate of Tax) Order 2014',
    });
    // The same gap during the 2018 zero-rated months, or in USD, is not a tax.
    expect(explainTax(5300, 5000, 'MYR', '2018-07-01', undefined, within(5300))).toBeNull();
    expect(explainTax(5300, 5000, 'USD', '2017-03-20', undefined, within(5300))).toBeNull();
    // 9% is no rate in force.
    expect(explainTax(5450, 5000, 'MYR', '2017-03-20', undefined, within(5450))).toBeNull();
  });

  it('uses a stated tax amount, and only it, when the invoice carries one', () => {
    expect(explainTax(10_725, 10_000, 'USD', '2025-03-01', 725, within(10_725))).toEqual({
      basis: 'stated',
      tax_cents: 725,
    });
    // A stated amount that does not close the gap is not replaced by a table rate.
    expect(explainTax(5300, 5000, 'MYR', '2017-03-20', 100, within(5300))).toBeNull();
  });
});
