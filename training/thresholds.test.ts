import { describe, expect, it } from 'vitest';
import { mulberry32 } from './rng.js';
import {
  APPROVE_NOTHING,
  binomialCdf,
  capApproveGrid,
  designGrid,
  HOLD_NOTHING,
  learnThenTest,
  riskPValue,
  separateThresholds,
  type ThresholdSide,
} from './thresholds.js';

/** Direct sum of binomial probabilities, for small n. */
function directCdf(k: number, n: number, p: number): number {
  let s = 0;
  let c = 1;
  for (let j = 0; j <= k; j++) {
    s += c * p ** j * (1 - p) ** (n - j);
    c = (c * (n - j)) / (j + 1);
  }
  return s;
}

describe('binomialCdf and p-values', () => {
  it('matches the direct sum and known values', () => {
    expect(binomialCdf(5, 10, 0.5)).toBeCloseTo(0.623046875, 12);
    for (const [k, n, p] of [
      [0, 20, 0.1],
      [3, 40, 0.05],
      [7, 30, 0.3],
    ] as const)
      expect(binomialCdf(k, n, p)).toBeCloseTo(directCdf(k, n, p), 12);
    // large n, tiny alpha: P(Bin(2000, 0.005) <= 0) = 0.995^2000
    expect(binomialCdf(0, 2000, 0.005)).toBeCloseTo(0.995 ** 2000, 15);
    expect(binomialCdf(-1, 10, 0.2)).toBe(0);
    expect(binomialCdf(10, 10, 0.2)).toBe(1);
  });

  it('Hoeffding-Bentkus is valid but more conservative than the exact binomial p-value', () => {
    for (const [k, n] of [
      [0, 1000],
      [2, 1000],
      [10, 5000],
    ] as const) {
      const b = riskPValue(k, n, 0.005, 'binomial');
      const hb = riskPValue(k, n, 0.005, 'hoeffding-bentkus');
      expect(hb).toBeGreaterThanOrEqual(b);
    }
    expect(riskPValue(0, 0, 0.1)).toBe(1);
  });
});

/**
 * Scores S = U^3 (many low scores, as in triage), Y ~ Bernoulli(min(1, c S)).
 * Approve risk R(λ) = E[cS | S <= λ] = c λ / 4 (λ <= 1/c).
 * Hold risk with c = 1: P(Y = 0 | S >= λ) = 1 - (1 - t^4) / (4 (1 - t)), t = λ^(1/3).
 */
function draw(n: number, seed: number, c: number): { s: Float64Array; y: Uint8Array } {
  const rng = mulberry32(seed);
  const s = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = rng() ** 3;
    y[i] = rng() < Math.min(1, c * s[i]!) ? 1 : 0;
  }
  return { s, y };
}

/** `n` (score, label) pairs drawn by `one` from the generator of `seed`, as parallel arrays. */
function seeded(
  n: number,
  seed: number,
  one: (rnd: () => number) => [score: number, label: number],
): { s: number[]; y: number[] } {
  const rnd = mulberry32(seed);
  const s: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const [score, label] = one(rnd);
    s.push(score);
    y.push(label);
  }
  return { s, y };
}

const trueApproveRisk = (lambda: number, c: number): number =>
  lambda < 0 ? 0 : (c * Math.min(lambda, 1)) / 4;
const trueHoldRisk = (lambda: number): number => {
  if (lambda > 1) return 0;
  const t = Math.cbrt(Math.max(0, lambda));
  return 1 - (1 - t ** 4) / (4 * (1 - t));
};

/** Runs many seeded calibrations and returns the violation frequency and mean coverage. */
function simulate(
  side: ThresholdSide,
  alpha: number,
  delta: number,
  trials: number,
  pick: 'ltt' | 'naive',
  c = 1,
): { violations: number; meanCoverage: number } {
  let violations = 0;
  let cov = 0;
  for (let t = 0; t < trials; t++) {
    const design = draw(1500, 10_000 + t, c);
    const cal = draw(3000, 20_000 + t, c);
    const grid = designGrid(design.s, { side, alpha, delta, testN: cal.s.length }, design.y);
    let lambda: number;
    if (pick === 'ltt') {
      const r = learnThenTest({ scores: cal.s, labels: cal.y, side, alpha, delta, grid });
      lambda = r.threshold;
      cov += r.coverage;
    } else {
      // naive plug-in: the most aggressive grid point whose empirical risk is <= alpha
      lambda = side === 'approve' ? APPROVE_NOTHING : HOLD_NOTHING;
      for (const g of grid) {
        let sel = 0;
        let err = 0;
        for (let i = 0; i < cal.s.length; i++) {
          if (side === 'approve' ? cal.s[i]! <= g : cal.s[i]! >= g) {
            sel++;
            if ((side === 'approve') === (cal.y[i] === 1)) err++;
          }
        }
        if (sel > 0 && err / sel <= alpha) lambda = g;
      }
    }
    const risk = side === 'approve' ? trueApproveRisk(lambda, c) : trueHoldRisk(lambda);
    if (risk > alpha) violations++;
  }
  return { violations: violations / trials, meanCoverage: cov / trials };
}

describe('Learn-then-Test thresholds: the guarantee holds empirically', () => {
  const trials = 300;
  // binomial sampling slack on the violation frequency (3 standard errors)
  const slack = (delta: number): number => 3 * Math.sqrt((delta * (1 - delta)) / trials);

  it('auto-approve: P(true error rate among approved > alpha) <= delta, with useful coverage', () => {
    const alpha = 0.01;
    const delta = 0.1;
    const ltt = simulate('approve', alpha, delta, trials, 'ltt');
    expect(ltt.violations).toBeLessThanOrEqual(delta + slack(delta));
    // the oracle threshold λ* = 4 alpha approves F(λ*) = (0.04)^(1/3) = 34% of invoices
    expect(ltt.meanCoverage).toBeGreaterThan(0.2);
    expect(ltt.meanCoverage).toBeLessThan(0.342);
    // the plug-in choice violates far more often: the check can fail
    expect(simulate('approve', alpha, delta, trials, 'naive').violations).toBeGreaterThan(2 * delta);
  });

  it('auto-approve with a mis-calibrated score (true risk 3x the score) still holds', () => {
    const r = simulate('approve', 0.01, 0.05, trials, 'ltt', 3);
    expect(r.violations).toBeLessThanOrEqual(0.05 + slack(0.05));
  });

  it('hold: P(true false-hold rate > alpha) <= delta', () => {
    const alpha = 0.2;
    const delta = 0.1;
    const ltt = simulate('hold', alpha, delta, trials, 'ltt');
    expect(ltt.violations).toBeLessThanOrEqual(delta + slack(delta));
    expect(ltt.meanCoverage).toBeGreaterThan(0);
    expect(simulate('hold', alpha, delta, trials, 'naive').violations).toBeGreaterThan(2 * delta);
  });

  it('returns the safe default when nothing can be certified', () => {
    const { s, y } = draw(100, 1, 1); // far too few invoices for alpha = 0.001
    const grid = designGrid(s, { side: 'approve', alpha: 0.001, delta: 0.05, testN: 100 }, y);
    // 100 invoices can never certify 0.1%: (1 - 0.001)^100 = 0.90 > delta, whatever the grid
    const r = learnThenTest({
      scores: s,
      labels: y,
      side: 'approve',
      alpha: 0.001,
      delta: 0.05,
      grid,
    });
    expect(r.feasible).toBe(false);
    expect(r.threshold).toBe(APPROVE_NOTHING);
    expect(r.coverage).toBe(0);
  });

  it('designGrid starts where a pass is likely, then steps in log-share', () => {
    const design = draw(2000, 77, 1);
    const grid = designGrid(
      design.s,
      { side: 'approve', alpha: 0.01, delta: 0.1, testN: 3000, maxPoints: 20 },
      design.y,
    );
    expect(grid.length).toBeLessThanOrEqual(20);
    for (let i = 1; i < grid.length; i++) expect(grid[i]!).toBeGreaterThan(grid[i - 1]!);
    // the grid skips the hopeless start: at the first candidate the expected count (share x 3000)
    // is well above the ln(delta)/ln(1 - alpha) = 230 invoices that zero errors need
    const share = Array.from(design.s).filter((v) => v <= grid[0]!).length / 2000;
    expect(share * 3000).toBeGreaterThan(Math.log(0.1) / Math.log(0.99) + 2 * Math.sqrt(230));
    // the last candidate approves every design invoice
    expect(grid[grid.length - 1]).toBe(Math.max(...design.s));
  });

  it('designGrid with maxLogitStep keeps candidates where few invoices score', () => {
    // a model that separates well: 93% clean invoices score below 0.05, 6% exceptions above
    // 0.95, and 1% of each spread over the range between, where the approve threshold lies
    const sample = (n: number, seed: number) =>
      seeded(n, seed, (rnd) => {
        const u = rnd();
        const between = 0.05 + 0.9 * rnd();
        const s = u < 0.93 ? 0.05 * rnd() ** 3 : u < 0.99 ? 0.95 + 0.05 * rnd() : between;
        // in between, the exception odds grow with the score
        return [s, u >= 0.93 && u < 0.99 ? 1 : u >= 0.99 && rnd() < between ? 1 : 0];
      });
    const design = sample(6000, 11);
    const o = { side: 'approve' as const, alpha: 0.005, delta: 0.05, testN: 14000 };
    const coarse = designGrid(design.s, o, design.y);
    const fine = designGrid(design.s, { ...o, maxLogitStep: 0.1 }, design.y);
    const logit = (t: number): number => Math.log(t / (1 - t));
    const widestGap = (grid: number[]): number =>
      Math.max(...grid.slice(1).map((t, i) => logit(Math.min(t, 0.95)) - logit(Math.min(grid[i]!, 0.95))));
    // log-share thinning leaves one wide step across the range between clean and exceptions
    expect(coarse.length).toBe(50);
    expect(widestGap(coarse)).toBeGreaterThan(2);
    // the limit fills it: no two neighbouring candidates below 0.95 more than 0.1 apart, unless
    // no design score lies between them
    for (let i = 1; i < fine.length; i++) {
      if (fine[i]! >= 0.95 || logit(fine[i]!) - logit(fine[i - 1]!) < 0.1) continue;
      const inside = design.s.filter((v) => v > fine[i - 1]! && v < fine[i]!);
      expect(inside.every((v) => logit(v) - logit(fine[i - 1]!) < 0.1)).toBe(true);
    }
    expect(fine.length).toBeGreaterThan(coarse.length);
    // every coarse candidate stays a candidate, with the same start and end
    expect(coarse.every((t) => fine.includes(t))).toBe(true);
    // on a fresh thresholds part, the walk over the finer grid stops closer to where the
    // error budget runs out, so it approves more invoices at the same guarantee
    const thr = sample(14000, 12);
    const run = (grid: number[]) =>
      learnThenTest({ scores: thr.s, labels: thr.y, side: 'approve', alpha: 0.005, delta: 0.05, grid });
    const [c, f] = [run(coarse), run(fine)];
    expect(c.feasible && f.feasible).toBe(true);
    expect(f.threshold).toBeGreaterThan(c.threshold);
    expect(f.selected).toBeGreaterThan(c.selected);
    expect(f.steps.at(-1)!.pValue).toBeGreaterThan(0.05);
  });

  it('designGrid with more points tests thresholds inside a score gap few invoices occupy', () => {
    // 1,940 clean invoices below 0.01, 12 invoices spread through the gap, 48 duplicates at 0.99
    const s = [
      ...Array.from({ length: 1940 }, (_, i) => (0.01 * i) / 1940),
      ...Array.from({ length: 12 }, (_, i) => 0.02 + 0.07 * i),
      ...Array.from({ length: 48 }, () => 0.99),
    ];
    const y = s.map((v) => (v >= 0.99 ? 1 : 0));
    const inGap = (maxPoints?: number): number =>
      designGrid(
        s,
        { side: 'approve', alpha: 0.005, delta: 0.05, testN: 2000, ...(maxPoints ? { maxPoints } : {}) },
        y,
      ).filter((t) => t > 0.01 && t < 0.99).length;
    expect(inGap()).toBeLessThanOrEqual(1);
    expect(inGap(400)).toBeGreaterThanOrEqual(3);
    expect(inGap(2000)).toBe(12);
  });

  it('separateThresholds keeps hold above auto-approve using only certified candidates', () => {
    const step = (threshold: number, rejected: boolean, selected = 10) => ({
      threshold,
      selected,
      errors: 0,
      pValue: 0,
      rejected,
    });
    const hold = {
      threshold: 0.1,
      feasible: true,
      selected: 60,
      errors: 0,
      coverage: 0.06,
      steps: [step(0.9, true, 50), step(0.5, true, 55), step(0.1, true, 60), step(0.05, false)],
    };
    // the auto-approve sequence's certified candidates: 0.02, 0.08 and 0.12 (0.2 failed)
    const approveSteps = [
      step(0.02, true, 850),
      step(0.08, true, 890),
      step(0.12, true, 900),
      step(0.2, false),
    ];
    const approve = {
      threshold: 0.12,
      feasible: true,
      selected: 900,
      errors: 2,
      coverage: 0.9,
      steps: approveSteps,
    };
    // 1. auto-approve steps back to its highest certified candidate below the hold threshold
    const r = separateThresholds(approve, hold, 1000);
    expect(r.hold).toEqual(hold);
    expect(r.approve).toMatchObject({ threshold: 0.08, selected: 890, coverage: 0.89, feasible: true });
    expect(r.note).toMatch(
      /highest certified auto-approve threshold below it \(0.08, 890 of 1000 approved\)/,
    );
    // 2. with no certified auto-approve candidate below the hold threshold, the hold steps up
    const noLower = { ...approve, steps: approveSteps.slice(2) };
    const up = separateThresholds(noLower, hold, 1000);
    expect(up.approve).toEqual(noLower);
    expect(up.hold).toMatchObject({ threshold: 0.5, selected: 55, coverage: 0.055, feasible: true });
    expect(up.note).toMatch(/lowest certified hold threshold above it \(0.5\)/);
    // 3. neither: nothing is held
    const none = separateThresholds({ ...noLower, threshold: 0.95 }, hold, 1000);
    expect(none.hold).toMatchObject({ threshold: HOLD_NOTHING, feasible: false, coverage: 0 });
    // already apart: unchanged
    expect(separateThresholds(approve, { ...hold, threshold: 0.3 }, 1000)).toEqual({
      approve,
      hold: { ...hold, threshold: 0.3 },
      note: null,
    });
  });

  it('a score gap that both sequences run into (duplicate@3 on seed 42) still gets a certified hold', () => {
    // clean invoices near 0, most duplicates at 0.85-1, a few in the gap: like duplicate@3's scores
    const gapSet = (seed: number, n: number) =>
      seeded(n, seed, (rnd) => {
        const u = rnd();
        const s = u < 0.025 ? 0.85 + 0.15 * rnd() : u < 0.027 ? 0.2 + 0.4 * rnd() : 0.02 * rnd() ** 3;
        return [s, u < 0.027 ? 1 : 0];
      });
    const design = gapSet(3, 900);
    const thr = gapSet(103, 2100);
    const run = (side: ThresholdSide, alpha: number) =>
      learnThenTest({
        scores: thr.s,
        labels: thr.y,
        side,
        alpha,
        delta: 0.05,
        grid: designGrid(design.s, { side, alpha, delta: 0.05, testN: thr.s.length }, design.y),
      });
    const approve = run('approve', 0.005);
    const hold = run('hold', 0.1);
    // the auto-approve sequence crossed the gap above the only certified hold candidate
    expect(approve.threshold).toBeGreaterThan(0.85);
    expect(hold.threshold).toBeLessThan(approve.threshold);
    expect(hold.steps.filter((st) => st.rejected && st.threshold > approve.threshold)).toEqual([]);
    const r = separateThresholds(approve, hold, thr.s.length);
    expect(r.hold).toBe(hold);
    expect(r.hold.feasible).toBe(true);
    expect(r.approve.threshold).toBeLessThan(hold.threshold);
    expect(approve.steps.find((st) => st.threshold === r.approve.threshold)?.rejected).toBe(true);
    // what is held is duplicates only; the approved share barely moves
    expect(thr.s.filter((v, i) => v >= r.hold.threshold && thr.y[i] === 0)).toEqual([]);
    expect(approve.selected - r.approve.selected).toBeLessThan(0.02 * thr.s.length);
  });

  it('refuses a grid that is not ordered safest first', () => {
    expect(() =>
      learnThenTest({ scores: [0.1], labels: [0], side: 'hold', alpha: 0.1, delta: 0.1, grid: [0.2, 0.5] }),
    ).toThrow(RangeError);
  });
});

describe('capApproveGrid', () => {
  it('keeps the candidates below the cap and tests the cap itself only when the grid reached it', () => {
    expect(capApproveGrid([0, 0.4, 0.9, 1.2, 7], 1)).toEqual([0, 0.4, 0.9, 1]);
    expect(capApproveGrid([0, 0.4, 1, 3], 1)).toEqual([0, 0.4, 1]);
    expect(capApproveGrid([0, 0.4, 0.9], 1)).toEqual([0, 0.4, 0.9]);
    expect(capApproveGrid([0, 2], Infinity)).toEqual([0, 2]);
    expect(() => capApproveGrid([0], 0)).toThrow(RangeError);
    expect(() => capApproveGrid([0], Number.NaN)).toThrow(RangeError);
  });
});
