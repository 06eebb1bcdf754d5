import { describe, expect, it } from 'vitest';
import { printedCodeFinding, printedCodes } from './printed-code.js';

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
    expect(printedCodeFinding('A6563 - Gradient compression bandage', 'A6564')).toEqual({
      printed: ['A6563'],
      differs: true,
    });
    expect(printedCodeFinding('a-6564 gradient compression wrap', 'A6564')).toEqual({
      printed: ['A6564'],
      differs: false,
    });
    expect(printedCodeFinding('Gradient compression (A6564-NU)', 'a6564').differs).toBe(false);
    expect(printedCodeFinding('Gradient compression wrap', 'A6564')).toEqual({ printed: [], differs: false });
    expect(printedCodeFinding('E0260 bed, replaces E0250', 'E0260').differs).toBe(false);
  });

  it('finds the printed code whatever the formatting around it', () => {
    for (const d of [
      'A6563 - Gradient compression bandage roll',
      'HCPCS: a6563 gradient compression bandage',
      'Gradient compression bandage roll (A6563)',
      'Gradient compression bandage, code A-6563, per roll',
    ]) {
      expect(printedCodeFinding(d, 'A6564')).toEqual({ printed: ['A6563'], differs: true });
      expect(printedCodeFinding(d, ' a6563 ')).toEqual({ printed: ['A6563'], differs: false });
    }
  });

  it('counts only codes the given code set knows', () => {
    const codes = { get: (c: string): object | undefined => (c === 'A6563' ? {} : undefined) };
    expect(printedCodeFinding('Model E2000 / A6563 wrap', 'A6564', codes)).toEqual({
      printed: ['A6563'],
      differs: true,
    });
    expect(printedCodeFinding('Model E2000 wrap', 'A6564', codes)).toEqual({ printed: [], differs: false });
  });
});
