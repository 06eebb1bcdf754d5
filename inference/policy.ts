/**
 * Routing policy: turns scores and reasons into AUTO_APPROVE, REVIEW (with a queue) or HOLD,
 * and the priority (expected cost at risk). Thresholds are versioned with the policy; the
 * scoring-service issue makes them overridable per vendor category or facility.
 */
import {
  REASON_CODES,
  type DecisionKind,
  type Queue,
  type Reason,
  type ReasonCode,
} from '../core/decision.js';

/** A routing policy. Scores are probabilities in [0, 1]. */
export interface RoutingPolicy {
  version: string;
  /** Duplicate score at or above which the invoice is held (payment blocked). */
  duplicateHold: number;
  /** Duplicate score at or above which the invoice goes to AP review. */
  duplicateReview: number;
  /** Invoice coding-mismatch score at or above which it goes to coding review. */
  codingReview: number;
  /** Reasons that force review whatever the scores (their weight must be > 0). */
  alwaysReview: readonly ReasonCode[];
}

/** The default policy of this version. */
export const DEFAULT_POLICY: RoutingPolicy = {
  version: 'policy-default@1',
  duplicateHold: 0.9,
  duplicateReview: 0.6,
  codingReview: 0.5,
  alwaysReview: [
    'TOTAL_MISMATCH',
    'NEGATIVE_TOTAL',
    'LINE_AMOUNT_MISMATCH',
    'NPI_INVALID',
    'CODE_UNKNOWN',
    'CODE_TERMINATED',
  ],
};

/** Routing result. */
export interface Route {
  decision: DecisionKind;
  queue: Queue | undefined;
}

/**
 * Routes by policy. HOLD when the duplicate score reaches `duplicateHold`; REVIEW when any
 * threshold or forced reason fires, in the queue of the heaviest firing reason; else AUTO_APPROVE.
 */
export function route(
  policy: RoutingPolicy,
  scores: { coding_mismatch: number; duplicate: number },
  reasons: readonly Reason[],
): Route {
  if (scores.duplicate >= policy.duplicateHold) return { decision: 'HOLD', queue: 'ap' };
  const firing = reasons.filter(
    (r) =>
      (r.weight > 0 && policy.alwaysReview.includes(r.code as ReasonCode)) ||
      (REASON_CODES[r.code as ReasonCode]?.queue === 'coding' &&
        scores.coding_mismatch >= policy.codingReview &&
        r.weight >= policy.codingReview) ||
      ((r.code === 'DUPLICATE_SUSPECTED' || r.code === 'DUPLICATE_SAME_NUMBER') &&
        scores.duplicate >= policy.duplicateReview),
  );
  if (firing.length === 0) return { decision: 'AUTO_APPROVE', queue: undefined };
  const top = firing.reduce((a, b) => (b.weight > a.weight ? b : a));
  return { decision: 'REVIEW', queue: REASON_CODES[top.code as ReasonCode].queue };
}

/**
 * Priority in dollars = expected cost at risk:
 * max(P(duplicate) x |total|, sum over lines of P(coding exception) x |line amount|) / 100.
 * (Discount deadlines and SLA age join in the scoring-service issue.)
 */
export function priorityDollars(
  totalCents: number,
  duplicateScore: number,
  lines: readonly { amountCents: number; codingScore: number | null }[],
): number {
  const dup = duplicateScore * Math.abs(totalCents);
  const coding = lines.reduce((acc, l) => acc + (l.codingScore ?? 0) * Math.abs(l.amountCents), 0);
  return Math.round(Math.max(dup, coding)) / 100;
}
