/**
 * The trained line matcher (`matching/`) as a scorer of the line-matching evaluations
 * (`er.ts`, `er-pairs.ts`): trained on the train pairs, calibrated and thresholded on the valid
 * pairs, its card completed with the test metrics.
 */
import { recordFromFields } from '../../matching/fields.js';
import type { LineMatcherCard } from '../../matching/line-matcher.js';
import type { MatchRecord } from '../../matching/record.js';
import {
  pairSetMetrics,
  trainLineMatcher,
  type LabelledPair,
  type TrainedLineMatcher,
} from '../../matching/train.js';
import type { PairScorer } from './er.js';

/** Seed of the line matcher trained by the evaluations (the figures in the README use it). */
export const MATCHER_SEED = 7;

/**
 * A memoised converter from a side of any shape to a {@link MatchRecord} through
 * {@link recordFromFields}, so each side is converted (and its comparisons prepared) once.
 */
export function sideRecords<S extends object>(
  fields: (s: S) => Record<string, string>,
): (s: S) => MatchRecord {
  const cache = new WeakMap<S, MatchRecord>();
  return (s) => {
    let r = cache.get(s);
    if (!r) {
      r = recordFromFields(fields(s));
      cache.set(s, r);
    }
    return r;
  };
}

/** Trains the matcher and wraps it as a scorer (its threshold is re-chosen on valid, the same rule). */
export function trainMatcherScorer(
  train: readonly LabelledPair[],
  valid: readonly LabelledPair[],
  o: { seed: number; trainedOn: string },
): TrainedLineMatcher & { scorer: PairScorer<MatchRecord> } {
  const trained = trainLineMatcher(train, { seed: o.seed, valid, trainedOn: o.trainedOn });
  return {
    ...trained,
    scorer: {
      name: 'line-matcher',
      description: `trained line-matching model (matching/, ${trained.spec.version}), calibrated probability`,
      current: false,
      score: (a, b) => trained.matcher.score(a, b),
    },
  };
}

/** The card with the metrics at its threshold on the test pairs. */
export function withTestMetrics(
  card: LineMatcherCard,
  scorer: PairScorer<MatchRecord>,
  test: readonly LabelledPair[],
  threshold: number,
): LineMatcherCard {
  const s = test.map((p) => ({ score: scorer.score(p.a, p.b), label: p.label }));
  return { ...card, test: pairSetMetrics(s, threshold) };
}
