/**
 * Training of the line matcher (`matching/line-matcher.ts`) on labelled record pairs: an L2
 * logistic regression over the dense comparisons (sign-constrained, see `DENSE_FEATURES`) and
 * the hashed shared/unshared description tokens, fitted by full-batch Adam from zero weights
 * (deterministic for a seed), then calibrated and thresholded on the validation pairs.
 *
 * - Calibration: `training/calibration.ts` selectCalibration (none / Platt / isotonic by
 *   cross-validated log-loss) on the validation logits.
 * - Threshold: maximum F1 of the calibrated probability on the validation pairs.
 * - Without validation pairs, a seeded 20% of the training pairs (by pair index) is held out
 *   for both.
 */
import { canonicalSha256 } from '../core/canonical.js';
import { fitIdf, idfTable, IDF_TOKENIZER } from '../features/idf.js';
import { calibrateAll, selectCalibration } from '../training/calibration.js';
import {
  atThreshold,
  bestF1Threshold,
  calibration,
  prAuc,
  rocAuc,
  type Scored,
} from '../training/eval/metrics.js';
import { deriveSeed, keyUniform } from '../training/rng.js';
import {
  DENSE_FEATURES,
  DENSE_FEATURE_NAMES,
  denseComparisons,
  recordTokens,
  tokenOverlap,
} from './compare.js';
import {
  lineMatcherVersion,
  loadLineMatcher,
  tokenBucket,
  type LineMatcher,
  type LineMatcherSpec,
  type PairSetMetrics,
} from './line-matcher.js';
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
  /** Full-batch Adam epochs (default 400). */
  epochs?: number;
  /** Hash buckets for shared and for unshared tokens (default 4096 each). */
  tokenBuckets?: number;
  /** What the pairs are, for the card. */
  trainedOn?: string;
}

/** A trained matcher with its JSON spec (save the spec; {@link loadLineMatcher} reads it back). */
export interface TrainedLineMatcher {
  spec: LineMatcherSpec;
  matcher: LineMatcher;
}

interface Encoded {
  x: Float64Array[];
  common: Uint32Array[];
  different: Uint32Array[];
  y: Float64Array;
}

function encode(pairs: readonly LabelledPair[], idf: ReturnType<typeof idfTable>, buckets: number): Encoded {
  const toBuckets = (ts: string[]): Uint32Array => Uint32Array.from(ts, (t) => tokenBucket(t, buckets));
  return {
    x: pairs.map((p) => denseComparisons(p.a, p.b, idf)),
    common: pairs.map((p) => toBuckets(tokenOverlap(p.a, p.b).common)),
    different: pairs.map((p) => toBuckets(tokenOverlap(p.a, p.b).different)),
    y: Float64Array.from(pairs, (p) => p.label),
  };
}

interface LinearWeights {
  mean: number[];
  std: number[];
  w: Float64Array;
  bias: number;
  common: Float64Array;
  different: Float64Array;
}

function logitOf(m: LinearWeights, e: Encoded, i: number): number {
  const x = e.x[i]!;
  let z = m.bias;
  for (let k = 0; k < x.length; k++) z += (m.w[k]! * (x[k]! - m.mean[k]!)) / m.std[k]!;
  for (const h of e.common[i]!) z += m.common[h]!;
  for (const h of e.different[i]!) z += m.different[h]!;
  return z;
}

/** Full-batch Adam on the L2-penalised mean log-loss, dense weights projected onto their signs. */
function fitLogistic(e: Encoded, buckets: number, l2: number, epochs: number): LinearWeights {
  const n = e.y.length;
  const d = DENSE_FEATURE_NAMES.length;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const x of e.x) for (let k = 0; k < d; k++) mean[k]! += x[k]! / n;
  for (const x of e.x) for (let k = 0; k < d; k++) std[k]! += (x[k]! - mean[k]!) ** 2 / n;
  for (let k = 0; k < d; k++) std[k] = Math.sqrt(std[k]!) > 1e-9 ? Math.sqrt(std[k]!) : 1;
  const m: LinearWeights = {
    mean,
    std,
    w: new Float64Array(d),
    bias: 0,
    common: new Float64Array(buckets),
    different: new Float64Array(buckets),
  };
  const size = d + 1 + 2 * buckets;
  const g = new Float64Array(size);
  const m1 = new Float64Array(size);
  const m2 = new Float64Array(size);
  const lr = 0.05;
  const [b1, b2] = [0.9, 0.999];
  for (let t = 1; t <= epochs; t++) {
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const z = logitOf(m, e, i);
      const r = (1 / (1 + Math.exp(-z)) - e.y[i]!) / n;
      const x = e.x[i]!;
      for (let k = 0; k < d; k++) g[k]! += (r * (x[k]! - mean[k]!)) / std[k]!;
      g[d]! += r;
      for (const h of e.common[i]!) g[d + 1 + h]! += r;
      for (const h of e.different[i]!) g[d + 1 + buckets + h]! += r;
    }
    for (let k = 0; k < d; k++) g[k]! += l2 * m.w[k]!;
    for (let h = 0; h < buckets; h++) {
      g[d + 1 + h]! += l2 * m.common[h]!;
      g[d + 1 + buckets + h]! += l2 * m.different[h]!;
    }
    const step = (j: number): number => {
      m1[j] = b1 * m1[j]! + (1 - b1) * g[j]!;
      m2[j] = b2 * m2[j]! + (1 - b2) * g[j]! * g[j]!;
      return (lr * (m1[j]! / (1 - b1 ** t))) / (Math.sqrt(m2[j]! / (1 - b2 ** t)) + 1e-8);
    };
    for (let k = 0; k < d; k++) {
      let w = m.w[k]! - step(k);
      const sign = DENSE_FEATURES[k]![1];
      if (sign > 0 && w < 0) w = 0;
      if (sign < 0 && w > 0) w = 0;
      m.w[k] = w;
    }
    m.bias -= step(d);
    for (let h = 0; h < buckets; h++) {
      m.common[h]! -= step(d + 1 + h);
      m.different[h]! -= step(d + 1 + buckets + h);
    }
  }
  return m;
}

function metricsOf(scored: Scored[], threshold: number): PairSetMetrics {
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

const round = (v: number): number => Math.round(v * 1e6) / 1e6;

function roundWeights(m: LinearWeights): LinearWeights {
  return {
    mean: m.mean.map(round),
    std: m.std.map(round),
    w: m.w.map(round),
    bias: round(m.bias),
    common: m.common.map(round),
    different: m.different.map(round),
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
  const epochs = o.epochs ?? 400;
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

  const validLogits = Float64Array.from(ev.y, (_, i) => logitOf(m, ev, i));
  const sel = selectCalibration(
    { logit: validLogits, y: ev.y },
    valid.map((_, i) => `valid-${i}`),
    o.seed,
  );
  const scoredOf = (e: Encoded, logits: Float64Array): Scored[] =>
    Array.from(calibrateAll(sel.chosen, logits), (score, i) => ({ score, label: e.y[i] as 0 | 1 }));
  const validScored = scoredOf(ev, validLogits);
  const threshold = bestF1Threshold(validScored).threshold;
  const trainScored = scoredOf(
    et,
    Float64Array.from(et.y, (_, i) => logitOf(m, et, i)),
  );

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
    calibration: sel.chosen,
    threshold,
  };
  const spec: LineMatcherSpec = {
    ...body,
    version: lineMatcherVersion(body),
    card: {
      name: 'line-matcher',
      trainedOn: o.trainedOn ?? `${pairs.length} labelled pairs`,
      dataSha256: canonicalSha256({ train: pairs, valid: o.valid ?? null }),
      seed: o.seed,
      l2,
      epochs,
      calibration: {
        on: calibrationOn,
        kind: sel.chosen.kind,
        eceBefore: sel.eceBefore,
        eceAfter: sel.eceAfter,
      },
      thresholdRule: `maximum F1 of the calibrated probability on ${calibrationOn}`,
      train: metricsOf(trainScored, threshold),
      valid: metricsOf(validScored, threshold),
      intendedUse:
        'Scores whether two item records (invoice line, PO line, contract item, product offer) are the same item; ' +
        'retrain on pairs of the lines it will match.',
      limitations:
        'A linear model over hand-made comparisons and hashed tokens: token weights are learnt for the vocabulary ' +
        'of the training pairs only; prices are compared per base unit only when the unit conversion is known.',
    },
  };
  return { spec, matcher: loadLineMatcher(spec) };
}
