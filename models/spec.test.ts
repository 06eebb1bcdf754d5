import { describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
import {
  applyCalibration,
  assertModelCardDraft,
  assertModelSpec,
  predictProbability,
  sigmoid,
  specLogit,
  type TrainedModelSpec,
} from './spec.js';
import { LOGISTIC, MLP_16_8, parameterCount } from './specs/index.js';

const mlp: TrainedModelSpec = {
  task: 'coding-mismatch',
  architecture: 'mlp',
  featureNames: ['a', 'b'],
  featureSchemaVersion: 'fs-test',
  standardise: { mean: [1, 2], std: [2, 4] },
  layers: [
    {
      weights: [
        [1, -1],
        [0.5, 2],
      ],
      bias: [0, 1],
      activation: 'relu',
    },
    { weights: [[2], [-1]], bias: [0.25], activation: 'linear' },
  ],
  calibration: { kind: 'platt', a: 2, b: -1 },
  seed: 42,
};

function expectModelInvalid(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(isTriageError(e, 'TRIAGE_MODEL_INVALID')).toBe(true);
    return;
  }
  throw new Error('expected TRIAGE_MODEL_INVALID');
}

describe('TrainedModelSpec', () => {
  it('computes the documented forward pass', () => {
    // z0 = ((3-1)/2, (6-2)/4) = (1, 1); h = relu((1+0.5, -1+2) + (0, 1)) = (1.5, 2)
    // logit = 2*1.5 - 2 + 0.25 = 1.25; p = sigmoid(2*1.25 - 1)
    expect(specLogit(mlp, [3, 6])).toBeCloseTo(1.25, 12);
    expect(predictProbability(mlp, [3, 6])).toBeCloseTo(sigmoid(1.5), 12);
    // relu clips: z0 = (-1, -1): h = relu((-1.5, 1-2+1)) = (0, 0) -> logit 0.25
    expect(specLogit(mlp, [-1, -2])).toBeCloseTo(0.25, 12);
  });

  it('isotonic calibration interpolates on sigmoid(logit) and clamps at the ends', () => {
    const iso = { kind: 'isotonic' as const, x: [0.2, 0.6], y: [0.1, 0.5] };
    expect(applyCalibration(iso, -10)).toBe(0.1);
    expect(applyCalibration(iso, 10)).toBe(0.5);
    expect(applyCalibration(iso, 0)).toBeCloseTo(0.1 + ((0.5 - 0.2) / 0.4) * 0.4, 12);
    expect(applyCalibration({ kind: 'none' }, 0)).toBe(0.5);
  });

  it('accepts a consistent spec and refuses inconsistent ones with TRIAGE_MODEL_INVALID', () => {
    expect(assertModelSpec(JSON.parse(JSON.stringify(mlp)))).toEqual(mlp);
    expectModelInvalid(() => assertModelSpec({ ...mlp, seed: 'x' }));
    expectModelInvalid(() => assertModelSpec({ ...mlp, standardise: { mean: [0, 0], std: [1, 0] } }));
    expectModelInvalid(() => assertModelSpec({ ...mlp, layers: [mlp.layers[0]] }));
    expectModelInvalid(() =>
      assertModelSpec({ ...mlp, layers: [mlp.layers[0], { ...mlp.layers[1]!, activation: 'relu' }] }),
    );
    expectModelInvalid(() =>
      assertModelSpec({ ...mlp, calibration: { kind: 'isotonic', x: [0.5, 0.4], y: [0, 1] } }),
    );
    expectModelInvalid(() => assertModelSpec({ ...mlp, architecture: 'logistic' }));
    expect(() => specLogit(mlp, [1])).toThrow(RangeError);
  });

  it('refuses a card draft missing fields', () => {
    expectModelInvalid(() => assertModelCardDraft({ task: 'duplicate' }));
  });

  it('counts parameters of the declared architectures', () => {
    expect(parameterCount(LOGISTIC, 6)).toBe(7);
    expect(parameterCount(MLP_16_8, 6)).toBe(6 * 16 + 16 + 16 * 8 + 8 + 8 + 1);
  });
});
