import { describe, expect, it } from 'vitest';
import { releasedByReviews, replaySettlement, type SettlementReview } from './settlement.js';

const r = (
  id: string,
  outcome: SettlementReview['outcome'],
  line_number: number | null = null,
  closes_item = true,
  task: SettlementReview['task'] = 'coding-mismatch',
): SettlementReview => ({ id, outcome, line_number, closes_item, task });
const coding = ['coding-mismatch'] as const;
const both = ['coding-mismatch', 'duplicate'] as const;
const dup = (id: string, outcome: SettlementReview['outcome'], closes_item = true): SettlementReview =>
  r(id, outcome, null, closes_item, 'duplicate');

describe('releasedByReviews', () => {
  it('releases on a closing false positive and takes it back on a later confirmation', () => {
    expect(releasedByReviews([], coding)).toBe(false);
    expect(releasedByReviews([r('a', 'false_positive')], coding)).toBe(true);
    expect(releasedByReviews([r('a', 'false_positive'), r('b', 'confirmed')], coding)).toBe(false);
    expect(releasedByReviews([r('a', 'false_positive', null, false)], coding)).toBe(false);
  });

  it("does not release on a false positive held back by another line's standing exception", () => {
    const corrected = r('a', 'corrected_code', 2, false);
    expect(releasedByReviews([corrected, r('b', 'false_positive')], coding)).toBe(false);
    expect(releasedByReviews([corrected, r('b', 'false_positive', 1)], coding)).toBe(false);
    // The corrected line reviewed a false positive too: nothing holds it back.
    expect(
      releasedByReviews([corrected, r('b', 'false_positive'), r('c', 'false_positive', 2)], coding),
    ).toBe(true);
    // A false positive on the excepted line itself is not held back by it.
    expect(releasedByReviews([corrected, r('b', 'false_positive', 2)], coding)).toBe(true);
  });

  it('agrees with the review path: the held-back review names the standing line review', () => {
    const reviews = [r('a', 'confirmed', 1, false), r('b', 'false_positive')];
    expect(replaySettlement(reviews, coding, 'b')).toEqual({
      heldBy: { review_id: 'a', outcome: 'confirmed' },
      pending: [],
      before: null,
    });
    expect(replaySettlement(reviews, coding).before).toEqual({
      released: false,
      by: { review_id: 'a', outcome: 'confirmed' },
    });
  });

  it('releases a decision with findings of both tasks only when each task is cleared', () => {
    // A duplicate false positive alone leaves the coding findings unreviewed: it settles nothing.
    expect(replaySettlement([dup('a', 'false_positive')], both, 'a')).toEqual({
      heldBy: null,
      pending: ['coding-mismatch'],
      before: null,
    });
    expect(releasedByReviews([dup('a', 'false_positive')], both)).toBe(false);
    expect(releasedByReviews([dup('a', 'false_positive')], ['duplicate'])).toBe(true);
    expect(releasedByReviews([dup('a', 'false_positive'), r('b', 'false_positive')], both)).toBe(true);
    // A coding review of one line (not closing) counts for its task.
    expect(releasedByReviews([r('a', 'false_positive', 1, false), dup('b', 'false_positive')], both)).toBe(
      true,
    );
    // An `other` review clears neither task.
    expect(releasedByReviews([r('a', 'false_positive', null, true, 'other')], both)).toBe(false);
  });

  it("holds a false positive back while another task's latest review is an exception", () => {
    const reviews = [dup('a', 'confirmed'), r('b', 'false_positive')];
    expect(replaySettlement(reviews, both, 'b')).toEqual({
      heldBy: { review_id: 'a', outcome: 'confirmed' },
      pending: [],
      before: { released: false, by: { review_id: 'a', outcome: 'confirmed' } },
    });
    expect(releasedByReviews(reviews, both)).toBe(false);
    // The duplicate reviewed again as a false positive: both tasks cleared.
    expect(releasedByReviews([...reviews, dup('c', 'false_positive')], both)).toBe(true);
  });
});
