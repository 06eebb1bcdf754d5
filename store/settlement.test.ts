import { describe, expect, it } from 'vitest';
import {
  announcementOf,
  placementAfter,
  queueOf,
  releasedByReviews,
  replaySettlement,
  type SettlementReview,
} from './settlement.js';

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
      from: { state: 'open', unreviewed: [] },
      to: { state: 'confirmed', by: { review_id: 'a', outcome: 'confirmed' } },
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
      from: { state: 'open', unreviewed: ['coding-mismatch', 'duplicate'] },
      to: { state: 'open', unreviewed: ['coding-mismatch'] },
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
    const confirmed = { state: 'confirmed', by: { review_id: 'a', outcome: 'confirmed' } };
    expect(replaySettlement(reviews, both, 'b')).toEqual({
      heldBy: { review_id: 'a', outcome: 'confirmed' },
      pending: [],
      before: { released: false, by: { review_id: 'a', outcome: 'confirmed' } },
      from: confirmed,
      to: confirmed,
    });
    expect(releasedByReviews(reviews, both)).toBe(false);
    // The duplicate reviewed again as a false positive: both tasks cleared.
    expect(releasedByReviews([...reviews, dup('c', 'false_positive')], both)).toBe(true);
  });
});

describe('the state a withdrawn exception leaves', () => {
  const reasons = [
    { code: 'DUPLICATE_SAME_NUMBER', weight: 0.9 },
    { code: 'PRICE_ABOVE_FEE_SCHEDULE', weight: 0.4 },
    { code: 'NPI_INVALID', weight: 0.7 },
  ];
  const held = { reasons, queue: 'ap' as const };

  it('reopens a confirmed decision for the task nobody reviewed when its only exception is withdrawn', () => {
    const reviews = [dup('a', 'confirmed'), dup('b', 'false_positive')];
    const replayed = replaySettlement(reviews, both, 'b');
    expect(replayed.from).toEqual({ state: 'confirmed', by: { review_id: 'a', outcome: 'confirmed' } });
    expect(replayed.to).toEqual({ state: 'open', unreviewed: ['coding-mismatch'] });
    expect(placementAfter(replayed, { item: 'closed', queue: 'ap' }, held, true, null)).toEqual({
      item: 'open',
      queue: 'coding',
    });
    // The ERP's posting or payment closed it for good; a decision without an item keeps none.
    expect(placementAfter(replayed, { item: 'closed', queue: 'ap' }, held, true, 'paid')).toEqual({
      item: 'closed',
      queue: 'ap',
    });
    expect(placementAfter(replayed, null, held, true, null)).toBeNull();
    expect(announcementOf(replayed, 'b', false)).toBeNull();
    expect(releasedByReviews(reviews, both)).toBe(false);
    // The coding task cleared: released, superseding the confirmation.
    const all = [...reviews, r('c', 'false_positive')];
    const released = replaySettlement(all, both, 'c');
    expect(released.to).toEqual({ state: 'released', by: { review_id: 'c', outcome: 'false_positive' } });
    expect(announcementOf(released, 'c', true)).toEqual({
      supersedes: { review_id: 'a', outcome: 'confirmed' },
      by: null,
    });
    expect(releasedByReviews(all, both)).toBe(true);
  });

  it('confirms it again on a later confirmation, and a non-closing false positive reopens it too', () => {
    const again = replaySettlement(
      [dup('a', 'confirmed'), dup('b', 'false_positive'), dup('c', 'confirmed')],
      both,
      'c',
    );
    expect([again.from.state, again.to.state]).toEqual(['open', 'confirmed']);
    expect(announcementOf(again, 'c', true)).toEqual({ supersedes: null, by: null });
    const kept = replaySettlement([dup('a', 'confirmed'), dup('b', 'false_positive', false)], both, 'b');
    expect(kept.to).toEqual({ state: 'open', unreviewed: ['coding-mismatch'] });
    // A non-closing confirmation settles nothing: the item stays as it was.
    const open = replaySettlement([dup('a', 'confirmed', false)], both, 'a');
    expect(open.to).toEqual({ state: 'open', unreviewed: ['coding-mismatch'] });
    expect(placementAfter(open, { item: 'open', queue: 'ap' }, held, false, null)).toEqual({
      item: 'open',
      queue: 'coding',
    });
  });

  it('keeps the routed queue while a reason of it is unreviewed, else the heaviest open reason decides', () => {
    expect(queueOf(held, ['coding-mismatch', 'duplicate'])).toBe('ap');
    expect(queueOf(held, ['coding-mismatch'])).toBe('coding');
    expect(queueOf(held, [])).toBe('ap');
    expect(queueOf({ reasons, queue: undefined }, [])).toBeNull();
  });
});

describe('an exception confirmed on a task without findings', () => {
  it('holds back a later false positive of another task (the invoice is not released)', () => {
    // Coding-only decision: coding confirmed then withdrawn on line 3, then the reviewer
    // confirms an exception of task `other` (closing), then marks line 1 a false positive.
    const reviews = [
      r('a', 'confirmed', 3, false),
      r('b', 'false_positive', 3, false),
      r('c', 'confirmed', null, true, 'other'),
      r('d', 'false_positive', 1, true),
    ];
    expect(replaySettlement(reviews, coding, 'c').to).toEqual({
      state: 'confirmed',
      by: { review_id: 'c', outcome: 'confirmed' },
    });
    const last = replaySettlement(reviews, coding, 'd');
    expect(last.heldBy).toEqual({ review_id: 'c', outcome: 'confirmed' });
    expect(last.to).toEqual({ state: 'confirmed', by: { review_id: 'c', outcome: 'confirmed' } });
    expect(releasedByReviews(reviews, coding)).toBe(false);
    // Withdrawn on its own task, the `other` exception no longer holds: the next one releases.
    const withdrawn = [
      ...reviews,
      r('e', 'false_positive', null, true, 'other'),
      r('f', 'false_positive', 1),
    ];
    expect(releasedByReviews(withdrawn, coding)).toBe(true);
  });
});
