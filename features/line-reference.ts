/**
 * The reference view the line features consult: per HCPCS code its CMS descriptions embedded
 * (text-embedding recipe 2) and stemmed, its category (BETOS, else the HCPCS section), status
 * (termination, coverage, pricing indicators), billing unit and fee schedule entries; plus a
 * brute-force nearest-code search over the active codes. Built once from `ReferenceData`.
 *
 * Sources: CMS HCPCS Level II 2025-01 (descriptions, BETOS, coverage, pricing indicators,
 * dates) and the CMS 2025 fee schedules (DMEPOS, DMEPEN, PFS, CLFS, ASP), as loaded by
 * `datasets/reference.ts`.
 */
import type { FeeScheduleEntry, HcpcsCode, ReferenceData } from '../core/reference.js';
import { embedWords, TEXT_EMBEDDING_RECIPE } from './embedding.js';
import { shippedIdf, type IdfTable } from './idf.js';
import { toMatrix, topKRowsBatch } from './knn.js';
import { descriptionWords, parseBillingUnit, stem, type DoseUnit } from './text.js';

/** HCPCS Level II sections by first letter (CMS HCPCS code ranges); `other` for anything else. */
export const HCPCS_SECTIONS = [
  'A',
  'B',
  'C',
  'E',
  'G',
  'H',
  'J',
  'K',
  'L',
  'M',
  'P',
  'Q',
  'R',
  'S',
  'T',
  'U',
  'V',
] as const;

/** Reference view of one code. */
export interface CodeReference {
  code: HcpcsCode;
  /**
   * Category for vendor profiles and typical quantities: the BETOS code (`D1E`), or
   * `SEC:<letter>` (HCPCS section) when CMS gives no BETOS code.
   */
  category: string;
  /** First letter of the code. */
  section: string;
  shortEmbedding: Float32Array;
  longEmbedding: Float32Array;
  /** Distinct stems of the short and long descriptions. */
  stems: ReadonlySet<string>;
  /** Distinct stems of the short description. */
  shortStems: ReadonlySet<string>;
  /** Billing unit as a dose, e.g. 1 mg for J1100; null when not a single dose. */
  billingUnit: { value: number; unit: DoseUnit } | null;
  /** Where `billingUnit` comes from. */
  billingUnitSource: 'ASP dosage' | 'HCPCS long description' | null;
  fees: readonly FeeScheduleEntry[];
}

/** Lookups and search used by the line features. */
export interface LineReference {
  /** Reference edition label. */
  readonly version: string;
  /** Id of the IDF table the embeddings were made with. */
  readonly idfId: string;
  get(code: string): CodeReference | undefined;
  /**
   * The active code (no termination date) whose combined description embedding is nearest to
   * `embedding`, other than `exclude`; cosine in [-1, 1]. An exact search (about 7,000 x 128
   * multiply-adds, screened in float32 SIMD; features/knn.ts); when `cacheKey` (the text the embedding was made from) is given, results are
   * memoised per key and excluded code (bounded at 20,000 entries), since vendors bill the same
   * descriptions again and again.
   */
  bestOther(
    embedding: ArrayLike<number>,
    exclude: string,
    cacheKey?: string,
  ): { code: string; cosine: number } | null;
  /**
   * {@link LineReference.bestOther} of several queries, the ones not memoised searched in one
   * batched scan (features/knn.ts); one result per query, in order, the same as one by one.
   */
  bestOthers(queries: readonly NearestOtherQuery[]): ({ code: string; cosine: number } | null)[];
}

/** A nearest-other-code query: a recipe-2 description embedding, the billed code, the cache key. */
export interface NearestOtherQuery {
  embedding: ArrayLike<number>;
  exclude: string;
  /** The text the embedding was made from (memoisation key); none: not memoised. */
  cacheKey?: string;
}

/** Category of a code for profiles: BETOS, else `SEC:<first letter>`. */
export function codeCategory(code: HcpcsCode): string {
  return code.betos !== '' ? code.betos : `SEC:${code.code[0] ?? '?'}`;
}

function billingUnitOf(
  c: HcpcsCode,
  fees: readonly FeeScheduleEntry[],
): Pick<CodeReference, 'billingUnit' | 'billingUnitSource'> {
  const asp = fees.find((f) => f.source === 'ASP' && f.billingUnit !== null);
  const fromAsp = asp?.billingUnit ? parseBillingUnit(asp.billingUnit) : null;
  if (fromAsp) return { billingUnit: fromAsp, billingUnitSource: 'ASP dosage' };
  // Drugs (J, Q and some A/C codes) state their unit at the end of the long description.
  const fromText = /^[JQAC]/.test(c.code) ? parseBillingUnit(c.longDescription) : null;
  return fromText
    ? { billingUnit: fromText, billingUnitSource: 'HCPCS long description' }
    : { billingUnit: null, billingUnitSource: null };
}

/**
 * Builds the line reference over every HCPCS procedure code of `ref`.
 * @param opts.idf IDF table for the embeddings (default: the shipped one).
 */
export function buildLineReference(ref: ReferenceData, opts: { idf?: IdfTable } = {}): LineReference {
  const idf = opts.idf ?? shippedIdf();
  const dim = TEXT_EMBEDDING_RECIPE.dim;
  const byCode = new Map<string, CodeReference>();
  const active: string[] = [];
  const combined: Float32Array[] = [];
  for (const c of ref.hcpcs.values()) {
    const shortWords = descriptionWords(c.shortDescription);
    const longWords = descriptionWords(c.longDescription);
    const stemOf = (w: string): string => (/^\d/.test(w) ? w : stem(w));
    const fees = ref.fees.get(c.code) ?? [];
    byCode.set(c.code, {
      code: c,
      category: codeCategory(c),
      section: c.code[0] ?? '',
      shortEmbedding: embedWords(shortWords, { idf }),
      longEmbedding: embedWords(longWords, { idf }),
      stems: new Set([...shortWords, ...longWords].map(stemOf)),
      shortStems: new Set(shortWords.map(stemOf)),
      ...billingUnitOf(c, fees),
      fees,
    });
    if (c.terminationDate === null) {
      active.push(c.code);
      combined.push(embedWords([...longWords, ...shortWords], { idf }));
    }
  }
  const matrix = toMatrix(combined, dim);
  const rowOf = new Map(active.map((c, i) => [c, i]));
  type Found = { code: string; cosine: number } | null;
  const cache = new Map<string, Found>();
  const bestOthers = (queries: readonly NearestOtherQuery[]): Found[] => {
    const keys = queries.map((q) =>
      q.cacheKey === undefined ? undefined : `${q.exclude}\u0000${q.cacheKey}`,
    );
    const out = keys.map((key) => (key === undefined ? undefined : cache.get(key)));
    const misses = out.flatMap((hit, i) => (hit === undefined ? [i] : []));
    if (misses.length > 0) {
      const top = topKRowsBatch(
        matrix,
        misses.map((i) => queries[i]!.embedding),
        1,
        misses.map((i) => rowOf.get(queries[i]!.exclude) ?? -1),
      );
      misses.forEach((i, j) => {
        const { rows, scores } = top[j]!;
        const found: Found = rows.length === 0 ? null : { code: active[rows[0]!]!, cosine: scores[0]! };
        out[i] = found;
        const key = keys[i];
        if (key !== undefined) {
          if (cache.size >= 20_000) cache.clear();
          cache.set(key, found);
        }
      });
    }
    return out as Found[];
  };
  return {
    version: ref.version,
    idfId: idf.id,
    get: (code) => byCode.get(code.toUpperCase()),
    bestOther: (embedding, exclude, cacheKey) =>
      bestOthers([{ embedding, exclude, ...(cacheKey === undefined ? {} : { cacheKey }) }])[0]!,
    bestOthers,
  };
}

/** The reference fee for a line: its pricing modifier's entry, else the plain one, else the highest (conservative). */
export function referenceFee(
  fees: readonly FeeScheduleEntry[],
  modifiers: readonly string[],
): FeeScheduleEntry | null {
  if (fees.length === 0) return null;
  const mods = new Set(modifiers.map((m) => m.toUpperCase()));
  let pool = fees.filter((f) => f.modifier !== '' && mods.has(f.modifier));
  if (pool.length === 0) pool = fees.filter((f) => f.modifier === '');
  if (pool.length === 0) pool = [...fees];
  let best = pool[0]!;
  for (const f of pool) if (f.amountCents > best.amountCents) best = f;
  return best;
}
