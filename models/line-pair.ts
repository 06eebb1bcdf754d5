/**
 * The line-pair model: a logistic regression over the line-pair features
 * (`features/line-pair.ts`, standardised) that scores whether a line of a new invoice bills an
 * earlier line of the vendor again (1) or is a repeat purchase or another item (0). The spec
 * ships as `models/artifacts/line-pair.json` with its card (`line-pair.md`) and figures
 * (`line-pair.eval.json`), written by `npm run train:line-pair` (training/line-pair.ts).
 *
 * Versions: the spec's `version` is `lp-` and the first 12 hex digits of the sha256 of its
 * scoring content (features, standardisation, weights, threshold); a spec names its features, so
 * a later version with other features still loads if this code computes them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalSha256 } from '../core/canonical.js';
import { TriageError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';
import { LINE_PAIR_FEATURE_NAMES } from '../features/line-pair.js';

/** Format tag of a line-pair spec. */
export const LINE_PAIR_FORMAT = 'invoice-triage/line-pair@1';

/** A line-pair model spec as stored. */
export interface LinePairSpec {
  format: typeof LINE_PAIR_FORMAT;
  /** `lp-<12 hex>` of the scoring content ({@link linePairVersion}). */
  version: string;
  /** Feature names in the order of `weights` (a subset, in any order, of `LINE_PAIR_FEATURE_NAMES`). */
  features: string[];
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
  /** Score (probability, [0, 1]) at or above which a line is re-billed. */
  threshold: number;
  /** How it was trained and measured (seed, data, figures); not part of the version. */
  card: Record<string, unknown>;
}

/** A loaded line-pair model. */
export interface LinePairModel {
  version: string;
  threshold: number;
  /** Probability that the pair is a re-billed line, from a vector in `LINE_PAIR_FEATURE_NAMES` order. */
  score(x: ArrayLike<number>): number;
  /** Each feature's contribution to the logit (weight x standardised value), by feature name. */
  contributions(x: ArrayLike<number>): Record<string, number>;
}

/** The version of a spec's scoring content. */
export function linePairVersion(spec: Omit<LinePairSpec, 'version' | 'card' | 'format'>): string {
  const { features, mean, std, weights, bias, threshold } = spec;
  return `lp-${canonicalSha256({ features, mean, std, weights, bias, threshold }).slice(0, 12)}`;
}

/**
 * A model scoring with `spec`.
 * @throws TriageError `TRIAGE_MODEL_INVALID` when the spec is malformed, names a feature this
 *   code does not compute, or its version does not match its content.
 */
export function loadLinePairModel(spec: LinePairSpec): LinePairModel {
  const bad = (why: string): never => {
    throw new TriageError('TRIAGE_MODEL_INVALID', `line-pair spec ${String(spec.version)}: ${why}`);
  };
  if (spec.format !== LINE_PAIR_FORMAT) bad(`format ${String(spec.format)}`);
  const d = spec.features.length;
  if ([spec.mean, spec.std, spec.weights].some((a) => !Array.isArray(a) || a.length !== d))
    bad('mean, std and weights must have one value per feature');
  const at = spec.features.map((n) => LINE_PAIR_FEATURE_NAMES.indexOf(n));
  if (at.some((i) => i < 0)) bad(`unknown feature among ${spec.features.join(', ')}`);
  if (linePairVersion(spec) !== spec.version) bad('version does not match the content');
  const parts = (x: ArrayLike<number>): number[] =>
    at.map((i, k) => (spec.weights[k]! * (x[i]! - spec.mean[k]!)) / spec.std[k]!);
  return {
    version: spec.version,
    threshold: spec.threshold,
    score: (x) => 1 / (1 + Math.exp(-parts(x).reduce((s, v) => s + v, spec.bias))),
    contributions: (x) => {
      const p = parts(x);
      return Object.fromEntries(spec.features.map((n, k) => [n, Math.round(p[k]! * 1e4) / 1e4]));
    },
  };
}

let shipped: LinePairModel | undefined;

/** The shipped model (`models/artifacts/line-pair.json`), loaded once. */
export function shippedLinePairModel(): LinePairModel {
  shipped ??= loadLinePairModel(
    JSON.parse(
      readFileSync(join(packageRoot(), 'models', 'artifacts', 'line-pair.json'), 'utf8'),
    ) as LinePairSpec,
  );
  return shipped;
}
