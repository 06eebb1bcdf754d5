import { describe, expect, it } from 'vitest';
import { printedCodeDiffers, printedCodes } from './printed-code.js';

describe('printed HCPCS codes', () => {
  it('reads the code however it is printed: tags, spaces, dashes, lower case, modifiers', () => {
    expect(printedCodes('A6563 - Gradient compression bandage roll')).toEqual(['A6563']);
    expect(printedCodes('[E0601] CPAP device')).toEqual(['E0601']);
    expect(printedCodes('Lancets per box (a-4259)')).toEqual(['A4259']);
    expect(printedCodes('a 4259 lancets')).toEqual(['A4259']);
    expect(printedCodes('Hospital bed E0260-RR monthly')).toEqual(['E0260']);
    expect(printedCodes('E0260RR semi-electric bed')).toEqual(['E0260']);
    expect(printedCodes('E0260 bed, replaces e0260 and K0001')).toEqual(['E0260', 'K0001']);
  });

  it('does not read item numbers, long digit runs or words as codes', () => {
    expect(printedCodes('Cat MS12345 Gauze pad 4x4')).toEqual([]);
    expect(printedCodes('SKU 123456 Gauze pad; MFR#123-4567; Item# 1234-56')).toEqual([]);
    expect(printedCodes('Dressing A65630 roll')).toEqual([]);
    expect(printedCodes('Gradient compression wrap, 10 mg dose')).toEqual([]);
    expect(printedCodes('Model W1234 walker')).toEqual([]);
  });

  it('keeps only codes the reference knows when asked', () => {
    const known = (c: string): boolean => c === 'A6563';
    expect(printedCodes('Model E2000 / A6563 wrap', known)).toEqual(['A6563']);
  });

  it('flags a line that prints another code than it bills and leaves its own code alone', () => {
    expect(printedCodeDiffers('A6563 - Gradient compression bandage', 'A6564')).toEqual({
      billed: 'A6564',
      printed: ['A6563'],
    });
    expect(printedCodeDiffers('a-6564 gradient compression wrap', 'A6564')).toBeNull();
    expect(printedCodeDiffers('Gradient compression (A6564-NU)', 'a6564')).toBeNull();
    expect(printedCodeDiffers('Gradient compression wrap', 'A6564')).toBeNull();
    expect(printedCodeDiffers('E0260 bed, replaces E0250', 'E0260')).toBeNull();
  });
});
