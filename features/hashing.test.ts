import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addHashedNgrams, fnv1a32, fnv1a32Range, hashBucket } from './hashing.js';

/** The hashed n-grams as written plainly: split on `\s`, pad each word, hash the substrings. */
function plainNgrams(
  acc: Float64Array,
  text: string,
  ngrams: readonly number[],
  words: boolean,
  weight: number,
): void {
  for (const w of text.split(/\s+/).filter((x) => x.length > 0)) {
    const padded = ` ${w} `;
    for (const n of ngrams) {
      if (padded.length < n) continue;
      for (let i = 0; i + n <= padded.length; i++) {
        const h = fnv1a32(padded.slice(i, i + n));
        acc[h % acc.length]! += (h & 0x80000000 ? -1 : 1) * weight;
      }
    }
    if (words) {
      const h = fnv1a32(`w:${w}`);
      acc[h % acc.length]! += (h & 0x80000000 ? -1 : 1) * weight;
    }
  }
}

describe('addHashedNgrams', () => {
  it('adds the same values in the same order as the plain definition, whatever the whitespace', () => {
    const chars = 'ab1. é\t\n\u00a0\u2003\u3000\ufeffxz-';
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40, unit: fc.constantFrom(...chars) }),
        fc.constantFrom([3, 4], [2, 3, 4], [1, 5]),
        fc.boolean(),
        fc.constantFrom(1, 0.3, -2.5),
        (text, ngrams, words, weight) => {
          const got = new Float64Array(16).fill(0.1);
          const want = new Float64Array(16).fill(0.1);
          addHashedNgrams(got, text, { ngrams, words }, weight);
          plainNgrams(want, text, ngrams, words, weight);
          expect(Buffer.from(got.buffer)).toEqual(Buffer.from(want.buffer));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('hashes a prefix and a slice as the prefix followed by the slice', () => {
    expect(fnv1a32Range('xxwordyy', 2, 6, fnv1a32('w:'))).toBe(fnv1a32('w:word'));
    expect(fnv1a32Range('xxwordyy', 2, 6)).toBe(fnv1a32('word'));
  });
});

describe('hashBucket', () => {
  it('is the remainder h % dim for every unsigned 32-bit hash, powers of two or not', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.constantFrom(1, 12, 16, 100, 128, 256), (h, dim) => {
        expect(hashBucket(h, dim)).toBe(h % dim);
      }),
      { numRuns: 2000 },
    );
    expect(hashBucket(0xffffffff, 128)).toBe(127);
    expect(hashBucket(0x80000000, 128)).toBe(0);
  });
});
