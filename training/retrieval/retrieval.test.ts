import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureArtifactsDir, SHIPPED_IDF_ID } from '../../features/idf.js';
import { fitShippedIdf } from './fit-idf.js';
import { recallAtK, toMatrix, topK } from './recall.js';

describe('shipped IDF artefact', () => {
  it('equals a fresh fit on the shipped reference data (run `npm run idf:fit` when this fails)', () => {
    const fresh = fitShippedIdf();
    expect(fresh.id).toBe(SHIPPED_IDF_ID);
    expect(readFileSync(join(featureArtifactsDir(), `${SHIPPED_IDF_ID}.json`), 'utf8')).toBe(fresh.text);
    expect(fresh.documents).toBe(8_259);
  });
});

describe('exact kNN recall', () => {
  const unit = (x: number, y: number): number[] => {
    const n = Math.hypot(x, y);
    return [x / n, y / n];
  };
  const corpus = toMatrix([unit(1, 0), unit(1, 1), unit(0, 1), unit(-1, 0)], 2);

  it('ranks by dot product, best first, ties to the lower index', () => {
    expect(topK(corpus, unit(1, 0.1), 3)).toEqual([0, 1, 2]);
    expect(topK(corpus, unit(0, 1), 2)).toEqual([2, 1]);
    expect(topK(toMatrix([unit(1, 0), unit(1, 0)], 2), unit(1, 0), 1)).toEqual([0]);
  });

  it('counts a hit at k when any true row is within the k nearest', () => {
    const r = recallAtK(
      corpus,
      [
        { vector: unit(1, 0.1), truth: new Set([0]) }, // rank 0
        { vector: unit(1, 0.1), truth: new Set([2, 3]) }, // rank 2
        { vector: unit(1, 0.1), truth: new Set([9]) }, // never
      ],
      [1, 3, 4],
    );
    expect(r.get(1)).toBeCloseTo(1 / 3, 10);
    expect(r.get(3)).toBeCloseTo(2 / 3, 10);
    expect(r.get(4)).toBeCloseTo(2 / 3, 10);
    expect(() => toMatrix([[1, 2, 3]], 2)).toThrow(RangeError);
  });
});
