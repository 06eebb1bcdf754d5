import { describe, expect, it } from 'vitest';
import { specLogit, type DenseLayer, type TrainedModelSpec } from '../models/spec.js';
import {
  MONOTONE_MIXED_MLP_16_8,
  MONOTONE_MIXED_MLP_16_8_X2,
  parameterCount,
} from '../models/specs/index.js';
import { memberSeed, mergeMembers } from './ensemble.js';
import { mulberry32 } from './rng.js';

const INPUTS = 5;

/** A random ReLU network over `INPUTS` inputs, its sign pattern monotone increasing in every input. */
function member(seed: number, hidden: number[], monotone: boolean): TrainedModelSpec {
  const rnd = mulberry32(seed);
  const w = (): number => (monotone ? rnd() : rnd() * 2 - 1);
  const layers: DenseLayer[] = [];
  let width = INPUTS;
  for (const [k, h] of [...hidden, 1].entries()) {
    layers.push({
      weights: Array.from({ length: width }, () => Array.from({ length: h }, w)),
      bias: Array.from({ length: h }, () => rnd() - 0.5),
      activation: k === hidden.length ? 'linear' : 'relu',
    });
    width = h;
  }
  return {
    task: 'duplicate',
    architecture: hidden.length ? 'mlp' : 'logistic',
    featureNames: Array.from({ length: INPUTS }, (_, i) => `f${i}`),
    featureSchemaVersion: 'fs-test',
    standardise: { mean: [0.1, 0.2, 0.3, 0.4, 0.5], std: [1, 2, 1, 2, 1] },
    layers,
    calibration: { kind: 'platt', a: 2, b: -1 },
    seed,
  };
}

const points = (n: number, seed: number): number[][] => {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, () => Array.from({ length: INPUTS }, () => rnd() * 4 - 2));
};

describe('seed ensembles merged into one network', () => {
  it('the merged logit is the mean of the members’ logits (MLP and logistic)', () => {
    for (const hidden of [[4, 3], [6], []]) {
      const members = [1, 2, 3].map((s) => member(s, hidden, false));
      const merged = mergeMembers(members);
      expect(merged.calibration).toEqual({ kind: 'none' });
      expect(merged.layers.map((l) => l.bias.length)).toEqual([...hidden.map((h) => 3 * h), 1]);
      for (const x of points(200, 7)) {
        const mean = members.reduce((s, m) => s + specLogit(m, x), 0) / members.length;
        expect(specLogit(merged, x)).toBeCloseTo(mean, 12);
      }
    }
  });

  it('a merge of monotone members never falls when an input rises', () => {
    const merged = mergeMembers([member(11, [4, 3], true), member(12, [4, 3], true)]);
    let falls = 0;
    for (const x of points(500, 9))
      for (let i = 0; i < INPUTS; i++) {
        const up = [...x];
        up[i] = up[i]! + 0.5;
        if (specLogit(merged, up) < specLogit(merged, x) - 1e-12) falls++;
      }
    expect(falls).toBe(0);
  });

  it('refuses members with another standardisation or depth, and an empty ensemble', () => {
    const a = member(1, [4, 3], false);
    expect(() => mergeMembers([])).toThrow(RangeError);
    expect(() =>
      mergeMembers([a, { ...a, standardise: { mean: [0, 0, 0, 0, 0], std: [1, 1, 1, 1, 1] } }]),
    ).toThrow(/standardisation/);
    expect(() => mergeMembers([a, member(2, [4], false)])).toThrow(/depth/);
  });

  it('member 0 trains with the run seed; the declaration counts every member’s parameters', () => {
    expect(memberSeed(42, 0)).toBe(42);
    expect(memberSeed(42, 1)).not.toBe(42);
    expect(memberSeed(42, 1)).not.toBe(memberSeed(42, 2));
    expect(parameterCount(MONOTONE_MIXED_MLP_16_8_X2, 78)).toBe(
      2 * parameterCount(MONOTONE_MIXED_MLP_16_8, 78),
    );
  });
});
