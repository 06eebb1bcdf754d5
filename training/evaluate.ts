/**
 * Metrics of a trained model on one split, at the operating points the routing uses:
 * flagged (not auto-approved) when `score > autoApprove`, held when `score >= hold`. Built on
 * the shared metric functions of `training/eval/metrics.ts` (ROC-AUC, PR-AUC, ECE).
 */
import type { CalibrationReport, KindMetrics, OperatingPoint, SplitMetrics } from '../models/spec.js';
import { calibration, prAuc, rocAuc, type Scored } from './eval/metrics.js';

/** NaN (undefined metric) as null, for JSON. */
export const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * The reliability diagram a card records for its test split (`calibration.reliabilityTest`):
 * ten bins of width 0.1 over the calibrated score, each with its count, mean score and share
 * of positives (null when the bin is empty).
 */
export function reliabilityBins(xs: readonly Scored[]): NonNullable<CalibrationReport['reliabilityTest']> {
  return calibration(xs).bins.map((b) => ({
    lo: b.lo,
    hi: b.hi,
    count: b.count,
    meanScore: orNull(b.meanScore),
    positiveRate: orNull(b.positiveRate),
  }));
}

/** Confusion when "flagged" means `score > t` (review side) or `score >= t` (hold side). */
export function operatingPoint(xs: readonly Scored[], t: number, side: 'review' | 'hold'): OperatingPoint {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (const { score, label } of xs) {
    const flagged = side === 'review' ? score > t : score >= t;
    if (flagged && label) tp++;
    else if (flagged) fp++;
    else if (label) fn++;
    else tn++;
  }
  return {
    threshold: t,
    tp,
    fp,
    tn,
    fn,
    precision: tp + fp ? tp / (tp + fp) : null,
    recall: tp + fn ? tp / (tp + fn) : null,
  };
}

/** Headline metrics of scored units (lines, pairs or invoices) of one split. */
export function splitMetrics(
  split: string,
  unit: SplitMetrics['unit'],
  xs: readonly Scored[],
  thresholds: { autoApprove: number; hold: number },
): SplitMetrics {
  return {
    split,
    unit,
    n: xs.length,
    positives: xs.filter((x) => x.label === 1).length,
    rocAuc: orNull(rocAuc(xs)),
    prAuc: orNull(prAuc(xs)),
    ece: xs.length ? orNull(calibration(xs).ece) : null,
    atReview: operatingPoint(xs, thresholds.autoApprove, 'review'),
    atHold: operatingPoint(xs, thresholds.hold, 'hold'),
  };
}

/** A scored unit with its kind (exception kind for positives, hard-negative kind or null for negatives). */
export interface KindScored extends Scored {
  kind: string | null;
}

/**
 * Per-kind metrics: each exception kind against all clean units (kind null), and each
 * hard-negative kind as the share of its units wrongly flagged.
 */
export function perKindMetrics(
  xs: readonly KindScored[],
  thresholds: { autoApprove: number; hold: number },
  hardNegativeKinds: ReadonlySet<string>,
): KindMetrics[] {
  const clean = xs.filter((x) => x.label === 0 && x.kind === null);
  const kinds = [...new Set(xs.filter((x) => x.kind !== null).map((x) => x.kind!))].sort();
  return kinds.map((kind) => {
    const mine = xs.filter((x) => x.kind === kind);
    const flagged = (t: number, side: 'review' | 'hold'): number =>
      mine.filter((x) => (side === 'review' ? x.score > t : x.score >= t)).length / mine.length;
    if (hardNegativeKinds.has(kind)) {
      return {
        kind,
        isHardNegative: true,
        n: mine.length,
        rocAuc: null,
        prAuc: null,
        precisionAtReview: null,
        recallAtReview: null,
        precisionAtHold: null,
        recallAtHold: null,
        flaggedRateAtReview: flagged(thresholds.autoApprove, 'review'),
        flaggedRateAtHold: flagged(thresholds.hold, 'hold'),
      };
    }
    const vsClean = [...mine.filter((x) => x.label === 1), ...clean];
    const review = operatingPoint(vsClean, thresholds.autoApprove, 'review');
    const hold = operatingPoint(vsClean, thresholds.hold, 'hold');
    return {
      kind,
      isHardNegative: false,
      n: mine.length,
      rocAuc: orNull(rocAuc(vsClean)),
      prAuc: orNull(prAuc(vsClean)),
      precisionAtReview: review.precision,
      recallAtReview: review.recall,
      precisionAtHold: hold.precision,
      recallAtHold: hold.recall,
      flaggedRateAtReview: flagged(thresholds.autoApprove, 'review'),
      flaggedRateAtHold: flagged(thresholds.hold, 'hold'),
    };
  });
}
