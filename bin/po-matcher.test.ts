import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateProcurementBenchmark } from '../datasets/procurement/generator.js';
import { assertLineMatcherSpec } from '../matching/line-matcher.js';
import { evaluateProcurement, procurementPairs } from '../training/eval/procurement.js';
import { PO_MATCH_GUARANTEE, PO_MATCHER_SEED } from '../training/po-matcher.js';
import { loadShippedPoMatcher, shippedPoMatcherPath } from './po-matcher.js';

describe('the shipped PO line matcher', () => {
  const spec = assertLineMatcherSpec(JSON.parse(readFileSync(shippedPoMatcherPath(), 'utf8')) as unknown);
  const shipped = loadShippedPoMatcher()!;

  it('is served at the threshold its card certifies, with the stated guarantee', () => {
    expect(shipped.threshold).toBe(spec.card.threshold);
    expect(spec.threshold).toBe(spec.card.threshold);
    const g = spec.card.guarantee!;
    expect(g).toMatchObject({ ...PO_MATCH_GUARANTEE, feasible: true });
    expect(g.upperBound).toBeLessThanOrEqual(PO_MATCH_GUARANTEE.alpha);
    expect(g.decisions).toBeGreaterThan(1000);
    expect(g.recall).toBeGreaterThan(0.95);
  });

  it('on the shipped benchmark, catches each exception kind for its own reason, beats the baseline, flags no hard negative', () => {
    const r = evaluateProcurement(
      generateProcurementBenchmark({ seed: PO_MATCHER_SEED }),
      shipped.matcher,
      shipped.threshold,
    );
    const kinds = Object.fromEntries(r.kinds.map((k) => [k.kind, k]));
    for (const k of r.kinds.filter((x) => x.label === 'exception')) {
      expect(k.rightReason!, k.kind).toBeGreaterThanOrEqual(0.95);
      expect(k.rightReason!, k.kind).toBeGreaterThan(k.baselineRightReason!);
    }
    // Another size of an ordered item billed beside it is not on the PO, not a split line.
    expect(kinds.item_not_ordered!.rightReason).toBe(1);
    expect(kinds.other_vendor_po!.baselineRightReason).toBeLessThan(0.6);
    for (const k of r.kinds.filter((x) => x.label !== 'exception'))
      expect([k.kind, k.flagged]).toEqual([k.kind, 0]);
  });

  it('gives near misses and description-only lines scores between certainties', () => {
    const pairs = procurementPairs(
      generateProcurementBenchmark({ seed: 77, perKind: 4, vendors: 6 }),
      'test',
    );
    const scores = pairs.map((p) => shipped.matcher.score(p.a, p.b));
    const middle = scores.filter((s) => s > 0.05 && s < 0.95).length;
    expect(middle / pairs.length).toBeGreaterThan(0.01);
    // Still ranked: the matches score above the non-matches on average.
    const mean = (l: 0 | 1) =>
      scores.filter((_, i) => pairs[i]!.label === l).reduce((a, s) => a + s, 0) /
      pairs.filter((p) => p.label === l).length;
    expect(mean(1) - mean(0)).toBeGreaterThan(0.8);
  });
});
