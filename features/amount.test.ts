import { thrownCode } from '../test/error-code.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { currencyExponent, digitsBelowMinorUnit, parseAmount } from './amount.js';

const code = thrownCode;

describe('parseAmount', () => {
  it.each([
    ['27,80', 2780, null, ','],
    ['1.234,56', 123456, null, ','],
    ['1,234.56', 123456, null, '.'],
    ['RM 13.30', 1330, 'MYR', '.'],
    ['RM13.30', 1330, 'MYR', '.'],
    ['$8.20', 820, 'USD', '.'],
    ['USD 1,234,567', 123456700, 'USD', null],
    ['1 234,56 EUR', 123456, 'EUR', ','],
    ["1'234.50", 123450, null, '.'],
    ['€ 12', 1200, 'EUR', null],
    ['.5', 50, null, '.'],
    ['0,125', 13, null, ','], // a leading 0 cannot group: decimal, rounded half up to cents
    ['¥1,200', 1200, 'JPY', null], // JPY has no minor unit: the comma groups
    ['69.71 gbp', 6971, 'GBP', '.'],
  ] as const)('%s -> %i cents %s', (text, cents, currency, sep) => {
    expect(parseAmount(text)).toEqual({
      cents,
      currency,
      original: text,
      decimalSeparator: sep,
      negativeMarker: null,
    });
  });

  it.each([
    ['(12.50)', -1250, 'parentheses'],
    ['-8.20', -820, 'minus'],
    ['−8.20', -820, 'minus'], // U+2212
    ['12.50-', -1250, 'minus'],
    ['12.50 CR', -1250, 'credit'],
    ['CR 12.50', -1250, 'credit'],
    ['-$8.20', -820, 'minus'],
    ['$-8.20', -820, 'minus'],
    ['($1,234.56)', -123456, 'parentheses'],
  ] as const)('reads the credit %s as %i cents', (text, cents, marker) => {
    const p = parseAmount(text);
    expect(p.cents).toBe(cents);
    expect(p.negativeMarker).toBe(marker);
  });

  it('treats DR (debit) as positive', () => {
    expect(parseAmount('12.50 DR').cents).toBe(1250);
  });

  it('refuses a value that reads two ways unless the document separator is given', () => {
    expect(code(() => parseAmount('1,234'))).toBe('TRIAGE_FEATURES_AMOUNT_AMBIGUOUS');
    expect(code(() => parseAmount('1.234'))).toBe('TRIAGE_FEATURES_AMOUNT_AMBIGUOUS');
    expect(parseAmount('1,234', { decimalSeparator: '.' }).cents).toBe(123400);
    expect(parseAmount('1,234', { decimalSeparator: ',' }).cents).toBe(123); // 1.234 -> 1.23
    expect(parseAmount('1.234', { decimalSeparator: ',' }).cents).toBe(123400);
    // A hint never overrides an unambiguous value.
    expect(parseAmount('27,80', { decimalSeparator: '.' }).cents).toBe(2780);
  });

  it.each(['', 'abc', '12.5.3', '1,23,456.00', '12A.50', '27,', '1.234.567,89,1', '$€12', '-(12.50)', '1e5'])(
    'refuses %j as unparseable',
    (text) => {
      expect(code(() => parseAmount(text))).toBe('TRIAGE_FEATURES_AMOUNT_UNPARSEABLE');
    },
  );

  it('uses the hint currency when the text names none, and a dollar hint for "$"', () => {
    expect(parseAmount('8.20', { currency: 'USD' }).currency).toBe('USD');
    expect(parseAmount('$8.20', { currency: 'CAD' }).currency).toBe('CAD');
    expect(parseAmount('RM 8.20', { currency: 'USD' }).currency).toBe('MYR');
  });

  it('round-trips any cents value printed in either convention', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -99_999_999_999, max: 99_999_999_999 }),
        fc.boolean(),
        (cents, european) => {
          const abs = Math.abs(cents);
          const whole = Math.floor(abs / 100)
            .toString()
            .replace(/\B(?=(\d{3})+(?!\d))/g, european ? '.' : ',');
          const frac = String(abs % 100).padStart(2, '0');
          const text = `${cents < 0 ? '-' : ''}${whole}${european ? ',' : '.'}${frac}`;
          expect(parseAmount(text).cents).toBe(cents === 0 ? 0 : cents);
        },
      ),
    );
  });
});

describe('currencyExponent', () => {
  it('follows ISO 4217', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
    expect(currencyExponent(null)).toBe(2);
    // Where CLDR (Intl) differs from ISO 4217, ISO wins: Iraqi dinar 3 (CLDR 0), rupiah and forint 2 (CLDR 0).
    expect(['IQD', 'BHD', 'IDR', 'HUF', 'CLF', 'ZZZ'].map(currencyExponent)).toEqual([3, 3, 2, 2, 4, 2]);
  });

  it('counts the digits of a text below the minor unit', () => {
    expect(digitsBelowMinorUnit('12.345', '.', 'USD')).toBe(1);
    expect(digitsBelowMinorUnit('12.340', '.', 'USD')).toBe(0);
    expect(digitsBelowMinorUnit('12.345', '.', 'KWD')).toBe(0);
    expect(digitsBelowMinorUnit('1200.5', '.', 'JPY')).toBe(1);
    expect(digitsBelowMinorUnit('1,200', '.', 'JPY')).toBe(0);
    expect(digitsBelowMinorUnit('1.234,567', ',', 'EUR')).toBe(1);
  });
});
