/**
 * The shipped duplicate champion (models/artifacts/duplicate, its `champion` alias) and the input
 * vector it reads for a pair, for the tests that score fixtures with it directly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shippedModelsDir } from '../bin/bootstrap.js';
import type { Invoice } from '../core/invoice.js';
import { pairFeatureVector, PAIR_VECTOR_NAMES } from '../features/comparisons.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { comparePair, pairSideOfInvoice } from '../features/pair.js';
import type { ModelCard } from '../models/card.js';
import { inputProjection } from '../models/signature.js';
import type { TrainedModelSpec } from '../models/spec.js';

/** The shipped duplicate champion: its version directory's parent, version, spec and card. */
export interface ShippedDuplicateChampion {
  /** `models/artifacts/duplicate`. */
  dir: string;
  /** The `champion` alias, e.g. `5`. */
  version: string;
  spec: TrainedModelSpec;
  card: ModelCard;
  /**
   * The champion's input vector for the pair (later invoice `a`, earlier `b`) at embedding cosine
   * `cosine`: today's pair vector, projected on the champion's features by name (it may read an
   * earlier edition).
   */
  pairInput(a: Invoice, b: Invoice, cosine: number): Float32Array;
}

/**
 * Reads the shipped duplicate champion (see {@link ShippedDuplicateChampion}).
 * @throws Error when its alias, spec or card cannot be read; RangeError when the champion reads
 *   a feature today's pair vector does not have.
 */
export function shippedDuplicateChampion(): ShippedDuplicateChampion {
  const dir = join(shippedModelsDir(), 'duplicate');
  const read = (path: string): unknown => JSON.parse(readFileSync(join(dir, path), 'utf8'));
  const version = (read('aliases.json') as { champion: string }).champion;
  const spec = read(join(version, 'spec.json')) as TrainedModelSpec;
  const card = read(join(version, 'card.json')) as ModelCard;
  const inputs = inputProjection(spec.featureNames, PAIR_VECTOR_NAMES);
  const pairInput = (a: Invoice, b: Invoice, cosine: number): Float32Array => {
    const v = pairFeatureVector(
      comparePair(
        pairSideOfInvoice(a, extractInvoiceFeatures(a)),
        pairSideOfInvoice(b, extractInvoiceFeatures(b)),
        cosine,
      ),
    );
    return inputs ? Float32Array.from(inputs, (k) => v[k]!) : v;
  };
  return { dir, version, spec, card, pairInput };
}
