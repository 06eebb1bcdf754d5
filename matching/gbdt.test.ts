import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../training/rng.js';
import { treesMargin, treesProblem } from './gbdt.js';
import { fitBoostedTrees } from './gbdt-fit.js';

describe('boosted trees', () => {
  const rng = mulberry32(11);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 800; i++) {
    const a = rng();
    const b = rng();
    x.push([a, b, i % 7 === 0 ? Number.NaN : rng()]);
    // rises with a, falls with b, except a noisy bump in the middle of a that a free fit would follow
    const p = 1 / (1 + Math.exp(-(6 * a - 4 * b + (a > 0.45 && a < 0.55 ? -3 : 0))));
    y.push(rng() < p ? 1 : 0);
  }
  const fit = (monotone: (-1 | 0 | 1)[]) =>
    fitBoostedTrees(x, y, ['a', 'b', 'c'], monotone, {
      trees: 60,
      depth: 3,
      learningRate: 0.1,
      lambda: 1,
      minChildWeight: 1,
      subsample: 0.8,
      rng: mulberry32(3),
    });

  it('learns the signal and is monotone where constrained', () => {
    const m = fit([1, -1, 0]);
    expect(treesProblem(m)).toBeNull();
    expect(treesMargin(m, [0.9, 0.1, 0.5])).toBeGreaterThan(treesMargin(m, [0.1, 0.9, 0.5]));
    for (const b of [0.1, 0.5, 0.9]) {
      let prev = -Infinity;
      for (let a = 0; a <= 1.0001; a += 0.02) {
        const z = treesMargin(m, [a, b, Number.NaN]);
        expect(z).toBeGreaterThanOrEqual(prev - 1e-12);
        prev = z;
      }
    }
    // without the constraint the bump is followed somewhere
    const free = fit([0, 0, 0]);
    let drops = 0;
    let prev = -Infinity;
    for (let a = 0; a <= 1.0001; a += 0.02) {
      const z = treesMargin(free, [a, 0.5, 0.5]);
      if (z < prev - 1e-9) drops++;
      prev = z;
    }
    expect(drops).toBeGreaterThan(0);
  });

  it('is the same for the same seed and reports broken trees', () => {
    expect(JSON.stringify(fit([1, -1, 0]))).toBe(JSON.stringify(fit([1, -1, 0])));
    const m = fit([1, -1, 0]);
    expect(treesProblem({ ...m, trees: [[{ feature: 0, threshold: 0, left: 0, right: 5 }]] })).toMatch(
      /children/,
    );
    expect(treesProblem({ ...m, monotone: [1] })).toMatch(/monotone/);
  });
});
