import { describe, expect, it } from 'vitest';
import { atThreshold, bestF1Threshold, calibration, prAuc, rocAuc, type Scored } from './metrics.js';

const xs: Scored[] = [
  { score: 0.9, label: 1 },
  { score: 0.8, label: 0 },
  { score: 0.7, label: 1 },
  { score: 0.3, label: 0 },
  { score: 0.1, label: 0 },
];

describe('metrics', () => {
  it('computes the confusion at a threshold', () => {
    const m = atThreshold(xs, 0.5);
    expect([m.tp, m.fp, m.tn, m.fn]).toEqual([2, 1, 2, 0]);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBe(1);
    expect(m.f1).toBeCloseTo(0.8, 12);
  });
  it('ROC-AUC equals the Mann-Whitney statistic, ties count one half', () => {
    // positives 0.9, 0.7 vs negatives 0.8, 0.3, 0.1: 5 of 6 pairs ordered correctly
    expect(rocAuc(xs)).toBeCloseTo(5 / 6, 12);
    expect(
      rocAuc([
        { score: 0.5, label: 1 },
        { score: 0.5, label: 0 },
      ]),
    ).toBe(0.5);
    expect(rocAuc([{ score: 0.5, label: 1 }])).toBeNaN();
  });
  it('ROC-AUC edge cases: undefined without both classes, 1 and 0 for perfect orders, 0.5 when all tie', () => {
    expect(rocAuc([])).toBeNaN();
    expect(rocAuc([{ score: 0.2, label: 0 }])).toBeNaN();
    const pos = (score: number) => ({ score, label: 1 as const });
    const neg = (score: number) => ({ score, label: 0 as const });
    expect(rocAuc([pos(0.9), pos(0.8), neg(0.1)])).toBe(1);
    expect(rocAuc([pos(0.1), neg(0.8), neg(0.9)])).toBe(0);
    expect(rocAuc([pos(0.4), pos(0.4), neg(0.4), neg(0.4), neg(0.4)])).toBe(0.5);
  });
  it('PR-AUC is the step-wise average precision (as scikit-learn)', () => {
    // sklearn.metrics.average_precision_score([1,0,1,0,0],[.9,.8,.7,.3,.1]) = 0.8333...
    expect(prAuc(xs)).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 12);
  });
  it('ECE is zero for a perfectly calibrated bin and the gap otherwise', () => {
    const perfect: Scored[] = [
      { score: 0.25, label: 1 },
      { score: 0.25, label: 0 },
      { score: 0.25, label: 0 },
      { score: 0.25, label: 0 },
    ];
    expect(calibration(perfect).ece).toBeCloseTo(0, 12);
    const over: Scored[] = [
      { score: 0.95, label: 0 },
      { score: 0.95, label: 1 },
    ];
    expect(calibration(over).ece).toBeCloseTo(0.45, 12);
    expect(() => calibration([{ score: 1.2, label: 1 }])).toThrow(RangeError);
  });
});

describe('bestF1Threshold', () => {
  it('picks the distinct score with the highest F1 and agrees with atThreshold there', () => {
    const ys: Scored[] = [
      { score: 0.95, label: 1 },
      { score: 0.9, label: 1 },
      { score: 0.8, label: 0 },
      { score: 0.6, label: 1 },
      { score: 0.4, label: 0 },
      { score: 0.2, label: 0 },
    ];
    const best = bestF1Threshold(ys);
    // at 0.6: tp 3, fp 1 -> P 0.75, R 1, F1 0.857; at 0.9: tp 2, fp 0 -> F1 0.8
    expect(best.threshold).toBe(0.6);
    expect(best.f1).toBeCloseTo(6 / 7, 12);
    const again = atThreshold(ys, best.threshold);
    expect([again.tp, again.fp, again.tn, again.fn]).toEqual([best.tp, best.fp, best.tn, best.fn]);
    expect(bestF1Threshold([{ score: 0.3, label: 0 }]).threshold).toBeNaN();
  });
});
