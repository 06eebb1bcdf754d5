import { describe, expect, it } from 'vitest';
import { specLogit, type TrainedModelSpec } from '../models/spec.js';
import { MONOTONE_MIXED_MLP_16_8, MONOTONE_MLP_16_8 } from '../models/specs/index.js';
import { vectorAgreement } from '../features/pair-agreement.js';
import { COMPARISONS, PAIR_VECTOR_NAMES } from '../features/comparisons.js';
import { mulberry32 } from './rng.js';
import { flagDirections, foldLevelFlags, toLevelFlags, withLevelFlags } from './monotone.js';
import { kernelSigns, trainNetwork, unitDirections } from './train.js';

const opts = { task: 'duplicate' as const, featureSchemaVersion: 'fs-test', seed: 42 };

/**
 * "Both agree": label 1 iff x0 > 0 and x1 > 0 on [-3, 3]^2. Its logit is concave (a minimum) in
 * the two agreement inputs: a convex monotone network cannot separate it, since the negatives
 * (-1, 3) and (3, -1) have the positive (1, 1) between them.
 */
function bothAgree(n: number, seed: number): { X: number[][]; y: number[]; w: number[] } {
  const rnd = mulberry32(seed);
  const X = Array.from({ length: n }, () => [rnd() * 6 - 3, rnd() * 6 - 3]);
  return { X, y: X.map(([a, b]) => (a! > 0 && b! > 0 ? 1 : 0)), w: X.map(() => 1) };
}

function errorRate(spec: TrainedModelSpec, d: { X: number[][]; y: number[] }): number {
  return d.X.filter((x, i) => (specLogit(spec, x) > 0 ? 1 : 0) !== d.y[i]).length / d.X.length;
}

describe('monotone networks that can be concave (mixed unit directions)', () => {
  it('unitDirections and kernelSigns: falling units enter the next layer with weights <= 0', () => {
    expect(unitDirections(8, 0.5)).toEqual([1, 1, 1, 1, -1, -1, -1, -1]);
    expect(unitDirections(4)).toEqual([1, 1, 1, 1]);
    const signs = kernelSigns({ ...MONOTONE_MIXED_MLP_16_8, hidden: [2, 2] }, [1, -1, 0]);
    expect(signs).toEqual([
      [
        [1, -1],
        [-1, 1],
        [0, -0],
      ],
      [
        [1, -1],
        [-1, 1],
      ],
      [[1], [-1]],
    ]);
  });

  it('fits a concave monotone target that the convex monotone MLP cannot, and stays monotone', async () => {
    const train = { featureNames: ['a', 'b'], ...bothAgree(3000, 1) };
    const valid = bothAgree(2000, 2);
    const small = { epochs: 40, batchSize: 64 };
    const agreement = [1, 1];
    const convex = await trainNetwork(train, { ...MONOTONE_MLP_16_8, ...small }, { ...opts, agreement });
    const mixed = await trainNetwork(train, { ...MONOTONE_MIXED_MLP_16_8, ...small }, { ...opts, agreement });
    const eConvex = errorRate(convex.spec, valid);
    const eMixed = errorRate(mixed.spec, valid);
    // the best convex separator misclassifies a corner of the L-shaped negatives
    expect(eConvex).toBeGreaterThan(0.06);
    expect(eMixed).toBeLessThan(0.03);
    expect(eMixed).toBeLessThan(eConvex / 3);
    // the three points no convex logit orders correctly
    expect(specLogit(mixed.spec, [1, 1])).toBeGreaterThan(0);
    expect(specLogit(mixed.spec, [-1, 3])).toBeLessThan(0);
    expect(specLogit(mixed.spec, [3, -1])).toBeLessThan(0);
    // never falls along either input, from 300 points
    for (const x of valid.X.slice(0, 300))
      for (const j of [0, 1]) {
        const up = [...x];
        up[j] = up[j]! + 0.5;
        expect(specLogit(mixed.spec, up)).toBeGreaterThanOrEqual(specLogit(mixed.spec, x) - 1e-9);
      }
  }, 300_000);
});

describe('level flags (training/monotone.ts)', () => {
  it('toLevelFlags turns a chain one-hot into "at least this level" flags', () => {
    // chain of columns 3, 1, 2 (most agreement first); column 0 numeric
    expect(toLevelFlags([0.5, 1, 0, 0], [[3, 1, 2]])).toEqual([0.5, 1, 1, 0]);
    expect(toLevelFlags([0.5, 0, 0, 1], [[3, 1, 2]])).toEqual([0.5, 1, 1, 1]);
    expect(toLevelFlags([0.5, 0, 1, 0], [[3, 1, 2]])).toEqual([0.5, 0, 1, 0]);
  });

  it('the pair vector declares a chain for every ordinal comparison and a direction for agreement numerics', () => {
    const a = vectorAgreement(PAIR_VECTOR_NAMES);
    const ordinal = COMPARISONS.filter((s) => s.agreementOrder).map((s) => s.name);
    expect(a.chains).toHaveLength(ordinal.length);
    const col = (n: string): number => PAIR_VECTOR_NAMES.indexOf(n);
    expect(a.direction[col('invoice_date.days_apart')]).toBe(-1);
    expect(a.direction[col('embedding.cosine')]).toBe(1);
    expect(a.direction[col('invoice_number.raw_edits_missing')]).toBe(0);
    const number = a.chains.find((c) => c[0] === col('invoice_number=exact_raw'))!;
    expect(number.map((c) => PAIR_VECTOR_NAMES[c])).toEqual(
      COMPARISONS.find((s) => s.name === 'invoice_number')!.agreementOrder!.map((l) => `invoice_number=${l}`),
    );
    // credit-memo reversals and currencies carry no direction: outside the amount chain
    const amount = a.chains.find((c) => c[0] === col('amount=exact'))!;
    expect(amount).not.toContain(col('amount=sign_flipped'));
    expect(flagDirections(a)[amount[0]!]).toBe(1);
    expect(flagDirections(a)[amount[amount.length - 1]!]).toBe(0);
  });

  it('a network trained on flags, folded, scores one-hot rows as the flag network scores their flags', async () => {
    // numeric x0 (agreeing), a 4-level chain in columns 1-4, a free one-hot column 5
    const rnd = mulberry32(7);
    const rows = Array.from({ length: 1500 }, () => {
      const level = Math.floor(rnd() * 4);
      const x = [rnd() * 2 - 1, 0, 0, 0, 0, rnd() < 0.3 ? 1 : 0];
      x[1 + level] = 1;
      return x;
    });
    const y = rows.map((x) => (x[0]! + (x[1]! ? 2 : x[2]! ? 1 : 0) - x[5]! + (rnd() - 0.5) > 0.8 ? 1 : 0));
    const agreement = { direction: [1, 0, 0, 0, 0, 0], chains: [[1, 2, 3, 4]] };
    const data = { featureNames: ['x0', 'l0', 'l1', 'l2', 'l3', 'free'], X: rows, y, w: rows.map(() => 1) };
    const { spec } = await trainNetwork(
      withLevelFlags(data, agreement),
      { ...MONOTONE_MIXED_MLP_16_8, epochs: 4, batchSize: 128 },
      { ...opts, agreement: flagDirections(agreement) },
    );
    const folded = foldLevelFlags(spec, agreement);
    for (const x of rows.slice(0, 300))
      expect(specLogit(folded, x)).toBeCloseTo(specLogit(spec, toLevelFlags(x, agreement.chains)), 9);
    expect(folded.standardise.mean.slice(1, 5)).toEqual([0, 0, 0, 0]);
    // a hot level moved up its chain never scores lower
    for (const x of rows.slice(0, 300)) {
      const level = x.slice(1, 5).indexOf(1);
      if (level === 0) continue;
      const up = [...x];
      up[1 + level] = 0;
      up[level] = 1;
      expect(specLogit(folded, up)).toBeGreaterThanOrEqual(specLogit(folded, x) - 1e-9);
    }
  });
});
