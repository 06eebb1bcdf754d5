/**
 * Certifies the coding thresholds of the routing decision as a whole (every detector and rule
 * together, as the service routes), with vendor-clustered Learn-then-Test
 * (training/thresholds.ts with groups, training/grouped-risk.ts).
 *
 * ## What is certified
 * Calibration rows are invoices scored by the service in submission order (their reasons, the
 * maximum line coding score, the duplicate score) with the truth (any duplicate or coding label)
 * and the vendor. The duplicate thresholds stay those of the served policy (the duplicate
 * card's); the two coding thresholds are chosen so that, for the decision routed with them:
 * - **auto-approve** (`coding.review_at`): exceptions among AUTO_APPROVE invoices `<= alpha`;
 * - **hold** (`coding.hold_at`): clean invoices among HOLD invoices (held by the duplicate score
 *   or by the coding score) `<= holdAlpha`;
 * each with probability about `1 - delta` over the draw of the calibration vendors (the grouped
 * test is an approximation, see grouped-risk.ts), assuming future vendors are drawn like the
 * calibration vendors.
 *
 * ## How
 * Rows are split by vendor (a seeded hash of the vendor id) into a design third, whose scores
 * and labels only shape the candidate grid (`designGrid`), and a test two-thirds, on which
 * each candidate is tested on vendor clusters in fixed sequence. Per row, the score that the
 * coding threshold acts on: for auto-approve, the coding score when nothing else stops the
 * invoice (routing with no coding threshold gives AUTO_APPROVE), else +infinity; for hold,
 * +infinity when the duplicate score holds it anyway, the coding score when it carries a
 * coding reason, else -infinity.
 */
import type { Reason } from '../core/decision.js';
import { REASON_CODES, type ReasonCode } from '../core/decision.js';
import { routeWithFiring, type RoutingPolicy } from '../inference/policy.js';
import { keyUniform } from './rng.js';
import { designGrid, learnThenTest, type LttResult } from './thresholds.js';

/** One scored calibration invoice. */
export interface CertifyRow {
  vendorId: string;
  /** A duplicate label or a coding label on any line. */
  exception: boolean;
  /** Maximum line coding score, unrounded, [0, 1]. */
  coding: number;
  /** Duplicate score, [0, 1]. */
  duplicate: number;
  reasons: readonly Reason[];
}

/** Levels of {@link certifyDecision}. */
export interface CertifyLevels {
  alpha: number;
  holdAlpha: number;
  delta: number;
  /** Seed of the vendor split into design and test parts. */
  seed: number;
}

/** Result of {@link certifyDecision}. */
export interface JointCertification {
  levels: CertifyLevels;
  rows: number;
  vendors: { design: number; test: number };
  /** Certified `coding.review_at` (AUTO_APPROVE when the coding score is below it); 0 when nothing can be approved. */
  codingReviewAt: number;
  /** Certified `coding.hold_at`; undefined when nothing can be held on the coding score. */
  codingHoldAt: number | undefined;
  autoApprove: LttResult;
  hold: LttResult;
}

const isCoding = (r: Reason): boolean =>
  REASON_CODES[r.code as ReasonCode]?.queue === 'coding' && r.weight > 0;

/** The per-row scores the two coding thresholds act on (see the module doc). */
export function thresholdScores(
  rows: readonly CertifyRow[],
  served: RoutingPolicy,
): { approve: number[]; hold: number[] } {
  const noCoding: RoutingPolicy = { ...served, codingReview: 2 };
  delete noCoding.codingHold;
  const approve = rows.map((r) => {
    const { route } = routeWithFiring(
      noCoding,
      { coding_mismatch: r.coding, duplicate: r.duplicate },
      r.reasons,
    );
    return route.decision === 'AUTO_APPROVE' ? r.coding : Number.POSITIVE_INFINITY;
  });
  const hold = rows.map((r) =>
    r.duplicate >= served.duplicateHold
      ? Number.POSITIVE_INFINITY
      : r.reasons.some(isCoding)
        ? r.coding
        : Number.NEGATIVE_INFINITY,
  );
  return { approve, hold };
}

/**
 * Certifies `coding.review_at` and `coding.hold_at` for the decision as a whole (see the module doc).
 * @throws RangeError for levels outside (0, 1).
 */
export function certifyDecision(
  rows: readonly CertifyRow[],
  served: RoutingPolicy,
  levels: CertifyLevels,
): JointCertification {
  const { approve, hold } = thresholdScores(rows, served);
  const design = rows.map((r) => keyUniform(levels.seed, r.vendorId) < 1 / 3);
  const pick = <T>(xs: readonly T[], inDesign: boolean): T[] => xs.filter((_, i) => design[i] === inDesign);
  const labels = rows.map((r) => (r.exception ? 1 : 0));
  const groups = rows.map((r) => r.vendorId);
  const testN = design.filter((d) => !d).length;
  const finite = (xs: number[], ys: number[]): [number[], number[]] => {
    const keep = xs.map((x) => Number.isFinite(x));
    return [xs.filter((_, i) => keep[i]), ys.filter((_, i) => keep[i])];
  };
  const side = (scores: number[], s: 'approve' | 'hold', alpha: number): LttResult => {
    // Infinite scores are never (approve) or always (hold) selected whatever the threshold:
    // the grid is built on the finite ones, the test counts all.
    const [ds, dl] = finite(pick(scores, true), pick(labels, true));
    const grid = designGrid(ds, { side: s, alpha, delta: levels.delta, testN }, dl);
    return learnThenTest({
      scores: pick(scores, false),
      labels: pick(labels, false),
      groups: pick(groups, false),
      side: s,
      alpha,
      delta: levels.delta,
      grid,
    });
  };
  const autoApprove = side(approve, 'approve', levels.alpha);
  const held = side(hold, 'hold', levels.holdAlpha);
  return {
    levels,
    rows: rows.length,
    vendors: {
      design: new Set(pick(groups, true)).size,
      test: new Set(pick(groups, false)).size,
    },
    // AUTO_APPROVE needs coding < review_at; the test selected coding <= threshold.
    codingReviewAt: autoApprove.feasible ? Math.min(1, autoApprove.threshold + 1e-9) : 0,
    codingHoldAt: held.feasible ? held.threshold : undefined,
    autoApprove,
    hold: held,
  };
}
