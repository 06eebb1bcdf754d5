/**
 * The feature schema: every feature the scorers and models consume, with its unit, the
 * embedding recipes (including the IDF artefact id), and a version hash over all of it. The
 * hash is stored with every decision and every model; a model trained on another schema is
 * refused with {@link assertFeatureSchema}.
 *
 * Two vectors, two versions: the coding-mismatch model reads the line vector, the duplicate
 * model the pair vector, and each model is checked against the version of the vector it reads
 * ({@link vectorSchemaVersion}), so a change to one vector does not refuse the other's model.
 * {@link featureSchemaVersion} hashes the whole schema and is recorded with every decision.
 *
 * What a hash covers: names, units and descriptions of the vector(s) (level descriptions state
 * their thresholds), the embedding recipes, the IDF artefact id and the vector's revision in
 * {@link FEATURE_CODE_REVISIONS}. Predicates are code and cannot be hashed reproducibly (tsx and
 * the compiled `dist/` print functions differently): whoever changes how a feature is computed
 * without changing its name or description must bump its vector's revision.
 */
import { createHash } from 'node:crypto';
import { TriageError } from '../core/errors.js';
import { comparisonVectorFeatures, pairFeatureSince } from './comparisons.js';
import { TEXT_EMBEDDING_RECIPE, type TextEmbeddingRecipe } from './embedding.js';
import { EMBEDDING_DIM } from './hashing.js';
import { SHIPPED_IDF_ID } from './idf.js';
import { INVOICE_EMBEDDING_RECIPE, type InvoiceEmbeddingRecipe } from './invoice-features.js';
import { LINE_FEATURE_SPECS } from './line-features.js';

/** A model's input vector: `line` (coding-mismatch) or `pair` (duplicate). */
export type FeatureVector = 'line' | 'pair';

/** One edition of a vector: a feature set the code computes, and the code revision it is hashed with. */
export interface VectorEdition {
  /** The edition's number: a feature is in it when its `since` is at most this. */
  edition: number;
  /** The vector's code revision at this edition (hashed into {@link vectorSchemaVersion}). */
  revision: number;
}

/**
 * Editions of each vector the current code computes, oldest first; the last is the current one.
 * A later edition only adds features, each marked with the edition that added it (`since` of a
 * line feature, `since` of a pair comparison; absent: the first edition listed), and changes none:
 * a model trained on an earlier edition (`coding-mismatch@4` on line edition 3, `duplicate@1`/`@2`
 * on pair edition 2, `@4` on edition 3) is served the current vector restricted to its features, by name
 * ({@link earlierVectorVersions}). A revision bump that changes how an existing feature is
 * computed retires every edition listed before it. Adding features changes the version by itself
 * (names are hashed), so an edition need not bump the revision (pair edition 3 did not).
 */
export const VECTOR_EDITIONS: Readonly<Record<FeatureVector, readonly VectorEdition[]>> = {
  line: [
    { edition: 3, revision: 3 },
    { edition: 4, revision: 4 },
    { edition: 5, revision: 4 },
  ],
  pair: [
    { edition: 2, revision: 2 },
    { edition: 3, revision: 2 },
    { edition: 4, revision: 2 },
  ],
};

/**
 * Revision of the code computing each vector (its current edition's, {@link VECTOR_EDITIONS}).
 * Bump a vector's revision when its computation changes while names, units and descriptions stay
 * the same (a predicate, a clip, a tokeniser detail).
 */
export const FEATURE_CODE_REVISIONS: Readonly<Record<FeatureVector, number>> = {
  line: VECTOR_EDITIONS.line.at(-1)!.revision,
  pair: VECTOR_EDITIONS.pair.at(-1)!.revision,
};

/**
 * Revision of the feature code as a whole (hashed into {@link featureSchemaVersion}), derived
 * from {@link FEATURE_CODE_REVISIONS}: 2 while both vectors are at revision 2 (the last
 * whole-schema revision, so decisions keep their recorded version), raised by any vector's bump.
 */
export const FEATURE_CODE_REVISION = FEATURE_CODE_REVISIONS.line + FEATURE_CODE_REVISIONS.pair - 2;

/** One feature: stable name, unit and meaning. */
export interface FeatureSpec {
  name: string;
  unit: string;
  description: string;
  /** The edition of its vector that added it ({@link VECTOR_EDITIONS}); absent on the older features. */
  since?: number;
}

/** A named, versioned list of features. */
export interface FeatureSchema {
  name: string;
  /** {@link FEATURE_CODE_REVISION}. */
  revision: number;
  /** The line vector then the pair vector in one list (hashed into {@link featureSchemaVersion}). */
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
 * Version of one vector: `sha256` of the schema's name, that vector's features and revision
 * (`revisions[vector]`), and the embedding recipes (first 12 hex chars, prefixed `fs-`). A model
 * is checked against the version of the vector it reads.
 */
export function vectorSchemaVersion(
  vector: FeatureVector,
  schema: FeatureSchema = FEATURE_SCHEMA,
  revisions: Readonly<Record<FeatureVector, number>> = FEATURE_CODE_REVISIONS,
): string {
  const { name, embedding, textEmbedding, invoiceEmbedding } = schema;
  const part = {
    name,
    vector,
    revision: revisions[vector],
    features: schema[vector],
    embedding,
    textEmbedding,
    invoiceEmbedding,
  };
  return `fs-${createHash('sha256').update(JSON.stringify(part)).digest('hex').slice(0, 12)}`;
}

/**
 * Versions from before the schema was split per vector (one hash over both vectors), each with
 * the vector version it is equivalent to: `fs-ca204ebda249` (revision 2, carried by
 * `duplicate@1` and `coding-mismatch@1`/`@2`) computed the line and the pair vector exactly as
 * line and pair revision 2 do. Such a version is accepted for its vector only while that
 * vector's version is still the equivalent one (see {@link acceptedSchemaVersions}): a change to
 * the line vector retires it for coding models without touching the duplicate model.
 */
export const PRE_SPLIT_SCHEMA_VERSIONS: readonly {
  version: string;
  vector: FeatureVector;
  equivalent: string;
}[] = [
  { version: 'fs-ca204ebda249', vector: 'line', equivalent: 'fs-ded86bbdb3b7' },
  { version: 'fs-ca204ebda249', vector: 'pair', equivalent: 'fs-7b1f5698ee81' },
];

/**
 * The versions a model reading `vector` may carry: the vector's {@link vectorSchemaVersion}
 * first, then the pre-split versions equivalent to it ({@link PRE_SPLIT_SCHEMA_VERSIONS}).
 */
export function acceptedSchemaVersions(
  vector: FeatureVector,
  schema: FeatureSchema = FEATURE_SCHEMA,
  revisions: Readonly<Record<FeatureVector, number>> = FEATURE_CODE_REVISIONS,
): string[] {
  const current = vectorSchemaVersion(vector, schema, revisions);
  return [
    current,
    ...PRE_SPLIT_SCHEMA_VERSIONS.filter((p) => p.vector === vector && p.equivalent === current).map(
      (p) => p.version,
    ),
  ];
}

/** A vector as an earlier edition computed it: its schema versions and its feature names in order. */
export interface EarlierVectorVersion {
  edition: number;
  /** Its {@link vectorSchemaVersion} (hashed at the edition's revision). */
  version: string;
  /** Pre-split versions equivalent to `version` ({@link PRE_SPLIT_SCHEMA_VERSIONS}). */
  accepted: readonly string[];
  names: readonly string[];
}

const PAIR_SINCE = pairFeatureSince();

/** The edition that added `feature` of `vector`: its `since` (line) or its comparison's (pair); 0 when none is given. */
function sinceOf(vector: FeatureVector, feature: FeatureSpec): number {
  return (vector === 'line' ? feature.since : (feature.since ?? PAIR_SINCE.get(feature.name))) ?? 0;
}

/**
 * The editions of `vector` before its current one ({@link VECTOR_EDITIONS}), each with the
 * version {@link vectorSchemaVersion} gave it then: the schema's features of the vector without
 * those added after it, hashed at its revision.
 */
export function earlierVectorVersions(
  vector: FeatureVector,
  schema: FeatureSchema = FEATURE_SCHEMA,
): EarlierVectorVersion[] {
  return VECTOR_EDITIONS[vector].slice(0, -1).map(({ edition, revision }) => {
    const features = schema[vector].filter((f) => sinceOf(vector, f) <= edition);
    const [version, ...accepted] = acceptedSchemaVersions(
      vector,
      { ...schema, [vector]: features },
      { ...FEATURE_CODE_REVISIONS, [vector]: revision },
    );
    return { edition, version: version!, accepted, names: features.map((f) => f.name) };
  });
}

/**
 * The edition of `vector` whose feature names are exactly `names` (a model's inputs, in order):
 * the current edition's or an earlier one's ({@link earlierVectorVersions}); null when none is.
 */
export function editionOfNames(vector: FeatureVector, names: readonly string[]): number | null {
  const same = (a: readonly string[]): boolean =>
    a.length === names.length && a.every((n, i) => n === names[i]);
  if (same(FEATURE_SCHEMA[vector].map((f) => f.name))) return VECTOR_EDITIONS[vector].at(-1)!.edition;
  return earlierVectorVersions(vector).find((e) => same(e.names))?.edition ?? null;
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
