import { describe, expect, it } from 'vitest';
import { describeEdits } from './edits.js';
import { compareInvoiceNumbers, normaliseInvoiceNumber, unpadNumericRuns } from './invoice-number.js';

describe('normaliseInvoiceNumber', () => {
  it.each([
    ['INV-0001008', '1008', '1008'],
    ['INV1008', '1008', '1008'],
    ['Inv #1008', '1008', '1008'],
    ['Invoice No. 1008', '1008', '1008'],
    ['Invoice Number: 001008', '1008', '1008'],
    ['No. 1008', '1008', '1008'],
    ['No:1008', '1008', '1008'],
    ['#1008', '1008', '1008'],
    ['Ref 1008', '1008', '1008'],
    ['1008', '1008', '1008'],
    ['10-08', '1008', '1008'],
    ['10 08/A', '1008A', '1008A'],
    ['INV-10O8', '10O8', '1008'],
    ['inv-1oo8', '1OO8', '1008'],
    ['INV-0O1B', 'O1B', '18'],
    ['S5-IL|', 'S5IL|', '55111'],
    ['Z2-G6', 'Z2G6', '2266'],
    ['NOV-12', 'NOV12', 'N0V12'], // "NO" followed by a letter is not the No. prefix
    ['0000', '0', '0'],
  ])('%s -> normalised %s, canonical %s', (raw, normalised, canonical) => {
    expect(normaliseInvoiceNumber(raw)).toEqual({ raw, normalised, canonical });
  });
});

describe('compareInvoiceNumbers', () => {
  it('compares "INV-0O1B" with "1018" on every form and shows the exact edit', () => {
    const c = compareInvoiceNumbers('INV-0O1B', '1018');
    expect(c.canonicalEdits).toBe(2); // '18' vs '1018'
    expect(c.normalisedEdits).toBe(3); // 'O1B' vs '1018'
    expect(c.confusableSubstitutions).toBe(2); // O->0 and B->8
    expect(describeEdits(c.script)).toBe(
      "insert '1' at 0; substitute 'O'->'0' at 0; substitute 'B'->'8' at 2",
    );
  });

  it('sees an OCR-only difference as equal canonically, one edit raw', () => {
    const c = compareInvoiceNumbers('INV-1008', 'INV-10O8');
    expect(c).toMatchObject({
      rawEdits: 1,
      normalisedEdits: 1,
      canonicalEdits: 0,
      confusableSubstitutions: 1,
    });
  });

  it('flags re-submission suffixes and prefixes', () => {
    expect(compareInvoiceNumbers('1008', '1008A').affixVariant).toBe(true);
    expect(compareInvoiceNumbers('INV-1008', 'INV-R1008').affixVariant).toBe(true);
    expect(compareInvoiceNumbers('1008', '1009').affixVariant).toBe(false);
    expect(compareInvoiceNumbers('12', '123').affixVariant).toBe(false); // too short to say
  });

  it('treats prefix and separator differences as no edit on the normalised form', () => {
    const c = compareInvoiceNumbers('Invoice No. 000123', '#123');
    expect(c.normalisedEdits).toBe(0);
    expect(c.rawEdits).toBeGreaterThan(5);
  });
});

describe('unpadNumericRuns', () => {
  const unpadded = (raw: string): string => unpadNumericRuns(normaliseInvoiceNumber(raw).normalised);
  it.each([
    ['61ME00233812', '61ME233812'],
    ['GLME0233812', 'GLME233812'],
    ['A000B7', 'A0B7'],
    ['A0B0C', 'A0B0C'],
    ['00012', '12'],
    ['0', '0'],
    ['ABC', 'ABC'],
    ['', ''],
    ['20240099', '20240099'],
  ])('%s -> %s', (form, out) => {
    expect(unpadNumericRuns(form)).toBe(out);
  });

  it('makes numbers re-keyed with other zero padding inside them equal', () => {
    expect(unpadded('61ME00233812')).toBe(unpadded('61ME233812'));
    expect(unpadded('GLME-0233812')).toBe(unpadded('GLME233812'));
    expect(unpadded('GLME-233812')).toBe(unpadded('GLME00233812'));
    // the normalised forms themselves stay different
    expect(normaliseInvoiceNumber('61ME00233812').normalised).not.toBe(
      normaliseInvoiceNumber('61ME233812').normalised,
    );
  });

  it('keeps different numbers different', () => {
    expect(unpadded('2024-0099')).not.toBe(unpadded('2024-0100'));
    expect(unpadded('61ME00233812')).not.toBe(unpadded('61ME233813'));
    expect(unpadded('61ME00233812')).not.toBe(unpadded('61ME2338120'));
    expect(unpadded('A10B')).not.toBe(unpadded('A1B'));
  });
});
