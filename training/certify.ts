/**
 * Certifies the thresholds that gate AUTO_APPROVE and HOLD for the routing decision as a whole
 * (the coding and duplicate scores, every rule, and the PO match of the procurement stage, as
 * the service routes), with vendor-clustered Learn-then-Test (training/thresholds.ts with
 * groups, training/grouped-risk.ts).
 *
 * ## What is certified
 * Calibration rows are invoices scored by the service in submission order (their reasons, the
 * maximum line coding score, the duplicate score) with the truth (a duplicate, coding or PO-match
 * exception label) and the vendor. The four score thresholds are certified on two one-parameter
 * paths, each declared before the calibration labels are seen:
 * - **auto-approve**, scale `λ`: `coding.review_at = λ c0`, `ap.review_at = λ d0` (`c0`, `d0` the
 *   served review thresholds): exceptions among AUTO_APPROVE invoices `<= alpha`;
 * - **hold**, scale `μ` ({@link HoldFamily}): `coding.hold_at = μ ch0` with `ap.hold_at = dh0`
 *   fixed at the duplicate card's own certified hold threshold (family `coding`, the default),
 *   or `ap.hold_at = μ dh0` too (family `both`): clean invoices among HOLD invoices (held on
 *   either score or by a procurement reason) `<= holdAlpha`;
 * each with probability about `1 - delta` over the draw of the calibration vendors (the grouped
 * test is an approximation, see grouped-risk.ts), assuming future invoices of each kind (with or
 * without a PO) are drawn like the calibration ones of that kind; their mix does not matter. The procurement stage has no
 * score threshold in the routing (any PO, receipt or contract exception holds; its line
 * matcher's threshold is certified on its own card), so its holds and misses enter both
 * guarantees as fixed parts of the decision. In the `coding` hold family the duplicate holds
 * (duplicate score at or above `dh0`) are such a fixed part too.
 *
 * ## Why the duplicate hold is fixed (family `coding`)
 * With one scale for both hold thresholds, `μ` is driven by the coding score (most held
 * invoices), and any `μ > 1 / dh0` pushes `ap.hold_at` to 1: only a duplicate score of exactly 1
 * holds, and an exact resubmission scored 0.9999 goes to review (`coding-mismatch@3` +
 * `duplicate@2`: `μ` 2.159, `dh0` 0.951). Fixing `ap.hold_at` at `dh0` keeps the hold path one-dimensional and ordered
 * (`μ` from large to small, safest first) and declared before the calibration labels are seen:
 * `dh0` is certified on the duplicate model's own calibration split (its card), not on these
 * rows. Fixed-sequence testing along `μ` then controls clean invoices among **all** HOLD
 * invoices, those held on the duplicate score included (they are held at every `μ`, so each
 * tested step counts them); when they alone exceed `holdAlpha`, the first step is not rejected
 * and nothing is held on a score (`μ` undefined). The approve side is unchanged: its per-row
 * scales are measured with the card hold thresholds in place, and `dh0` is the card's.
 *
 * ## Auto-approve first, then hold above the review band
 * The two sides are certified in order on the same rows. `λ` first, tested up to `maxApproveScale`
 * (default 1: review thresholds never looser than the cards'); its review thresholds
 * (`coding.review_at = min(ch0, λ c0)`, never below the floor `CODING_REASON_FLOOR_SCALE x c0`)
 * fix the floor of the hold path:
 * `μ_min = coding.review_at / ch0` (family `both`: also `ap.review_at / dh0`). The hold grid is
 * designed on the design third alone, from the strictest candidate (the largest design score:
 * `coding.hold_at` near 1, only duplicate and procurement holds) downwards, and the fixed
 * sequence is run on its candidates at or above `μ_min`: every served hold threshold is at or
 * above its review threshold by construction, however far `λ` moved the review band. Cutting a
 * fixed sequence at a data-dependent point only ends it earlier: what it rejects is a prefix of
 * what the whole sequence rejects, and that has family-wise error at most `delta` whatever
 * decides the cut, so the hold side keeps its level. (The hold risk at `μ` does not depend on
 * `λ`: review thresholds at or below the hold thresholds change no hold.)
 *
 * ## What the two levels promise together
 * Each side is one Learn-then-Test procedure at `delta`: with probability at least `1 - delta`
 * over the calibration vendors, its own promise holds (exceptions among AUTO_APPROVE
 * `<= alpha`; clean among HOLD `<= holdAlpha`). Both hold together with probability at least
 * `1 - 2 delta` (union bound; no independence assumed): the promise is per risk at `delta`,
 * jointly at `2 delta` ({@link JointCertification.familyWise}). Pass `delta / 2` for a joint
 * promise at `delta`.
 *
 * ## How
 * Per row, the scale at which the decision changes: for auto-approve,
 * `max(coding / c0 when it carries a coding reason, duplicate / d0)` when nothing but those two
 * scores stops the invoice (routed with both review thresholds out of reach it is AUTO_APPROVE),
 * else +infinity (approved at `λ` iff below `λ`); for hold, +infinity when a procurement reason
 * holds it, else `max(duplicate / dh0, coding / ch0 when it carries a coding reason)` (family
 * `both`) or, family `coding`, +infinity when `duplicate >= dh0` and else `coding / ch0` when it
 * carries a coding reason, -infinity (never held) without one (held at `μ` iff at or above `μ`).
 * A coding line carries a reason above `min(card threshold, policy coding.review_at)`
 * (`codingReasonThreshold`, inference/scorers.ts, which serving reads too); the rows are scored
 * with `coding.review_at` at the floor `CODING_REASON_FLOOR_SCALE x c0` ({@link codingRowsReviewAt}),
 * so each row's coding scale is exact down to the floor, and `coding.review_at = λ c0` is served
 * for `λ` below 1, never below the floor (a row without a coding reason has a coding scale at
 * most the floor, 0 in the rows, and is approved on the coding side at every served scale).
 * The duplicate side keeps the conservative treatment: the duplicate stage reports candidates
 * only from the card's review threshold `d0`, so below `λ = 1` the rows miss the duplicate
 * scores between `λ d0` and `d0` (recorded as 0): the rows then approve a superset of what the
 * service approves at that scale. Rows are split by
 * vendor (a seeded hash of the vendor id) into a design third, whose scores and labels only
 * shape the candidate grid (`designGrid`), and a test two-thirds, on which each candidate is
 * tested on vendor clusters in fixed sequence, in each source of rows (the invoice benchmark,
 * the PO-backed procurement benchmark) separately ({@link stratifiedLtt}): the promise holds
 * for invoices of either kind, whatever their mix.
 */
import type { Reason } from '../core/decision.js';
import { REASON_CODES, type ReasonCode } from '../core/decision.js';
import { DUPLICATE_SCORE_CODES } from '../inference/explain.js';
import { routeWithFiring, type RoutingPolicy } from '../inference/policy.js';
import { codingReasonThreshold } from '../inference/scorers.js';
import { exceptionKinds, type ExceptionKinds } from './certify-kinds.js';
import { keyUniform } from './rng.js';
import { clusterCounts, designEffect, groupedRiskPValue } from './grouped-risk.js';
import { capApproveGrid, designGrid, fixedSequence, type LttResult } from './thresholds.js';

/** One scored calibration invoice. */
export interface CertifyRow {
  vendorId: string;
  /** A duplicate label, a coding label on any line, or a PO-match exception. */
  exception: boolean;
  /** Maximum line coding score, unrounded, [0, 1]. */
  coding: number;
  /** Duplicate score, [0, 1]. */
  duplicate: number;
  reasons: readonly Reason[];
  /** Which benchmark the row comes from (reporting only); default `invoices`. */
  source?: 'invoices' | 'procurement';
  /** The invoice's `invoice_id` (joins a cached row back to its label; reporting only). */
  invoiceId?: string;
  /** Exception kinds (reporting only), e.g. `coding:wrong_code`; none for a clean invoice. */
  kinds?: string[];
}

/** Levels of {@link certifyDecision}. */
export interface CertifyLevels {
  alpha: number;
  holdAlpha: number;
  delta: number;
  /** Seed of the vendor split into design and test parts. */
  seed: number;
  /** Largest approve scale `λ` tested (default {@link MAX_APPROVE_SCALE}). */
  maxApproveScale?: number;
}

/**
 * The default cap on `λ`: 1, the cards' review thresholds. Past it Learn-then-Test approves the
 * review band itself whenever the approved set's rate allows (seed 307: `λ` 9.98, pair scores up
 * to 0.24 approved); the promise bounds what is approved, and a stricter set keeps it.
 */
export const MAX_APPROVE_SCALE = 1;

/**
 * Which hold thresholds the hold scale `μ` moves (see the module doc):
 * - `coding` (default): `coding.hold_at = μ ch0`; `ap.hold_at` stays at the duplicate card's
 *   hold threshold `dh0`, so the duplicate score alone holds;
 * - `both`: `coding.hold_at = μ ch0`, `ap.hold_at = min(1, μ dh0)` (the family certified before;
 *   kept to reproduce that policy and to compare).
 */
export type HoldFamily = 'coding' | 'both';

/** The hold families, in the order of {@link HoldFamily}'s doc. */
export const HOLD_FAMILIES: readonly HoldFamily[] = ['coding', 'both'];

/** The four score thresholds of a routing policy (probabilities; hold thresholds may be absent). */
export interface ScoreThresholds {
  codingReviewAt: number;
  duplicateReviewAt: number;
  /** undefined: never held on the coding score. */
  codingHoldAt: number | undefined;
  duplicateHoldAt: number;
}

/** Result of {@link certifyDecision}. */
export interface JointCertification {
  levels: CertifyLevels;
  rows: number;
  /** Rows per source and exceptions among them. */
  sources: Record<string, { rows: number; exceptions: number }>;
  vendors: { design: number; test: number };
  /** The served thresholds the scales multiply. */
  base: ScoreThresholds;
  /** Which hold thresholds `scale.hold` moves. */
  holdFamily: HoldFamily;
  /** Scales: `approve` (`λ`; 1, the served thresholds, when not certified: see `autoApprove.feasible`), `hold` (`μ`, undefined when nothing can be held on a score). */
  scale: { approve: number; hold: number | undefined };
  /** The cap on `λ` and how many design candidates lay above it (not tested). */
  approveCap: { scale: number; candidatesAbove: number };
  /** The thresholds to serve. */
  thresholds: ScoreThresholds;
  autoApprove: LttResult;
  /** The hold side's fixed sequence, run on the candidates at or above `holdFloor.scale` only. */
  hold: LttResult;
  /**
   * The lowest hold scale whose hold thresholds stay at or above the certified review thresholds
   * ({@link holdFloor}), and how many hold candidates of the design grid lie below it (not tested).
   */
  holdFloor: { scale: number; candidates: number; candidatesBelow: number };
  /**
   * The failure probability of each promise on its own (`delta`) and of the two together
   * (`min(1, 2 delta)`, union bound).
   */
  familyWise: { perRisk: number; joint: number };
  /** The exceptions among the test part's invoices approved at `scale.approve`, by kind ({@link exceptionKinds}). */
  approvedExceptions: ExceptionKinds;
}

/** Smallest step above a certified approve threshold: LTT selects `s <= t`, routing reviews `s >= review_at`. */
const ABOVE = 1e-9;

/**
 * The lowest approve scale served on the coding side: calibration rows are scored with coding
 * reasons from `CODING_REASON_FLOOR_SCALE x c0` (a policy whose `coding.review_at` is that, see
 * {@link codingRowsReviewAt}), so each row's coding approve scale is measured down to it, and
 * `coding.review_at` is never served below it.
 */
export const CODING_REASON_FLOOR_SCALE = 0.5;

/**
 * The `coding.review_at` the calibration rows are scored with: the floor
 * {@link CODING_REASON_FLOOR_SCALE} `x c0`, below the card's threshold `c0`, so that
 * `codingReasonThreshold` (inference/scorers.ts) gives lines reasons from the floor.
 * @param c0 the served coding review threshold (the card's), probability in [0, 1]
 * @returns the probability above which the rows' coding lines carry reasons
 */
export function codingRowsReviewAt(c0: number): number {
  return codingReasonThreshold(c0, CODING_REASON_FLOOR_SCALE * c0).value;
}

const queueOf = (r: Reason): string | undefined => REASON_CODES[r.code as ReasonCode]?.queue;
const isCoding = (r: Reason): boolean =>
  queueOf(r) === 'coding' && !DUPLICATE_SCORE_CODES.has(r.code) && r.weight > 0;

/** The served thresholds of a routing policy. */
export function baseThresholds(served: RoutingPolicy): ScoreThresholds {
  return {
    codingReviewAt: served.codingReview,
    duplicateReviewAt: served.duplicateReview,
    codingHoldAt:
      served.codingHold !== undefined && Number.isFinite(served.codingHold) ? served.codingHold : undefined,
    duplicateHoldAt: served.duplicateHold,
  };
}

/**
 * The per-row scales at which the decision changes (see the module doc): approved at `λ` iff
 * `approve[i] <= λ`, held at `μ` iff `hold[i] >= μ` (±infinity: at no or every scale).
 */
export function thresholdScores(
  rows: readonly CertifyRow[],
  served: RoutingPolicy,
  family: HoldFamily = 'coding',
): { approve: number[]; hold: number[] } {
  const b = baseThresholds(served);
  const ratio = (x: number, t: number | undefined): number =>
    t === undefined ? Number.NEGATIVE_INFINITY : t > 0 ? x / t : x > 0 ? Number.POSITIVE_INFINITY : 0;
  // Score reasons never fire; holds as served (approve side) or never (hold side).
  const noScores: RoutingPolicy = { ...served, codingReview: Infinity, duplicateReview: Infinity };
  const noScoreHolds: RoutingPolicy = { ...noScores, duplicateHold: Infinity };
  delete noScoreHolds.codingHold;
  const approve = rows.map((r) => {
    const { route } = routeWithFiring(
      noScores,
      { coding_mismatch: r.coding, duplicate: r.duplicate },
      r.reasons,
    );
    if (route.decision !== 'AUTO_APPROVE') return Number.POSITIVE_INFINITY;
    return Math.max(
      0,
      r.reasons.some(isCoding) ? ratio(r.coding, b.codingReviewAt) : 0,
      ratio(r.duplicate, b.duplicateReviewAt),
    );
  });
  const hold = rows.map((r) => {
    const { route } = routeWithFiring(
      noScoreHolds,
      { coding_mismatch: r.coding, duplicate: r.duplicate },
      r.reasons,
    );
    if (route.decision === 'HOLD') return Number.POSITIVE_INFINITY;
    if (family === 'coding') {
      // The duplicate hold is fixed at the card's: held at every scale, or never on this score.
      if (r.duplicate >= b.duplicateHoldAt) return Number.POSITIVE_INFINITY;
      return r.reasons.some(isCoding) ? ratio(r.coding, b.codingHoldAt) : Number.NEGATIVE_INFINITY;
    }
    return Math.max(
      ratio(r.duplicate, b.duplicateHoldAt),
      r.reasons.some(isCoding) ? ratio(r.coding, b.codingHoldAt) : Number.NEGATIVE_INFINITY,
    );
  });
  return { approve, hold };
}

/**
 * The thresholds served at scales `λ` (approve) and `μ` (hold; undefined: hold on no score, the
 * duplicate hold then 1): review thresholds just above `λ` times the base (never above the base
 * hold thresholds), the coding hold `μ` times the base and the duplicate hold the base (family
 * `coding`) or `μ` times it (family `both`), within [0, 1], each hold threshold never below its
 * review threshold (at a hold scale from {@link holdFloor} the coding one only by rounding).
 */
export function scaledThresholds(
  base: ScoreThresholds,
  approve: number,
  hold: number | undefined,
  family: HoldFamily = 'coding',
): ScoreThresholds {
  // The per-row approve scales are measured with the base hold thresholds in place: a review
  // threshold above them would approve invoices no scale accounts for.
  const review = (t: number, cap: number): number =>
    approve <= 0 ? 0 : Math.min(cap, approve === 1 ? t : approve * t + ABOVE);
  const duplicateHoldAt =
    hold === undefined ? 1 : Math.min(1, (family === 'both' ? hold : 1) * base.duplicateHoldAt);
  // Rows carry coding reasons only from the floor scale: below it no row's scale is measured,
  // so the coding review threshold is never served below the floor.
  const codingReviewAt = Math.max(
    codingRowsReviewAt(base.codingReviewAt),
    review(base.codingReviewAt, base.codingHoldAt ?? 1),
  );
  return {
    codingReviewAt,
    duplicateReviewAt: Math.min(review(base.duplicateReviewAt, base.duplicateHoldAt), duplicateHoldAt),
    codingHoldAt:
      hold === undefined || base.codingHoldAt === undefined
        ? undefined
        : Math.max(codingReviewAt, Math.min(1, hold * base.codingHoldAt)),
    duplicateHoldAt,
  };
}

/**
 * The lowest hold scale `μ` at which the hold thresholds stay at or above the review thresholds
 * served at approve scale `λ` ({@link scaledThresholds}): `coding.review_at / ch0`, and in family
 * `both` at least `ap.review_at / dh0` too; 0 when no hold threshold moves with `μ` (no coding
 * card hold threshold in family `coding`).
 */
export function holdFloor(base: ScoreThresholds, approve: number, family: HoldFamily = 'coding'): number {
  const review = scaledThresholds(base, approve, 1, family);
  let floor = 0;
  if (base.codingHoldAt !== undefined && base.codingHoldAt > 0)
    floor = review.codingReviewAt / base.codingHoldAt;
  if (family === 'both' && base.duplicateHoldAt > 0)
    floor = Math.max(floor, review.duplicateReviewAt / base.duplicateHoldAt);
  return floor;
}

/** `served` with the given thresholds. */
export function withThresholds(served: RoutingPolicy, t: ScoreThresholds): RoutingPolicy {
  const out: RoutingPolicy = {
    ...served,
    codingReview: t.codingReviewAt,
    duplicateReview: t.duplicateReviewAt,
    duplicateHold: t.duplicateHoldAt,
  };
  if (t.codingHoldAt === undefined) delete out.codingHold;
  else out.codingHold = t.codingHoldAt;
  return out;
}

/**
 * Learn-then-Test in fixed sequence on vendor clusters (training/thresholds.ts `learnThenTest`
 * with groups), each candidate tested in every stratum (row source): its p-value is the largest
 * of the strata's, so a rejection says the risk is at most `alpha` in each stratum, hence for
 * any mix of them (an intersection-union test, valid at level `delta`). A stratum with nothing
 * selected gives no evidence against the null (p = 1), so every stratum must have invoices on the
 * selected side. With one stratum it is `learnThenTest` with groups.
 * @throws RangeError when the grid is not ordered safest first.
 */
export function stratifiedLtt(
  scores: readonly number[],
  labels: readonly number[],
  groups: readonly string[],
  strata: readonly string[],
  side: 'approve' | 'hold',
  alpha: number,
  delta: number,
  grid: readonly number[],
): LttResult {
  const names = [...new Set(strata)];
  const errors = labels.map((y) => (side === 'approve' ? y === 1 : y === 0));
  return fixedSequence(side, delta, grid, scores.length, (t) => {
    const selected = scores.map((x) => (side === 'approve' ? x <= t : x >= t));
    let pValue = 0;
    let deff = 1;
    for (const name of names) {
      const inStratum = strata.map((x) => x === name);
      const clusters = clusterCounts(
        selected.map((x, i) => x && inStratum[i]!),
        errors,
        groups,
      );
      pValue = Math.max(pValue, groupedRiskPValue(clusters, alpha));
      deff = Math.max(deff, designEffect(clusters).deff);
    }
    const n = selected.filter(Boolean).length;
    const e = selected.filter((x, i) => x && errors[i]).length;
    return { selected: n, errors: e, pValue, deff };
  });
}

/**
 * Certifies the auto-approve and hold thresholds of the decision as a whole (see the module doc),
 * the hold thresholds along `family` (default `coding`: the duplicate hold fixed at the card's).
 * @throws RangeError for levels outside (0, 1).
 */
export function certifyDecision(
  rows: readonly CertifyRow[],
  served: RoutingPolicy,
  levels: CertifyLevels,
  family: HoldFamily = 'coding',
): JointCertification {
  const { approve, hold } = thresholdScores(rows, served, family);
  const design = rows.map((r) => keyUniform(levels.seed, r.vendorId) < 1 / 3);
  const pick = <T>(xs: readonly T[], inDesign: boolean): T[] => xs.filter((_, i) => design[i] === inDesign);
  const labels = rows.map((r) => (r.exception ? 1 : 0));
  const groups = rows.map((r) => r.vendorId);
  const strata = rows.map((r) => r.source ?? 'invoices');
  const testN = design.filter((d) => !d).length;
  const finite = (xs: number[], ys: number[]): [number[], number[]] => {
    const keep = xs.map((x) => Number.isFinite(x));
    return [xs.filter((_, i) => keep[i]), ys.filter((_, i) => keep[i])];
  };
  /** The side's candidate grid, from the design part alone (safest first). */
  const gridOf = (scores: number[], s: 'approve' | 'hold', alpha: number): number[] => {
    // Infinite scores are never (approve) or always (hold) selected whatever the scale:
    // the grid is built on the finite ones, the test counts all.
    const [ds, dl] = finite(pick(scores, true), pick(labels, true));
    return designGrid(ds, { side: s, alpha, delta: levels.delta, testN }, dl);
  };
  const test = (scores: number[], s: 'approve' | 'hold', alpha: number, grid: number[]): LttResult =>
    stratifiedLtt(
      pick(scores, false),
      pick(labels, false),
      pick(groups, false),
      pick(strata, false),
      s,
      alpha,
      levels.delta,
      grid,
    );
  const base = baseThresholds(served);
  const approveGrid = gridOf(approve, 'approve', levels.alpha);
  const approveCap = levels.maxApproveScale ?? MAX_APPROVE_SCALE;
  const autoApprove = test(approve, 'approve', levels.alpha, capApproveGrid(approveGrid, approveCap));
  // Nothing certified on the approve side: the review thresholds stay the served ones (scale 1),
  // and the record says the auto-approve promise is not certified. Thresholds cannot make the
  // service approve nothing: a score reason needs a candidate (duplicate) or a card-level score
  // (coding).
  const lambda = autoApprove.feasible ? autoApprove.threshold : 1;
  // The hold sequence stops at the review band: only candidates whose hold thresholds stay at or
  // above the review thresholds just certified are tested (a prefix of the design grid).
  const floor = holdFloor(base, lambda, family);
  const holdGrid = gridOf(hold, 'hold', levels.holdAlpha);
  const held = test(
    hold,
    'hold',
    levels.holdAlpha,
    holdGrid.filter((t) => t >= floor),
  );
  const mu = held.feasible ? held.threshold : undefined;
  const sources: JointCertification['sources'] = {};
  for (const r of rows) {
    const s = (sources[r.source ?? 'invoices'] ??= { rows: 0, exceptions: 0 });
    s.rows++;
    if (r.exception) s.exceptions++;
  }
  return {
    levels,
    rows: rows.length,
    sources,
    vendors: {
      design: new Set(pick(groups, true)).size,
      test: new Set(pick(groups, false)).size,
    },
    base,
    holdFamily: family,
    scale: { approve: lambda, hold: mu },
    approveCap: { scale: approveCap, candidatesAbove: approveGrid.filter((t) => t > approveCap).length },
    thresholds: scaledThresholds(base, lambda, mu, family),
    autoApprove,
    hold: held,
    holdFloor: {
      scale: floor,
      candidates: holdGrid.length,
      candidatesBelow: holdGrid.filter((t) => t < floor).length,
    },
    familyWise: { perRisk: levels.delta, joint: Math.min(1, 2 * levels.delta) },
    approvedExceptions: exceptionKinds(
      rows,
      approve.map((x, i) => !design[i] && x <= lambda),
    ),
  };
}

/**
 * Why one side of a certification certified nothing, in words for the summary and the policy
 * description, or null when it certified a scale. The reasons, in the order they are checked:
 * the design part gave no candidate; (hold) every candidate lies below the review band's floor
 * ({@link holdFloor}), so none was tested; the first tested candidate's p-value is above `delta`
 * (its errors and selected invoices named).
 */
export function notCertifiedReason(cert: JointCertification, side: 'approve' | 'hold'): string | null {
  const r = side === 'approve' ? cert.autoApprove : cert.hold;
  if (r.feasible) return null;
  const [errors, selected] = side === 'approve' ? ['exceptions', 'approved'] : ['clean', 'held'];
  const first = r.steps[0];
  if (side === 'hold' && !first && cert.holdFloor.candidates > 0) {
    const review = cert.thresholds.codingReviewAt;
    return (
      `all ${cert.holdFloor.candidates} candidate hold scales lie below the floor ${cert.holdFloor.scale.toPrecision(4)} ` +
      `(coding.hold_at would fall under coding.review_at ${review.toPrecision(4)}), so none was tested`
    );
  }
  if (!first)
    return 'the design part gives no candidate scale whose test could pass (too few invoices on that side)';
  return (
    `the first candidate (scale ${first.threshold.toPrecision(4)}) fails: ${first.errors} ${errors} among ` +
    `${first.selected} ${selected} test-part invoices${first.deff !== undefined ? `, deff ${first.deff.toFixed(2)}` : ''}, ` +
    `p ${first.pValue.toPrecision(3)} > delta ${cert.levels.delta}`
  );
}
