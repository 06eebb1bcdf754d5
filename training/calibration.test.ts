import { describe, expect, it } from 'vitest';
import { applyCalibration, sigmoid } from '../models/spec.js';
import { calibrateAll, ece, fitIsotonic, fitPlatt, logLoss, selectCalibration } from './calibration.js';
import { mulberry32, normal } from './rng.js';

/** Logits z ~ N(0, 2^2) with labels drawn from `truth(z)`. */
function logits(
  n: number,
  seed: number,
  truth: (z: number) => number,
): { logit: Float64Array; y: Uint8Array } {
  const rng = mulberry32(seed);
  const logit = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    logit[i] = 2 * normal(rng);
    y[i] = rng() < truth(logit[i]!) ? 1 : 0;
  }
  return { logit, y };
}

describe('Platt scaling', () => {
  it('recovers the slope and intercept of a mis-scaled logit', () => {
    const d = logits(20_000, 3, (z) => sigmoid(1.7 * z - 0.8));
    const c = fitPlatt(d);
    expect(c.a).toBeGreaterThan(1.55);
    expect(c.a).toBeLessThan(1.85);
    expect(c.b).toBeGreaterThan(-0.95);
    expect(c.b).toBeLessThan(-0.65);
  });

  it('stays finite on separable data (smoothed targets)', () => {
    const c = fitPlatt({ logit: [-2, -1, 1, 2], y: [0, 0, 1, 1] });
    expect(Number.isFinite(c.a) && Number.isFinite(c.b)).toBe(true);
    expect(applyCalibration(c, 2)).toBeLessThan(1);
  });
});

describe('isotonic regression (PAV)', () => {
  it('pools adjacent violators into the least-squares monotone fit', () => {
    const z = [-2, -1, 0, 1, 2];
    const c = fitIsotonic({ logit: z, y: [0, 1, 0, 1, 1] });
    // blocks {0}, {1, 0} -> 0.5, {1}, {1}; knots at block ends
    expect(c.y).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(c.x).toEqual(z.map(sigmoid));
    expect(applyCalibration(c, -0.5)).toBeCloseTo(0.5, 12);
  });

  it('is monotone, preserves the weighted label mean of each block and respects weights', () => {
    const d = logits(2000, 5, (z) => sigmoid(z));
    const c = fitIsotonic(d);
    for (let i = 1; i < c.y.length; i++) {
      expect(c.y[i]!).toBeGreaterThanOrEqual(c.y[i - 1]!);
      expect(c.x[i]!).toBeGreaterThan(c.x[i - 1]!);
    }
    const fitted = calibrateAll(c, d.logit);
    const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);
    expect(sum(fitted)).toBeCloseTo(sum(d.y), 6);
    // a heavy weight on one positive pulls its block up
    const w = new Float64Array(5).fill(1);
    w[2] = 9;
    const heavy = fitIsotonic({ logit: [-2, -1, 0, 1, 2], y: [0, 0, 1, 0, 1], w });
    expect(applyCalibration(heavy, 0)).toBeCloseTo(0.9, 12);
  });
});

describe('selectCalibration', () => {
  it('fixes an over-confident logit: ECE drops and a non-trivial map wins', () => {
    const d = logits(6000, 11, (z) => sigmoid(0.4 * z - 1));
    const keys = Array.from(d.logit, (_, i) => `k${i}`);
    const s = selectCalibration(d, keys, 42);
    expect(s.chosen.kind).not.toBe('none');
    expect(s.eceBefore).toBeGreaterThan(0.1);
    expect(s.eceAfter).toBeLessThan(0.03);
    const none = s.candidates.find((c) => c.kind === 'none')!;
    const chosen = s.candidates.find((c) => c.kind === s.chosen.kind)!;
    expect(chosen.cvLogLoss).toBeLessThan(none.cvLogLoss);
    expect(s.candidates.every((c) => c.cvLogLoss >= chosen.cvLogLoss)).toBe(true);
  });

  it('keeps no calibration when the logit is already calibrated', () => {
    const d = logits(6000, 12, sigmoid);
    const s = selectCalibration(
      d,
      Array.from(d.logit, (_, i) => `k${i}`),
      42,
    );
    // on calibrated scores Platt can at best tie; the log-loss of what is chosen is near the truth
    const truth = logLoss(Array.from(d.logit, sigmoid), d.y);
    expect(s.candidates.find((c) => c.kind === s.chosen.kind)!.cvLogLoss).toBeLessThan(truth + 0.005);
    expect(ece(calibrateAll(s.chosen, d.logit), d.y)).toBeLessThan(0.03);
  });
});
