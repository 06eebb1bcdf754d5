/**
 * In-memory index of the HCPCS reference descriptions: per-code embeddings and stems for the
 * description-fit check, and brute-force nearest codes for suggestions (8k x 128 dims: well
 * under a millisecond per query). Built once at start-up from {@link ReferenceData}.
 */
import type { FeeScheduleEntry, HcpcsCode, ReferenceData } from '../core/reference.js';
import { EMBEDDING_DIM, hashedNgramEmbedding } from '../features/hashing.js';
import { descriptionTokens, normaliseDescription } from '../features/text.js';

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
  /** Active codes nearest to an embedding (cosine), best first. */
  nearest(embedding: Float64Array, k: number, exclude?: string): NearestCode[];
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
  // Flat matrix for a fast scan.
  const matrix = new Float64Array(active.length * EMBEDDING_DIM);
  active.forEach((rc, r) => matrix.set(rc.embedding, r * EMBEDDING_DIM));
  return {
    version: ref.version,
    get: (code) => byCode.get(code.toUpperCase()),
    fees: (code) => ref.fees.get(code.toUpperCase()) ?? [],
    nearest(embedding, k, exclude) {
      const best: { i: number; s: number }[] = [];
      for (let r = 0; r < active.length; r++) {
        let s = 0;
        const off = r * EMBEDDING_DIM;
        for (let d = 0; d < EMBEDDING_DIM; d++) s += matrix[off + d]! * embedding[d]!;
        if (best.length < k + 1 || s > best[best.length - 1]!.s) {
          best.push({ i: r, s });
          best.sort((x, y) => y.s - x.s);
          if (best.length > k + 1) best.pop();
        }
      }
      return best
        .filter((b) => active[b.i]!.code.code !== exclude)
        .slice(0, k)
        .map((b) => ({
          code: active[b.i]!.code.code,
          description: active[b.i]!.code.shortDescription,
          similarity: Math.round(b.s * 1000) / 1000,
        }));
    },
  };
}
