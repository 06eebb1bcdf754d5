/**
 * The shipped duplicate champion as served (its `model.onnx` in ONNX Runtime) is monotone in
 * agreement: from many random pair vectors, raising any agreement input (a numeric comparison in
 * its declared direction, or a comparison's level one step up its `agreementOrder`,
 * features/pair-agreement.ts) never lowers the score. And the served numbers are training's:
 * the ONNX score equals the spec's float64 score (`predictProbability`) on the same vectors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../bin/bootstrap.js';
import { COMPARISONS, PAIR_VECTOR_NAMES } from '../features/comparisons.js';
import { vectorAgreement } from '../features/pair-agreement.js';
import { predictProbability, type TrainedModelSpec } from '../models/spec.js';
import { OnnxModelSession } from '../inference/onnx-session.js';
import { mulberry32 } from '../training/rng.js';

const dir = join(shippedModelsDir(), 'duplicate');
const version = (JSON.parse(readFileSync(join(dir, 'aliases.json'), 'utf8')) as { champion: string })
  .champion;
const spec = JSON.parse(readFileSync(join(dir, version, 'spec.json'), 'utf8')) as TrainedModelSpec;

/** Encoded ranges of the numeric entries (after transform and clip) the random vectors draw from. */
const RANGE: Record<string, [number, number]> = {
  'vendor_name.jw': [0, 1],
  'vendor_name.distinctive_jw': [0, 1],
  'invoice_number.raw_edits': [0, 3],
  'invoice_number.normalised_edits': [0, 3],
  'invoice_number.canonical_edits': [0, 3],
  'invoice_number.canonical_edit_ratio': [0, 1],
  'amount.abs_diff': [0, 10],
  'amount.rel_diff': [0, 2],
  'invoice_date.days_apart': [0, 7],
  'service_period.overlap_days': [0, 6],
  'service_period.overlap_ratio': [0, 1],
  'lines.key_jaccard': [0, 1],
  'lines.code_jaccard': [0, 1],
  'lines.description_jaccard': [0, 1],
  'lines.count_diff': [0, 3],
  'embedding.cosine': [-1, 1],
  'billing_rhythm.cycles': [0, 4],
};

/** A random pair vector: every numeric in its range, missing flags at random, one level per comparison. */
function randomVector(rnd: () => number): number[] {
  const col = new Map(PAIR_VECTOR_NAMES.map((n, i) => [n, i]));
  const x = new Array<number>(PAIR_VECTOR_NAMES.length).fill(0);
  for (const s of COMPARISONS) {
    for (const n of s.numeric) {
      const [lo, hi] = RANGE[`${s.name}.${n.name}`]!;
      x[col.get(`${s.name}.${n.name}`)!] = lo + rnd() * (hi - lo);
      if (n.nullable) x[col.get(`${s.name}.${n.name}_missing`)!] = rnd() < 0.2 ? 1 : 0;
    }
    x[col.get(`${s.name}=${s.levels[Math.floor(rnd() * s.levels.length)]!.label}`)!] = 1;
  }
  return x;
}

describe(`the served duplicate champion (duplicate@${version}) is monotone in agreement`, () => {
  const agreement = vectorAgreement(PAIR_VECTOR_NAMES);
  let session: OnnxModelSession;
  beforeAll(async () => {
    session = await OnnxModelSession.fromBuffer(readFileSync(join(dir, version, 'model.onnx')), {
      expected: { names: PAIR_VECTOR_NAMES },
    });
  });
  afterAll(async () => session?.release());

  it('declares an agreement direction for its inputs and a numeric range for every numeric', () => {
    expect(spec.featureNames).toEqual(PAIR_VECTOR_NAMES);
    for (const s of COMPARISONS)
      for (const n of s.numeric) expect(RANGE[`${s.name}.${n.name}`]).toBeDefined();
    expect(agreement.direction.filter((d) => d !== 0).length).toBeGreaterThanOrEqual(15);
    expect(agreement.chains.length).toBeGreaterThanOrEqual(9);
  });

  it('raising any agreement input never lowers the ONNX score (5,000 random pairs, every input)', async () => {
    const rnd = mulberry32(20261205);
    const base: number[][] = [];
    const raised: number[][] = [];
    for (let k = 0; k < 5000; k++) {
      const x = randomVector(rnd);
      agreement.direction.forEach((d, j) => {
        if (d === 0) return;
        const up = [...x];
        up[j] = up[j]! + d * (0.05 + rnd());
        base.push(x);
        raised.push(up);
      });
      for (const chain of agreement.chains) {
        const at = chain.findIndex((c) => x[c] === 1);
        if (at <= 0) continue;
        const up = [...x];
        up[chain[at]!] = 0;
        up[chain[at - 1]!] = 1;
        base.push(x);
        raised.push(up);
      }
    }
    expect(base.length).toBeGreaterThan(90_000);
    const before = (await session.run(base)).probability;
    const after = (await session.run(raised)).probability;
    let falls = 0;
    let worst = 0;
    for (let i = 0; i < before.length; i++)
      if (after[i]! < before[i]! - 1e-6) {
        falls++;
        worst = Math.max(worst, before[i]! - after[i]!);
      }
    expect({ falls, worst }).toEqual({ falls: 0, worst: 0 });
    // some of the raises do move the score: the test can see a change
    expect(before.filter((p, i) => after[i]! > p + 1e-3).length).toBeGreaterThan(1000);
  });

  it('serves the numbers training computes (ONNX float32 vs the spec in float64)', async () => {
    const rnd = mulberry32(7);
    const rows = Array.from({ length: 500 }, () => randomVector(rnd));
    const served = (await session.run(rows)).probability;
    rows.forEach((x, i) => expect(served[i]!).toBeCloseTo(predictProbability(spec, x), 5));
  });
});
