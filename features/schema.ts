/**
 * The feature schema: every feature the scorers and models consume, with its unit, the
 * embedding recipes (including the IDF artefact id), and a version hash over all of it. The
 * hash is stored with every decision and every model; a model trained on another schema is
 * refused with {@link assertFeatureSchema}.
 *
 * What the hash covers: names, units and descriptions of the line and pair vectors (level
 * descriptions state their thresholds), the embedding recipes, the IDF artefact id and
 * {@link FEATURE_CODE_REVISION}. Predicates are code and cannot be hashed reproducibly (tsx
 * and the compiled `dist/` print functions differently): whoever changes how a feature is
 * computed without changing its name or description must bump the revision.
 */
import { createHash } from 'node:crypto';
import { TriageError } from '../core/errors.js';
import { comparisonVectorFeatures } from './comparisons.js';
import { TEXT_EMBEDDING_RECIPE, type TextEmbeddingRecipe } from './embedding.js';
import { EMBEDDING_DIM } from './hashing.js';
import { SHIPPED_IDF_ID } from './idf.js';
import { INVOICE_EMBEDDING_RECIPE, type InvoiceEmbeddingRecipe } from './invoice-features.js';
import { LINE_FEATURE_SPECS } from './line-features.js';

/**
 * Revision of the feature code. Bump it when a computation changes while names, units and
 * descriptions stay the same (a predicate, a clip, a tokeniser detail).
 */
export const FEATURE_CODE_REVISION = 2;

/** One feature: stable name, unit and meaning. */
export interface FeatureSpec {
  name: string;
  unit: string;
  description: string;
}

/** A named, versioned list of features. */
export interface FeatureSchema {
  name: string;
  revision: number;
  /** Line vector then pair vector (kept for readers of the walking-skeleton shape). */
  features: readonly FeatureSpec[];
  /** The coding-mismatch line vector, in order. */
  line: readonly FeatureSpec[];
  /** The duplicate pair vector, in order. */
  pair: readonly FeatureSpec[];
  /**
   * Recipe-1 hashed n-gram embedding (`hashedNgramEmbedding`): the line vectors the store
   * indexes and the reference-code suggestions of the heuristic scorer.
   */
  embedding: { dim: number; ngrams: readonly number[]; words: boolean; hash: 'fnv1a32-signed' };
  /** Recipe-2 text embedding of line descriptions (line features), with its IDF artefact. */
  textEmbedding: TextEmbeddingRecipe & { idf: string };
  /** The invoice embedding the store indexes for duplicate candidates. */
  invoiceEmbedding: InvoiceEmbeddingRecipe;
}

/** Features of one line for the coding-mismatch scorer, in vector order. */
export const LINE_FEATURES: readonly FeatureSpec[] = LINE_FEATURE_SPECS;

/** Features of a candidate pair for the duplicate scorer, in vector order (from `COMPARISONS`). */
export const PAIR_FEATURES: readonly FeatureSpec[] = comparisonVectorFeatures();

/** The schema of this version. */
export const FEATURE_SCHEMA: FeatureSchema = {
  name: 'invoice-triage-features',
  revision: FEATURE_CODE_REVISION,
  features: [...LINE_FEATURES, ...PAIR_FEATURES],
  line: LINE_FEATURES,
  pair: PAIR_FEATURES,
  embedding: { dim: EMBEDDING_DIM, ngrams: [3, 4], words: true, hash: 'fnv1a32-signed' },
  textEmbedding: { ...TEXT_EMBEDDING_RECIPE, idf: SHIPPED_IDF_ID },
  invoiceEmbedding: INVOICE_EMBEDDING_RECIPE,
};

/** `sha256(JSON(schema))`, first 12 hex chars, prefixed: e.g. `fs-1a2b3c4d5e6f`. */
export function featureSchemaVersion(schema: FeatureSchema = FEATURE_SCHEMA): string {
  return `fs-${createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 12)}`;
}

/**
 * Refuses a model (or any artefact) made with another feature schema.
 * @param expected the schema version the model was trained with (from its model card).
 * @param actual the running code's version; default {@link featureSchemaVersion}().
 * @throws TriageError `TRIAGE_MODEL_SCHEMA_MISMATCH` (409) naming both versions when they differ.
 */
export function assertFeatureSchema(expected: string, actual: string = featureSchemaVersion()): void {
  if (expected !== actual) {
    throw new TriageError(
      'TRIAGE_MODEL_SCHEMA_MISMATCH',
      `Model was trained with feature schema ${expected}, but this service computes features with ` +
        `schema ${actual}: retrain the model on the current features or deploy the code version it was trained with.`,
    );
  }
}
