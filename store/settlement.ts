/**
 * How reviews settle a decision: one replay of its reviews, read by the review path (which
 * settlement event a new review emits, store/reviews.ts) and by the duplicate search (whether an
 * earlier invoice stands approved after review, store/candidates.ts). Pure: the callers read
 * the reviews.
 */
import type { LabelTask } from '../core/review-tasks.js';
import type { ReviewOutcome, ReviewTask } from './reviews.js';

/** A stored review as the replay reads it. */
export type SettlementReview = {
  id: string;
  outcome: ReviewOutcome;
  line_number: number | null;
  closes_item: boolean;
  task: ReviewTask;
};

/** A review that settled a decision, or stands for a line's exception: its id and outcome. */
export type ReviewRef = { review_id: string; outcome: ReviewOutcome };

/**
 * A review replayed against the decision's earlier reviews ({@link replaySettlement}).
 * `heldBy`: the review is a `false_positive` held back by a standing exception, the latest such
 * line review, else the latest review of another task with findings when it is an exception
 * (null when not held back). `pending`: the review is a `false_positive` not held back, and these
 * tasks with findings have no review yet, so it settles nothing (empty otherwise).
 * `before`: how the decision stood settled before it, released (true) or confirmed (false), and by
 * which review; null when it was not yet settled.
 */
export interface Replayed {
  heldBy: ReviewRef | null;
  pending: LabelTask[];
  before: { released: boolean; by: ReviewRef } | null;
}

/** The latest entry of `latest` (insertion order) other than `except` whose review is an exception. */
function latestException<K>(latest: Map<K, ReviewRef>, except: K): ReviewRef | null {
  return [...latest].filter(([k, o]) => k !== except && o.outcome !== 'false_positive').at(-1)?.[1] ?? null;
}

/**
 * Replays a decision's reviews in the order they were made (oldest first) up to the review
 * `reviewId` (replayed whether or not it closes the item): a closing `confirmed` or
 * `corrected_code` confirms the decision; a closing `false_positive` releases it once every task
 * of `tasks` (the decision's tasks with findings, core/review-tasks.ts `tasksWithFindings`) has a
 * review (closing or not) and the latest of each is a `false_positive`. A `false_positive`, for one line or the whole
 * invoice, does not release it while another line's latest review, or another task's latest
 * review, is an exception (`confirmed`, `corrected_code`): the decision stays confirmed
 * (by that review when nothing had settled it yet). While another task of `tasks` has no review, a
 * `false_positive` settles nothing (`pending`). Without `reviewId`, or when it is not
 * among `reviews`, every review is replayed and `before` is how the decision stands settled now
 * (`heldBy` null, `pending` empty).
 */
export function replaySettlement(
  reviews: readonly SettlementReview[],
  tasks: readonly LabelTask[],
  reviewId?: string,
): Replayed {
  const lineLatest = new Map<number, ReviewRef>();
  const taskLatest = new Map<ReviewTask, ReviewRef>();
  let before: Replayed['before'] = null;
  for (const r of reviews) {
    const ref = { review_id: r.id, outcome: r.outcome };
    // Map order is insertion order: re-inserting keeps the latest review last.
    if (r.line_number !== null) {
      lineLatest.delete(r.line_number);
      lineLatest.set(r.line_number, ref);
    }
    if (tasks.includes(r.task as LabelTask)) {
      taskLatest.delete(r.task);
      taskLatest.set(r.task, ref);
    }
    if (!r.closes_item && r.id !== reviewId) continue;
    const fp = r.outcome === 'false_positive';
    const heldBy = fp
      ? (latestException(lineLatest, r.line_number) ?? latestException(taskLatest, r.task))
      : null;
    const pending = fp && !heldBy ? tasks.filter((t) => t !== r.task && !taskLatest.has(t)) : [];
    if (r.id === reviewId) return { heldBy, pending, before };
    if (heldBy) before ??= { released: false, by: heldBy };
    else if (pending.length === 0) before = { released: fp, by: ref };
  }
  return { heldBy: null, pending: [], before };
}

/**
 * True when the reviews (oldest first) leave the decision released ({@link replaySettlement}
 * with the decision's tasks with findings): the latest closing review is a `false_positive`,
 * every task with findings was reviewed a `false_positive` last and no standing exception holds
 * it back. Such an invoice is
 * approved for payment after review.
 */
export function releasedByReviews(
  reviews: readonly SettlementReview[],
  tasks: readonly LabelTask[],
): boolean {
  return replaySettlement(reviews, tasks).before?.released === true;
}
