/**
 * Hashed character n-gram embeddings ("feature hashing"): fixed-dimension, L2-normalised
 * vectors that need no fitted vocabulary, so any text can be embedded the same way at
 * scoring time and at training time.
 */

/** Dimension of every embedding this version produces (line, invoice and reference code). */
export const EMBEDDING_DIM = 128;

/** 32-bit FNV-1a hash of a string (UTF-16 code units). */
export function fnv1a32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** {@link fnv1a32} of `s.slice(start, end)`, without making the substring. */
export function fnv1a32Range(s: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Options of {@link hashedNgramEmbedding}. */
export interface NgramOptions {
  /** Vector length; default {@link EMBEDDING_DIM}. */
  dim?: number;
  /** Character n-gram lengths; default `[3, 4]`. */
  ngrams?: readonly number[];
  /** Also hash whole words (prefixed `w:`); default true. */
  words?: boolean;
}

/**
 * Adds the signed hashed n-grams of `text` into `acc` (unnormalised).
 * Each word is padded with spaces so that prefixes and suffixes get their own grams.
 */
export function addHashedNgrams(acc: Float64Array, text: string, opts: NgramOptions = {}, weight = 1): void {
  const dim = acc.length;
  const ngrams = opts.ngrams ?? [3, 4];
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  for (const w of words) {
    const padded = ` ${w} `;
    for (const n of ngrams) {
      if (padded.length < n) continue;
      for (let i = 0; i + n <= padded.length; i++) {
        const h = fnv1a32Range(padded, i, i + n);
        acc[h % dim]! += (h & 0x80000000 ? -1 : 1) * weight;
      }
    }
    if (opts.words ?? true) {
      const h = fnv1a32(`w:${w}`);
      acc[h % dim]! += (h & 0x80000000 ? -1 : 1) * weight;
    }
  }
}

/** Scales `v` to unit L2 norm in place (a zero vector stays zero) and returns it. */
export function l2normalise(v: Float64Array): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const k = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i]! *= k;
  }
  return v;
}

/**
 * The signed hashed n-gram counts of already-normalised text ({@link addHashedNgrams} into a
 * zero vector): integers, so sums of them are exact in any order.
 * @returns `Float64Array` of length `opts.dim` (default 128).
 */
export function hashedNgramCounts(text: string, opts: NgramOptions = {}): Float64Array {
  const acc = new Float64Array(opts.dim ?? EMBEDDING_DIM);
  addHashedNgrams(acc, text, opts);
  return acc;
}

/**
 * Embeds already-normalised text as an L2-normalised hashed character n-gram vector.
 * @returns `Float64Array` of length `opts.dim` (default 128); all zeros for empty text.
 */
export function hashedNgramEmbedding(text: string, opts: NgramOptions = {}): Float64Array {
  return l2normalise(hashedNgramCounts(text, opts));
}

/** Cosine similarity of two vectors of equal length (dot product when both are unit vectors). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
