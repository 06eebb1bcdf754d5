import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  currencyProblem,
  ISO_4217_PUBLISHED,
  minorUnit,
  minorUnitsToDecimal,
  NO_MINOR_UNIT,
} from './currency.js';

/** Code -> minor unit text (`2`, `N.A.`) of every entry of the ISO 4217 list one XML `currency-codes` ships. */
function listOne(): { published: string; units: Map<string, string> } {
  const xml = readFileSync(
    createRequire(import.meta.url).resolve('currency-codes/iso-4217-list-one.xml'),
    'utf8',
  );
  const units = new Map<string, string>();
  for (const [, entry] of xml.matchAll(/<CcyNtry>([\s\S]*?)<\/CcyNtry>/g)) {
    const code = /<Ccy>([A-Z]{3})<\/Ccy>/.exec(entry!)?.[1];
    const unit = /<CcyMnrUnts>([^<]*)<\/CcyMnrUnts>/.exec(entry!)?.[1];
    if (code !== undefined && unit !== undefined) units.set(code, unit);
  }
  return { published: /Pblshd="([\d-]+)"/.exec(xml)![1]!, units };
}

describe('ISO 4217 currencies (list one)', () => {
  it('marks exactly the codes whose minor unit is N.A. in the ISO XML as having none', () => {
    const { published, units } = listOne();
    expect(units.size).toBe(179);
    expect(published).toBe(ISO_4217_PUBLISHED);
    const na = [...units].filter(([, u]) => u === 'N.A.').map(([c]) => c);
    expect(new Set(na)).toEqual(NO_MINOR_UNIT);
    // Every other code takes the XML's digits.
    for (const [code, unit] of units) if (unit !== 'N.A.') expect(minorUnit(code), code).toBe(Number(unit));
    for (const code of na) expect(minorUnit(code), code).toBeUndefined();
  });

  it('gives the minor unit of accepted codes and says why a code is refused', () => {
    expect(['JPY', 'USD', 'KWD', 'CLF', 'XAF'].map(minorUnit)).toEqual([0, 2, 3, 4, 0]);
    expect(currencyProblem('EUR')).toBeUndefined();
    expect(currencyProblem('XAU')).toMatch(/^\(XAU\) is an ISO 4217 code without a minor unit/);
    expect(currencyProblem('DEM')).toBe(
      '(DEM) is not an active ISO 4217 currency code (list one of 2024-06-25; withdrawn codes such as DEM are refused)',
    );
  });

  it('writes integer minor units as a decimal with the currency digits, exactly', () => {
    expect(minorUnitsToDecimal(123456, 'USD')).toBe('1234.56');
    expect(minorUnitsToDecimal(1200, 'JPY')).toBe('1200');
    expect(minorUnitsToDecimal(-5, 'KWD')).toBe('-0.005');
    expect(minorUnitsToDecimal(7, 'CLF')).toBe('0.0007');
    expect(minorUnitsToDecimal(Number.MAX_SAFE_INTEGER, 'USD')).toBe('90071992547409.91');
  });
});
