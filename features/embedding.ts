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
import { fnv1a32 } from './hashing.js';
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

/** Cached per word: its stem and the FNV hashes of its padded character grams. */
interface WordEntry {
  stem: string;
  grams: Uint32Array;
  stemHash: number;
}

const wordCache = new Map<string, WordEntry>();

function wordEntry(word: string): WordEntry {
  let e = wordCache.get(word);
  if (e) return e;
  const padded = ` ${word} `;
  const hashes: number[] = [];
  for (const n of TEXT_EMBEDDING_RECIPE.ngrams) {
    for (let i = 0; i + n <= padded.length; i++) hashes.push(fnv1a32(padded.slice(i, i + n)));
  }
  const s = /^\d/.test(word) ? word : stem(word);
  e = { stem: s, grams: Uint32Array.from(hashes), stemHash: fnv1a32(`w:${s}`) };
  if (wordCache.size >= 100_000) wordCache.clear();
  wordCache.set(word, e);
  return e;
}

function addSigned(acc: Float64Array, h: number, w: number): void {
  acc[h % acc.length]! += h & 0x80000000 ? -w : w;
}

function normInPlace(v: Float64Array): void {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const k = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i]! *= k;
  }
}

/**
 * Embeds pre-tokenised content words (see `descriptionWords`); {@link embedText} on raw text.
 * @returns `Float32Array` of length `dim`, unit L2 norm; all zeros when there are no words.
 */
export function embedWords(words: readonly string[], opts: TextEmbeddingOptions = {}): Float32Array {
  const dim = opts.dim ?? TEXT_EMBEDDING_RECIPE.dim;
  const alpha = opts.charWeight ?? TEXT_EMBEDDING_RECIPE.charWeight;
  const idf = opts.idf ?? shippedIdf();
  const chars = new Float64Array(dim);
  const wordsPart = new Float64Array(dim);
  const tf = new Map<string, { n: number; e: WordEntry }>();
  for (const w of words) {
    const e = wordEntry(w);
    const weight = idf.idf(e.stem) / Math.sqrt(e.grams.length || 1);
    for (let i = 0; i < e.grams.length; i++) addSigned(chars, e.grams[i]!, weight);
    const t = tf.get(e.stem);
    if (t) t.n++;
    else tf.set(e.stem, { n: 1, e });
  }
  for (const [s, { n, e }] of tf) addSigned(wordsPart, e.stemHash, (1 + Math.log(n)) * idf.idf(s));
  normInPlace(chars);
  normInPlace(wordsPart);
  const out = new Float64Array(dim);
  for (let i = 0; i < dim; i++) out[i] = alpha * chars[i]! + (1 - alpha) * wordsPart[i]!;
  normInPlace(out);
  return Float32Array.from(out);
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
