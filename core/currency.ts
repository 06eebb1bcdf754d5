/**
 * ISO 4217 currencies: which codes an invoice may carry and the minor unit of each (the digits
 * of its integer amounts: JPY 0, USD 2, KWD 3, CLF 4). One source for the service, the intake
 * adapters and the review console: ISO 4217 list one ("current currency and funds") as packaged
 * by `currency-codes` (publish date {@link ISO_4217_PUBLISHED}). Browser-safe (no Node imports):
 * the console bundles it.
 *
 * Accepted: every code of list one with a numeric minor unit, funds codes included (CLF, BOV,
 * USN...). Refused: codes whose minor unit is "N.A." in list one (precious metals XAU, XAG,
 * XPD, XPT; the bond-market units XBA-XBD; XDR, XSU, XUA; the testing code XTS; XXX, "no
 * currency"): an invoice amount in them has no integer minor unit. Codes not on list one are
 * refused too: withdrawn ones (DEM, FRF, HRK, SLL: list three) and unknown ones.
 */
import iso from 'currency-codes';

/** Publish date of the ISO 4217 list one in use (`YYYY-MM-DD`, from `currency-codes`). */
export const ISO_4217_PUBLISHED: string = String(iso.publishDate);

/**
 * Codes of list one whose minor unit is "N.A.". `currency-codes`' data records them as 0 digits
 * (like XAF, whose minor unit is 0); `core/currency.test.ts` checks this set against the list
 * one XML the package ships, so it cannot drift from the source.
 */
export const NO_MINOR_UNIT: ReadonlySet<string> = new Set([
  'XAG',
  'XAU',
  'XBA',
  'XBB',
  'XBC',
  'XBD',
  'XDR',
  'XPD',
  'XPT',
  'XSU',
  'XTS',
  'XUA',
  'XXX',
]);

const DIGITS: ReadonlyMap<string, number> = new Map(
  iso.data.filter((c) => !NO_MINOR_UNIT.has(c.code)).map((c) => [c.code, c.digits]),
);

/**
 * Minor unit (ISO 4217 exponent) of an accepted currency: JPY 0, USD 2, KWD 3, CLF 4; undefined
 * for a code that is not accepted (see {@link currencyProblem}). Case-sensitive (`usd` is not a code).
 */
export function minorUnit(code: string): number | undefined {
  return DIGITS.get(code);
}

/**
 * Why `code` is not an accepted invoice currency (a field error message), or undefined when it
 * is one: an active ISO 4217 code with a minor unit.
 */
export function currencyProblem(code: string): string | undefined {
  if (DIGITS.has(code)) return undefined;
  if (NO_MINOR_UNIT.has(code))
    return `(${code}) is an ISO 4217 code without a minor unit (a metal, unit of account, test or no-currency code); amounts need an active currency such as USD`;
  return `(${code}) is not an active ISO 4217 currency code (list one of ${ISO_4217_PUBLISHED}; withdrawn codes such as DEM are refused)`;
}

/**
 * Amount in integer minor units as a plain decimal text with exactly the currency's digits:
 * `(123456, 'USD')` -> `"1234.56"`, `(1200, 'JPY')` -> `"1200"`, `(-5, 'KWD')` -> `"-0.005"`.
 * Exact for every safe integer (no float division). An unknown currency takes 2 digits.
 */
export function minorUnitsToDecimal(units: number, code: string): string {
  const digits = minorUnit(code) ?? 2;
  const sign = units < 0 ? '-' : '';
  const s = String(Math.abs(units)).padStart(digits + 1, '0');
  return digits === 0 ? `${sign}${s}` : `${sign}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}
