/**
 * Robust per-vendor, per-code baselines (quantity, unit price) from log-binned histograms, the
 * incremental form the store keeps (store/vendor-stats.ts): a value x > 0 falls in bin
 * round(ln(x) * {@link BASELINE_BINS_PER_LN}), so adding an observation is one counter increment
 * and the histogram of a key is bounded (a few hundred bins span 1e-4 to 1e9) whatever the
 * history's length.
 *
 * Error of the method: the median is the centre of the bin holding it, within half a bin of the
 * exact sample median, i.e. within a factor exp(±0.5 / 20) = ±2.5%; the MAD (of ln x, the robust
 * spread) is within ±1 / 20 = 0.05 of the exact MAD of the binned log values. Zero and negative
 * values (credits) are not observations.
 */

import type { InvoiceLine } from '../core/invoice.js';

/** Upper-case HCPCS code of a line, or null for lines without one (the lines baselines are kept for). */
export function hcpcsCode(line: Pick<InvoiceLine, 'code'>): string | null {
  return line.code?.system === 'HCPCS' && line.code.value ? line.code.value.toUpperCase() : null;
}

/** Histogram bins per unit of natural log (bin width exp(1/20) = 5.1% relative). */
export const BASELINE_BINS_PER_LN = 20;

/** Observations a vendor's history needs before its baseline replaces the reference; default 8. */
export const MIN_BASELINE_OBSERVATIONS = 8;

/** A robust baseline: the median and the MAD of ln(value), and how many observations it rests on. */
export interface RobustBaseline {
  /** Median value (quantity units, or cents for a unit price), within ±2.5%. */
  median: number;
  /** Median absolute deviation of ln(value) (0 = every observation in one bin). */
  madLog: number;
  observations: number;
}

/** The quantity and unit-price baselines of one vendor and code (null without observations). */
export interface VendorCodeBaseline {
  quantity: RobustBaseline | null;
  unitPrice: RobustBaseline | null;
}

/** The bin of a value, or null when it is not an observation (<= 0 or not finite). */
export function baselineBin(x: number): number | null {
  const a = Math.abs(x);
  if (!(x > 0) || !Number.isFinite(a)) return null;
  return Math.round(Math.log(a) * BASELINE_BINS_PER_LN);
}

/** Median of a weighted set of integers (bins) as the lower weighted median. */
function weightedMedian(entries: readonly (readonly [number, number])[], total: number): number {
  const sorted = [...entries].sort((a, b) => a[0] - b[0]);
  let acc = 0;
  for (const [v, n] of sorted) {
    acc += n;
    if (acc * 2 >= total) return v;
  }
  return sorted.at(-1)?.[0] ?? 0;
}

/** The robust baseline of a histogram (bin -> count), or null when it holds nothing. */
export function baselineOfBins(bins: ReadonlyMap<number, number>): RobustBaseline | null {
  const entries = [...bins.entries()].filter(([, n]) => n > 0);
  const total = entries.reduce((a, [, n]) => a + n, 0);
  if (total === 0) return null;
  const mid = weightedMedian(entries, total);
  const mad = weightedMedian(
    entries.map(([b, n]) => [Math.abs(b - mid), n] as const),
    total,
  );
  return {
    median: Math.exp(mid / BASELINE_BINS_PER_LN),
    madLog: mad / BASELINE_BINS_PER_LN,
    observations: total,
  };
}
