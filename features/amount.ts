/**
 * Money-text normalisation: `"27,80"`, `"1.234,56"`, `"1,234.56"`, `"RM 13.30"`, `"$8.20"`,
 * `"(12.50)"`, `"-8.20"`, `"12.50 CR"` -> integer minor units (cents) plus currency, with the
 * original text kept beside the normalised value. The decimal separator is detected per value;
 * a value that reads two ways (`"1,234"`: 1234.00 or 1.234) is refused unless a hint says which
 * separator the document uses.
 */
import { minorUnit } from '../core/currency.js';
import { TriageError } from '../core/errors.js';

/** A money text read into integer minor units. */
export interface ParsedAmount {
  /**
   * Integer minor units of `currency` (cents for USD/EUR/MYR; whole yen for JPY; fils for KWD:
   * the ISO 4217 exponent of the currency, 2 when the currency is unknown). Negative for credits.
   * Digits beyond the exponent are rounded half away from zero (`"0.125"` -> 13).
   */
  cents: number;
  /** ISO 4217 code from a symbol or code in the text (`$` -> USD, `RM` -> MYR), else the hint's, else null. */
  currency: string | null;
  /** The text exactly as given. */
  original: string;
  /** The separator read as the decimal point; null when the value has no decimal part (`"1,234,567"`, `"12"`). */
  decimalSeparator: '.' | ',' | null;
  /** How a negative amount was marked, or null for a positive one. */
  negativeMarker: 'minus' | 'parentheses' | 'credit' | null;
}

/** What the caller knows about the document the amount comes from. */
export interface AmountHint {
  /** The document's decimal separator; resolves `"1,234"` / `"1.234"`. */
  decimalSeparator?: '.' | ',';
  /** Currency to report when the text names none (ISO 4217, e.g. `USD`). */
  currency?: string;
}

/**
 * Currency symbols and local abbreviations, longest first so that `US$` wins over `$`.
 * `$` alone is read as USD unless the hint names another dollar currency (CAD, AUD, SGD...).
 */
const CURRENCY_MARKS: readonly (readonly [string, string])[] = [
  ['US$', 'USD'],
  ['S$', 'SGD'],
  ['A$', 'AUD'],
  ['C$', 'CAD'],
  ['NZ$', 'NZD'],
  ['HK$', 'HKD'],
  ['R$', 'BRL'],
  ['RM', 'MYR'],
  ['Rp', 'IDR'],
  ['Rs', 'INR'],
  ['€', 'EUR'],
  ['£', 'GBP'],
  ['¥', 'JPY'],
  ['₹', 'INR'],
  ['₩', 'KRW'],
  ['฿', 'THB'],
  ['₱', 'PHP'],
  ['$', 'USD'],
];

const DOLLAR_CURRENCIES = new Set(['USD', 'CAD', 'AUD', 'NZD', 'SGD', 'HKD', 'TWD', 'MXN', 'BND']);

/**
 * ISO 4217 exponent (digits of the minor unit) of a currency: JPY 0, USD 2, KWD/BHD/IQD 3,
 * CLF 4. Source: ISO 4217 list one through core/currency.ts (the one source of accepted codes
 * and minor units); 2 when the currency is unknown or null (validation refuses such a code).
 */
export function currencyExponent(currency: string | null): number {
  return (currency === null ? undefined : minorUnit(currency)) ?? 2;
}

/**
 * Digits of a plain decimal text (`"12.345"`, `"12,345"` with `,` as `decimalSeparator`) beyond
 * the minor unit of `currency`, as written (`"12.345"` in USD: 1; `"1200.5"` in JPY: 1; trailing
 * zeros do not count). A text with such digits names an amount the canonical integer minor units
 * cannot hold; {@link parseAmount} would round them.
 */
export function digitsBelowMinorUnit(
  text: string,
  decimalSeparator: '.' | ',',
  currency: string | null,
): number {
  const t = text.trim();
  const at = t.lastIndexOf(decimalSeparator);
  if (at < 0) return 0;
  const frac = t
    .slice(at + 1)
    .replace(/[^0-9].*$/, '')
    .replace(/0+$/, '');
  return Math.max(0, frac.length - currencyExponent(currency));
}

function fail(
  code: 'TRIAGE_FEATURES_AMOUNT_UNPARSEABLE' | 'TRIAGE_FEATURES_AMOUNT_AMBIGUOUS',
  text: string,
  why: string,
): never {
  throw new TriageError(code, `Amount "${text}" ${why}`);
}

/** Strips currency marks (symbols, ISO codes) from either end; returns the currency found. */
function takeCurrency(
  s: string,
  hint: AmountHint | undefined,
  original: string,
): { rest: string; currency: string | null } {
  let rest = s;
  let found: string | null = null;
  const set = (c: string): void => {
    if (found !== null && found !== c)
      fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, `names two currencies (${found}, ${c})`);
    found = c;
  };
  for (let pass = 0; pass < 2; pass++) {
    const iso = /^([A-Za-z]{3})(?![A-Za-z])|(?<![A-Za-z])([A-Za-z]{3})$/.exec(rest.trim());
    const code = (iso?.[1] ?? iso?.[2])?.toUpperCase();
    if (code !== undefined && code !== 'CR' && minorUnit(code) !== undefined) {
      set(code);
      rest = rest.trim().replace(iso![0], '');
      continue;
    }
    const t = rest.trim();
    for (const [mark, cur] of CURRENCY_MARKS) {
      const atStart = t.startsWith(mark);
      const atEnd = !atStart && t.endsWith(mark);
      if (atStart || atEnd) {
        const resolved =
          mark === '$' && hint?.currency && DOLLAR_CURRENCIES.has(hint.currency) ? hint.currency : cur;
        set(resolved);
        rest = atStart ? t.slice(mark.length) : t.slice(0, t.length - mark.length);
        break;
      }
    }
  }
  return { rest: rest.trim(), currency: found };
}

/** Reads the sign markers: leading/trailing minus, parentheses, CR/DR suffix or prefix. */
function takeSign(s: string): { rest: string; marker: ParsedAmount['negativeMarker'] } {
  let rest = s.trim();
  let marker: ParsedAmount['negativeMarker'] = null;
  const credit = /^(?:CR\.?\s+)|\s*\bCR\.?$/i;
  const debit = /^(?:DR\.?\s+)|\s*\bDR\.?$/i;
  if (credit.test(rest)) {
    marker = 'credit';
    rest = rest.replace(credit, '').trim();
  } else if (debit.test(rest)) {
    rest = rest.replace(debit, '').trim();
  }
  const paren = /^\((.*)\)$/.exec(rest);
  if (paren) {
    marker ??= 'parentheses';
    rest = paren[1]!.trim();
  }
  const minus = /^[-\u2212]\s*|\s*[-\u2212]$/;
  if (minus.test(rest)) {
    marker ??= 'minus';
    rest = rest.replace(minus, '').trim();
  }
  return { rest, marker };
}

/** Checks digit grouping: first group 1-3 digits, the others exactly 3. */
function validGrouping(groups: readonly string[]): boolean {
  return groups.every((g, i) =>
    i === 0 ? /^\d{1,3}$/.test(g) && !(g.length > 1 && g.startsWith('0')) : /^\d{3}$/.test(g),
  );
}

/** Splits a numeric body into integer and fraction digits, deciding the decimal separator. */
function splitNumber(
  body: string,
  hint: AmountHint | undefined,
  original: string,
  exponent: number,
): { int: string; frac: string; decimal: '.' | ',' | null } {
  // Spaces, apostrophes and thin spaces only ever group digits.
  const b = body.replace(/[\s'\u2019\u202f\u00a0]/g, (m, i: number) =>
    /\d/.test(body[i - 1] ?? '') ? '_' : m,
  );
  if (!/^[\d.,_]+$/.test(b) || !/\d/.test(b))
    fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, 'is not a number');
  const dots = (b.match(/\./g) ?? []).length;
  const commas = (b.match(/,/g) ?? []).length;
  const finish = (decimal: '.' | ',' | null): { int: string; frac: string; decimal: '.' | ',' | null } => {
    const group = decimal === '.' ? ',' : decimal === ',' ? '.' : null;
    const cut = decimal === null ? -1 : b.lastIndexOf(decimal);
    const intPart = cut < 0 ? b : b.slice(0, cut);
    const frac = cut < 0 ? '' : b.slice(cut + 1);
    if (!/^\d*$/.test(frac) || (cut >= 0 && frac === ''))
      fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, 'has a misplaced separator');
    const groups = intPart.split(new RegExp(`[_${group === null ? '.,' : group === '.' ? '\\.' : ','}]`));
    if (groups.length > 1 && !validGrouping(groups))
      fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, 'has irregular digit grouping');
    if (groups.some((g) => !/^\d*$/.test(g)))
      fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, 'has a misplaced separator');
    if (groups.length === 1 && intPart === '' && frac === '')
      fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, 'has no digits');
    return { int: groups.join(''), frac, decimal };
  };
  if (dots > 0 && commas > 0) {
    // Both present: the one that comes last is the decimal separator ("1.234,56", "1,234.56").
    const decimal = b.lastIndexOf('.') > b.lastIndexOf(',') ? '.' : ',';
    if ((decimal === '.' ? dots : commas) > 1)
      fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, 'has two decimal separators');
    return finish(decimal);
  }
  if (dots + commas === 0) return finish(null);
  const sep = dots > 0 ? '.' : ',';
  if (dots + commas > 1) return finish(null); // "1,234,567" / "1.234.567": grouping only
  const after = b.length - b.indexOf(sep) - 1;
  const before = b.slice(0, b.indexOf(sep)).replace(/_/g, '');
  if (after !== 3 || before === '' || before === '0' || b.includes('_') || before.length > 3) {
    // "27,80", "12.5", ".50", "0,125", "1234.567": only a decimal reading is valid; "1 234,567"
    // (space-grouped) also fixes the separator as decimal.
    return finish(sep);
  }
  if (hint?.decimalSeparator !== undefined) return finish(hint.decimalSeparator === sep ? sep : null);
  if (exponent === 0) return finish(null); // "¥1,200": a currency without minor units has no decimals
  const tail = b.slice(b.indexOf(sep) + 1);
  return fail(
    'TRIAGE_FEATURES_AMOUNT_AMBIGUOUS',
    original,
    `reads as ${before}${tail} ('${sep}' groups thousands) or ${before}.${tail} ('${sep}' is the decimal ` +
      `point); pass the document's decimal separator as a hint`,
  );
}

/**
 * Parses one money text into integer minor units and currency.
 *
 * Accepted: optional currency symbol or ISO code on either side (`$`, `US$`, `RM`, `€`, `EUR`...),
 * digits grouped by `,` `.` space or apostrophe, a decimal part, and a negative marker: leading
 * or trailing minus, parentheses, or a `CR` (credit) prefix/suffix; `DR` (debit) is positive.
 * The decimal separator is decided per value: with both `.` and `,` the last one is decimal;
 * a single separator followed by other than 3 digits is decimal; repeated separators group.
 *
 * @param text the amount as printed, e.g. `"1.234,56"`, `"RM 13.30"`, `"(12.50)"`, `"12.50 CR"`.
 * @param hint the document's decimal separator and default currency, when known.
 * @returns {@link ParsedAmount} with `cents` an integer (see its doc for the minor unit).
 * @throws TriageError `TRIAGE_FEATURES_AMOUNT_UNPARSEABLE` when the text is not an amount (no
 *   digits, letters inside, irregular grouping, two currencies, beyond ±10^13 minor units).
 * @throws TriageError `TRIAGE_FEATURES_AMOUNT_AMBIGUOUS` when it reads two ways (`"1,234"`) and
 *   `hint.decimalSeparator` is not given.
 * @example parseAmount('1.234,56') -> { cents: 123456, currency: null, decimalSeparator: ',', ... }
 */
export function parseAmount(text: string, hint?: AmountHint): ParsedAmount {
  const original = text;
  const s = text.normalize('NFKC').trim();
  if (s === '') fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, 'is empty');
  // Sign markers may sit outside or inside the currency mark: "-$8.20", "$-8.20", "($8.20)".
  const outer = takeSign(s);
  const cur = takeCurrency(outer.rest, hint, original);
  const inner = takeSign(cur.rest);
  if (outer.marker !== null && inner.marker !== null)
    fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, 'is marked negative twice');
  const marker = outer.marker ?? inner.marker;
  const currency = cur.currency ?? hint?.currency ?? null;
  const exp = currencyExponent(currency);
  const { int, frac, decimal } = splitNumber(inner.rest, hint, original, exp);
  const digits = (frac + '0'.repeat(exp + 1)).slice(0, exp + 1);
  const roundUp = Number(digits[exp] ?? '0') >= 5 ? 1 : 0;
  const whole = int.replace(/^0+/, '');
  if (whole.length + exp > 15) fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, 'is too large');
  const magnitude =
    Number(whole === '' ? '0' : whole) * 10 ** exp + Number(digits.slice(0, exp) || '0') + roundUp;
  if (magnitude > 10_000_000_000_000) fail('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE', original, 'is too large');
  const cents = marker === null || magnitude === 0 ? magnitude : -magnitude;
  return { cents, currency, original, decimalSeparator: decimal, negativeMarker: marker };
}
