/**
 * Inverse document frequencies for the word part of the text embeddings, fitted on the CMS
 * HCPCS reference descriptions and shipped as a versioned artefact
 * (`features/artifacts/idf-<hash>.json`).
 *
 * Why an artefact and not a fit at load time: the IDF table is part of the embedding recipe,
 * so it is part of the feature schema that every trained model and stored decision records.
 * A fit at load would change the embeddings silently whenever the reference files or the text
 * pipeline change (a new HCPCS quarter, a new abbreviation), under models trained on the old
 * vectors. As a file named by its content hash it changes only when someone refits it
 * (`npm run idf:fit`), the change shows in review, and the schema version moves with it; a
 * unit test fails when the shipped table no longer matches a fresh fit. It also spares the
 * service tokenising 8,259 descriptions at start-up and keeps `features/` free of `datasets/`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TriageError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';

/** Serialised IDF table (the artefact's JSON). */
export interface IdfArtifact {
  format: 'invoice-triage/idf@1';
  /** What the documents were: source, edition and how a document was formed. */
  source: string;
  /** Tokeniser the terms come from (function and its version). */
  tokenizer: string;
  /** Number of documents fitted on. */
  documents: number;
  /** Document frequency per term, keys sorted. */
  df: Record<string, number>;
}

/** A fitted IDF table ready for lookups. */
export interface IdfTable {
  /** `idf-<first 12 hex of sha256 of the artefact JSON>`. */
  id: string;
  documents: number;
  /** Smoothed IDF of a term: `ln((1 + N) / (1 + df)) + 1` (scikit-learn's `smooth_idf`); unseen terms get df = 0. */
  idf(term: string): number;
  /** IDF of an unseen term, the maximum. */
  readonly unseen: number;
}

/**
 * Fits document frequencies on tokenised documents (each counted once per term).
 * @param docs token lists, one per document.
 */
export function fitIdf(
  docs: Iterable<readonly string[]>,
  meta: { source: string; tokenizer: string },
): IdfArtifact {
  const df = new Map<string, number>();
  let n = 0;
  for (const d of docs) {
    n++;
    for (const t of new Set(d)) df.set(t, (df.get(t) ?? 0) + 1);
  }
  // fromEntries defines each term as an own key: an assignment would set the prototype for "__proto__".
  const sorted: Record<string, number> = Object.fromEntries(
    [...df.keys()].sort().map((k) => [k, df.get(k)!]),
  );
  return {
    format: 'invoice-triage/idf@1',
    source: meta.source,
    tokenizer: meta.tokenizer,
    documents: n,
    df: sorted,
  };
}

/** JSON text of an artefact as written to disk (two-space indent, as prettier keeps it). */
export function serialiseIdf(a: IdfArtifact): string {
  return `${JSON.stringify(a, null, 2)}\n`;
}

/**
 * `idf-<12 hex>` id of an artefact: sha256 of its compact JSON (so the id depends on the
 * content only, not on how the file is indented).
 */
export function idfArtifactId(a: IdfArtifact): string {
  return `idf-${createHash('sha256').update(JSON.stringify(a)).digest('hex').slice(0, 12)}`;
}

/** Builds the lookup table of an artefact. */
export function idfTable(a: IdfArtifact): IdfTable {
  const n = a.documents;
  const map = new Map<string, number>();
  for (const [t, df] of Object.entries(a.df)) map.set(t, Math.log((1 + n) / (1 + df)) + 1);
  const unseen = Math.log(1 + n) + 1;
  return { id: idfArtifactId(a), documents: n, idf: (t) => map.get(t) ?? unseen, unseen };
}

/**
 * The IDF artefact shipped with this version of the features. Refit with `npm run idf:fit`,
 * which writes the new file and prints the id to put here.
 */
export const SHIPPED_IDF_ID = 'idf-c2f5e9f42bd4';

/** Tokeniser label recorded in the artefact; bump when `descriptionTokens` changes its output. */
export const IDF_TOKENIZER = 'features/text.ts descriptionTokens@2';

/** Directory of the shipped feature artefacts. */
export function featureArtifactsDir(): string {
  return join(packageRoot(), 'features', 'artifacts');
}

/**
 * Loads an IDF artefact file and checks that its content hashes to `expectedId`.
 * @throws TriageError `TRIAGE_FEATURES_ARTIFACT_INVALID` when the file is missing, is not an IDF
 *   artefact, or its content does not hash to `expectedId` (edited or replaced).
 */
export function loadIdfArtifact(file: string, expectedId: string): IdfTable {
  if (!existsSync(file))
    throw new TriageError('TRIAGE_FEATURES_ARTIFACT_INVALID', `IDF artefact is missing: ${file}`);
  let a: IdfArtifact;
  try {
    a = JSON.parse(readFileSync(file, 'utf8')) as IdfArtifact;
  } catch (e) {
    throw new TriageError('TRIAGE_FEATURES_ARTIFACT_INVALID', `IDF artefact ${file} is not JSON`, [], {
      cause: e,
    });
  }
  if (a?.format !== 'invoice-triage/idf@1' || typeof a.documents !== 'number' || typeof a.df !== 'object')
    throw new TriageError('TRIAGE_FEATURES_ARTIFACT_INVALID', `IDF artefact ${file} has an unknown format`);
  const id = idfArtifactId(a);
  if (id !== expectedId)
    throw new TriageError(
      'TRIAGE_FEATURES_ARTIFACT_INVALID',
      `IDF artefact ${file} hashes to ${id}, not ${expectedId}: it was edited or replaced`,
    );
  return idfTable(a);
}

let shipped: IdfTable | undefined;

/**
 * The shipped IDF table (`features/artifacts/<SHIPPED_IDF_ID>.json`), loaded once.
 * @throws TriageError `TRIAGE_FEATURES_ARTIFACT_INVALID` as {@link loadIdfArtifact}.
 */
export function shippedIdf(): IdfTable {
  shipped ??= loadIdfArtifact(join(featureArtifactsDir(), `${SHIPPED_IDF_ID}.json`), SHIPPED_IDF_ID);
  return shipped;
}

/** Source label of the HCPCS fit (recorded in the artefact). */
export const HCPCS_IDF_SOURCE =
  'CMS HCPCS Level II 2025-01 procedure codes (datasets/reference/hcpcs/hcpcs_level2_2025_jan.csv); ' +
  'one document per code: short + long description';

/**
 * Fits the IDF artefact on HCPCS reference descriptions: one document per code (short + long
 * description), tokenised by `tokenize` (pass `descriptionTokens`).
 */
export function fitHcpcsIdf(
  codes: Iterable<{ shortDescription: string; longDescription: string }>,
  tokenize: (text: string) => string[],
): IdfArtifact {
  const docs: string[][] = [];
  for (const c of codes) docs.push(tokenize(`${c.shortDescription} ${c.longDescription}`));
  return fitIdf(docs, { source: HCPCS_IDF_SOURCE, tokenizer: IDF_TOKENIZER });
}
