/**
 * The declaration language of pair comparisons (features/comparisons.ts declares the
 * comparisons in it): a comparison's numeric encodings and ordered levels, what a vector entry
 * says about itself, and the helpers the declarations are written with.
 */
import type { PairComparison } from './pair.js';

/** One level of a comparison: a label and the predicate that puts a pair in it. */
export interface ComparisonLevel {
  label: string;
  description: string;
  when: (c: PairComparison) => boolean;
}

/** A numeric encoding of a measurement. */
export interface NumericFeature {
  name: string;
  unit: string;
  description: string;
  /** Raw value; null when the pair lacks the data (then a `<name>_missing` flag is 1). */
  value: (c: PairComparison) => number | null;
  /** Applied to the raw value: `log1p` of a non-negative count (days, dollars, edits). */
  transform?: 'log1p';
  /** Bounds applied after the transform. */
  clip?: readonly [number, number];
  /** True when `value` can return null (adds the `_missing` flag). */
  nullable?: boolean;
  /**
   * Agreement direction for monotone pair models (`features/pair-agreement.ts`): +1 when a larger
   * encoded value means the two invoices agree more (the score must not fall as it grows), -1 when
   * a smaller one does; absent: no direction (evidence either way, e.g. the billing rhythm).
   */
  agreement?: 1 | -1;
}

/** One comparison: its numeric encodings and its levels. */
export interface ComparisonSpec {
  name: string;
  description: string;
  numeric: readonly NumericFeature[];
  /** Ordered levels; the first whose predicate holds is the pair's level. The last must always hold. */
  levels: readonly ComparisonLevel[];
  /**
   * Level labels from most to least agreement, for monotone pair models: a pair moved to a label
   * earlier in this list must not score lower. Levels not listed carry no direction (e.g. a
   * credit memo's reversal). Absent: the comparison's levels carry no direction.
   */
  agreementOrder?: readonly string[];
  /**
   * The pair-vector edition that added this comparison (`VECTOR_EDITIONS` of features/schema.ts,
   * the same notion as a line feature's `since`); absent: the first edition served, 2, the vector
   * `duplicate@1` and `@2` read. Not an entry of {@link comparisonVectorFeatures} (the pair vector's
   * schema version hashes names, units and descriptions only).
   */
  since?: number;
}

/** A level predicate that always holds (a comparison's last level). */
export const always = (): boolean => true;

/** A {@link NumericFeature}: name, unit, meaning, raw value, then transform, clip and nullability. */
export const num = (
  name: string,
  unit: string,
  description: string,
  value: NumericFeature['value'],
  more: Pick<NumericFeature, 'transform' | 'clip' | 'nullable' | 'agreement'> = {},
): NumericFeature => ({ name, unit, description, value, ...more });

/** One entry of the pair vector: its name, unit and meaning. */
export interface VectorFeature {
  name: string;
  unit: string;
  description: string;
}
