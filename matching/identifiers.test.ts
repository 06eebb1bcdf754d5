import { describe, expect, it } from 'vitest';
import {
  compactIdentifier,
  compareIdentifiers,
  descriptionCodes,
  gtin14,
  identifierKeys,
  ndc11Candidates,
  variantSplit,
} from './identifiers.js';
import { baseQuantity, basePriceCents, baseUnitsPer, parseUom } from './uom.js';

describe('identifiers across formatting', () => {
  it('agree across separators, case and leading zeros', () => {
    expect(compactIdentifier(' 010-00715-20 ')).toBe('0100071520');
    expect(compareIdentifiers(['010-00715-20'], ['0100071520'])).toEqual({
      exact: true,
      variant: false,
      conflict: false,
      bothPresent: true,
    });
    expect(compareIdentifiers(['ab-12.34/x'], ['AB1234X']).exact).toBe(true);
    expect(compareIdentifiers(['000123456'], ['123456']).exact).toBe(true);
    expect(compareIdentifiers(['123456'], ['123457'])).toMatchObject({ exact: false, conflict: true });
  });

  it('tells variants (colour, size suffixes) from the same item', () => {
    expect(variantSplit('AB1234-BLU')).toEqual({ stem: 'AB1234', suffix: 'BLU' });
    expect(compareIdentifiers(['AB1234-BLU'], ['AB1234-RED'])).toMatchObject({
      exact: false,
      variant: true,
      conflict: false,
    });
    expect(compareIdentifiers(['AB1234'], ['AB1234-XL']).variant).toBe(true);
    expect(compareIdentifiers(['GL-7725L'], ['GL-7725M']).variant).toBe(true);
    // a number with another number is not a variant: the last digits are part of the number
    expect(compareIdentifiers(['100071520'], ['100071521']).variant).toBe(false);
    expect(compareIdentifiers([], ['AB1234'])).toEqual({
      exact: false,
      variant: false,
      conflict: false,
      bothPresent: false,
    });
  });

  it('reads NDC 10-digit layouts as the 11-digit billing form', () => {
    expect(ndc11Candidates('0777-3105-02')).toEqual(['00777310502']);
    expect(ndc11Candidates('12345-678-90')).toEqual(['12345067890']);
    expect(ndc11Candidates('12345-6789-1')).toEqual(['12345678901']);
    expect(ndc11Candidates('0777310502')).toContain('00777310502');
    expect(compareIdentifiers(['0777-3105-02'], ['00777-3105-02']).exact).toBe(true);
    expect(compareIdentifiers(['12345-678-90'], ['12345067890']).exact).toBe(true);
    expect(compareIdentifiers(['12345-678-90'], ['12345-678-91']).exact).toBe(false);
  });

  it('checks GTIN check digits and pads to GTIN-14; a UPC of number system 3 carries its NDC', () => {
    expect(gtin14('036000291452')).toBe('00036000291452');
    expect(gtin14('036000291453')).toBeNull();
    expect(compareIdentifiers(['036000291452'], ['0036000291452']).exact).toBe(true);
    // UPC-A 3 + NDC-10 0777-3105-02 + check digit
    const body = '30777310502';
    let s = 0;
    for (let i = 0; i < body.length; i++) s += Number(body[body.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
    const upc = body + String((10 - (s % 10)) % 10);
    expect(identifierKeys(upc)).toContain('N:00777310502');
    expect(compareIdentifiers([upc], ['0777-3105-02']).exact).toBe(true);
  });

  it('finds code-like tokens in descriptions, not years or words', () => {
    expect(descriptionCodes('apple software t9161ll/a logic pro 6 13102488 2007')).toEqual([
      't9161ll/a',
      '13102488',
    ]);
  });
});

describe('units of measure and pack conversion', () => {
  it('reads unit codes and stated pack counts', () => {
    expect(parseUom('bx/100')).toEqual({ code: 'BX', known: true, fixedCount: null, statedPack: 100 });
    expect(parseUom('100/BX')).toMatchObject({ code: 'BX', statedPack: 100 });
    expect(parseUom('CS 10X10')).toMatchObject({ code: 'CS', statedPack: 100 });
    expect(parseUom('Each')).toMatchObject({ code: 'EA', fixedCount: 1 });
    expect(parseUom('DZ')).toMatchObject({ code: 'DZ', fixedCount: 12 });
    expect(parseUom('')).toBeNull();
  });

  it('converts to base units from packQty, the unit text or the description', () => {
    expect(baseUnitsPer({ uom: 'BX', packQty: 100 })).toBe(100);
    expect(baseUnitsPer({ uom: 'BX/50' })).toBe(50);
    expect(baseUnitsPer({ uom: 'BX', description: 'Exam gloves nitrile M 25/bx' })).toBe(25);
    expect(baseUnitsPer({ uom: 'BX', description: 'Exam gloves nitrile M' })).toBeNull();
    expect(baseUnitsPer({ uom: 'VL' })).toBe(1);
    // A measure is one of itself: 250 ML at 3 cents per ML compares with a PO line in ML.
    expect(parseUom('milliliter')).toMatchObject({ code: 'ML', known: true });
    expect(basePriceCents({ unitPriceCents: 3, uom: 'ML' })).toBe(3);
    expect(baseQuantity({ quantity: 250, uom: 'ml' })).toBe(250);
    expect(basePriceCents({ unitPriceCents: 41_200, uom: 'BX', packQty: 100 })).toBe(412);
    expect(basePriceCents({ unitPriceCents: 412, uom: 'EA' })).toBe(412);
    expect(baseQuantity({ quantity: 10, uom: 'CS', packQty: 4 })).toBe(40);
    expect(baseQuantity({ quantity: 3, uom: 'DZ' })).toBe(36);
  });
});
