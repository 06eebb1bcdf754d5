import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../datasets/synth.js';
import { auditSampler, estimateAutoApproveError } from './audit-sample.js';
import { compareDistribution } from './drift.js';
import {
  auditDraw,
  binOf,
  clopperPearson,
  histogram,
  jensenShannon,
  precisionRecall,
  psi,
  quantileEdges,
  rocAuc,
} from './stats.js';

describe('binned distributions', () => {
  it('bins on cut points: (-inf, e0), [e0, e1), ..., [e_last, inf); non-finite is missing', () => {
    const edges = [1, 2, 3];
    expect([0.5, 1, 1.5, 2, 2.99, 3, 10].map((x) => binOf(x, edges))).toEqual([0, 1, 1, 2, 2, 3, 3]);
    expect(binOf(Number.NaN, edges)).toBe(-1);
    expect(histogram([0, 1, 2, Number.NaN, 5], edges)).toEqual({ counts: [1, 1, 1, 1], missing: 1 });
  });

  it('cuts at deciles: a binary feature gets two bins, a constant one', () => {
    expect(quantileEdges([0, 0, 0, 1, 1], 10)).toEqual([1]);
    expect(quantileEdges([4, 4, 4], 10)).toEqual([]);
    expect(
      quantileEdges(
        Array.from({ length: 100 }, (_, i) => i),
        10,
      ),
    ).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });

  it('PSI and JS match a hand computation', () => {
    // shares e = (0.5, 0.5), a = (0.8, 0.2)
    const hand = (0.8 - 0.5) * Math.log(0.8 / 0.5) + (0.2 - 0.5) * Math.log(0.2 / 0.5);
    expect(psi([50, 50], [80, 20])).toBeCloseTo(hand, 12);
    expect(psi([30, 70], [3, 7])).toBeCloseTo(0, 12);
    const m = [0.65, 0.35];
    const js =
      0.5 * (0.5 * Math.log2(0.5 / m[0]!) + 0.5 * Math.log2(0.5 / m[1]!)) +
      0.5 * (0.8 * Math.log2(0.8 / m[0]!) + 0.2 * Math.log2(0.2 / m[1]!));
    expect(jensenShannon([50, 50], [80, 20])).toBeCloseTo(js, 12);
    expect(jensenShannon([10, 0], [0, 10])).toBeCloseTo(1, 12);
  });

  it('status: PSI thresholds with enough rows, JS where bins are sparse, insufficient below 30 rows', () => {
    const ref = { name: 'x', edges: [1], counts: [500, 500], missing: 0 };
    expect(compareDistribution(ref, { feature: 'x', counts: [52, 48], missing: 0 }).status).toBe('ok');
    const watch = compareDistribution(ref, { feature: 'x', counts: [66, 34], missing: 0 });
    expect(watch.psi).toBeGreaterThanOrEqual(0.1);
    expect(watch.status).toBe('watch');
    expect(compareDistribution(ref, { feature: 'x', counts: [80, 20], missing: 0 }).status).toBe('drift');
    expect(compareDistribution(ref, { feature: 'x', counts: [20, 9], missing: 0 }).status).toBe(
      'insufficient_data',
    );
    const sparse = compareDistribution(
      { ...ref, edges: [1, 2, 3, 4, 5, 6, 7, 8, 9], counts: new Array(10).fill(100) },
      {
        feature: 'x',
        counts: [10, 5, 5, 5, 5, 5, 0, 0, 0, 5],
        missing: 0,
      },
    );
    expect(sparse.statistic).toBe('js');
    expect(sparse.status).toBe(
      sparse.js_bits! >= 0.045 ? 'drift' : sparse.js_bits! >= 0.018 ? 'watch' : 'ok',
    );
    // 20% missing against none in the reference: drift
    expect(compareDistribution(ref, { feature: 'x', counts: [40, 40], missing: 20 }).status).toBe('drift');
  });
});

describe('ranking and threshold metrics', () => {
  it('ROC-AUC counts pairs (ties half); precision/recall count flagged rows', () => {
    const rows = [
      { score: 0.9, y: 1 as const },
      { score: 0.4, y: 1 as const },
      { score: 0.4, y: 0 as const },
      { score: 0.1, y: 0 as const },
    ];
    // pairs (pos, neg): (0.9,0.4) 1, (0.9,0.1) 1, (0.4,0.4) 0.5, (0.4,0.1) 1 -> 3.5 / 4
    expect(rocAuc(rows)).toBeCloseTo(0.875, 12);
    expect(rocAuc(rows.filter((r) => r.y === 1))).toBeNull();
    expect(precisionRecall(rows, (s) => s > 0.3)).toEqual({ precision: 2 / 3, recall: 1, flagged: 3 });
    expect(precisionRecall(rows, (s) => s > 0.95)).toEqual({ precision: null, recall: 0, flagged: 0 });
  });
});

describe('audit sample', () => {
  it('Clopper-Pearson matches the closed forms and published values', () => {
    expect(clopperPearson(0, 10).upper).toBeCloseTo(1 - 0.025 ** (1 / 10), 9);
    expect(clopperPearson(10, 10).lower).toBeCloseTo(0.025 ** (1 / 10), 9);
    const mid = clopperPearson(5, 10);
    expect(mid.lower).toBeCloseTo(0.187086, 5);
    expect(mid.upper).toBeCloseTo(0.812914, 5);
    expect(clopperPearson(0, 0)).toEqual({ lower: 0, upper: 1 });
    // Reference: Boost's beta quantiles at 95% (as @stdlib/stats-base-dists-beta-quantile 0.2.3
    // computes them); jStat's agree to 2e-9.
    const boost: [number, number, number, number][] = [
      [1, 10, 0.0025285785444617848, 0.44501611702819527],
      [2, 40, 0.0061136465993508375, 0.16919686395941755],
      [1, 200, 0.00012658102786701825, 0.02754189845720562],
      [5, 400, 0.00407083584459972, 0.028928343785286817],
      [12, 400, 0.015595552999894333, 0.05181721543058359],
      [3, 1000, 0.0006190999316495715, 0.008742023238478303],
      [20, 1000, 0.012258267972406327, 0.03072003268260911],
      [0, 50, 0, 0.07112173646419764],
      [50, 50, 0.9288782635358024, 1],
      [7, 20000, 0.00014072936111137778, 0.0007209999554352942],
      [54, 100, 0.4374115798664715, 0.640156647020588],
    ];
    for (const [k, n, lower, upper] of boost) {
      const ci = clopperPearson(k, n);
      expect(Math.abs(ci.lower - lower), `lower ${k}/${n}`).toBeLessThan(2e-9);
      expect(Math.abs(ci.upper - upper), `upper ${k}/${n}`).toBeLessThan(2e-9);
    }
    expect(() => clopperPearson(3, 2)).toThrow(RangeError);
  });

  it('the draw is deterministic, uniform and samples the policy rate', () => {
    const seed = 'tenant:acme';
    const id = '9b2f3c1e-0000-4000-8000-000000000001';
    expect(auditDraw(seed, id)).toBe(auditDraw(seed, id));
    expect(auditDraw(seed, id)).not.toBe(auditDraw('tenant:other', id));
    const u = mulberry32(7);
    const ids = Array.from({ length: 20_000 }, () => Math.floor(u() * 2 ** 52).toString(16));
    const draw = auditSampler({ rate: 0.02, seed, version: 1 });
    const sampled = ids.filter((i) => draw(i).sampled).length;
    // binomial(20000, 0.02): mean 400, sd 19.8
    expect(Math.abs(sampled - 400)).toBeLessThan(80);
  });

  it('the interval covers a known error rate at about its nominal level over seeded runs', () => {
    // Each run: 1,000 AUTO_APPROVE decisions, each an exception with probability p (unknown to
    // the estimator), drawn into the audit sample at rate 0.4 by the production draw, every
    // sampled one reviewed. The 95% Clopper-Pearson interval must cover p in about 95% of runs
    // (it is conservative: at least 95%, typically 96-98% at these sizes).
    const p = 0.02;
    const runs = 300;
    const u = mulberry32(42);
    let covered = 0;
    let estimates = 0;
    for (let run = 0; run < runs; run++) {
      const draw = auditSampler({ rate: 0.4, seed: `tenant:sim-${run}`, version: 2 });
      let reviewed = 0;
      let errors = 0;
      for (let i = 0; i < 1000; i++) {
        const isError = u() < p;
        if (!draw(`decision-${run}-${i}`).sampled) continue;
        reviewed++;
        if (isError) errors++;
      }
      const e = estimateAutoApproveError({ sampled: reviewed, reviewed, errors }, 0.01);
      if (e.interval.lower <= p && p <= e.interval.upper) covered++;
      estimates += e.estimate!;
    }
    const coverage = covered / runs;
    expect(coverage).toBeGreaterThanOrEqual(0.93);
    expect(coverage).toBeLessThanOrEqual(0.995);
    // unbiased: the mean estimate is p within 3 standard errors (sd of one run ~ 0.007)
    expect(Math.abs(estimates / runs - p)).toBeLessThan(3 * (0.007 / Math.sqrt(runs)));
  });

  it('alerts only when the lower end is above the certified bound', () => {
    expect(estimateAutoApproveError({ sampled: 400, reviewed: 400, errors: 2 }, 0.01).alert).toBe(false);
    const high = estimateAutoApproveError({ sampled: 400, reviewed: 400, errors: 12 }, 0.01);
    expect(high.interval.lower).toBeGreaterThan(0.01);
    expect(high.alert).toBe(true);
    expect(estimateAutoApproveError({ sampled: 3, reviewed: 0, errors: 0 }, 0.01)).toMatchObject({
      estimate: null,
      alert: false,
    });
  });
});
