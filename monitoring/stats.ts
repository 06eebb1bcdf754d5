/**
 * Statistics of model monitoring: binned distributions and their divergences (PSI,
 * Jensen-Shannon), the Clopper-Pearson binomial confidence interval, ranking and
 * threshold metrics on labelled scores (ROC-AUC, precision/recall), and the seeded
 * deterministic draw of the audit sample. Pure functions; no I/O.
 */
import { createHash } from 'node:crypto';
import jstat from 'jstat';

/**
 * Bin index of `x` given ascending cut points: bin 0 is `(-inf, edges[0])`, bin i is
 * `[edges[i-1], edges[i])`, the last bin `[edges[n-1], +inf)`; `edges.length + 1` bins.
 * Non-finite `x` has no bin (-1: counted as missing).
 */
export function binOf(x: number, edges: readonly number[]): number {
  if (!Number.isFinite(x)) return -1;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x >= edges[mid]!) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Cut points at the reference's deciles (or `bins` quantiles), deduplicated, so each bin
 * holds about 1/bins of the reference; a binary feature gets one cut (two bins), a constant
 * feature none (one bin). Non-finite values are ignored.
 */
export function quantileEdges(values: ArrayLike<number>, bins = 10): number[] {
  const xs = Array.from(values)
    .filter((v) => Number.isFinite(v))
    .sort((a, b) => a - b);
  if (xs.length === 0) return [];
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    const v = xs[Math.min(xs.length - 1, Math.floor((q * xs.length) / bins))]!;
    // a cut at the minimum would leave bin 0 empty
    if (v > xs[0]! && (edges.length === 0 || v > edges[edges.length - 1]!)) edges.push(v);
  }
  return edges;
}

/** Counts per bin (length `edges.length + 1`) and the number of missing (non-finite) values. */
export function histogram(
  values: ArrayLike<number>,
  edges: readonly number[],
): { counts: number[]; missing: number } {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const b = binOf(values[i]!, edges);
    if (b < 0) missing++;
    else counts[b]!++;
  }
  return { counts, missing };
}

/** Share of an empty bin in PSI and JS (avoids log(0)); the usual 1e-4 of credit-scoring practice. */
export const EMPTY_BIN_SHARE = 1e-4;

function shares(counts: readonly number[], floor: number): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return counts.map(() => 1 / counts.length);
  return counts.map((c) => Math.max(c / n, floor));
}

/**
 * Population Stability Index of `actual` against `expected` (same bins):
 * `sum (a_i - e_i) ln(a_i / e_i)` over bin shares, empty bins floored at {@link EMPTY_BIN_SHARE}.
 * @throws RangeError when the bin counts differ in length.
 */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) throw new RangeError('psi: bins differ');
  const e = shares(expected, EMPTY_BIN_SHARE);
  const a = shares(actual, EMPTY_BIN_SHARE);
  let s = 0;
  for (let i = 0; i < e.length; i++) s += (a[i]! - e[i]!) * Math.log(a[i]! / e[i]!);
  return s;
}

/**
 * Jensen-Shannon divergence in bits (0..1) of two binned distributions: bounded and defined
 * for empty bins, so it stays meaningful where a sparse live window leaves bins empty.
 * @throws RangeError when the bin counts differ in length.
 */
export function jensenShannon(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) throw new RangeError('jensenShannon: bins differ');
  const e = shares(expected, 0);
  const a = shares(actual, 0);
  let s = 0;
  for (let i = 0; i < e.length; i++) {
    const m = (e[i]! + a[i]!) / 2;
    if (e[i]! > 0) s += 0.5 * e[i]! * Math.log2(e[i]! / m);
    if (a[i]! > 0) s += 0.5 * a[i]! * Math.log2(a[i]! / m);
  }
  return Math.max(0, s);
}

/** A two-sided binomial confidence interval of a proportion. */
export interface Interval {
  lower: number;
  upper: number;
}

/** Quantile (inverse CDF) of the Beta(a, b) distribution at `p` (jStat). */
const betaQuantile = (p: number, a: number, b: number): number => jstat.jStat.beta.inv(p, a, b);

/**
 * Clopper-Pearson ("exact") interval of `k` successes in `n` trials at `confidence`
 * (beta quantiles; coverage at least nominal for every p). `n = 0` gives [0, 1]. The beta
 * quantiles are jStat's (within 1.1e-9 of Boost's to n = 20,000; monitoring/stats.test.ts).
 * @throws RangeError unless 0 <= k <= n and 0 < confidence < 1.
 */
export function clopperPearson(k: number, n: number, confidence = 0.95): Interval {
  checkCounts(k, n, confidence);
  if (n === 0) return { lower: 0, upper: 1 };
  const a = (1 - confidence) / 2;
  return {
    lower: k === 0 ? 0 : betaQuantile(a, k, n - k + 1),
    upper: k === n ? 1 : betaQuantile(1 - a, k + 1, n - k),
  };
}

function checkCounts(k: number, n: number, confidence: number): void {
  if (!(Number.isInteger(k) && Number.isInteger(n) && k >= 0 && k <= n))
    throw new RangeError(`need integers 0 <= k <= n (k ${k}, n ${n})`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError('confidence must be in (0, 1)');
}

/** A labelled score: `y` 1 = exception, 0 = clean. */
export interface LabelledScore {
  score: number;
  y: 0 | 1;
}

/**
 * ROC-AUC by the Mann-Whitney statistic (ties count half); null without both classes.
 */
export function rocAuc(rows: readonly LabelledScore[]): number | null {
  const pos = rows.filter((r) => r.y === 1).length;
  const neg = rows.length - pos;
  if (pos === 0 || neg === 0) return null;
  const sorted = [...rows].sort((a, b) => a.score - b.score);
  let rankSumPos = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j]!.score === sorted[i]!.score) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) if (sorted[t]!.y === 1) rankSumPos += avgRank;
    i = j;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * Precision and recall of the rows `flag` selects (precision null when nothing is flagged,
 * recall null without positives), and how many were flagged.
 */
export function precisionRecall(
  rows: readonly LabelledScore[],
  flag: (score: number) => boolean,
): { precision: number | null; recall: number | null; flagged: number } {
  let tp = 0;
  let flagged = 0;
  let pos = 0;
  for (const r of rows) {
    const f = flag(r.score);
    if (f) flagged++;
    if (r.y === 1) pos++;
    if (f && r.y === 1) tp++;
  }
  return { precision: flagged ? tp / flagged : null, recall: pos ? tp / pos : null, flagged };
}

/**
 * The audit sample's draw: a uniform number in [0, 1) from sha256(`seed` + ":" + `decisionId`)
 * (first 52 bits). Deterministic and recomputable by an auditor from the recorded seed;
 * independent of the decision's content, so the sample is unbiased among AUTO_APPROVE decisions.
 */
export function auditDraw(seed: string, decisionId: string): number {
  const h = createHash('sha256').update(`${seed}:${decisionId}`).digest();
  // 52 bits: 6 bytes + 4 bits
  const hi = h.readUIntBE(0, 6) * 16 + (h[6]! >> 4);
  return hi / 2 ** 52;
}
