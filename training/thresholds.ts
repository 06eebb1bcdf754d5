/**
 * Routing thresholds with a finite-sample guarantee, by Learn-then-Test (Angelopoulos, Bates,
 * Candès, Jordan, Lei 2021, "Learn then Test: Calibrating predictive algorithms to achieve
 * risk control").
 *
 * ## What is guaranteed
 * For the auto-approve threshold `λa` (AUTO_APPROVE when the calibrated invoice score `s <= λa`)
 * the controlled risk is the **error rate among auto-approved invoices**
 * `Ra(λ) = P(Y = 1 | s <= λ)` (share of auto-approved invoices that are true exceptions).
 * For the hold threshold `λh` (HOLD when `s >= λh`) it is the **false-hold rate**
 * `Rh(λ) = P(Y = 0 | s >= λ)`. With probability at least `1 - delta` over the draw of the
 * threshold-calibration set, the returned threshold satisfies `R(λ) <= alpha`.
 *
 * ## Assumptions (read before relying on it)
 * 1. The threshold-calibration invoices and the invoices scored later are i.i.d. draws from the
 *    same distribution (exchangeability is not enough for the conditional binomial argument
 *    below). Drift in vendors, codes or fraud patterns breaks it: monitor (PSI) and recalibrate.
 * 2. The score function (model + calibration map) and the candidate grid were fixed before the
 *    threshold-calibration labels were looked at: they are fitted on other splits
 *    ({@link designGrid} uses a separate design split).
 * 3. Labels are correct. Reviewer labels chosen by the current model are not a random sample,
 *    so they must not be used here (training uses them; thresholds use benchmark/audit samples).
 * 4. The guarantee holds for one threshold of one model. When the final AUTO_APPROVE needs
 *    both models to approve, the combined error rate is not bounded by either `alpha` alone.
 *
 * ## Why it holds
 * Fix `λ`. Conditional on `n_λ` (how many calibration invoices fall on the selected side), the
 * labels of those invoices are i.i.d. Bernoulli(`R(λ)`) by assumption 1, so the number of
 * errors `k_λ ~ Binomial(n_λ, R(λ))`, and `p_λ = P(Binomial(n_λ, alpha) <= k_λ)` is a valid
 * p-value for the null `H_λ: R(λ) > alpha` (`P(p_λ <= t) <= t` under the null). The
 * Hoeffding-Bentkus p-value (Bates et al. 2021) is also valid and offered for comparison; the
 * exact binomial one is never larger than it for 0/1 losses up to the factor `e`.
 * The grid `λ_1, λ_2, ...` is ordered from safe to aggressive before seeing the labels, and the
 * nulls are tested by **fixed-sequence testing** (reject `H_1`, `H_2`, ... at level `delta`,
 * stopping at the first non-rejection), which controls the family-wise error rate at `delta`
 * with no assumption on how the p-values depend on each other (only that each is valid).
 * So with probability `>= 1 - delta` every rejected `λ` has `R(λ) <= alpha`, in particular the
 * last one, which is returned. If nothing is rejected the safe default is returned: approve
 * nothing / hold nothing (`feasible: false`).
 */

import { clusterCounts, designEffect, groupedRiskPValue } from './grouped-risk.js';

/** Which routing side a threshold is for. */
export type ThresholdSide = 'approve' | 'hold';

/** The p-value used for each hypothesis. */
export type PValueMethod = 'binomial' | 'hoeffding-bentkus';

/**
 * `P(Binomial(n, p) <= k)`, computed term by term in log space (exact up to float rounding).
 * @throws RangeError for invalid arguments.
 */
export function binomialCdf(k: number, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k))
    throw new RangeError('n and k must be integers, n >= 0');
  if (!(p >= 0 && p <= 1)) throw new RangeError('p must be in [0, 1]');
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p === 0) return 1;
  if (p === 1) return 0;
  const logRatio = Math.log(p) - Math.log1p(-p);
  let logTerm = n * Math.log1p(-p); // log P(X = 0)
  let maxLog = logTerm;
  const logs: number[] = [logTerm];
  for (let j = 0; j < k; j++) {
    logTerm += Math.log((n - j) / (j + 1)) + logRatio;
    logs.push(logTerm);
    if (logTerm > maxLog) maxLog = logTerm;
  }
  let s = 0;
  for (const l of logs) s += Math.exp(l - maxLog);
  return Math.min(1, Math.exp(maxLog + Math.log(s)));
}

/** Binary relative entropy `a log(a/b) + (1-a) log((1-a)/(1-b))`. */
function klBernoulli(a: number, b: number): number {
  const t1 = a === 0 ? 0 : a * Math.log(a / b);
  const t2 = a === 1 ? 0 : (1 - a) * Math.log((1 - a) / (1 - b));
  return t1 + t2;
}

/**
 * p-value for `H: R > alpha` after observing `errors` bad outcomes among `n` selected examples.
 * - `binomial`: `P(Binomial(n, alpha) <= errors)`; exact for 0/1 losses.
 * - `hoeffding-bentkus`: `min(exp(-n h(min(r, alpha), alpha)), e * P(Binomial(n, alpha) <= ceil(n r)))`
 *   with `r = errors / n` and `h` the binary relative entropy (Bates et al. 2021, eq. for
 *   bounded losses).
 * `n = 0` gives 1 (nothing observed, nothing rejected).
 */
export function riskPValue(
  errors: number,
  n: number,
  alpha: number,
  method: PValueMethod = 'binomial',
): number {
  if (n === 0) return 1;
  if (method === 'binomial') return binomialCdf(errors, n, alpha);
  const r = errors / n;
  const hoeffding = Math.exp(-n * klBernoulli(Math.min(r, alpha), alpha));
  const bentkus = Math.E * binomialCdf(Math.ceil(n * r), n, alpha);
  return Math.min(1, hoeffding, bentkus);
}

/** Inputs of {@link learnThenTest}. */
export interface LttInput {
  /** Calibrated scores of the threshold-calibration invoices. */
  scores: ArrayLike<number>;
  /** 1 = exception, 0 = clean, per invoice. */
  labels: ArrayLike<number>;
  side: ThresholdSide;
  /** Target risk (error rate among approved, or false-hold rate among held), in (0, 1). */
  alpha: number;
  /** Allowed failure probability of the guarantee, in (0, 1). */
  delta: number;
  /**
   * Candidate thresholds in testing order, safest first: increasing for `approve`,
   * decreasing for `hold`. Must not depend on these labels (see {@link designGrid}).
   */
  grid: readonly number[];
  pValue?: PValueMethod;
  /**
   * Vendor id per invoice. When given, each candidate is tested on vendor-clustered counts
   * (training/grouped-risk.ts: Kish effective sample size from the intra-vendor correlation)
   * instead of as independent invoices; `pValue` is then ignored.
   */
  groups?: ArrayLike<string>;
}

/** One tested candidate. */
export interface LttStep {
  threshold: number;
  selected: number;
  errors: number;
  pValue: number;
  rejected: boolean;
  /** Design effect of the selected invoices' vendor clusters (grouped tests only). */
  deff?: number;
}

/** Result of {@link learnThenTest}. */
export interface LttResult {
  /** The last rejected threshold; `-1` (approve nothing) or `2` (hold nothing) when none. */
  threshold: number;
  feasible: boolean;
  /** Invoices on the selected side at the threshold, errors among them, and the share selected. */
  selected: number;
  errors: number;
  coverage: number;
  /** Every tested candidate until the first non-rejection (for the report). */
  steps: LttStep[];
}

/** Sentinel thresholds that select nothing. */
export const APPROVE_NOTHING = -1;
export const HOLD_NOTHING = 2;

/** How many scores fall on the selected side of `t`, and how many of them are errors. */
function sideCounts(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  side: ThresholdSide,
  t: number,
): [number, number] {
  let sel = 0;
  let err = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    const inSide = side === 'approve' ? s <= t : s >= t;
    if (!inSide) continue;
    sel++;
    const bad = side === 'approve' ? labels[i] === 1 : labels[i] === 0;
    if (bad) err++;
  }
  return [sel, err];
}

function checkLevels(alpha: number, delta: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError('alpha must be in (0, 1)');
  if (!(delta > 0 && delta < 1)) throw new RangeError('delta must be in (0, 1)');
}

/**
 * Learn-then-Test with fixed-sequence testing (see the module doc for the guarantee).
 * @throws RangeError when alpha/delta are outside (0, 1), lengths differ or the grid is not
 *   ordered safest first.
 */
export function learnThenTest(input: LttInput): LttResult {
  const { scores, labels, side, alpha, delta, grid } = input;
  checkLevels(alpha, delta);
  if (scores.length !== labels.length) throw new RangeError('one label per score');
  if (input.groups && input.groups.length !== scores.length) throw new RangeError('one group per score');
  return fixedSequence(side, delta, grid, scores.length, (t) => {
    const [selected, errors] = sideCounts(scores, labels, side, t);
    if (!input.groups) return { selected, errors, pValue: riskPValue(errors, selected, alpha, input.pValue) };
    const clusters = clusterCounts(
      Array.from(scores, (s) => (side === 'approve' ? s <= t : s >= t)),
      Array.from(labels, (y) => (side === 'approve' ? y === 1 : y === 0)),
      input.groups,
    );
    return {
      selected,
      errors,
      pValue: groupedRiskPValue(clusters, alpha),
      deff: designEffect(clusters).deff,
    };
  });
}

/** One candidate's test in {@link fixedSequence}: counts on the selected side and the p-value. */
export type LttTest = Omit<LttStep, 'threshold' | 'rejected'>;

/**
 * The fixed-sequence walk of Learn-then-Test shared by every variant: tests `grid` (safest
 * first) with `test` until the first candidate whose p-value exceeds `delta`, and returns the
 * last rejected one (or the select-nothing sentinel). `n` is the number of scored invoices
 * (for the coverage).
 * @throws RangeError when the grid is not strictly ordered safest first.
 */
export function fixedSequence(
  side: ThresholdSide,
  delta: number,
  grid: readonly number[],
  n: number,
  test: (t: number) => LttTest,
): LttResult {
  for (let j = 1; j < grid.length; j++) {
    const ok = side === 'approve' ? grid[j]! > grid[j - 1]! : grid[j]! < grid[j - 1]!;
    if (!ok) throw new RangeError('grid must be strictly ordered safest first');
  }
  const steps: LttStep[] = [];
  let best: LttStep | undefined;
  for (const t of grid) {
    const { selected, errors, pValue, deff } = test(t);
    const rejected = pValue <= delta;
    const step: LttStep = {
      threshold: t,
      selected,
      errors,
      pValue,
      rejected,
      ...(deff !== undefined ? { deff } : {}),
    };
    steps.push(step);
    if (!step.rejected) break;
    best = step;
  }
  if (!best) {
    return {
      threshold: side === 'approve' ? APPROVE_NOTHING : HOLD_NOTHING,
      feasible: false,
      selected: 0,
      errors: 0,
      coverage: 0,
      steps,
    };
  }
  return {
    threshold: best.threshold,
    feasible: true,
    selected: best.selected,
    errors: best.errors,
    coverage: n ? best.selected / n : 0,
    steps,
  };
}

/** `r` moved to one of its own rejected steps (counts and coverage from that step). */
function atStep(r: LttResult, st: LttStep, n: number): LttResult {
  return {
    ...r,
    threshold: st.threshold,
    selected: st.selected,
    errors: st.errors,
    coverage: n ? st.selected / n : 0,
  };
}

/**
 * Keeps the hold threshold above the auto-approve threshold. When a model's scores leave an
 * almost empty gap between clean invoices and exceptions, both fixed sequences run into the gap
 * and the last certified hold threshold can end at or below the auto-approve one. Every
 * rejected candidate of a fixed sequence is covered by the same family-wise guarantee, so
 * either side may step back to an earlier rejected candidate without losing it:
 * 1. the auto-approve threshold moves down to its highest certified candidate below the hold
 *    threshold (an invoice scored in the gap is a likely exception by the calibrated score;
 *    the gap holds few invoices, so approval coverage barely moves);
 * 2. failing that, the hold threshold moves up to its lowest certified candidate above the
 *    auto-approve threshold;
 * 3. failing both, nothing is held.
 * @param n invoices of the threshold-calibration set (for the coverage).
 * @returns both results (at most one of them changed) and a note for the card, `null` when
 *   nothing had to move.
 */
export function separateThresholds(
  approve: LttResult,
  hold: LttResult,
  n: number,
): { approve: LttResult; hold: LttResult; note: string | null } {
  if (!hold.feasible || !approve.feasible || hold.threshold > approve.threshold)
    return { approve, hold, note: null };
  const crossed = `The last certified hold threshold (${hold.threshold}) was at or below the last certified auto-approve threshold (${approve.threshold}); `;
  const below = approve.steps.filter((st) => st.rejected && st.threshold < hold.threshold);
  const lower = below[below.length - 1];
  if (lower)
    return {
      approve: atStep(approve, lower, n),
      hold,
      note: `${crossed}the highest certified auto-approve threshold below it (${lower.threshold}, ${lower.selected} of ${n} approved) is used.`,
    };
  const above = hold.steps.filter((st) => st.rejected && st.threshold > approve.threshold);
  const higher = above[above.length - 1];
  if (higher)
    return {
      approve,
      hold: atStep(hold, higher, n),
      note: `${crossed}the lowest certified hold threshold above it (${higher.threshold}) is used.`,
    };
  return {
    approve,
    hold: { ...hold, threshold: HOLD_NOTHING, feasible: false, selected: 0, errors: 0, coverage: 0 },
    note: `${crossed}nothing is held.`,
  };
}

/** Options of {@link designGrid}. */
export interface GridDesign {
  side: ThresholdSide;
  alpha: number;
  delta: number;
  /** Size of the threshold-calibration set the grid will be tested on. */
  testN: number;
  /** Most candidates to keep (default 50), not counting those {@link GridDesign.maxLogitStep} adds. */
  maxPoints?: number;
  pValue?: PValueMethod;
  /**
   * Widest gap allowed between neighbouring candidates on the logit of the score (absent: no
   * limit). Thinning in log-share leaves few candidates where few invoices score, such as the
   * range between most clean invoices and most exceptions where the auto-approve threshold
   * of a well-separating model lies (near a share of 1 one step there is several percent of the
   * invoices); with a limit, a design score is also kept when its logit is at least this far from
   * the last kept one. The guarantee is unchanged (fixed-sequence testing is valid for any grid
   * fixed before the labels), only the resolution at which the walk stops.
   */
  maxLogitStep?: number;
}

/**
 * Builds the ordered candidate grid for {@link learnThenTest} from a separate **design split**
 * (its scores and labels), so the grid does not depend on the threshold-calibration labels.
 *
 * Candidates are the distinct design scores, safest first, thinned to at most `maxPoints`
 * evenly spaced in the log of the share selected (fine steps where few invoices are selected,
 * as on the hold side, coarser ones where many are). Fixed-sequence testing stops at its first non-rejection, so a grid
 * that starts where the test has little power loses everything. So each candidate gets a
 * *predicted* p-value: a pessimistic selected count `m - 2 sqrt(m)` (`m` = the design share
 * times `testN`) with the design split's error rate times that count as errors (at least one;
 * one when no design labels are given). The grid starts at the first (safest) candidate whose
 * predicted p-value is at most `delta / 2`, or, when there is none, at the candidate with the
 * smallest predicted p-value. This uses only the design split, so validity is untouched.
 * @throws RangeError when alpha/delta are outside (0, 1) or labels do not match scores.
 */
export function designGrid(
  designScores: ArrayLike<number>,
  o: GridDesign,
  designLabels?: ArrayLike<number>,
): number[] {
  checkLevels(o.alpha, o.delta);
  if (designLabels && designLabels.length !== designScores.length)
    throw new RangeError('one label per score');
  const n = designScores.length;
  if (n === 0) return [];
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) =>
    o.side === 'approve' ? designScores[i]! - designScores[j]! : designScores[j]! - designScores[i]!,
  );
  // distinct values with the share of design scores on the selected side and their error rate
  const distinct: { t: number; share: number; errRate: number }[] = [];
  let errors = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r]!;
    if (designLabels && (o.side === 'approve' ? designLabels[i] === 1 : designLabels[i] === 0)) errors++;
    const next = order[r + 1];
    if (next !== undefined && designScores[next] === designScores[i]) continue;
    distinct.push({ t: designScores[i]!, share: (r + 1) / n, errRate: errors / (r + 1) });
  }
  const maxPoints = o.maxPoints ?? 50;
  // predicted p-value of (a thinned set of) candidates: pessimistic count, design error rate (>= 1 error)
  const pool = thinGeometric(distinct, 4 * maxPoints);
  const predicted = pool.map((d) => {
    const m = d.share * o.testN;
    const mLow = Math.floor(m - 2 * Math.sqrt(m));
    if (mLow <= 0) return 1;
    const errors = Math.max(1, Math.round(d.errRate * mLow));
    return riskPValue(errors, mLow, o.alpha, o.pValue);
  });
  let startAt = predicted.findIndex((p) => p <= o.delta / 2);
  if (startAt < 0) {
    // nothing looks comfortably passable: start where the test looks most likely to pass
    let best = 0;
    predicted.forEach((p, k) => {
      if (p < predicted[best]!) best = k;
    });
    startAt = predicted[best]! < 1 ? best : -1;
  }
  if (startAt < 0) return [];
  const from = distinct.indexOf(pool[startAt]!);
  return thinGeometric(distinct.slice(from), maxPoints, o.maxLogitStep).map((d) => d.t);
}

/** Logit of a score in [0, 1], clamped away from the infinite ends. */
function scoreLogit(t: number): number {
  const p = Math.min(1 - 1e-12, Math.max(1e-12, t));
  return Math.log(p / (1 - p));
}

/**
 * At most `max` items (always the first and the last), spaced evenly in `log(share)`: fine
 * steps where few invoices are selected, coarser ones where many are. With `logitStep`, an item
 * is also kept when the logit of its score is at least `logitStep` from the last kept item's
 * (then more than `max` items may be kept; the log-share ones are kept all the same).
 */
function thinGeometric<T extends { share: number; t: number }>(
  items: readonly T[],
  max: number,
  logitStep?: number,
): T[] {
  if (items.length <= max) return [...items];
  const first = items[0]!.share;
  const last = items[items.length - 1]!.share;
  const ratio = (last / first) ** (1 / (max - 1));
  const out: T[] = [];
  let next = first;
  let lastLogit = Number.NaN;
  for (const d of items) {
    const onSchedule = d.share >= next * (1 - 1e-12);
    if (onSchedule || (logitStep !== undefined && Math.abs(scoreLogit(d.t) - lastLogit) >= logitStep)) {
      out.push(d);
      lastLogit = scoreLogit(d.t);
    }
    // the log-share schedule ignores the items the logit limit adds: it keeps what it keeps without it
    if (onSchedule) next = d.share * ratio;
  }
  if (out[out.length - 1] !== items[items.length - 1]) out.push(items[items.length - 1]!);
  return out;
}

/**
 * An approve-side grid (ordered safest first, that is ascending) cut at `cap`: the candidates
 * below `cap`, then `cap` itself when the grid reached it. The cap is fixed before any
 * calibration label is read, and a fixed sequence on a prefix of a grid (plus one candidate
 * appended last) rejects a subset of what a valid fixed sequence would, so the level holds.
 * @param grid approve scales, ascending.
 * @param cap the largest scale to test (e.g. 1: the cards' own review thresholds).
 * @throws RangeError when `cap` is not a positive number.
 */
export function capApproveGrid(grid: readonly number[], cap: number): number[] {
  if (!(cap > 0)) throw new RangeError(`approve cap must be positive (got ${cap})`);
  const kept = grid.filter((t) => t < cap);
  if (grid.some((t) => t >= cap)) kept.push(cap);
  return kept;
}
