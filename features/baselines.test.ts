import { describe, expect, it } from 'vitest';
import { baselineBin, baselineOfBins } from './baselines.js';

function histogram(values: number[]): Map<number, number> {
  const h = new Map<number, number>();
  for (const v of values) {
    const b = baselineBin(v);
    if (b !== null) h.set(b, (h.get(b) ?? 0) + 1);
  }
  return h;
}

describe('log-binned baselines', () => {
  it('estimate the median within 2.5% and the MAD of ln within 0.05', () => {
    // A skewed sample: mostly 30 units, some 60 and 90, a few outliers.
    const values = [...Array(40).fill(30), ...Array(15).fill(60), ...Array(5).fill(90), 1, 2, 5000];
    const b = baselineOfBins(histogram(values))!;
    expect(b.observations).toBe(63);
    expect(Math.abs(b.median / 30 - 1)).toBeLessThanOrEqual(0.025);
    // Exact MAD of ln: the median |ln x - ln 30| is 0 (over half the values are 30).
    expect(b.madLog).toBeLessThanOrEqual(0.05);
    const spread = baselineOfBins(histogram([10, 20, 40, 80, 160]))!;
    expect(Math.abs(spread.median / 40 - 1)).toBeLessThanOrEqual(0.025);
    expect(Math.abs(spread.madLog - Math.log(2))).toBeLessThanOrEqual(0.05);
  });

  it('ignores zero, negative and non-finite values', () => {
    expect(baselineBin(0)).toBeNull();
    expect(baselineBin(-3)).toBeNull();
    expect(baselineBin(Number.NaN)).toBeNull();
    expect(baselineOfBins(new Map())).toBeNull();
  });
});
