/**
 * A monotone pair model as served (its ONNX in ONNX Runtime) is monotone in agreement: from many
 * random pair vectors, raising any agreement input (a numeric comparison in its declared
 * direction, or a comparison's level one step up its `agreementOrder`, features/pair-agreement.ts)
 * never lowers the score; and the served numbers are training's (the ONNX score equals the
 * spec's float64 score). Run on a mixed-direction network trained here on pair vectors through
 * the training path (level flags, fold, `exportOnnx`), and on the shipped duplicate champion
 * when its declaration is monotone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../bin/bootstrap.js';
import { COMPARISONS, PAIR_VECTOR_NAMES } from '../features/comparisons.js';
import { vectorAgreement } from '../features/pair-agreement.js';
import { predictProbability, type TrainedModelSpec } from '../models/spec.js';
import { MONOTONE_MIXED_MLP_16_8 } from '../models/specs/index.js';
import { exportOnnx } from '../training/onnx-export.js';
import { flagDirections, foldLevelFlags, withLevelFlags } from '../training/monotone.js';
import { trainNetwork } from '../training/train.js';
import { OnnxModelSession } from '../inference/onnx-session.js';
import { mulberry32 } from '../training/rng.js';

const dir = join(shippedModelsDir(), 'duplicate');
const aliases = JSON.parse(readFileSync(join(dir, 'aliases.json'), 'utf8')) as {
  champion: string;
  challenger: string | null;
};
/** The chosen architecture of a shipped version. */
const architectureOf = (version: string): string =>
  (
    JSON.parse(readFileSync(join(dir, version, 'card.json'), 'utf8')) as {
      training: { architectureComparison: { id: string; chosen: boolean }[] };
    }
  ).training.architectureComparison.find((a) => a.chosen)!.id;

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
  'billing_rhythm.cycles': [0, 3],
  'billing_rhythm.cycle_offset': [0, 0.5],
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

const agreement = vectorAgreement(PAIR_VECTOR_NAMES);

/** A mixed-direction monotone network trained on 4,000 random pair vectors with a monotone label. */
async function trainedHere(): Promise<{ spec: TrainedModelSpec; onnx: Uint8Array }> {
  const rnd = mulberry32(11);
  const X = Array.from({ length: 4000 }, () => randomVector(rnd));
  const col = (n: string): number => PAIR_VECTOR_NAMES.indexOf(n);
  // a duplicate when the numbers and the amounts agree (a concave "both" in agreement)
  const y = X.map((x) =>
    Math.min(
      x[col('invoice_number=exact_raw')]! + x[col('invoice_number=exact_normalised')]!,
      1 - x[col('amount.rel_diff')]! / 2,
    ) > 0.4
      ? 1
      : 0,
  );
  const data = withLevelFlags({ featureNames: PAIR_VECTOR_NAMES, X, y, w: X.map(() => 1) }, agreement);
  const { spec } = await trainNetwork(
    data,
    { ...MONOTONE_MIXED_MLP_16_8, epochs: 3, batchSize: 128 },
    { task: 'duplicate', featureSchemaVersion: 'fs-test', seed: 5, agreement: flagDirections(agreement) },
  );
  const folded = foldLevelFlags(spec, agreement);
  return { spec: folded, onnx: exportOnnx(folded, { modelVersion: 'duplicate@test' }) };
}

const served: [string, () => Promise<{ spec: TrainedModelSpec; onnx: Uint8Array }>][] = [
  ['a monotone-mixed-mlp-16-8 trained and exported here', trainedHere],
];
// The shipped champion and challenger, when monotone and reading the current pair vector.
for (const [alias, version] of [
  ['champion', aliases.champion],
  ['challenger', aliases.challenger],
] as const) {
  if (version === null || !architectureOf(version).startsWith('monotone-')) continue;
  const spec = JSON.parse(readFileSync(join(dir, version, 'spec.json'), 'utf8')) as TrainedModelSpec;
  if (spec.featureNames.join() !== PAIR_VECTOR_NAMES.join()) continue;
  served.push([
    `the shipped ${alias} duplicate@${version} (${architectureOf(version)})`,
    () => Promise.resolve({ spec, onnx: readFileSync(join(dir, version, 'model.onnx')) }),
  ]);
}

describe.each(served)('served pair model monotone in agreement: %s', (_label, load) => {
  let session: OnnxModelSession;
  let spec: TrainedModelSpec;
  beforeAll(async () => {
    const m = await load();
    spec = m.spec;
    session = await OnnxModelSession.fromBuffer(m.onnx, { expected: { names: PAIR_VECTOR_NAMES } });
  }, 120_000);
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
    expect(before.filter((p, i) => after[i]! > p + 1e-3).length).toBeGreaterThan(500);
  });

  it('serves the numbers training computes (ONNX float32 vs the spec in float64)', async () => {
    const rnd = mulberry32(7);
    const rows = Array.from({ length: 500 }, () => randomVector(rnd));
    const served = (await session.run(rows)).probability;
    rows.forEach((x, i) => expect(served[i]!).toBeCloseTo(predictProbability(spec, x), 5));
  });
});
