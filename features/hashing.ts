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

/**
 * {@link fnv1a32} of `s.slice(start, end)`, without making the substring; from `seed`, the state
 * after a prefix (e.g. `fnv1a32('w:')`), it hashes the prefix followed by the slice.
 */
export function fnv1a32Range(s: string, start: number, end: number, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The coordinate of hash `h` (an unsigned 32-bit FNV hash) in a vector of length `dim`: `h % dim`.
 * For a power-of-two `dim` (every recipe's) it is the mask `h & (dim - 1)`, integer arithmetic:
 * a hash at or above 2^31 is no small integer, and `%` on it is a floating-point remainder.
 */
export function hashBucket(h: number, dim: number): number {
  return (dim & (dim - 1)) === 0 ? h & (dim - 1) : h % dim;
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
 * Each word (a run of characters other than `\s`) is padded with spaces so that prefixes and
 * suffixes get their own grams; the grams are hashed in place, without making the words.
 */
export function addHashedNgrams(acc: Float64Array, text: string, opts: NgramOptions = {}, weight = 1): void {
  const dim = acc.length;
  const ngrams = opts.ngrams ?? [3, 4];
  const hashWords = opts.words ?? true;
  for (let at = 0; at < text.length;) {
    if (isWhitespace(text.charCodeAt(at))) {
      at++;
      continue;
    }
    let end = at + 1;
    while (end < text.length && !isWhitespace(text.charCodeAt(end))) end++;
    // The padded word is ` ${text.slice(at, end)} `, of length end - at + 2.
    const padded = end - at + 2;
    // Hashes of the grams of the last length, by start: FNV-1a hashes left to right, so a gram one
    // character longer than the last length continues its prefix's hash with one step.
    let last = 0;
    for (const n of ngrams) {
      if (padded < n) continue;
      const extend = last > 0 && last === n - 1;
      for (let i = 0; i + n <= padded; i++) {
        const h = extend
          ? fnvStep(gramHashes[i]!, paddedChar(text, at, end, i + n - 1))
          : paddedGramHash(text, at, end, i, n);
        gramHashes[i] = h;
        acc[hashBucket(h, dim)]! += (h & 0x80000000 ? -1 : 1) * weight;
      }
      last = n;
    }
    if (hashWords) {
      const h = fnv1a32Range(text, at, end, W_PREFIX_STATE);
      acc[hashBucket(h, dim)]! += (h & 0x80000000 ? -1 : 1) * weight;
    }
    at = end;
  }
}

/** {@link fnv1a32}'s state after `w:`, the prefix of a whole word's hash. */
const W_PREFIX_STATE = fnv1a32('w:');

/** The characters `\s` matches: ECMAScript's WhiteSpace and LineTerminator. */
function isWhitespace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x20 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Scratch of {@link addHashedNgrams}: the gram hashes of the current word and length. */
const gramHashes: number[] = [];

/** One step of {@link fnv1a32}: the state `h` followed by the code unit `c`. */
function fnvStep(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193) >>> 0;
}

/** The code unit at `k` of ` ${text.slice(start, end)} `. */
function paddedChar(text: string, start: number, end: number, k: number): number {
  return k === 0 || k === end - start + 1 ? 0x20 : text.charCodeAt(start + k - 1);
}

/** {@link fnv1a32} of the `n` characters at `i` of ` ${text.slice(start, end)} `. */
function paddedGramHash(text: string, start: number, end: number, i: number, n: number): number {
  let h = 0x811c9dc5;
  for (let k = i; k < i + n; k++) h = fnvStep(h, paddedChar(text, start, end, k));
  return h;
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
