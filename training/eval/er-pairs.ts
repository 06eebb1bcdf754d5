/**
 * Line matching on a user's labelled pairs in the DeepMatcher layout
 * (`npm run eval -- --er-pairs DIR`, `datasets/er/deepmatcher.ts`): the line matcher is
 * trained on `DIR/*_train.csv`, calibrated and thresholded on `*_valid.csv` and measured on
 * `*_test.csv`, beside the recipe-2 description-embedding cosine (threshold also chosen on
 * valid) as the untrained reference. Fields are mapped to match records by name
 * (`matching/fields.ts`). Same report as the Amazon-Google evaluation (`er.ts`).
 */
import { cosine } from '../../features/hashing.js';
import { embedText } from '../../features/embedding.js';
import { readPairSplits, type FieldPair } from '../../datasets/er/deepmatcher.js';
import type { MatchRecord } from '../../matching/record.js';
import type { LabelledPair } from '../../matching/train.js';
import { pairCounts, scoreScorers, type ErReport, type PairScorer, type SidePair } from './er.js';
import { MATCHER_SEED, sideRecords, trainMatcherScorer, withTestMetrics } from './er-matcher.js';

/** The untrained reference: cosine of the recipe-2 embeddings of the two descriptions. */
export const DESCRIPTION_EMBEDDING: PairScorer<MatchRecord> = {
  name: 'description-embedding',
  description:
    'cosine of the recipe-2 text embeddings of the descriptions (features/embedding.ts), untrained',
  current: false,
  score: (a, b) => Math.max(0, cosine(embedText(a.description), embedText(b.description))),
};

/**
 * Trains and evaluates the line matcher on a pair directory.
 * @throws TriageError `TRIAGE_FILE_INVALID` naming the file when the pairs cannot be read;
 *   RangeError when the train or valid pairs lack matches or non-matches.
 */
export function evaluatePairDirectory(dir: string, o: { seed?: number } = {}): ErReport {
  const splits = readPairSplits(dir);
  const toRecord = sideRecords((s: Record<string, string>) => s);
  const asPairs = (ps: readonly FieldPair[]): LabelledPair[] =>
    ps.map((p) => ({ a: toRecord(p.left), b: toRecord(p.right), label: p.label }));
  const asSides = (ps: readonly LabelledPair[]): SidePair<MatchRecord>[] =>
    ps.map((p) => ({ left: p.a, right: p.b, label: p.label }));
  const [train, valid, test] = [asPairs(splits.train), asPairs(splits.valid), asPairs(splits.test)];
  const trained = trainMatcherScorer(train, valid, {
    seed: o.seed ?? MATCHER_SEED,
    trainedOn: `${splits.files.train} (fields ${splits.fields.join(', ')}; threshold and calibration on ${splits.files.valid})`,
  });
  return {
    benchmark: `pairs in ${dir}`,
    pairs: pairCounts(valid, test),
    published: null,
    scorers: scoreScorers(asSides(valid), asSides(test), [DESCRIPTION_EMBEDDING, trained.scorer]),
    lineMatcher: withTestMetrics(trained.spec.card, trained.scorer, test, trained.spec.threshold),
  };
}
