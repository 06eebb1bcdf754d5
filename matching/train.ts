/**
 * Training of the line matcher (`matching/line-matcher.ts`) on labelled record pairs:
 *
 * 1. a logistic regression over the dense comparisons and hashed tokens
 *    (`matching/logistic-fit.ts`);
 * 2. optionally (`boosting`), boosted trees (`matching/gbdt-fit.ts`, monotone in the
 *    comparisons with a domain sign and in the stage-1 logit) over the dense comparisons plus the stage-1 logit, which the trees
 *    see out-of-fold on the training pairs (5 folds) so they do not learn its overfit; the
 *    number of trees is chosen by log-loss on the validation pairs. Off by default: on the
 *    Amazon-Google validation pairs it did not beat stage 1 alone (F1 0.715 against 0.714 at
 *    400 epochs) and it costs six logistic fits instead of one.
 *
 * Defaults (`l2` 3e-4, 800 epochs) were chosen by F1 on the Amazon-Google validation pairs
 * among l2 1e-4 / 3e-4 / 1e-3 and 400 / 800 epochs; the test pairs were not used.
 *
 * Then calibration (`training/calibration.ts` selectCalibration: none / Platt / isotonic by
 * cross-validated log-loss) and the threshold (maximum F1) on the validation pairs. Without
 * validation pairs a seeded 20% of the training pairs is held out for these.
 */
import { canonicalSha256 } from '../core/canonical.js';
import { fitIdf, idfTable, IDF_TOKENIZER } from '../features/idf.js';
import { calibrateAll, logLoss, selectCalibration } from '../training/calibration.js';
import {
  atThreshold,
  bestF1Threshold,
  calibration,
  prAuc,
  rocAuc,
  type Scored,
} from '../training/eval/metrics.js';
import { deriveSeed, keyUniform, mulberry32 } from '../training/rng.js';
import { DENSE_FEATURES, DENSE_FEATURE_NAMES, recordTokens } from './compare.js';
import { treesMargin, type BoostedTrees } from './gbdt.js';
import { fitBoostedTrees, type BoostOptions } from './gbdt-fit.js';
import {
  lineMatcherVersion,
  loadLineMatcher,
  STAGE2_FEATURES,
  type LineMatcher,
  type LineMatcherSpec,
  type PairSetMetrics,
  type ThresholdGuarantee,
} from './line-matcher.js';
import { learnThenTest } from '../training/thresholds.js';
import { clusterCounts, riskUpperBound } from '../training/grouped-risk.js';
import {
  encode,
  fitLogistic,
  logitOf,
  round,
  roundWeights,
  type Encoded,
  type LinearWeights,
} from './logistic-fit.js';
import type { MatchRecord } from './record.js';

/** A labelled pair: 1 = the same item. */
export interface LabelledPair {
  a: MatchRecord;
  b: MatchRecord;
  label: 0 | 1;
}

/** Options of {@link trainLineMatcher}. */
export interface TrainLineMatcherOptions {
  /** Seed of the run (the held-out split when `valid` is absent, calibration folds). */
  seed: number;
  /** Validation pairs for calibration and the threshold. */
  valid?: readonly LabelledPair[];
  /** L2 penalty per weight on the mean log-loss (default 3e-4). */
  l2?: number;
  /** Full-batch Adam epochs (default 800). */
  epochs?: number;
  /** Hash buckets for shared and for unshared tokens (default 4096 each). */
  tokenBuckets?: number;
  /** Boosted second stage: settings (`{}` for the defaults), or false for the logistic stage alone (default). */
  boosting?: false | Partial<Omit<BoostOptions, 'rng'>>;
  /** What the pairs are, for the card. */
  trainedOn?: string;
  /** Certify the threshold on these pairs instead of taking the maximum F1 (see {@link certifyThreshold}). */
  certify?: ThresholdCertification;
}

/**
 * A threshold with a precision guarantee: Learn-then-Test (training/thresholds.ts, side `hold`:
 * the decisions scored at or above the threshold are the selected ones, a wrong match among
 * them an error) over the fixed grid {@link CERTIFY_GRID}, tested highest first, on decisions
 * that played no part in the fit or the calibration, clustered by group (training/grouped-risk.ts:
 * decisions of one invoice are not independent). With probability at least `1 - delta` over the
 * draw of these decisions, the wrong-match rate among decisions at or above the threshold is at
 * most `alpha` (precision at least `1 - alpha`), for decisions drawn like them.
 */
export interface ThresholdCertification {
  /**
   * The decisions to certify on, given the trained matcher's calibrated score: one score, label
   * (1 = a right match) and group per decision. For pairs, the pairs' own scores and labels; for
   * an alignment, each line's chosen counterpart.
   */
  decisions(score: (a: MatchRecord, b: MatchRecord) => number): {
    scores: number[];
    labels: (0 | 1)[];
    groups: string[];
  };
  alpha: number;
  delta: number;
  /** What the decisions are, for the card. */
  on: string;
}

/**
 * Candidate thresholds of {@link ThresholdCertification}, safest (highest) first: 0.999 and
 * 0.995, 0.99 down to 0.01 in steps of 0.01, then 1-2-5 steps down to 1e-6, so that a
 * certification passing at 0.01 still finds where its bound binds.
 */
export const CERTIFY_GRID: readonly number[] = [
  0.999,
  0.995,
  ...Array.from({ length: 99 }, (_, i) => (99 - i) / 100),
  ...[1e-3, 1e-4, 1e-5, 1e-6].flatMap((d) => [5 * d, 2 * d, d]),
];

/** A trained matcher with its JSON spec (save the spec; {@link loadLineMatcher} reads it back). */
export interface TrainedLineMatcher {
  spec: LineMatcherSpec;
  matcher: LineMatcher;
}

/** Metrics of calibrated scores at a threshold, with ROC-AUC, PR-AUC and ECE (a card's entry). */
export function pairSetMetrics(scored: readonly Scored[], threshold: number): PairSetMetrics {
  const at = atThreshold(scored, threshold);
  return {
    pairs: scored.length,
    matches: scored.filter((s) => s.label === 1).length,
    precision: at.precision,
    recall: at.recall,
    f1: at.f1,
    rocAuc: rocAuc(scored),
    prAuc: prAuc(scored),
    ece: calibration(scored).ece,
  };
}

const BOOST_DEFAULTS: Omit<BoostOptions, 'rng'> = {
  trees: 300,
  depth: 3,
  learningRate: 0.05,
  lambda: 1,
  minChildWeight: 2,
  subsample: 0.8,
};

function boostSettings(b: Partial<Omit<BoostOptions, 'rng'>>): Omit<BoostOptions, 'rng' | 'trees'> {
  const { depth, learningRate, lambda, minChildWeight, subsample } = { ...BOOST_DEFAULTS, ...b };
  return { depth, learningRate, lambda, minChildWeight, subsample };
}

/**
 * The boosted stage: stage-1 logits out-of-fold on the training pairs, trees fitted on the
 * comparisons plus that logit, cut to the tree count with the lowest validation log-loss.
 */
function fitStage2(
  et: Encoded,
  ev: Encoded,
  m: LinearWeights,
  o: { seed: number; buckets: number; l2: number; epochs: number; boost: Partial<Omit<BoostOptions, 'rng'>> },
): BoostedTrees {
  const folds = 5;
  const foldSeed = deriveSeed(o.seed, 'line-matcher-stage1-folds');
  const fold = et.y.map((_, i) => Math.floor(keyUniform(foldSeed, String(i)) * folds));
  const oof = new Float64Array(et.y.length);
  for (let f = 0; f < folds; f++) {
    const inFit = (i: number): boolean => fold[i] !== f;
    const pick = <T>(xs: readonly T[]): T[] => xs.filter((_, i) => inFit(i));
    const part: Encoded = {
      x: pick(et.x),
      common: pick(et.common),
      different: pick(et.different),
      y: Float64Array.from(pick(Array.from(et.y))),
    };
    const mf = fitLogistic(part, o.buckets, o.l2, o.epochs);
    for (let i = 0; i < et.y.length; i++) if (!inFit(i)) oof[i] = logitOf(mf, et, i);
  }
  const monotone = [...DENSE_FEATURES.map((f) => f[1]), 1 as const];
  const settings = {
    ...BOOST_DEFAULTS,
    ...o.boost,
    rng: mulberry32(deriveSeed(o.seed, 'line-matcher-boost')),
  };
  const fitted = fitBoostedTrees(
    et.x.map((x, i) => [...x, oof[i]!]),
    et.y,
    STAGE2_FEATURES,
    monotone,
    settings,
  );
  // the tree count with the lowest validation log-loss
  const vx = ev.x.map((x, i) => [...x, logitOf(m, ev, i)]);
  const margins = new Float64Array(ev.y.length).fill(fitted.base);
  let best = { n: 0, loss: logLoss(Float64Array.from(margins, sigmoidOf), ev.y) };
  fitted.trees.forEach((_, t) => {
    const one: BoostedTrees = { ...fitted, base: 0, trees: [fitted.trees[t]!] };
    for (let i = 0; i < margins.length; i++) margins[i]! += treesMargin(one, vx[i]!);
    const loss = logLoss(Float64Array.from(margins, sigmoidOf), ev.y);
    if (loss < best.loss) best = { n: t + 1, loss };
  });
  const roundNode = (n: BoostedTrees['trees'][number][number]): BoostedTrees['trees'][number][number] =>
    'value' in n ? { value: round(n.value) } : n;
  return {
    ...fitted,
    base: round(fitted.base),
    trees: fitted.trees.slice(0, Math.max(1, best.n)).map((t) => t.map(roundNode)),
  };
}

const sigmoidOf = (z: number): number => 1 / (1 + Math.exp(-z));

/** Runs the certification of {@link ThresholdCertification}; the threshold is 1 when no candidate is certified. */
function certifyThreshold(
  c: ThresholdCertification,
  score: (a: MatchRecord, b: MatchRecord) => number,
): { threshold: number; guarantee: ThresholdGuarantee } {
  const { scores, labels, groups } = c.decisions(score);
  if (groups.length !== scores.length || labels.length !== scores.length)
    throw new RangeError('one label and one group per certification decision');
  const ltt = learnThenTest({
    scores,
    labels,
    side: 'hold',
    alpha: c.alpha,
    delta: c.delta,
    grid: CERTIFY_GRID,
    groups,
  });
  const threshold = ltt.feasible ? ltt.threshold : 1;
  const bound = riskUpperBound(
    clusterCounts(
      scores.map((s) => s >= threshold),
      labels.map((y) => y === 0),
      groups,
    ),
    c.delta,
  );
  const matches = labels.filter((y) => y === 1).length;
  return {
    threshold,
    guarantee: {
      risk: 'wrong-match rate among decisions scored at or above the threshold (1 - precision)',
      alpha: c.alpha,
      delta: c.delta,
      on: c.on,
      feasible: ltt.feasible,
      decisions: scores.length,
      matches,
      selected: bound.n,
      errors: bound.errors,
      upperBound: round(bound.upper),
      deff: round(bound.deff),
      recall: matches === 0 ? 0 : round((bound.n - bound.errors) / matches),
    },
  };
}

/**
 * Trains, calibrates and thresholds a line matcher.
 * @param pairs training pairs (both labels needed).
 * @throws RangeError when the training pairs (or the held-out part) lack a label class.
 */
export function trainLineMatcher(
  pairs: readonly LabelledPair[],
  o: TrainLineMatcherOptions,
): TrainedLineMatcher {
  const l2 = o.l2 ?? 3e-4;
  const epochs = o.epochs ?? 800;
  const buckets = o.tokenBuckets ?? 4096;
  let train = pairs;
  let valid = o.valid;
  let calibrationOn = 'the validation pairs';
  if (!valid || valid.length === 0) {
    const seed = deriveSeed(o.seed, 'line-matcher-holdout');
    const held = pairs.map((_, i) => keyUniform(seed, String(i)) < 0.2);
    train = pairs.filter((_, i) => !held[i]);
    valid = pairs.filter((_, i) => held[i]);
    calibrationOn = 'a seeded 20% of the training pairs, held out of the fit';
  }
  for (const [name, set] of [
    ['training', train],
    ['validation', valid],
  ] as const)
    if (!set.some((p) => p.label === 1) || !set.some((p) => p.label === 0))
      throw new RangeError(`the ${name} pairs need both matches and non-matches`);

  const seen = new Set<string>();
  const docs: string[][] = [];
  for (const p of train)
    for (const r of [p.a, p.b])
      if (!seen.has(r.description)) {
        seen.add(r.description);
        docs.push(recordTokens(r));
      }
  const idfArtifact = fitIdf(docs, {
    source: `descriptions of the line matcher's training records (${o.trainedOn ?? 'pairs'})`,
    tokenizer: IDF_TOKENIZER,
  });
  const idf = idfTable(idfArtifact);
  const et = encode(train, idf, buckets);
  const ev = encode(valid, idf, buckets);
  // rounded as stored, so the metrics and the threshold are those of the served weights
  const m = roundWeights(fitLogistic(et, buckets, l2, epochs));
  const trees =
    o.boosting === false || o.boosting === undefined
      ? null
      : fitStage2(et, ev, m, { seed: o.seed, buckets, l2, epochs, boost: o.boosting });
  const logitsOf = (e: Encoded): Float64Array =>
    Float64Array.from(e.y, (_, i) => {
      const z = logitOf(m, e, i);
      return trees ? treesMargin(trees, [...e.x[i]!, z]) : z;
    });
  const validLogits = logitsOf(ev);
  const sel = selectCalibration(
    { logit: validLogits, y: ev.y },
    valid.map((_, i) => `valid-${i}`),
    o.seed,
  );
  const scoredOf = (e: Encoded, logits: Float64Array): Scored[] =>
    Array.from(calibrateAll(sel.chosen, logits), (score, i) => ({ score, label: e.y[i] as 0 | 1 }));
  const validScored = scoredOf(ev, validLogits);
  const f1Threshold = bestF1Threshold(validScored).threshold;
  const trainScored = scoredOf(et, logitsOf(et));

  const specOf = (threshold: number, certified: ThresholdGuarantee | null): LineMatcherSpec => {
    const body = {
      format: 'invoice-triage/line-matcher@1' as const,
      denseFeatures: [...DENSE_FEATURE_NAMES],
      standardise: { mean: m.mean, std: m.std },
      denseWeights: Array.from(m.w),
      bias: m.bias,
      tokenBuckets: buckets,
      commonTokenWeights: Array.from(m.common),
      differentTokenWeights: Array.from(m.different),
      idf: idfArtifact,
      trees,
      calibration: sel.chosen,
      threshold,
    };
    const version = lineMatcherVersion(body);
    return {
      ...body,
      version,
      card: {
        name: 'line-matcher',
        version,
        trainedOn: o.trainedOn ?? `${pairs.length} labelled pairs`,
        dataSha256: canonicalSha256({ train: pairs, valid: o.valid ?? null }),
        seed: o.seed,
        l2,
        epochs,
        boosting: trees ? { trees: trees.trees.length, ...boostSettings(o.boosting || {}) } : null,
        calibration: {
          on: calibrationOn,
          kind: sel.chosen.kind,
          eceBefore: sel.eceBefore,
          eceAfter: sel.eceAfter,
        },
        threshold,
        thresholdRule: certified
          ? `lowest threshold of ${CERTIFY_GRID[0]} down to ${CERTIFY_GRID[CERTIFY_GRID.length - 1]} certified by Learn-then-Test ` +
            `(fixed sequence, grouped binomial test) to keep the wrong-match rate among decisions at or above it at most ` +
            `${o.certify!.alpha} with probability ${1 - o.certify!.delta}, on ${o.certify!.on}`
          : `maximum F1 of the calibrated probability on ${calibrationOn}`,
        ...(certified ? { guarantee: certified } : {}),
        train: pairSetMetrics(trainScored, threshold),
        valid: pairSetMetrics(validScored, threshold),
        intendedUse:
          'Scores whether two item records (invoice line, PO line, contract item, product offer) are the same item; ' +
          'retrain on pairs of the lines it will match.',
        limitations:
          'A linear model over hand-made comparisons and hashed tokens: token weights are learnt for the vocabulary ' +
          'of the training pairs only; prices are compared per base unit only when the unit conversion is known.',
      },
    };
  };
  let spec = specOf(f1Threshold, null);
  if (o.certify) {
    const c = certifyThreshold(o.certify, loadLineMatcher(spec).score);
    spec = specOf(c.threshold, c.guarantee);
  }
  return { spec, matcher: loadLineMatcher(spec) };
}
