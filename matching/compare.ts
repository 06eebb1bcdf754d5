/**
 * Comparisons of two {@link MatchRecord}s: the dense feature vector the line matcher scores
 * (description similarity, numbers, codes and identifiers, manufacturer, price, unit of measure,
 * quantity) and the tokens the two descriptions share or do not share (the sparse part).
 *
 * Descriptions are tokenised with `features/text.ts` (`descriptionTokens`: normalised,
 * abbreviations expanded, Porter stems, numbers kept); the TF-IDF weights use an IDF table
 * fitted on the training records (stored in the matcher's spec); the embedding cosine is the
 * recipe-2 text embedding of `features/embedding.ts`.
 */
import { embedText, dot } from '../features/embedding.js';
import type { IdfTable } from '../features/idf.js';
import { jaccard, jaroWinkler } from '../features/strings.js';
import { descriptionTokens, descriptionWords, normaliseDescription } from '../features/text.js';
import { compareIdentifiers, descriptionCodes } from './identifiers.js';
import type { MatchRecord } from './record.js';
import { basePriceCents, baseQuantity, baseUnitsPer, parseUom } from './uom.js';
import { variantAgreement, variantAttributes, type VariantAttributes } from './variants.js';

/**
 * The dense comparisons, in vector order, with the sign their weight is held to (`+1`: more
 * similarity never lowers the match probability; `-1`: more difference never raises it; `0`:
 * free, e.g. a "missing" indicator). Ratios are absolute natural-log ratios, clipped at 5.
 */
export const DENSE_FEATURES = [
  ['desc_tfidf_cosine', 1],
  ['desc_embedding_cosine', 1],
  ['desc_token_jaccard', 1],
  ['desc_idf_containment_min', 1],
  ['desc_idf_containment_max', 1],
  ['desc_unmatched_idf_max', -1],
  ['desc_unmatched_idf_min', -1],
  ['desc_jaro_winkler', 1],
  ['desc_soft_containment_min', 1],
  ['desc_soft_containment_max', 1],
  ['desc_first_token_equal', 1],
  ['desc_length_log_ratio', 0],
  ['numbers_jaccard', 1],
  ['numbers_subset', 1],
  ['numbers_disjoint', -1],
  ['numbers_missing', 0],
  ['versions_jaccard', 1],
  ['versions_disjoint', -1],
  ['codes_exact', 1],
  ['codes_conflict', -1],
  ['identifiers_exact', 1],
  ['identifiers_variant', -1],
  ['identifiers_conflict', -1],
  ['identifiers_missing', 0],
  ['manufacturer_agree', 1],
  ['manufacturer_missing', 0],
  ['price_log_ratio', -1],
  ['price_within_5pct', 1],
  ['price_missing', 0],
  ['uom_same_code', 0],
  ['uom_missing', 0],
  ['pack_log_ratio', 0],
  ['quantity_log_ratio', 0],
  ['quantity_missing', 0],
  ['variant_agree', 1],
  ['variant_conflict', -1],
] as const satisfies readonly (readonly [string, -1 | 0 | 1])[];

/** Names of {@link DENSE_FEATURES}, in vector order. */
export const DENSE_FEATURE_NAMES: readonly string[] = DENSE_FEATURES.map((f) => f[0]);

/** What is derived once per record (cached per record object). */
interface Profile {
  tokens: string[];
  tokenSet: Set<string>;
  words: Set<string>;
  normalised: string;
  numbers: Set<string>;
  versions: Set<string>;
  codes: string[];
  embedding: Float32Array;
  manufacturer: string;
  basePrice: number | null;
  baseQty: number | null;
  perBase: number | null;
  uomCode: string | null;
  variants: VariantAttributes;
}

const profiles = new WeakMap<MatchRecord, Profile>();

function profile(r: MatchRecord): Profile {
  let p = profiles.get(r);
  if (p) return p;
  const description = r.description ?? '';
  const tokens = descriptionTokens(description);
  const numbers = new Set(
    normaliseDescription(description)
      .split(' ')
      .filter((t) => /^\d+(?:\.\d+)?$/.test(t))
      .map((t) => String(Number(t))),
  );
  const versions = new Set(
    tokens
      .filter((t) => /\d/.test(t) && /[a-z]/.test(t))
      .map((t) => t.replace(/^v(?=\d)/, ''))
      .concat([...numbers]),
  );
  p = {
    tokens,
    versions,
    tokenSet: new Set(tokens),
    words: new Set(descriptionWords(description)),
    normalised: tokens.join(' '),
    numbers,
    codes: descriptionCodes(description),
    embedding: embedText(description),
    manufacturer: normaliseDescription(r.manufacturer ?? ''),
    basePrice: basePriceCents(r),
    baseQty: baseQuantity(r),
    perBase: r.uom ? baseUnitsPer(r) : null,
    uomCode: parseUom(r.uom)?.code ?? null,
    variants: variantAttributes(description),
  };
  profiles.set(r, p);
  return p;
}

function sideKey(r: MatchRecord): string {
  return JSON.stringify([
    r.description,
    r.manufacturer,
    r.identifiers,
    r.unitPriceCents,
    r.uom,
    r.packQty,
    r.quantity,
  ]);
}

const logRatio = (x: number, y: number): number => Math.min(5, Math.abs(Math.log(x) - Math.log(y)));

function tfidfCosine(a: Profile, b: Profile, idf: IdfTable): number {
  const va = new Map<string, number>();
  const vb = new Map<string, number>();
  for (const t of a.tokens) va.set(t, (va.get(t) ?? 0) + 1);
  for (const t of b.tokens) vb.set(t, (vb.get(t) ?? 0) + 1);
  const w = (tf: number, t: string): number => (1 + Math.log(tf)) * idf.idf(t);
  let na = 0;
  let nb = 0;
  let s = 0;
  for (const [t, tf] of va) {
    const x = w(tf, t);
    na += x * x;
    const o = vb.get(t);
    if (o !== undefined) s += x * w(o, t);
  }
  for (const [t, tf] of vb) nb += w(tf, t) ** 2;
  return na > 0 && nb > 0 ? s / Math.sqrt(na * nb) : 0;
}

/**
 * IDF-weighted share of one side's tokens that have a close token on the other side (best
 * Jaro-Winkler, or 1 when one token abbreviates the other as a prefix of at least 3 letters):
 * catches `immers`/`immersion`, `upg`/`upgrade`, typos.
 */
function softContainment(from: Profile, to: Profile, idf: IdfTable): number {
  let num = 0;
  let den = 0;
  for (const t of from.tokenSet) {
    const w = idf.idf(t);
    den += w;
    if (to.tokenSet.has(t)) {
      num += w;
      continue;
    }
    let best = 0;
    for (const u of to.tokenSet) {
      const prefix =
        Math.min(t.length, u.length) >= 3 && (t.startsWith(u) || u.startsWith(t)) && !/\d/.test(t + u);
      const s = prefix ? 1 : jaroWinkler(t, u);
      if (s > best) best = s;
    }
    num += w * (best >= 0.85 ? best : 0);
  }
  return den > 0 ? num / den : 0;
}

/** The manufacturer agreement: name similarity, or one side's manufacturer named in the other's description. */
function manufacturerAgree(a: Profile, b: Profile): number | null {
  const named = (m: string, other: Profile): boolean => {
    const first = m.split(' ')[0];
    return first !== undefined && first.length >= 2 && other.words.has(first);
  };
  const scores: number[] = [];
  if (a.manufacturer !== '' && b.manufacturer !== '')
    scores.push(jaroWinkler(a.manufacturer, b.manufacturer));
  if (a.manufacturer !== '') scores.push(named(a.manufacturer, b) ? 1 : 0);
  if (b.manufacturer !== '') scores.push(named(b.manufacturer, a) ? 1 : 0);
  return scores.length === 0 ? null : Math.max(...scores);
}

/**
 * The dense comparison vector of a pair, in {@link DENSE_FEATURE_NAMES} order. Symmetric:
 * `denseComparisons(a, b)` equals `denseComparisons(b, a)`.
 * @param idf document frequencies of description tokens (the matcher's table).
 */
export function denseComparisons(first: MatchRecord, second: MatchRecord, idf: IdfTable): Float64Array {
  // a fixed order of the two sides makes the float sums below identical both ways round
  const [a, b] = sideKey(first) <= sideKey(second) ? [first, second] : [second, first];
  const pa = profile(a);
  const pb = profile(b);
  const inter: string[] = [];
  for (const t of pa.tokenSet) if (pb.tokenSet.has(t)) inter.push(t);
  const mass = (s: Iterable<string>): number => {
    let m = 0;
    for (const t of s) m += idf.idf(t);
    return m;
  };
  const ma = mass(pa.tokenSet);
  const mb = mass(pb.tokenSet);
  const mi = mass(inter);
  const ca = ma > 0 ? mi / ma : 0;
  const cb = mb > 0 ? mi / mb : 0;
  const ua = Math.min(30, ma - mi);
  const ub = Math.min(30, mb - mi);

  const numbersBoth = pa.numbers.size > 0 && pb.numbers.size > 0;
  let numInter = 0;
  for (const n of pa.numbers) if (pb.numbers.has(n)) numInter++;
  const numJaccard = numbersBoth ? numInter / (pa.numbers.size + pb.numbers.size - numInter) : 0;
  const numSubset = numbersBoth && numInter === Math.min(pa.numbers.size, pb.numbers.size) ? 1 : 0;

  const versionsBoth = pa.versions.size > 0 && pb.versions.size > 0;
  const versionJaccard = versionsBoth ? (jaccard(pa.versions, pb.versions) ?? 0) : 0;
  const sa = softContainment(pa, pb, idf);
  const sb = softContainment(pb, pa, idf);
  const codes = compareIdentifiers(pa.codes, pb.codes);
  const ids = compareIdentifiers(a.identifiers ?? [], b.identifiers ?? []);
  const mfr = manufacturerAgree(pa, pb);
  const priceBoth = pa.basePrice !== null && pb.basePrice !== null;
  const qtyBoth = pa.baseQty !== null && pb.baseQty !== null;
  const variants = variantAgreement(pa.variants, pb.variants);
  const values: Record<(typeof DENSE_FEATURES)[number][0], number> = {
    desc_tfidf_cosine: tfidfCosine(pa, pb, idf),
    desc_embedding_cosine: Math.max(0, dot(pa.embedding, pb.embedding)),
    desc_token_jaccard: jaccard(pa.tokenSet, pb.tokenSet) ?? 0,
    desc_idf_containment_min: Math.min(ca, cb),
    desc_idf_containment_max: Math.max(ca, cb),
    desc_unmatched_idf_max: Math.max(ua, ub),
    desc_unmatched_idf_min: Math.min(ua, ub),
    desc_jaro_winkler: jaroWinkler(pa.normalised, pb.normalised),
    desc_soft_containment_min: Math.min(sa, sb),
    desc_soft_containment_max: Math.max(sa, sb),
    desc_first_token_equal: pa.tokens[0] !== undefined && pa.tokens[0] === pb.tokens[0] ? 1 : 0,
    desc_length_log_ratio: logRatio(Math.max(1, pa.tokens.length), Math.max(1, pb.tokens.length)),
    numbers_jaccard: numJaccard,
    numbers_subset: numSubset,
    numbers_disjoint: numbersBoth && numInter === 0 ? 1 : 0,
    numbers_missing: numbersBoth ? 0 : 1,
    versions_jaccard: versionJaccard,
    versions_disjoint: versionsBoth && versionJaccard === 0 ? 1 : 0,
    codes_exact: codes.exact ? 1 : 0,
    codes_conflict: codes.conflict ? 1 : 0,
    identifiers_exact: ids.exact ? 1 : 0,
    identifiers_variant: ids.variant ? 1 : 0,
    identifiers_conflict: ids.conflict ? 1 : 0,
    identifiers_missing: ids.bothPresent ? 0 : 1,
    manufacturer_agree: mfr ?? 0,
    manufacturer_missing: mfr === null ? 1 : 0,
    price_log_ratio: priceBoth ? logRatio(pa.basePrice!, pb.basePrice!) : 0,
    price_within_5pct: priceBoth && logRatio(pa.basePrice!, pb.basePrice!) <= Math.log(1.05) ? 1 : 0,
    price_missing: priceBoth ? 0 : 1,
    uom_same_code: pa.uomCode !== null && pa.uomCode === pb.uomCode ? 1 : 0,
    uom_missing: pa.uomCode === null || pb.uomCode === null ? 1 : 0,
    pack_log_ratio: pa.perBase !== null && pb.perBase !== null ? logRatio(pa.perBase, pb.perBase) : 0,
    quantity_log_ratio: qtyBoth ? logRatio(pa.baseQty!, pb.baseQty!) : 0,
    quantity_missing: qtyBoth ? 0 : 1,
    variant_agree: Math.min(3, variants.agree.length),
    variant_conflict: Math.min(3, variants.conflict.length),
  };
  return Float64Array.from(DENSE_FEATURES, ([name]) => values[name]);
}

/** Description tokens of a pair: those both share and those only one side has (each listed once). */
export function tokenOverlap(a: MatchRecord, b: MatchRecord): { common: string[]; different: string[] } {
  const pa = profile(a);
  const pb = profile(b);
  const common: string[] = [];
  const different: string[] = [];
  for (const t of pa.tokenSet) (pb.tokenSet.has(t) ? common : different).push(t);
  for (const t of pb.tokenSet) if (!pa.tokenSet.has(t)) different.push(t);
  return { common, different };
}

/** The description tokens of a record (for fitting the IDF table). */
export function recordTokens(r: MatchRecord): string[] {
  return profile(r).tokens;
}
