/**
 * In-memory index of the HCPCS reference descriptions: per-code embeddings and stems for the
 * description-fit check, and brute-force nearest codes for suggestions (8k x 128 dims: well
 * under a millisecond per query; the search is features/knn.ts' `topKRowsBatch`, the one
 * nearest-code search of the tree). Built once at start-up from {@link ReferenceData}.
 */
import type { FeeScheduleEntry, HcpcsCode, ReferenceData } from '../core/reference.js';
import { EMBEDDING_DIM, hashedNgramEmbedding } from '../features/hashing.js';
import { descriptionTokens, normaliseDescription } from '../features/text.js';
import { toMatrix, topKRowsBatch } from '../features/knn.js';

/** Reference view of one code. */
export interface ReferenceCode {
  code: HcpcsCode;
  /** Embedding of the long description + short description. */
  embedding: Float64Array;
  shortEmbedding: Float64Array;
  /** Distinct stems of the short and long descriptions. */
  stems: Set<string>;
}

/** A nearest reference code. */
export interface NearestCode {
  code: string;
  description: string;
  similarity: number;
}

/** Reference lookups used by the coding scorer. */
export interface ReferenceIndex {
  readonly version: string;
  get(code: string): ReferenceCode | undefined;
  fees(code: string): readonly FeeScheduleEntry[];
  /** The BETOS codes the HCPCS file assigns to at least one code (e.g. `D1E`). */
  readonly betosCodes: ReadonlySet<string>;
  /** True when at least one HCPCS code starts with `prefix` (upper case, e.g. `E`, `A4`). */
  coversPrefix(prefix: string): boolean;
  /** Active codes nearest to an embedding (cosine), best first. */
  nearest(embedding: Float64Array, k: number, exclude?: string): NearestCode[];
  /** {@link ReferenceIndex.nearest} of several embeddings in one batched search; one list per query. */
  nearestMany(queries: readonly { embedding: Float64Array; exclude?: string }[], k: number): NearestCode[][];
}

/** Builds the index over every HCPCS procedure code; `nearest` searches active codes only. */
export function buildReferenceIndex(ref: ReferenceData): ReferenceIndex {
  const byCode = new Map<string, ReferenceCode>();
  const active: ReferenceCode[] = [];
  for (const c of ref.hcpcs.values()) {
    const rc: ReferenceCode = {
      code: c,
      embedding: hashedNgramEmbedding(normaliseDescription(`${c.longDescription} ${c.shortDescription}`)),
      shortEmbedding: hashedNgramEmbedding(normaliseDescription(c.shortDescription)),
      stems: new Set([...descriptionTokens(c.longDescription), ...descriptionTokens(c.shortDescription)]),
    };
    byCode.set(c.code, rc);
    if (c.terminationDate === null) active.push(rc);
  }
  // Flat float32 matrix for a fast scan (8k x 128 x 4 bytes = 4 MB).
  const matrix = toMatrix(
    active.map((rc) => rc.embedding),
    EMBEDDING_DIM,
  );
  const rowOf = new Map(active.map((rc, r) => [rc.code.code, r]));
  const betosCodes = new Set([...byCode.values()].map((rc) => rc.code.betos).filter((b) => b !== ''));
  const codes = [...byCode.keys()];
  return {
    version: ref.version,
    betosCodes,
    coversPrefix: (prefix) => codes.some((c) => c.startsWith(prefix.toUpperCase())),
    get: (code) => byCode.get(code.toUpperCase()),
    fees: (code) => ref.fees.get(code.toUpperCase()) ?? [],
    nearest: (embedding, k, exclude) => nearestMany([{ embedding, ...(exclude ? { exclude } : {}) }], k)[0]!,
    nearestMany,
  };
  function nearestMany(
    queries: readonly { embedding: Float64Array; exclude?: string }[],
    k: number,
  ): NearestCode[][] {
    const top = topKRowsBatch(
      matrix,
      queries.map((q) => q.embedding),
      k,
      queries.map((q) => (q.exclude ? (rowOf.get(q.exclude) ?? -1) : -1)),
    );
    return top.map(({ rows, scores }) =>
      rows.map((r, j) => {
        const code = (active[r] as ReferenceCode).code;
        return {
          code: code.code,
          description: code.shortDescription,
          similarity: Math.round((scores[j] as number) * 1000) / 1000,
        };
      }),
    );
  }
}
