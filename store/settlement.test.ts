import { describe, expect, it } from 'vitest';
import { releasedByReviews, replaySettlement, type SettlementReview } from './settlement.js';

const r = (
  id: string,
  outcome: SettlementReview['outcome'],
  line_number: number | null = null,
  closes_item = true,
): SettlementReview => ({ id, outcome, line_number, closes_item });

describe('releasedByReviews', () => {
  it('releases on a closing false positive and takes it back on a later confirmation', () => {
    expect(releasedByReviews([])).toBe(false);
    expect(releasedByReviews([r('a', 'false_positive')])).toBe(true);
    expect(releasedByReviews([r('a', 'false_positive'), r('b', 'confirmed')])).toBe(false);
    expect(releasedByReviews([r('a', 'false_positive', null, false)])).toBe(false);
  });

  it("does not release on a false positive held back by another line's standing exception", () => {
    const corrected = r('a', 'corrected_code', 2, false);
    expect(releasedByReviews([corrected, r('b', 'false_positive')])).toBe(false);
    expect(releasedByReviews([corrected, r('b', 'false_positive', 1)])).toBe(false);
    // The corrected line reviewed a false positive too: nothing holds it back.
    expect(releasedByReviews([corrected, r('b', 'false_positive'), r('c', 'false_positive', 2)])).toBe(true);
    // A false positive on the excepted line itself is not held back by it.
    expect(releasedByReviews([corrected, r('b', 'false_positive', 2)])).toBe(true);
  });

  it('agrees with the review path: the held-back review names the standing line review', () => {
    const reviews = [r('a', 'confirmed', 1, false), r('b', 'false_positive')];
    expect(replaySettlement(reviews, 'b')).toEqual({
      heldBy: { review_id: 'a', outcome: 'confirmed' },
      before: null,
    });
    expect(replaySettlement(reviews).before).toEqual({
      released: false,
      by: { review_id: 'a', outcome: 'confirmed' },
    });
  });
});
