/**
 * Where a decision stands after its reviews, derived in one place: one replay of its reviews
 * ({@link replaySettlement}) gives its state (open for review, confirmed, released), from which
 * the worklist item and its queue ({@link placementAfter}) and the settlement the event feed
 * announces ({@link announcementOf}) follow. Read by the review path (store/reviews.ts) and by
 * the duplicate search (whether an earlier invoice stands approved after review,
 * store/candidates.ts). Pure: the callers read the reviews.
 */
import { REASON_CODES, type Queue, type ReasonCode } from '../core/decision.js';
import { tasksWithFindings, type LabelTask } from '../core/review-tasks.js';
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
 * Where a decision stands: `open` for review (`unreviewed`: its tasks with findings that no
 * review is about yet), `confirmed` (an exception stands; do not pay as billed) or `released`
 * (every task with findings cleared; may be paid), each settled state `by` the review that
 * settled it.
 */
export type DecisionState =
  | { state: 'open'; unreviewed: LabelTask[] }
  | { state: 'confirmed'; by: ReviewRef }
  | { state: 'released'; by: ReviewRef };

/** A settlement: released (true) or confirmed (false), and by which review. */
export type Settlement = { released: boolean; by: ReviewRef };

/**
 * A review replayed against the decision's earlier reviews ({@link replaySettlement}).
 * `heldBy`: the review is a `false_positive` held back by a standing exception, the latest such
 * line review, else the latest review of another task with findings when it is an exception
 * (null when not held back). `pending`: the review is a `false_positive` not held back, and these
 * tasks with findings have no review yet, so it leaves the decision open (empty otherwise).
 * `before`: the latest settlement before the review, also when the decision was reopened since;
 * null when none. `from` and `to`: the decision's state before and after the review.
 */
export interface Replayed {
  heldBy: ReviewRef | null;
  pending: LabelTask[];
  before: Settlement | null;
  from: DecisionState;
  to: DecisionState;
}

/** The latest entry of `latest` (insertion order) other than `except` whose review is an exception. */
function latestException<K>(latest: Map<K, ReviewRef>, except: K): ReviewRef | null {
  return [...latest].filter(([k, o]) => k !== except && o.outcome !== 'false_positive').at(-1)?.[1] ?? null;
}

/** The tasks of `tasks` (a decision's tasks with findings) that none of `reviewed` is about. */
export function unreviewedOf(tasks: readonly LabelTask[], reviewed: readonly string[]): LabelTask[] {
  return tasks.filter((t) => !reviewed.includes(t));
}

/**
 * Replays a decision's reviews in the order they were made (oldest first) up to the review
 * `reviewId` (every review when absent or not among `reviews`). The decision starts `open`. A
 * closing `confirmed` or `corrected_code` confirms it (a decision already confirmed stays
 * confirmed, by the latest such review). A `false_positive`, for one line or the whole invoice:
 * - while another line's latest review, or another task's latest review (any task, with
 *   findings or not), is an exception (`confirmed`, `corrected_code`), is held back by it: a closing one leaves the decision
 *   confirmed (by that review when nothing had confirmed it yet);
 * - else, while a task of `tasks` (the decision's tasks with findings, core/review-tasks.ts
 *   `tasksWithFindings`) has no review, (re)opens it for those tasks, closing or not: a settled
 *   decision whose only standing exception is withdrawn goes back to review;
 * - else, when closing, releases it.
 * A review that does not close the item settles nothing.
 */
export function replaySettlement(
  reviews: readonly SettlementReview[],
  tasks: readonly LabelTask[],
  reviewId?: string,
): Replayed {
  const lineLatest = new Map<number, ReviewRef>();
  const taskLatest = new Map<ReviewTask, ReviewRef>();
  let state: DecisionState = { state: 'open', unreviewed: [...tasks] };
  let before: Settlement | null = null;
  for (const r of reviews) {
    const ref = { review_id: r.id, outcome: r.outcome };
    // Map order is insertion order: re-inserting keeps the latest review last.
    if (r.line_number !== null) {
      lineLatest.delete(r.line_number);
      lineLatest.set(r.line_number, ref);
    }
    // Every task's latest review, with findings or not: an exception confirmed on any task (e.g.
    // `other`) holds back a later false_positive of another task.
    taskLatest.delete(r.task);
    taskLatest.set(r.task, ref);
    const fp = r.outcome === 'false_positive';
    const heldBy = fp
      ? (latestException(lineLatest, r.line_number) ?? latestException(taskLatest, r.task))
      : null;
    const unreviewed = unreviewedOf(tasks, [...taskLatest.keys()]);
    const pending = fp && !heldBy ? unreviewed : [];
    const from: DecisionState = state;
    if (pending.length > 0) state = { state: 'open', unreviewed: pending };
    else if (r.closes_item)
      state = !fp
        ? { state: 'confirmed', by: ref }
        : heldBy
          ? state.state === 'confirmed'
            ? state
            : { state: 'confirmed', by: heldBy }
          : { state: 'released', by: ref };
    else if (state.state === 'open') state = { state: 'open', unreviewed };
    if (r.id === reviewId) return { heldBy, pending, before, from, to: state };
    if (state.state !== 'open' && state !== from)
      before = { released: state.state === 'released', by: state.by };
  }
  return { heldBy: null, pending: [], before, from: state, to: state };
}

/**
 * True when the reviews (oldest first) leave the decision released ({@link replaySettlement}
 * with the decision's tasks with findings): the latest closing review is a `false_positive`,
 * every task with findings was reviewed a `false_positive` last and no standing exception holds
 * it back. Such an invoice is approved for payment after review.
 */
export function releasedByReviews(
  reviews: readonly SettlementReview[],
  tasks: readonly LabelTask[],
): boolean {
  return replaySettlement(reviews, tasks).to.state === 'released';
}

/**
 * The queue of an open decision: the queue it was routed to while a reason of that queue
 * belongs to a task still `unreviewed` (or when none of its reasons does), else the queue of the
 * heaviest reason of those tasks (core/decision.ts `REASON_CODES`): a duplicate cleared with a
 * coding task left goes to the `coding` queue.
 */
export function queueOf(
  decision: { reasons: readonly { code: string; weight: number }[]; queue?: Queue | undefined },
  unreviewed: readonly LabelTask[],
): Queue | null {
  const open = decision.reasons.filter((r) => {
    const task = tasksWithFindings([r.code])[0];
    return r.weight > 0 && task !== undefined && unreviewed.includes(task) && r.code in REASON_CODES;
  });
  const routed = decision.queue ?? null;
  if (open.length === 0 || open.some((r) => REASON_CODES[r.code as ReasonCode].queue === routed))
    return routed;
  const heaviest = open.reduce((a, b) => (b.weight > a.weight ? b : a));
  return REASON_CODES[heaviest.code as ReasonCode].queue as Queue;
}

/** A decision's worklist item: `open` in `queue`, or `closed`. */
export type Placement = { item: 'open' | 'closed'; queue: Queue | null };

/**
 * Where the decision's worklist item goes after a review replayed as `replayed`: an open
 * decision's item is (re)opened in {@link queueOf} its unreviewed tasks, unless the ERP reported
 * the invoice posted or paid (`erpStatus`; its word closed the item); a review that closes the
 * item closes it once the decision is settled; otherwise the item stays as it was. A decision
 * without an item (`current` null: auto-approved) keeps none.
 */
export function placementAfter(
  replayed: Pick<Replayed, 'to'>,
  current: Placement | null,
  decision: Parameters<typeof queueOf>[0],
  closesItem: boolean,
  erpStatus: string | null,
): Placement | null {
  if (current === null) return null;
  const to = replayed.to;
  if (to.state === 'open') {
    if (current.item === 'closed' && (erpStatus === 'posted' || erpStatus === 'paid')) return current;
    return { item: 'open', queue: queueOf(decision, to.unreviewed) ?? current.queue };
  }
  return closesItem ? { item: 'closed', queue: current.queue } : current;
}

/**
 * True when `a` and `b` are the same state: both settled the same way (by whichever review), or
 * both open with the same unreviewed tasks.
 */
export function sameState(a: DecisionState, b: DecisionState): boolean {
  if (a.state !== b.state) return false;
  return a.state !== 'open' || a.unreviewed.join() === (b as typeof a).unreviewed.join();
}

/**
 * The settlement of a HOLD a review announces (`decision.released`, `decision.confirmed`), or null:
 * announced when the review leaves the decision settled and either it was open or settled the
 * other way before, or the review closed its open item (`closedItem`: an item the ERP reopened).
 * `by`: the review the announcement names when it is not this one (the standing exception that
 * holds this `false_positive` back); `supersedes`: the latest earlier settlement when it was the
 * other way, so that the ERP hears every change of outcome.
 */
export function announcementOf(
  replayed: Replayed,
  reviewId: string,
  closedItem: boolean,
): { supersedes: ReviewRef | null; by: ReviewRef | null } | null {
  const { from, to, before } = replayed;
  if (to.state === 'open') return null;
  if (!closedItem && from.state === to.state) return null;
  const released = to.state === 'released';
  return {
    supersedes: before !== null && before.released !== released ? before.by : null,
    by: to.by.review_id === reviewId ? null : to.by,
  };
}
