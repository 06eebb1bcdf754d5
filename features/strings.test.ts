import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JaroWinklerDistance } from 'natural/lib/natural/distance/index.js';
import { jaccard, jaro, jaroWinkler, levenshtein } from './strings.js';

describe('jaroWinkler', () => {
  it('gives the textbook values', () => {
    expect(jaro('martha', 'marhta')).toBeCloseTo(0.9444, 4);
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.9611, 4);
    expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.8133, 4);
    expect(jaroWinkler('same', 'same')).toBe(1);
    expect(jaroWinkler('', 'abc')).toBe(0);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
  });

  it("matches natural's JaroWinklerDistance on strings of 3+ characters", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 3, maxLength: 24, unit: fc.constantFrom(...'abcde fgo') }),
        fc.string({ minLength: 3, maxLength: 24, unit: fc.constantFrom(...'abcde fgo') }),
        (a, b) => {
          expect(jaroWinkler(a, b)).toBeCloseTo(JaroWinklerDistance(a, b), 10);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('levenshtein and jaccard', () => {
  it('counts edits and set overlap', () => {
    expect(levenshtein('INV-1008', 'INV-10O8')).toBe(1);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(jaccard(['a', 'b'], ['b', 'c'])).toBeCloseTo(1 / 3, 10);
    expect(jaccard(['a', 'a'], ['a'])).toBe(1);
    expect(jaccard([], [])).toBeNull();
    expect(jaccard(['a'], [])).toBe(0);
  });

  it('gives the set definition for lists with repeats, short and long, and for sets', () => {
    const bySets = (a: string[], b: string[]): number | null => {
      const sa = new Set(a);
      const sb = new Set(b);
      const inter = [...sa].filter((x) => sb.has(x)).length;
      return sa.size + sb.size === 0 ? null : inter / (sa.size + sb.size - inter);
    };
    const list = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 40 });
    fc.assert(
      fc.property(list, list, (a, b) => {
        expect(jaccard(a, b)).toBe(bySets(a, b));
        expect(jaccard(new Set(a), b)).toBe(bySets(a, b));
        expect(jaccard(a, new Set(b))).toBe(bySets(a, b));
      }),
      { numRuns: 500 },
    );
  });
});
