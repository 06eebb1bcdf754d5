import { describe, expect, it } from 'vitest';
import { makeInvoice } from '../../test/fixtures.js';
import { reason } from '../explain.js';
import { DEFAULT_POLICY } from '../policy.js';
import { prepare } from './prepare.js';
import { invoiceCodingScore, routeInvoice } from './route.js';
import type { LineRecord } from './types.js';

const scored = (scores: (number | null)[]): LineRecord[] =>
  prepare(makeInvoice())
    .lines.slice(0, scores.length)
    .map((l, i) => ({
      ...l,
      score: { lineNumber: l.line.line_number, score: scores[i] ?? null, reasons: [], suggestedCodes: [] },
    }));

describe('route stage', () => {
  it('takes the highest line score as the invoice coding score (0 when none is scored)', () => {
    expect(invoiceCodingScore(scored([0.2, 0.7]))).toBe(0.7);
    expect(invoiceCodingScore(scored([null, null]))).toBe(0);
  });

  it('routes on unrounded scores, shows them rounded and sorts reasons heaviest first without touching the input', () => {
    const policy = { ...DEFAULT_POLICY, alwaysReview: [], duplicateReview: 0.6500004 };
    const reasons = [reason('TOTAL_MISMATCH', 0.6, {}), reason('DUPLICATE_SUSPECTED', 0.6500003, {})];
    const r = routeInvoice(policy, scored([0.1234, 0.2]), 0.6500003, reasons);
    // 0.6500003 rounds to the review threshold but stays below it: the duplicate reason does not fire.
    expect(r.firing).toEqual([]);
    expect(r.route).toEqual({ decision: 'AUTO_APPROVE', queue: undefined });
    expect(r.scores).toEqual({ coding_mismatch: 0.2, duplicate: 0.65 });
    expect(r.raw.duplicate).toBe(0.6500003);
    expect(r.reasons.map((x) => x.code)).toEqual(['DUPLICATE_SUSPECTED', 'TOTAL_MISMATCH']);
    expect(reasons.map((x) => x.code)).toEqual(['TOTAL_MISMATCH', 'DUPLICATE_SUSPECTED']);
    const held = routeInvoice(DEFAULT_POLICY, scored([0.1]), 0.95, [
      reason('DUPLICATE_SAME_NUMBER', 0.95, {}),
    ]);
    expect(held.route).toEqual({ decision: 'HOLD', queue: 'ap' });
    expect(held.firing).toEqual(['DUPLICATE_SAME_NUMBER']);
  });
});
