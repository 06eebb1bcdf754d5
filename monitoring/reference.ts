/**
 * Reference distributions of a model: binned histograms of each input feature and of the
 * model's score on the rows it was trained on, stored beside the model version as the sidecar
 * file `reference-histograms.json`. Drift (monitoring/drift.ts) compares live traffic binned
 * on the same cut points with these counts.
 *
 * Written by `npm run train` for every new run (training/cli.ts) and, for the shipped
 * champions, by `npm run drift:reference` from their training data (the seed-42 benchmark).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { histogram, quantileEdges } from './stats.js';

/** File name of the sidecar in a model version's folder. */
export const REFERENCE_FILE = 'reference-histograms.json';

/** Format tag of the sidecar. */
export const REFERENCE_FORMAT = 'reference-histograms/1';

/** One binned distribution: `counts.length === edges.length + 1` (see `binOf` in stats.ts). */
export interface BinnedDistribution {
  /** Feature name (the model's input name), or `score` for the calibrated probability. */
  name: string;
  /** Ascending cut points (reference deciles, deduplicated). */
  edges: number[];
  counts: number[];
  /** Rows whose value was not finite (missing). */
  missing: number;
}

/** The sidecar's content. */
export interface ReferenceHistograms {
  format: typeof REFERENCE_FORMAT;
  /** `<name>@<version>` when known; runs not yet registered write the task name. */
  model: string;
  /** What one row is: a scored line (coding) or a candidate pair (duplicate). */
  unit: 'line' | 'pair';
  /** Where the rows come from (data set, split), for the card page. */
  source: string;
  /** Rows binned. */
  rows: number;
  features: BinnedDistribution[];
  score: BinnedDistribution;
}

/** Input of {@link buildReference}. */
export interface ReferenceInput {
  model: string;
  unit: 'line' | 'pair';
  source: string;
  featureNames: readonly string[];
  /** Feature rows (schema order), each `featureNames.length` long. */
  rows: readonly ArrayLike<number>[];
  /** The model's calibrated probability of each row. */
  scores: ArrayLike<number>;
  /** Quantile bins per distribution; default 10. */
  bins?: number;
}

/**
 * Bins each feature column and the score at the reference's quantiles.
 * @throws RangeError when a row or the score array has the wrong length.
 */
export function buildReference(i: ReferenceInput): ReferenceHistograms {
  if (i.scores.length !== i.rows.length) throw new RangeError('one score per row is needed');
  const bins = i.bins ?? 10;
  const column = new Float64Array(i.rows.length);
  const features = i.featureNames.map((name, j) => {
    i.rows.forEach((r, k) => {
      if (r.length !== i.featureNames.length)
        throw new RangeError(`row ${k} has ${r.length} values, expected ${i.featureNames.length}`);
      column[k] = r[j]!;
    });
    const edges = quantileEdges(column, bins);
    return { name, edges, ...histogram(column, edges) };
  });
  const scoreEdges = quantileEdges(i.scores, bins);
  return {
    format: REFERENCE_FORMAT,
    model: i.model,
    unit: i.unit,
    source: i.source,
    rows: i.rows.length,
    features,
    score: { name: 'score', edges: scoreEdges, ...histogram(i.scores, scoreEdges) },
  };
}

/** Writes the sidecar into `dir`; returns its path. */
export function writeReference(dir: string, r: ReferenceHistograms): string {
  const path = join(dir, REFERENCE_FILE);
  writeFileSync(path, JSON.stringify(r) + '\n');
  return path;
}

/**
 * Reads the sidecar of a model version folder; null when the version has none.
 * @throws Error when the file exists but is not a reference of this format.
 */
export function readReference(dir: string): ReferenceHistograms | null {
  const path = join(dir, REFERENCE_FILE);
  if (!existsSync(path)) return null;
  const r = JSON.parse(readFileSync(path, 'utf8')) as ReferenceHistograms;
  if (r.format !== REFERENCE_FORMAT || !Array.isArray(r.features) || !r.score)
    throw new Error(`${path} is not a ${REFERENCE_FORMAT} file`);
  return r;
}
