/**
 * Classification metrics for binary scores in [0, 1]: precision/recall/F1 at a threshold,
 * ROC-AUC, PR-AUC (average precision), expected calibration error (ECE) with its reliability
 * bins, and the PR curve. Pure functions over plain arrays; shared by the evaluation harness
 * and training so that every report computes the same numbers the same way.
 */

/** One scored example: `score` = P(positive) in [0, 1], `label` 1 (positive) or 0. */
export interface Scored {
  score: number;
  label: 0 | 1;
}

/** Confusion counts and derived rates at one threshold (positive when `score >= threshold`). */
export interface ThresholdMetrics {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** tp / (tp + fp); NaN when nothing is predicted positive. */
  precision: number;
  /** tp / (tp + fn); NaN when there are no positives. */
  recall: number;
  /** Harmonic mean of precision and recall; NaN when either is NaN, 0 when both are 0. */
  f1: number;
}

/**
 * Confusion counts at `threshold`.
 * @throws RangeError when a score is not a finite number.
 */
export function atThreshold(xs: readonly Scored[], threshold: number): ThresholdMetrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (const { score, label } of xs) {
    if (!Number.isFinite(score)) throw new RangeError(`score must be finite, got ${score}`);
    const p = score >= threshold;
    if (p && label === 1) tp++;
    else if (p) fp++;
    else if (label === 1) fn++;
    else tn++;
  }
  const precision = tp + fp === 0 ? Number.NaN : tp / (tp + fp);
  const recall = tp + fn === 0 ? Number.NaN : tp / (tp + fn);
  const f1 =
    Number.isNaN(precision) || Number.isNaN(recall)
      ? Number.NaN
      : precision + recall === 0
        ? 0
        : (2 * precision * recall) / (precision + recall);
  return { threshold, tp, fp, tn, fn, precision, recall, f1 };
}

/** Examples sorted by descending score (stable), grouped so that tied scores form one step. */
function tiedGroups(xs: readonly Scored[]): { pos: number; neg: number; score: number }[] {
  const sorted = [...xs].sort((a, b) => b.score - a.score);
  const groups: { pos: number; neg: number; score: number }[] = [];
  for (const x of sorted) {
    const last = groups[groups.length - 1];
    if (last && last.score === x.score) {
      if (x.label === 1) last.pos++;
      else last.neg++;
    } else groups.push({ score: x.score, pos: x.label === 1 ? 1 : 0, neg: x.label === 1 ? 0 : 1 });
  }
  return groups;
}

/**
 * Area under the ROC curve (ties count one half: the Mann-Whitney U statistic).
 * NaN when there are no positives or no negatives.
 */
export function rocAuc(xs: readonly Scored[]): number {
  const P = xs.filter((x) => x.label === 1).length;
  const N = xs.length - P;
  if (P === 0 || N === 0) return Number.NaN;
  let negAbove = 0;
  let u = 0;
  for (const g of tiedGroups(xs)) {
    // each positive in the group outranks the negatives below; ties count 1/2
    u += g.pos * (N - negAbove - g.neg) + 0.5 * g.pos * g.neg;
    negAbove += g.neg;
  }
  return u / (P * N);
}

/** A point of the precision-recall curve at threshold `threshold` (positive when score >= it). */
export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
  /** Positives and negatives at or above `threshold` (the counts behind precision, for its interval). */
  tp: number;
  fp: number;
}

/** The PR curve, one point per distinct score, in order of increasing recall. */
export function prCurve(xs: readonly Scored[]): PrPoint[] {
  const P = xs.filter((x) => x.label === 1).length;
  const out: PrPoint[] = [];
  if (P === 0) return out;
  let tp = 0;
  let fp = 0;
  for (const g of tiedGroups(xs)) {
    tp += g.pos;
    fp += g.neg;
    out.push({ threshold: g.score, precision: tp / (tp + fp), recall: tp / P, tp, fp });
  }
  return out;
}

/**
 * PR-AUC as average precision: sum over thresholds of (R_k - R_{k-1}) * P_k (the step-wise
 * estimator, as scikit-learn's `average_precision_score`). NaN when there are no positives.
 */
export function prAuc(xs: readonly Scored[]): number {
  const curve = prCurve(xs);
  if (curve.length === 0) return Number.NaN;
  let ap = 0;
  let prevR = 0;
  for (const p of curve) {
    ap += (p.recall - prevR) * p.precision;
    prevR = p.recall;
  }
  return ap;
}

/** One bin of a reliability diagram. */
export interface ReliabilityBin {
  /** Bin bounds [lo, hi) on the score (the last bin includes 1). */
  lo: number;
  hi: number;
  count: number;
  /** Mean score of the bin's examples; NaN when empty. */
  meanScore: number;
  /** Share of positives in the bin; NaN when empty. */
  positiveRate: number;
}

/** Expected calibration error with its reliability bins. */
export interface Calibration {
  /** sum_b (n_b / n) * |positiveRate_b - meanScore_b|, over `bins` equal-width bins; NaN when empty. */
  ece: number;
  /** Largest |positiveRate_b - meanScore_b| over non-empty bins. */
  mce: number;
  bins: ReliabilityBin[];
}

/**
 * Expected calibration error over `bins` equal-width score bins (default 10).
 * @throws RangeError when `bins` is not a positive integer or a score is outside [0, 1].
 */
export function calibration(xs: readonly Scored[], bins = 10): Calibration {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError('bins must be a positive integer');
  const count = new Array<number>(bins).fill(0);
  const sumScore = new Array<number>(bins).fill(0);
  const sumPos = new Array<number>(bins).fill(0);
  for (const { score, label } of xs) {
    if (!(score >= 0 && score <= 1)) throw new RangeError(`score must be in [0, 1], got ${score}`);
    const b = Math.min(bins - 1, Math.floor(score * bins));
    count[b]!++;
    sumScore[b]! += score;
    sumPos[b]! += label;
  }
  let ece = 0;
  let mce = 0;
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const n = count[b]!;
    const meanScore = n ? sumScore[b]! / n : Number.NaN;
    const positiveRate = n ? sumPos[b]! / n : Number.NaN;
    if (n) {
      const gap = Math.abs(positiveRate - meanScore);
      ece += (n / xs.length) * gap;
      mce = Math.max(mce, gap);
    }
    out.push({ lo: b / bins, hi: (b + 1) / bins, count: n, meanScore, positiveRate });
  }
  return { ece: xs.length ? ece : Number.NaN, mce, bins: out };
}

/** The headline metrics of a binary scorer on a labelled set. */
export interface BinaryReport {
  n: number;
  positives: number;
  rocAuc: number;
  prAuc: number;
  ece: number;
  at: ThresholdMetrics;
}

/** ROC-AUC, PR-AUC, ECE and the confusion at `threshold`, in one object. */
export function binaryReport(xs: readonly Scored[], threshold: number): BinaryReport {
  return {
    n: xs.length,
    positives: xs.filter((x) => x.label === 1).length,
    rocAuc: rocAuc(xs),
    prAuc: prAuc(xs),
    ece: calibration(xs).ece,
    at: atThreshold(xs, threshold),
  };
}

/**
 * The threshold that maximises F1 (ties: the highest threshold), chosen among the distinct
 * scores. Use it on a validation set, then apply the threshold unchanged on the test set.
 * @returns the threshold and the metrics there; threshold NaN when there are no positives.
 */
export function bestF1Threshold(xs: readonly Scored[]): ThresholdMetrics {
  const P = xs.filter((x) => x.label === 1).length;
  let best: ThresholdMetrics = atThreshold(xs, Number.NaN);
  if (P === 0) return best;
  let tp = 0;
  let fp = 0;
  let bestF1 = -1;
  for (const g of tiedGroups(xs)) {
    tp += g.pos;
    fp += g.neg;
    const precision = tp / (tp + fp);
    const recall = tp / P;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    if (f1 > bestF1) {
      bestF1 = f1;
      best = { threshold: g.score, tp, fp, tn: xs.length - P - fp, fn: P - tp, precision, recall, f1 };
    }
  }
  return best;
}
