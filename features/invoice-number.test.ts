import { describe, expect, it } from 'vitest';
import { describeEdits } from './edits.js';
import { compareInvoiceNumbers, normaliseInvoiceNumber } from './invoice-number.js';

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
