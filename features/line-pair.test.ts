import { describe, expect, it } from 'vitest';
import {
  LINE_PAIR_FEATURE_NAMES,
  deliveryReferenceKey,
  linePairVectors,
  type PairCandidate,
  type PairLine,
} from './line-pair.js';

describe('deliveryReferenceKey', () => {
  it('compares a printed delivery reference by its trimmed, upper-case, single-spaced form', () => {
    expect(deliveryReferenceKey('DN-7001')).toBe('DN-7001');
    expect(deliveryReferenceKey(' dn-7001 ')).toBe('DN-7001');
    expect(deliveryReferenceKey('ps  12\t34')).toBe('PS 12 34');
    expect(deliveryReferenceKey('DN-7001')).not.toBe(deliveryReferenceKey('DN-7002'));
  });

  it('treats absent, empty and whitespace-only references as not printed', () => {
    expect(deliveryReferenceKey(undefined)).toBeNull();
    expect(deliveryReferenceKey(null)).toBeNull();
    expect(deliveryReferenceKey('')).toBeNull();
    expect(deliveryReferenceKey('   ')).toBeNull();
  });
});

describe('linePairVectors', () => {
  const line = (lineNumber: number, judgedDate: string): PairLine => ({
    lineNumber,
    code: 'A4253',
    quantity: 2,
    amountCents: 3_000,
    serviceDate: judgedDate,
    judgedDate,
    deliveryReference: null,
  });
  // an earlier line billing the same item as line(lineNumber, judgedDate), on invoice invoiceId
  const candidate = (lineNumber: number, invoiceId: string, judgedDate: string): PairCandidate => ({
    ...line(lineNumber, judgedDate),
    invoiceId,
    earlierLineNumber: lineNumber,
    earlierInvoiceDate: '2025-02-01',
    cosine: 0.9,
  });
  const at = (name: string): number => LINE_PAIR_FEATURE_NAMES.indexOf(name);

  it('gives each candidate its line’s newer-line days and its invoice’s unmatched share', () => {
    const lines = [line(1, '2025-03-01'), line(2, '2025-03-05'), line(3, '2025-03-03')];
    const candidates = [
      candidate(2, 'E1', '2025-02-05'),
      candidate(1, 'E1', '2025-02-01'),
      candidate(3, 'E2', '2025-02-03'),
      candidate(1, 'E2', '2025-02-01'),
    ];
    const v = linePairVectors(lines, '2025-03-06', candidates);
    // Line 1: line 2 is judged 4 days later; line 2: none later; line 3: line 2, 2 days later.
    expect(v.map((x) => x[at('newer_line_days')])).toEqual([0, 4, 2, 4].map(Math.log1p));
    // E1 holds lines 1 and 2, E2 lines 1 and 3: one of each line's two other lines is unmatched.
    expect(v.map((x) => x[at('unmatched_line_share')])).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(v.map((x) => x[at('item_billings')])).toEqual([1, 2, 1, 2].map(Math.log1p));
  });

  it('reads a line number held twice as its last line, and gives no vectors without candidates', () => {
    const lines = [line(1, '2025-03-09'), line(2, '2025-03-05'), line(1, '2025-03-01')];
    const v = linePairVectors(lines, '2025-03-10', [candidate(1, 'E1', '2025-02-01')]);
    expect(v[0]![at('newer_line_days')]).toBe(Math.log1p(4));
    expect(v[0]![at('judged_days_apart')]).toBe(Math.log1p(28));
    expect(linePairVectors(lines, '2025-03-10', [])).toEqual([]);
  });
});
