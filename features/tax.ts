/**
 * Tax in an invoice total: whether the gap between the total and the sum of the lines is a tax
 * the lines do not itemise, and how the tax is known.
 *
 * Two ways, in this order:
 * 1. **Stated**: the invoice carries `tax_cents` (the tax amount printed on it, e.g. from UBL
 *    `TaxTotal` or an extractor). The total must then equal lines + stated tax.
 * 2. **Rate table**: without a stated amount, the gap is a tax when it equals the line sum
 *    times a rate in force on the invoice date in the jurisdiction of the invoice's currency
 *    ({@link PLAUSIBLE_TAX_RATES}). Only jurisdictions with a few national rates are listed:
 *    US sales tax varies by state, county and city and most medical supplies billed to
 *    providers are exempt, so USD invoices have no table entry and need a stated tax amount.
 *
 * Money is integer cents (minor units); rates are fractions (0.06 = 6 %). Pure.
 */

/** A national tax rate in force over a period. */
export interface TaxRate {
  /** ISO 3166-1 alpha-2 country. */
  jurisdiction: string;
  /** ISO 4217 currency the jurisdiction's invoices are in. */
  currency: string;
  /** The tax, e.g. `GST standard rate`. */
  name: string;
  /** Fraction of the pre-tax amount, e.g. 0.06. */
  rate: number;
  /** First day in force, ISO date. */
  from: string;
  /** Last day in force, ISO date; null while in force. */
  to: string | null;
  /** The legal instrument that sets it. */
  source: string;
}

/**
 * National consumption-tax rates by jurisdiction (currency as the jurisdiction's proxy).
 *
 * Sources (Royal Malaysian Customs Department, published acts and orders):
 * - Goods and Services Tax Act 2014 (Act 762), GST (Rate of Tax) Order 2014: 6 % standard rate
 *   from 2015-04-01; GST (Rate of Tax) (Amendment) Order 2018 set it to 0 % from 2018-06-01;
 *   GST repealed 2018-09-01 (Goods and Services Tax (Repeal) Act 2018).
 * - Sales Tax Act 2018 (Act 806) and Sales Tax (Rates of Tax) Order 2018: 5 % and 10 % from
 *   2018-09-01. Service Tax Act 2018 (Act 807): 6 % from 2018-09-01; Service Tax (Rate of Tax)
 *   (Amendment) Order 2024: 8 % from 2024-03-01 for most taxable services (6 % kept for food
 *   and beverage, telecommunications, parking and logistics).
 */
export const PLAUSIBLE_TAX_RATES: readonly TaxRate[] = [
  {
    jurisdiction: 'MY',
    currency: 'MYR',
    name: 'GST standard rate',
    rate: 0.06,
    from: '2015-04-01',
    to: '2018-05-31',
    source: 'Goods and Services Tax Act 2014 (Act 762); GST (Rate of Tax) Order 2014',
  },
  {
    jurisdiction: 'MY',
    currency: 'MYR',
    name: 'Sales tax',
    rate: 0.05,
    from: '2018-09-01',
    to: null,
    source: 'Sales Tax Act 2018 (Act 806); Sales Tax (Rates of Tax) Order 2018',
  },
  {
    jurisdiction: 'MY',
    currency: 'MYR',
    name: 'Sales tax',
    rate: 0.1,
    from: '2018-09-01',
    to: null,
    source: 'Sales Tax Act 2018 (Act 806); Sales Tax (Rates of Tax) Order 2018',
  },
  {
    jurisdiction: 'MY',
    currency: 'MYR',
    name: 'Service tax',
    rate: 0.06,
    from: '2018-09-01',
    to: null,
    source: 'Service Tax Act 2018 (Act 807)',
  },
  {
    jurisdiction: 'MY',
    currency: 'MYR',
    name: 'Service tax',
    rate: 0.08,
    from: '2024-03-01',
    to: null,
    source: 'Service Tax Act 2018 (Act 807); Service Tax (Rate of Tax) (Amendment) Order 2024',
  },
];

/** The rates of {@link PLAUSIBLE_TAX_RATES} in force on `date` (ISO) for invoices in `currency`. */
export function plausibleTaxRates(currency: string, date: string): TaxRate[] {
  return PLAUSIBLE_TAX_RATES.filter(
    (r) => r.currency === currency && r.from <= date && (r.to === null || date <= r.to),
  );
}

/** How a total's gap to the line sum is explained by tax (see the module doc). */
export type TaxBasis =
  | { basis: 'stated'; tax_cents: number }
  | {
      basis: 'rate_table';
      /** The tax the rate gives on the line sum, rounded to the cent. */
      tax_cents: number;
      rate: number;
      name: string;
      jurisdiction: string;
      source: string;
    };

/**
 * The tax that explains `total - sumOfLines` within `withinTolerance`, or null.
 * A stated `taxCents` is the only basis considered when present (even when it does not
 * explain the gap: then null). Without it, the rate in force whose tax on the line sum
 * leaves the smallest remaining gap, if that gap is within tolerance; a zero gap needs no tax.
 * @param withinTolerance whether a remaining gap (cents) is acceptable for this total.
 */
export function explainTax(
  totalCents: number,
  sumOfLinesCents: number,
  currency: string,
  invoiceDate: string,
  taxCents: number | undefined,
  withinTolerance: (gapCents: number) => boolean,
): TaxBasis | null {
  if (taxCents !== undefined)
    return withinTolerance(totalCents - sumOfLinesCents - taxCents)
      ? { basis: 'stated', tax_cents: taxCents }
      : null;
  let best: { rate: TaxRate; tax: number; gap: number } | null = null;
  for (const rate of plausibleTaxRates(currency, invoiceDate)) {
    const tax = Math.round(sumOfLinesCents * rate.rate);
    const gap = Math.abs(totalCents - sumOfLinesCents - tax);
    if (best === null || gap < best.gap) best = { rate, tax, gap };
  }
  if (best === null || best.tax === 0 || !withinTolerance(totalCents - sumOfLinesCents - best.tax))
    return null;
  const { rate } = best;
  return {
    basis: 'rate_table',
    tax_cents: best.tax,
    rate: rate.rate,
    name: rate.name,
    jurisdiction: rate.jurisdiction,
    source: rate.source,
  };
}
