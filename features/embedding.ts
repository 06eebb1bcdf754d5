/**
 * Text embeddings (recipe 2): fixed-dimension, L2-normalised vectors of line descriptions made
 * of two hashed parts, each L2-normalised and then mixed:
 *
 * - a character part: signed hashed character 2-, 3- and 4-grams of every content word (padded with
 *   spaces so prefixes and suffixes get their own grams), each word's grams weighted by the IDF
 *   of its stem over the square root of its gram count, so rare words weigh more than common
 *   ones and long words do not drown short ones; robust to typos, OCR noise and abbreviations
 *   the table does not know;
 * - a word part: signed hashed word stems weighted by sublinear TF-IDF (`(1 + ln tf) * idf`),
 *   with IDF fitted on the CMS HCPCS descriptions (see `idf.ts`).
 *
 * Everything is deterministic: no vocabulary beyond the shipped IDF table, no randomness.
 */
import { fnv1a32, fnv1a32Range, hashBucket } from './hashing.js';
import { shippedIdf, type IdfTable } from './idf.js';
import { descriptionWords, stem } from './text.js';

/** Parameters of the recipe; any change changes the vectors and so the feature schema. */
export interface TextEmbeddingRecipe {
  name: 'char-ngram+word-tfidf';
  version: 2;
  /** Vector length. */
  dim: number;
  /** Character n-gram lengths. */
  ngrams: readonly number[];
  /** Share of the character part in the mix, in [0, 1]; the word part gets the rest. */
  charWeight: number;
  hash: 'fnv1a32-signed';
}

/**
 * The recipe of this version. `ngrams` and `charWeight` were chosen on the Amazon-Google
 * validation split and the HCPCS short-to-long description task, `dim` by recall@10 against
 * HNSW cost for 64/128/256 (see `training/retrieval/README.md`); the test split was not used.
 */
export const TEXT_EMBEDDING_RECIPE: TextEmbeddingRecipe = {
  name: 'char-ngram+word-tfidf',
  version: 2,
  dim: 128,
  ngrams: [2, 3, 4],
  charWeight: 0.7,
  hash: 'fnv1a32-signed',
};

/** Options of {@link embedText}: override the recipe (measurement scripts) or the IDF table. */
export interface TextEmbeddingOptions {
  dim?: number;
  charWeight?: number;
  /** IDF table; default the shipped HCPCS table. */
  idf?: IdfTable;
}

/**
 * Cached per word: its stem, the FNV hashes of its padded character grams, and the IDF
 * weights of the last table it was embedded with (the shipped one in serving).
 */
interface WordEntry {
  stem: string;
  grams: Uint32Array;
  stemHash: number;
  /** The table `charWeight` and `stemIdf` were computed with; null until the first use. */
  idf: IdfTable | null;
  /** Weight of each character gram: the stem's IDF over the square root of the gram count. */
  charWeight: number;
  /** IDF of the stem. */
  stemIdf: number;
}

const wordCache = new Map<string, WordEntry>();

function wordEntry(word: string): WordEntry {
  let e = wordCache.get(word);
  if (e) return e;
  const padded = ` ${word} `;
  const hashes: number[] = [];
  for (const n of TEXT_EMBEDDING_RECIPE.ngrams) {
    for (let i = 0; i + n <= padded.length; i++) hashes.push(fnv1a32Range(padded, i, i + n));
  }
  const s = /^\d/.test(word) ? word : stem(word);
  e = {
    stem: s,
    grams: Uint32Array.from(hashes),
    stemHash: fnv1a32(`w:${s}`),
    idf: null,
    charWeight: 0,
    stemIdf: 0,
  };
  if (wordCache.size >= 100_000) wordCache.clear();
  wordCache.set(word, e);
  return e;
}

/** The entry with its IDF weights for `idf` (computed once per word and table). */
function weighted(e: WordEntry, idf: IdfTable): WordEntry {
  if (e.idf !== idf) {
    e.stemIdf = idf.idf(e.stem);
    e.charWeight = e.stemIdf / Math.sqrt(e.grams.length || 1);
    e.idf = idf;
  }
  return e;
}

function addSigned(acc: Float64Array, h: number, w: number): void {
  acc[hashBucket(h, acc.length)]! += h & 0x80000000 ? -w : w;
}

function normInPlace(v: Float64Array): void {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const k = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i]! *= k;
  }
}

/** Scratch of {@link embedWords} for one dimension: the two parts and the distinct stems with their counts. */
interface Scratch {
  chars: Float64Array;
  words: Float64Array;
  stems: WordEntry[];
  counts: number[];
}

const scratches = new Map<number, Scratch>();

function scratchOf(dim: number): Scratch {
  let s = scratches.get(dim);
  if (!s)
    scratches.set(
      dim,
      (s = { chars: new Float64Array(dim), words: new Float64Array(dim), stems: [], counts: [] }),
    );
  s.chars.fill(0);
  s.words.fill(0);
  s.stems.length = 0;
  s.counts.length = 0;
  return s;
}

/**
 * Embeds pre-tokenised content words (see `descriptionWords`); {@link embedText} on raw text.
 * @returns `Float32Array` of length `dim`, unit L2 norm; all zeros when there are no words.
 */
export function embedWords(words: readonly string[], opts: TextEmbeddingOptions = {}): Float32Array {
  const dim = opts.dim ?? TEXT_EMBEDDING_RECIPE.dim;
  const alpha = opts.charWeight ?? TEXT_EMBEDDING_RECIPE.charWeight;
  const idf = opts.idf ?? shippedIdf();
  const { chars, words: wordsPart, stems, counts } = scratchOf(dim);
  for (const w of words) {
    const e = weighted(wordEntry(w), idf);
    const weight = e.charWeight;
    for (let i = 0; i < e.grams.length; i++) addSigned(chars, e.grams[i]!, weight);
    // Distinct stems in order of first appearance (a description has a few words).
    let t = 0;
    while (t < stems.length && stems[t]!.stem !== e.stem) t++;
    if (t < stems.length) counts[t]!++;
    else {
      stems.push(e);
      counts.push(1);
    }
  }
  for (let t = 0; t < stems.length; t++) {
    const e = stems[t]!;
    addSigned(wordsPart, e.stemHash, (1 + Math.log(counts[t]!)) * e.stemIdf);
  }
  normInPlace(chars);
  normInPlace(wordsPart);
  // The mix reuses the character part in place, then is normalised in float64 before rounding.
  for (let i = 0; i < dim; i++) chars[i] = alpha * chars[i]! + (1 - alpha) * wordsPart[i]!;
  normInPlace(chars);
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) out[i] = chars[i]!;
  return out;
}

/**
 * Embeds a line description (or any short text) with the recipe-2 embedding.
 * @example cosine(embedText('O2 conc w/ humidifier'), embedText('oxygen concentrator with humidifier')) > 0.9
 * @throws TriageError `TRIAGE_FEATURES_ARTIFACT_INVALID` when the shipped IDF artefact is broken
 *   (only when `opts.idf` is not given).
 */
export function embedText(text: string, opts: TextEmbeddingOptions = {}): Float32Array {
  return embedWords(descriptionWords(text), opts);
}

/** Dot product of two equal-length vectors (the cosine when both are unit vectors). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
