/** Display formats: money from integer minor units, percentages, dates. */
import { minorUnit, minorUnitsToDecimal } from '../../core/currency.js';

const formats = new Map<string, Intl.NumberFormat>();

/**
 * Integer minor units of `currency` as money, with the currency's ISO 4217 minor unit (from
 * core/currency.ts, the service's source): `(12345, 'USD')` -> `$123.45`, `(1200, 'JPY')` ->
 * `¥1,200`, `(12345, 'KWD')` -> `KWD 12.345`. Exact (the amount is formatted from its decimal
 * text, not a float). A code that is not an accepted currency shows two decimals and its code.
 */
export function money(units: number, currency = 'USD'): string {
  const digits = minorUnit(currency);
  if (digits === undefined) return `${minorUnitsToDecimal(units, currency)} ${currency}`;
  let f = formats.get(currency);
  if (!f) {
    f = new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    formats.set(currency, f);
  }
  return f.format(minorUnitsToDecimal(units, currency) as Intl.StringNumericLiteral);
}

/**
 * A priority (the service's expected cost: the invoice's minor units / 100, whatever its
 * currency, rounded to the cent) as money of `currency`, like a total: `(60000000018.89, 'USD')`
 * -> `$60,000,000,018.89`, `(10, 'JPY')` -> `¥1,000`, `(123.45, 'KWD')` -> `KWD 12.345`.
 */
export function priorityMoney(priority: number, currency = 'USD'): string {
  return money(Math.round(priority * 100), currency);
}

/** `0.4567` -> `45.7%`; null -> `n/a`. */
export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(digits)}%`;
}

/** A value of any JSON type as short text. */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
