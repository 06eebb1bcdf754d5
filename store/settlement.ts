/**
 * How reviews settle a decision: one replay of its reviews, read by the review path (which
 * settlement event a new review emits, store/reviews.ts) and by the duplicate search (whether an
 * earlier invoice stands approved after review, store/candidates.ts). Pure: the callers read
 * the reviews.
 */
import type { ReviewOutcome } from './reviews.js';

/** A stored review as the replay reads it. */
export type SettlementReview = {
  id: string;
  outcome: ReviewOutcome;
  line_number: number | null;
  closes_item: boolean;
};

/** A review that settled a decision, or stands for a line's exception: its id and outcome. */
export type ReviewRef = { review_id: string; outcome: ReviewOutcome };

/**
 * A review replayed against the decision's earlier reviews ({@link replaySettlement}).
 * `heldBy`: the review is a `false_positive` held back by a line's standing exception, the latest
 * such line review (null when not held back). `before`: how the decision stood settled before it,
 * released (true) or confirmed (false), and by which review; null when it was not yet settled.
 */
export interface Replayed {
  heldBy: ReviewRef | null;
  before: { released: boolean; by: ReviewRef } | null;
}

/**
 * Replays a decision's reviews in the order they were made (oldest first) up to the review
 * `reviewId` (replayed whether or not it closes the item): a closing `false_positive` releases
 * the decision, a closing `confirmed` or `corrected_code` confirms it. A `false_positive`, for
 * one line or the whole invoice, does not release it while another line's latest review is an
 * exception (`confirmed`, `corrected_code`): the decision stays confirmed (by that line's review
 * when nothing had settled it yet). Without `reviewId`, or when it is not among `reviews`, every
 * review is replayed and `before` is how the decision stands settled now (`heldBy` null).
 */
export function replaySettlement(reviews: readonly SettlementReview[], reviewId?: string): Replayed {
  const lineLatest = new Map<number, ReviewRef>();
  let before: Replayed['before'] = null;
  for (const r of reviews) {
    if (r.line_number !== null) {
      lineLatest.delete(r.line_number);
      lineLatest.set(r.line_number, { review_id: r.id, outcome: r.outcome });
    }
    if (!r.closes_item && r.id !== reviewId) continue;
    const fp = r.outcome === 'false_positive';
    // Map order is insertion order: the last standing exception is the latest line review.
    const heldBy = fp
      ? ([...lineLatest]
          .filter(([line, o]) => line !== r.line_number && o.outcome !== 'false_positive')
          .at(-1)?.[1] ?? null)
      : null;
    if (r.id === reviewId) return { heldBy, before };
    if (heldBy) before ??= { released: false, by: heldBy };
    else before = { released: fp, by: { review_id: r.id, outcome: r.outcome } };
  }
  return { heldBy: null, before };
}

/**
 * True when the reviews (oldest first) leave the decision released: the latest closing review
 * that was not held back by a line's standing exception is a `false_positive`
 * ({@link replaySettlement}). Such an invoice is approved for payment after review.
 */
export function releasedByReviews(reviews: readonly SettlementReview[]): boolean {
  return replaySettlement(reviews).before?.released === true;
}
