/**
 * The training options read back from the shipped cards: each champion is reproduced with the
 * options it was trained with.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ModelCard } from '../models/card.js';
import { recordedTrainOptions, trainArgs } from './reproduce-args.js';

const card = (model: string, v: number): ModelCard =>
  JSON.parse(readFileSync(`models/artifacts/${model}/${v}/card.json`, 'utf8')) as ModelCard;

describe('recordedTrainOptions', () => {
  it('reads the non-default options of duplicate@5 from its card', () => {
    const o = recordedTrainOptions(card('duplicate', 5).training!);
    expect(o).toEqual({
      seed: 7,
      vectorEdition: 4,
      architectures: ['monotone-mixed-mlp-16-8-x2'],
      hardNegativeWeight: 5,
      approveGridPoints: 400,
    });
    expect(trainArgs(o)).toEqual([
      '--seed',
      '7',
      '--vector-edition',
      '4',
      '--architectures',
      'monotone-mixed-mlp-16-8-x2',
      '--hard-negative-weight',
      '5',
      '--approve-grid-points',
      '400',
    ]);
  });

  it('reads defaults as absent (duplicate@2) and the logit step of coding-mismatch@7', () => {
    expect(recordedTrainOptions(card('duplicate', 2).training!)).toEqual({
      seed: 42,
      vectorEdition: 2,
      architectures: ['logistic-l2', 'mlp-16-8'],
    });
    const c7 = recordedTrainOptions(card('coding-mismatch', 7).training!);
    expect(c7.gridLogitStep).toBe(0.1);
    expect(c7.hardNegativeWeight).toBeUndefined();
    expect(trainArgs(c7).slice(-2)).toEqual(['--grid-logit-step', '0.1']);
  });

  it('refuses feature names that are no edition of the vector', () => {
    const d = card('duplicate', 5).training!;
    expect(() => recordedTrainOptions({ ...d, featureNames: ['nope'] })).toThrow(
      /no edition of the pair vector/,
    );
  });
});
