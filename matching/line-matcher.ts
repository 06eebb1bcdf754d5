/**
 * The line-matching model: a calibrated probability that two {@link MatchRecord}s are the same
 * item. Trained by `matching/train.ts`; this module only scores, from a plain JSON
 * {@link LineMatcherSpec}:
 *
 * ```
 * x      = denseComparisons(a, b)                       // matching/compare.ts, named features
 * linear = bias + Σ denseWeights[i] * (x[i] - mean[i]) / std[i]
 *        + Σ_{t shared}     commonTokenWeights[h(t)]    // h = fnv1a32(token) mod tokenBuckets
 *        + Σ_{t one side}   differentTokenWeights[h(t)]
 * logit  = trees ? treesMargin(trees, [...x, linear]) : linear   // matching/gbdt.ts
 * p      = calibration(logit)                           // models/spec.ts applyCalibration
 * ```
 *
 * Weights of similarity features are held non-negative and of difference features
 * non-positive in training, and the trees are monotone in the same features and in `linear`
 * (the signs in `DENSE_FEATURES`), so the score never falls as such a similarity rises.
 * Pure: no tfjs, no I/O; runtime code may import it.
 */
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { canonicalSha256 } from '../core/canonical.js';
import { TriageError } from '../core/errors.js';
import { fnv1a32 } from '../features/hashing.js';
import { idfTable, type IdfArtifact, type IdfTable } from '../features/idf.js';
import { applyCalibration, CalibrationSpec } from '../models/spec.js';
import { DENSE_FEATURE_NAMES, denseComparisons, tokenOverlap } from './compare.js';
import { BoostedTrees, treesMargin, treesProblem } from './gbdt.js';
import type { MatchRecord } from './record.js';

export type { MatchRecord } from './record.js';

/** A scorer of candidate item matches. */
export interface LineMatcher {
  /** `lm-<12 hex>`: sha256 of the spec's scoring content (not its card). */
  readonly version: string;
  /** The threshold chosen at training (maximum F1 on the validation pairs), in probability. */
  readonly threshold: number;
  /**
   * Calibrated probability that a and b are the same item (0..1). Symmetric in a and b.
   * What is derived from a record (tokens, embedding, base-unit price) is cached per record
   * object, so treat records as immutable once scored. About 0.2 ms per pair once both records
   * have been seen, 0.7 ms when neither has (Amazon-Google test pairs, 2 busy cores).
   */
  score(a: MatchRecord, b: MatchRecord): number;
  /**
   * Feature comparisons behind a score, for evidence: every dense comparison by name, plus
   * `tokens_common_logit` and `tokens_different_logit` (the shared/unshared tokens' part of
   * the linear stage), `linear_logit` and the final `logit`.
   */
  explain(a: MatchRecord, b: MatchRecord): Record<string, number>;
}

/** Metrics at the chosen threshold on one labelled pair set. */
export const PairSetMetrics = Type.Object({
  pairs: Type.Integer(),
  matches: Type.Integer(),
  precision: Type.Number(),
  recall: Type.Number(),
  f1: Type.Number(),
  rocAuc: Type.Number(),
  prAuc: Type.Number(),
  /** Expected calibration error, 10 equal-width bins. */
  ece: Type.Number(),
});
export type PairSetMetrics = Static<typeof PairSetMetrics>;

/** The stated guarantee of a certified threshold (matching/train.ts `ThresholdCertification`). */
export const ThresholdGuarantee = Type.Object({
  risk: Type.String(),
  /** Bound on the risk, and the allowed probability that the bound does not hold. */
  alpha: Type.Number(),
  delta: Type.Number(),
  /** The certification decisions. */
  on: Type.String(),
  /** False when no candidate was certified (the threshold is then 1). */
  feasible: Type.Boolean(),
  decisions: Type.Integer(),
  /** Right matches among the decisions. */
  matches: Type.Integer(),
  /** Decisions at or above the threshold, and wrong matches among them. */
  selected: Type.Integer(),
  errors: Type.Integer(),
  /** One-sided `1 - delta` Clopper-Pearson upper bound of the risk on the invoice-clustered effective counts. */
  upperBound: Type.Number(),
  /** Design effect of the clusters (training/grouped-risk.ts). */
  deff: Type.Number(),
  /** Share of the right matches at or above the threshold. */
  recall: Type.Number(),
});
export type ThresholdGuarantee = Static<typeof ThresholdGuarantee>;

/** The model card of a trained line matcher. */
export const LineMatcherCard = Type.Object({
  name: Type.Literal('line-matcher'),
  /** The spec's version (`lm-<12 hex>`). */
  version: Type.String(),
  /** What the pairs were (e.g. `amazon-google DeepMatcher train split`). */
  trainedOn: Type.String(),
  /** sha256 of the canonical JSON of the training and validation pairs. */
  dataSha256: Type.String(),
  seed: Type.Integer(),
  /** L2 penalty and epochs of the logistic stage. */
  l2: Type.Number(),
  epochs: Type.Integer(),
  /** Settings of the boosted stage (null: logistic stage alone). */
  boosting: Type.Union([
    Type.Object({
      trees: Type.Integer(),
      depth: Type.Integer(),
      learningRate: Type.Number(),
      lambda: Type.Number(),
      minChildWeight: Type.Number(),
      subsample: Type.Number(),
    }),
    Type.Null(),
  ]),
  /** How calibration was chosen and on what (`training/calibration.ts` selectCalibration). */
  calibration: Type.Object({
    on: Type.String(),
    kind: Type.String(),
    eceBefore: Type.Number(),
    eceAfter: Type.Number(),
  }),
  /** The operating threshold on the calibrated probability (also the spec's `threshold`). */
  threshold: Type.Number(),
  thresholdRule: Type.String(),
  /** Present when the threshold was certified rather than chosen by maximum F1. */
  guarantee: Type.Optional(ThresholdGuarantee),
  train: PairSetMetrics,
  valid: PairSetMetrics,
  /** Filled by the evaluation (`npm run eval -- --er ...`) when test pairs exist. */
  test: Type.Optional(PairSetMetrics),
  intendedUse: Type.String(),
  limitations: Type.String(),
});
export type LineMatcherCard = Static<typeof LineMatcherCard>;

/** A trained line matcher as JSON (see the module doc for the scoring function). */
export const LineMatcherSpec = Type.Object(
  {
    format: Type.Literal('invoice-triage/line-matcher@1'),
    version: Type.String({ pattern: '^lm-[0-9a-f]{12}$' }),
    denseFeatures: Type.Array(Type.String()),
    standardise: Type.Object({ mean: Type.Array(Type.Number()), std: Type.Array(Type.Number()) }),
    denseWeights: Type.Array(Type.Number()),
    bias: Type.Number(),
    tokenBuckets: Type.Integer({ minimum: 1 }),
    commonTokenWeights: Type.Array(Type.Number()),
    differentTokenWeights: Type.Array(Type.Number()),
    /** Document frequencies of description tokens in the training records. */
    idf: Type.Unsafe<IdfArtifact>(Type.Object({ format: Type.Literal('invoice-triage/idf@1') })),
    /** Second stage over {@link STAGE2_FEATURES}; null when the logistic stage is the model. */
    trees: Type.Union([BoostedTrees, Type.Null()]),
    calibration: CalibrationSpec,
    threshold: Type.Number({ minimum: 0, maximum: 1 }),
    card: LineMatcherCard,
  },
  { additionalProperties: false },
);
export type LineMatcherSpec = Static<typeof LineMatcherSpec>;

const checkSpec = Compile(LineMatcherSpec);

/** Inputs of the boosted stage: the dense comparisons, then the logistic stage's logit. */
export const STAGE2_FEATURES: readonly string[] = [...DENSE_FEATURE_NAMES, 'linear_logit'];

/** The part of a spec its version hashes: everything that changes a score. */
export function scoringContent(spec: Omit<LineMatcherSpec, 'version' | 'card'>): unknown {
  const { denseFeatures, standardise, denseWeights, bias, tokenBuckets, calibration, threshold, idf, trees } =
    spec;
  return {
    denseFeatures,
    standardise,
    denseWeights,
    bias,
    tokenBuckets,
    commonTokenWeights: spec.commonTokenWeights,
    differentTokenWeights: spec.differentTokenWeights,
    idf,
    trees,
    calibration,
    threshold,
  };
}

/** Token bucket of a description token. */
export function tokenBucket(token: string, buckets: number): number {
  return fnv1a32(token) % buckets;
}

/** The logit's parts for a pair. */
function logitParts(
  spec: LineMatcherSpec,
  idf: IdfTable,
  a: MatchRecord,
  b: MatchRecord,
): { x: Float64Array; dense: number; common: number; different: number; logit: number } {
  const x = denseComparisons(a, b, idf);
  let dense = spec.bias;
  for (let i = 0; i < x.length; i++)
    dense += (spec.denseWeights[i]! * (x[i]! - spec.standardise.mean[i]!)) / spec.standardise.std[i]!;
  const o = tokenOverlap(a, b);
  let common = 0;
  let different = 0;
  for (const t of o.common) common += spec.commonTokenWeights[tokenBucket(t, spec.tokenBuckets)]!;
  for (const t of o.different) different += spec.differentTokenWeights[tokenBucket(t, spec.tokenBuckets)]!;
  const linear = dense + common + different;
  const logit = spec.trees ? treesMargin(spec.trees, [...x, linear]) : linear;
  return { x, dense, common, different, logit };
}

/**
 * Checks a spec read from JSON: its shape, that its features are this code's comparisons and
 * that its version is the hash of its content.
 * @throws TriageError `TRIAGE_MODEL_INVALID` naming the first problem.
 */
export function assertLineMatcherSpec(value: unknown): LineMatcherSpec {
  if (!checkSpec.Check(value)) {
    const e = [...checkSpec.Errors(value)][0];
    throw new TriageError(
      'TRIAGE_MODEL_INVALID',
      `line-matcher spec is invalid at ${e?.instancePath || '/'}: ${e?.message ?? 'shape'}`,
    );
  }
  const spec = value;
  const n = DENSE_FEATURE_NAMES.length;
  if (spec.denseFeatures.join(',') !== DENSE_FEATURE_NAMES.join(','))
    throw new TriageError(
      'TRIAGE_MODEL_INVALID',
      'line-matcher spec was trained on other comparisons than matching/compare.ts computes',
    );
  if (
    spec.denseWeights.length !== n ||
    spec.standardise.mean.length !== n ||
    spec.standardise.std.length !== n ||
    spec.standardise.std.some((s) => !(s > 0)) ||
    spec.commonTokenWeights.length !== spec.tokenBuckets ||
    spec.differentTokenWeights.length !== spec.tokenBuckets
  )
    throw new TriageError('TRIAGE_MODEL_INVALID', 'line-matcher spec has vectors of the wrong length');
  if (spec.trees) {
    const problem =
      spec.trees.features.join(',') !== STAGE2_FEATURES.join(',') ? 'other inputs' : treesProblem(spec.trees);
    if (problem !== null)
      throw new TriageError('TRIAGE_MODEL_INVALID', `line-matcher spec trees are invalid: ${problem}`);
  }
  if (lineMatcherVersion(spec) !== spec.version)
    throw new TriageError('TRIAGE_MODEL_INVALID', 'line-matcher spec version does not match its content');
  return spec;
}

/** `lm-<12 hex>`: sha256 of the canonical JSON of a spec's {@link scoringContent}. */
export function lineMatcherVersion(spec: Omit<LineMatcherSpec, 'version' | 'card'>): string {
  return `lm-${canonicalSha256(scoringContent(spec)).slice(0, 12)}`;
}

/**
 * A matcher scoring with a spec (checked first; see {@link assertLineMatcherSpec}).
 * @throws TriageError `TRIAGE_MODEL_INVALID` when the spec is not a usable line matcher.
 */
export function loadLineMatcher(spec: LineMatcherSpec): LineMatcher {
  const s = assertLineMatcherSpec(spec);
  const idf = idfTable(s.idf);
  return {
    version: s.version,
    threshold: s.threshold,
    score(a, b) {
      const p = logitParts(s, idf, a, b);
      return applyCalibration(s.calibration, p.logit);
    },
    explain(a, b) {
      const p = logitParts(s, idf, a, b);
      const out: Record<string, number> = {};
      DENSE_FEATURE_NAMES.forEach((name, i) => (out[name] = p.x[i]!));
      out.tokens_common_logit = p.common;
      out.tokens_different_logit = p.different;
      out.linear_logit = p.dense + p.common + p.different;
      out.logit = p.logit;
      return out;
    },
  };
}
