/**
 * Risk bounds for invoices that come in vendor clusters.
 *
 * The binomial p-values of Learn-then-Test (training/thresholds.ts) treat the calibration
 * invoices as independent. Invoices of one vendor are not: a vendor bills the same items the
 * same way on every invoice, so one vendor's false holds come together (on one unseen split 22
 * of 25 false holds came from two vendors). Counting them as independent overstates the
 * evidence and a certified threshold can miss its promise far more often than `delta`.
 *
 * ## Method: vendors as clusters, Kish effective sample size
 * For the invoices on the selected side of a threshold, with `n_v` of them and `e_v` errors at
 * vendor `v` (`N = sum n_v`, `K = sum e_v`):
 * - the intra-vendor correlation `rho` of the 0/1 error is estimated by one-way ANOVA
 *   (`(MSB - MSW) / (MSB + (m0 - 1) MSW)`, `m0 = (N - sum n_v^2 / N) / (V - 1)`), clipped to
 *   [0, 1]; with fewer than two vendors, or no error variance, `rho = 0`;
 * - the design effect is `deff = 1 + (mw - 1) rho` with `mw = sum n_v^2 / N` (the invoice-
 *   weighted mean cluster size), at least 1;
 * - the evidence is that of `floor(N / deff)` independent invoices with `ceil(K / deff)` errors
 *   (rounded towards less evidence), tested with the exact binomial p-value.
 * With one invoice per vendor, or errors spread evenly, `deff = 1` and this is the plain
 * binomial test; when errors concentrate in a few vendors, `deff` grows and fewer thresholds
 * are certified.
 *
 * ## What it promises, and what not
 * It is an approximation (Kish 1965, survey sampling): it corrects the variance of the error
 * rate for clustering, estimated from the calibration data, and is exact only when vendors are
 * independent draws and the correlation estimate is right. It is not a finite-sample guarantee
 * over vendors as units: with ~130 vendors in a calibration split, a bound that treats each
 * vendor as one observation (Hoeffding over vendors, or conformal risk control with a loss per
 * vendor, whose `B / (V + 1)` term alone is 0.0076) cannot certify a 0.5 % error rate at all.
 * The fixture test (grouped-risk.test.ts) shows the difference on a vendor-clustered population:
 * the independent-invoice threshold misses its promise far more often than `delta`, the grouped
 * one does not.
 */
import { clopperPearson } from '../monitoring/stats.js';
import { binomialCdf } from './thresholds.js';

/** Selected invoices and errors of one vendor. */
export interface ClusterCounts {
  n: number;
  errors: number;
}

/** Design effect of clustered 0/1 errors (see the module doc). */
export interface DesignEffect {
  /** `>= 1`. */
  deff: number;
  /** Intra-vendor correlation of the error, in [0, 1]. */
  rho: number;
  /** Invoice-weighted mean vendor size `sum n_v^2 / N`. */
  meanClusterSize: number;
  /** Vendors with at least one selected invoice. */
  clusters: number;
}

/**
 * The design effect of per-vendor counts (clusters with `n = 0` are ignored).
 * @throws RangeError when a count is negative, not an integer, or errors exceed n.
 */
export function designEffect(clusters: readonly ClusterCounts[]): DesignEffect {
  const cs = clusters.filter((c) => c.n > 0);
  for (const c of clusters)
    if (!Number.isInteger(c.n) || !Number.isInteger(c.errors) || c.errors < 0 || c.errors > c.n)
      throw new RangeError(`bad cluster counts (n ${c.n}, errors ${c.errors})`);
  const N = cs.reduce((a, c) => a + c.n, 0);
  const K = cs.reduce((a, c) => a + c.errors, 0);
  const V = cs.length;
  const sumSq = cs.reduce((a, c) => a + c.n * c.n, 0);
  const meanClusterSize = N > 0 ? sumSq / N : 0;
  const none = { deff: 1, rho: 0, meanClusterSize, clusters: V };
  if (V < 2 || N <= V || K === 0 || K === N) return none;
  const p = K / N;
  // Between- and within-vendor sums of squares of the 0/1 error.
  let ssb = 0;
  let ssw = 0;
  for (const c of cs) {
    const pv = c.errors / c.n;
    ssb += c.n * (pv - p) ** 2;
    ssw += c.errors * (1 - pv) ** 2 + (c.n - c.errors) * pv ** 2;
  }
  const msb = ssb / (V - 1);
  const msw = ssw / (N - V);
  const m0 = (N - sumSq / N) / (V - 1);
  const denom = msb + (m0 - 1) * msw;
  const rho = denom > 0 ? Math.min(1, Math.max(0, (msb - msw) / denom)) : 0;
  return { deff: Math.max(1, 1 + (meanClusterSize - 1) * rho), rho, meanClusterSize, clusters: V };
}

/** Kish effective counts: `floor(N / deff)` invoices, `ceil(K / deff)` errors (capped at the invoices). */
export function effectiveCounts(clusters: readonly ClusterCounts[]): {
  n: number;
  errors: number;
  design: DesignEffect;
} {
  const design = designEffect(clusters);
  const N = clusters.reduce((a, c) => a + c.n, 0);
  const K = clusters.reduce((a, c) => a + c.errors, 0);
  const n = Math.floor(N / design.deff + 1e-9);
  return { n, errors: Math.min(n, Math.ceil(K / design.deff - 1e-9)), design };
}

/**
 * p-value for `H: R > alpha` from vendor-clustered counts: the binomial p-value on the
 * {@link effectiveCounts}. No selected invoice gives 1.
 */
export function groupedRiskPValue(clusters: readonly ClusterCounts[], alpha: number): number {
  const { n, errors } = effectiveCounts(clusters);
  return n === 0 ? 1 : binomialCdf(errors, n, alpha);
}

/**
 * Per-vendor counts of the invoices on the selected side.
 * @param selected per invoice, whether it is on the selected side.
 * @param errors per invoice, whether it is an error (counted only when selected).
 * @param groups per invoice, its vendor id.
 * @throws RangeError when the lengths differ.
 */
export function clusterCounts(
  selected: ArrayLike<boolean>,
  errors: ArrayLike<boolean>,
  groups: ArrayLike<string>,
): ClusterCounts[] {
  if (selected.length !== errors.length || selected.length !== groups.length)
    throw new RangeError('one error flag and one group per invoice');
  const by = new Map<string, ClusterCounts>();
  for (let i = 0; i < selected.length; i++) {
    if (!selected[i]) continue;
    const g = groups[i]!;
    const c = by.get(g) ?? { n: 0, errors: 0 };
    c.n++;
    if (errors[i]) c.errors++;
    by.set(g, c);
  }
  return [...by.values()];
}

/** An observed error rate with its one-sided upper confidence bound. */
export interface RiskBound {
  /** Selected invoices and errors among them. */
  n: number;
  errors: number;
  /** errors / n (0 when n = 0). */
  rate: number;
  /** Clopper-Pearson upper bound at `1 - delta`, on the effective counts when grouped. */
  upper: number;
  /** Design effect used (1 for the independent-invoice bound). */
  deff: number;
}

/**
 * The upper `1 - delta` confidence bound of an error rate: Clopper-Pearson on the raw counts
 * (`grouped: false`, invoices independent) or on the {@link effectiveCounts} of the vendor
 * clusters (`grouped: true`).
 * @throws RangeError unless 0 < delta < 0.5.
 */
export function riskUpperBound(clusters: readonly ClusterCounts[], delta: number, grouped = true): RiskBound {
  if (!(delta > 0 && delta < 0.5)) throw new RangeError('delta must be in (0, 0.5)');
  const n = clusters.reduce((a, c) => a + c.n, 0);
  const errors = clusters.reduce((a, c) => a + c.errors, 0);
  const eff = grouped ? effectiveCounts(clusters) : { n, errors, design: { deff: 1 } };
  return {
    n,
    errors,
    rate: n ? errors / n : 0,
    upper: clopperPearson(eff.errors, eff.n, 1 - 2 * delta).upper,
    deff: eff.design.deff,
  };
}
