/**
 * The one in-memory index of the HCPCS reference: per code its CMS record, category, billing
 * unit and fee schedule entries, its descriptions in each embedding view ({@link CodeViews},
 * declared once in {@link VIEWS}), and one exact nearest-code search over the active codes of
 * a view ({@link ReferenceIndex.nearest}, features/knn.ts `topKRowsBatch`). The coding scorers
 * (inference/heuristic-coding.ts, inference/stages/rules.ts) and the line features
 * (features/line-features.ts) read the same index; {@link referenceIndex} builds it once per
 * process for a given {@link ReferenceData} and IDF table.
 *
 * Sources: CMS HCPCS Level II 2025-01 (descriptions, BETOS, coverage, pricing indicators,
 * dates) and the CMS 2025 fee schedules (DMEPOS, DMEPEN, PFS, CLFS, ASP), as loaded by
 * `datasets/reference.ts`.
 */
import type { FeeScheduleEntry, HcpcsCode, ReferenceData } from '../core/reference.js';
import { embedWords, TEXT_EMBEDDING_RECIPE } from './embedding.js';
import { EMBEDDING_DIM, hashedNgramEmbedding } from './hashing.js';
import { shippedIdf, type IdfTable } from './idf.js';
import { toMatrix, topKRowsBatch, type VectorMatrix } from './knn.js';
import {
  descriptionTokens,
  descriptionWords,
  normaliseDescription,
  parseBillingUnit,
  stem,
  type DoseUnit,
} from './text.js';

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

/**
 * A code's CMS descriptions in each embedding view. Every view embeds the short and the long
 * description; its `searched` vector (active codes only) is what {@link ReferenceIndex.nearest}
 * compares queries with.
 */
export interface CodeViews {
  /**
   * Text-embedding recipe 1: L2-normalised hashed character n-grams of the normalised text
   * (features/hashing.ts, {@link EMBEDDING_DIM} dims). Read by the coding scorers (description
   * fit, suggested codes). `combined` embeds the long description then the short one.
   */
  ngram: { combined: Float64Array; short: Float64Array; stems: ReadonlySet<string> };
  /**
   * Text-embedding recipe 2: IDF-weighted word embedding (features/embedding.ts). Read by the
   * line features. `stems` are the distinct stems of both descriptions, `shortStems` of the
   * short one (numbers kept as written).
   */
  words: {
    short: Float32Array;
    long: Float32Array;
    stems: ReadonlySet<string>;
    shortStems: ReadonlySet<string>;
  };
}

/** Name of an embedding view. */
export type ReferenceView = keyof CodeViews;

/** How one view embeds a code: its entry, and the vector searched (only asked of active codes). */
interface ViewRecipe<E> {
  dim: number;
  entry(code: HcpcsCode, idf: IdfTable): E;
  searched(code: HcpcsCode, entry: E, idf: IdfTable): ArrayLike<number>;
}

const stemOrNumber = (w: string): string => (/^\d/.test(w) ? w : stem(w));

/** The embedding views of the index, declared once. */
const VIEWS: { readonly [V in ReferenceView]: ViewRecipe<CodeViews[V]> } = {
  ngram: {
    dim: EMBEDDING_DIM,
    entry: (c) => ({
      combined: hashedNgramEmbedding(normaliseDescription(`${c.longDescription} ${c.shortDescription}`)),
      short: hashedNgramEmbedding(normaliseDescription(c.shortDescription)),
      stems: new Set([...descriptionTokens(c.longDescription), ...descriptionTokens(c.shortDescription)]),
    }),
    searched: (_c, e) => e.combined,
  },
  words: {
    dim: TEXT_EMBEDDING_RECIPE.dim,
    entry: (c, idf) => {
      const shortWords = descriptionWords(c.shortDescription);
      const longWords = descriptionWords(c.longDescription);
      return {
        short: embedWords(shortWords, { idf }),
        long: embedWords(longWords, { idf }),
        stems: new Set([...shortWords, ...longWords].map(stemOrNumber)),
        shortStems: new Set(shortWords.map(stemOrNumber)),
      };
    },
    searched: (c, _e, idf) =>
      embedWords([...descriptionWords(c.longDescription), ...descriptionWords(c.shortDescription)], { idf }),
  },
};

/** Reference view of one code. */
export interface CodeReference extends CodeViews {
  code: HcpcsCode;
  /**
   * Category for vendor profiles and typical quantities: the BETOS code (`D1E`), or
   * `SEC:<letter>` (HCPCS section) when CMS gives no BETOS code.
   */
  category: string;
  /** First letter of the code. */
  section: string;
  /** Billing unit as a dose, e.g. 1 mg for J1100; null when not a single dose. */
  billingUnit: { value: number; unit: DoseUnit } | null;
  /** Where `billingUnit` comes from. */
  billingUnitSource: 'ASP dosage' | 'HCPCS long description' | null;
  /** The code's fee schedule entries (empty when no schedule prices it). */
  fees: readonly FeeScheduleEntry[];
}

/** A nearest-code query: an embedding of the view's recipe, the code to leave out, a memo key. */
export interface NearestQuery {
  embedding: ArrayLike<number>;
  /** Upper-case code never returned (the billed one); none: every active code. */
  exclude?: string;
  /**
   * The text the embedding was made from: results are memoised per view, `k`, excluded code
   * and key (bounded at 20,000 per view), since vendors bill the same descriptions again and
   * again. None: not memoised.
   */
  cacheKey?: string;
}

/** A nearest active code and its cosine similarity to the query, in [-1, 1]. */
export interface NearestCode {
  code: HcpcsCode;
  cosine: number;
}

/** Lookups and nearest-code search over the HCPCS reference. */
export interface ReferenceIndex {
  /** Reference edition label ({@link ReferenceData.version}). */
  readonly version: string;
  /** Id of the IDF table the `words` view was embedded with. */
  readonly idfId: string;
  /** The code's reference view (any case), or undefined when HCPCS does not list it. */
  get(code: string): CodeReference | undefined;
  /** Fee schedule entries of a code (any case); empty when none. */
  fees(code: string): readonly FeeScheduleEntry[];
  /** The BETOS codes the HCPCS file assigns to at least one code (e.g. `D1E`). */
  readonly betosCodes: ReadonlySet<string>;
  /** True when at least one HCPCS code starts with `prefix` (any case, e.g. `E`, `A4`). */
  coversPrefix(prefix: string): boolean;
  /**
   * The `k` active codes (no termination date) nearest to each query in `view` (cosine), best
   * first, one list per query in order. One exact batched scan of the ~7,000 active codes
   * (float32 SIMD screen, features/knn.ts) for the queries not memoised; the same results as
   * one query at a time.
   */
  nearest(view: ReferenceView, queries: readonly NearestQuery[], k: number): NearestCode[][];
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

const MEMO_LIMIT = 20_000;

/**
 * Builds a new index over every HCPCS procedure code of `ref` (about 2 s on one core for the
 * shipped 8,000 codes); {@link referenceIndex} shares one per process.
 * @param opts.idf IDF table of the `words` view (default: the shipped one).
 */
export function buildReferenceIndex(ref: ReferenceData, opts: { idf?: IdfTable } = {}): ReferenceIndex {
  const idf = opts.idf ?? shippedIdf();
  const byCode = new Map<string, CodeReference>();
  const active: HcpcsCode[] = [];
  const searched: { [V in ReferenceView]: ArrayLike<number>[] } = { ngram: [], words: [] };
  for (const c of ref.hcpcs.values()) {
    const fees = ref.fees.get(c.code) ?? [];
    const rc: CodeReference = {
      code: c,
      category: codeCategory(c),
      section: c.code[0] ?? '',
      ...billingUnitOf(c, fees),
      fees,
      ngram: VIEWS.ngram.entry(c, idf),
      words: VIEWS.words.entry(c, idf),
    };
    byCode.set(c.code, rc);
    if (c.terminationDate === null) {
      active.push(c);
      searched.ngram.push(VIEWS.ngram.searched(c, rc.ngram, idf));
      searched.words.push(VIEWS.words.searched(c, rc.words, idf));
    }
  }
  const matrices: { [V in ReferenceView]: VectorMatrix } = {
    ngram: toMatrix(searched.ngram, VIEWS.ngram.dim),
    words: toMatrix(searched.words, VIEWS.words.dim),
  };
  const rowOf = new Map(active.map((c, r) => [c.code, r]));
  const memo: { [V in ReferenceView]: Map<string, NearestCode[]> } = { ngram: new Map(), words: new Map() };
  const betosCodes = new Set([...byCode.values()].map((rc) => rc.code.betos).filter((b) => b !== ''));
  const codes = [...byCode.keys()];

  function nearest(view: ReferenceView, queries: readonly NearestQuery[], k: number): NearestCode[][] {
    const cache = memo[view];
    const keys = queries.map((q) =>
      q.cacheKey === undefined ? undefined : `${k}\u0000${q.exclude ?? ''}\u0000${q.cacheKey}`,
    );
    const out = keys.map((key) => (key === undefined ? undefined : cache.get(key)));
    const misses = queries.flatMap((q, i) => (out[i] === undefined ? [{ q, i }] : []));
    if (misses.length === 0) return out as NearestCode[][];
    const top = topKRowsBatch(
      matrices[view],
      misses.map(({ q }) => q.embedding),
      k,
      misses.map(({ q }) => (q.exclude ? (rowOf.get(q.exclude) ?? -1) : -1)),
    );
    misses.forEach(({ i }, j) => {
      const { rows, scores } = top[j] as (typeof top)[number];
      const found = rows.map((r, n) => ({ code: active[r] as HcpcsCode, cosine: scores[n] as number }));
      out[i] = found;
      const key = keys[i];
      if (key !== undefined) {
        if (cache.size >= MEMO_LIMIT) cache.clear();
        cache.set(key, found);
      }
    });
    return out as NearestCode[][];
  }

  return {
    version: ref.version,
    idfId: idf.id,
    betosCodes,
    coversPrefix: (prefix) => codes.some((c) => c.startsWith(prefix.toUpperCase())),
    get: (code) => byCode.get(code.toUpperCase()),
    fees: (code) => ref.fees.get(code.toUpperCase()) ?? [],
    nearest,
  };
}

const shared = new WeakMap<ReferenceData, Map<string, ReferenceIndex>>();

/**
 * The index of `ref` with the IDF table `opts.idf` (default: the shipped one), built on the
 * first call and shared by every later call with the same `ref` object in this process (one
 * build per process when callers share the loaded reference data, e.g.
 * `datasets/reference.ts` `sharedReferenceData`).
 */
export function referenceIndex(ref: ReferenceData, opts: { idf?: IdfTable } = {}): ReferenceIndex {
  const idf = opts.idf ?? shippedIdf();
  let byIdf = shared.get(ref);
  if (!byIdf) shared.set(ref, (byIdf = new Map()));
  let index = byIdf.get(idf.id);
  if (!index) byIdf.set(idf.id, (index = buildReferenceIndex(ref, { idf })));
  return index;
}

/** Currency of the CMS fee schedules (DMEPOS, DMEPEN, ASP, CLFS): US dollars, amounts in US cents. */
export const FEE_SCHEDULE_CURRENCY = 'USD';

/**
 * Why an invoice's prices cannot be compared with the CMS fee schedules, or null when they can:
 * the schedules are in {@link FEE_SCHEDULE_CURRENCY}, so a line of an invoice in another currency
 * (ISO 4217) has no comparable fee. The fee is then unknown to the model and the rules alike.
 */
export function feeNotComparable(currency: string | undefined): string | null {
  return currency === undefined || currency === FEE_SCHEDULE_CURRENCY
    ? null
    : `not comparable: invoice in ${currency}, fee schedule in ${FEE_SCHEDULE_CURRENCY}`;
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
  let best = pool[0] as FeeScheduleEntry;
  for (const f of pool) if (f.amountCents > best.amountCents) best = f;
  return best;
}
