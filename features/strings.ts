/**
 * Fast string similarities for hot paths (pair comparison of every duplicate candidate):
 * Levenshtein from `fastest-levenshtein` (natural's is about 20x slower) and an allocation-light
 * Jaro-Winkler over UTF-16 code units, plus set similarities.
 */
import { distance } from 'fastest-levenshtein';

/** Levenshtein edit distance (unit costs), from `fastest-levenshtein` (Myers' bit-parallel algorithm). */
export function levenshtein(a: string, b: string): number {
  return distance(a, b);
}

let flagsA = new Uint8Array(64);
let flagsB = new Uint8Array(64);

/**
 * Jaro similarity in [0, 1] (1 = equal; 0 when either string is empty and they differ).
 * Match window `max(0, floor(max(|a|,|b|)/2) - 1)`, the textbook definition.
 */
export function jaro(a: string, b: string): number {
  if (a === b) return 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  if (flagsA.length < la) flagsA = new Uint8Array(la * 2);
  if (flagsB.length < lb) flagsB = new Uint8Array(lb * 2);
  flagsA.fill(0, 0, la);
  flagsB.fill(0, 0, lb);
  const window = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  let m = 0;
  for (let i = 0; i < la; i++) {
    const c = a.charCodeAt(i);
    const end = Math.min(i + window + 1, lb);
    for (let k = Math.max(0, i - window); k < end; k++) {
      if (flagsB[k] === 0 && b.charCodeAt(k) === c) {
        flagsA[i] = 1;
        flagsB[k] = 1;
        m++;
        break;
      }
    }
  }
  if (m === 0) return 0;
  let t = 0;
  for (let i = 0, k = 0; i < la; i++) {
    if (flagsA[i] === 0) continue;
    while (flagsB[k] === 0) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) t++;
    k++;
  }
  return (m / la + m / lb + (m - t / 2) / m) / 3;
}

/**
 * Jaro-Winkler similarity in [0, 1]: Jaro boosted by the common prefix (up to 4 characters,
 * scaling 0.1). Equal strings give 1. Matches natural's `JaroWinklerDistance` for strings of 3+
 * characters (natural's window goes negative below that).
 */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return 1;
  const j = jaro(a, b);
  let l = 0;
  const max = Math.min(4, a.length, b.length);
  while (l < max && a.charCodeAt(l) === b.charCodeAt(l)) l++;
  return j + l * 0.1 * (1 - j);
}

/**
 * Jaccard similarity |A ∩ B| / |A ∪ B| of two collections taken as sets.
 * @returns null when both are empty (nothing to compare), else a value in [0, 1].
 */
export function jaccard(a: Iterable<string>, b: Iterable<string>): number | null {
  const sa = a instanceof Set ? (a as Set<string>) : new Set(a);
  if (Array.isArray(b) && b.length <= SMALL_SET) return jaccardOfList(sa, b as readonly string[]);
  const sb = b instanceof Set ? (b as Set<string>) : new Set(b);
  if (sa.size === 0 && sb.size === 0) return null;
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  return inter / (sa.size + sb.size - inter);
}

/** Longest list {@link jaccard} reads in place (distinct values found by scanning it) rather than as a set. */
const SMALL_SET = 32;

/** {@link jaccard} of a set and a short list taken as a set, without making the list's set. */
function jaccardOfList(sa: ReadonlySet<string>, b: readonly string[]): number | null {
  let distinct = 0;
  let inter = 0;
  for (let i = 0; i < b.length; i++) {
    const x = b[i]!;
    if (b.indexOf(x) !== i) continue;
    distinct++;
    if (sa.has(x)) inter++;
  }
  if (sa.size === 0 && distinct === 0) return null;
  return inter / (sa.size + distinct - inter);
}
