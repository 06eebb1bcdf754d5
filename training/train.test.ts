import { describe, expect, it } from 'vitest';
import { LOGISTIC, MLP_16_8, MONOTONE_MLP_16_8 } from '../models/specs/index.js';
import { predictProbability, specLogit, type TrainedModelSpec } from '../models/spec.js';
import { rocAuc } from './eval/metrics.js';
import { logLoss } from './calibration.js';
import { syntheticRows } from './synthetic.js';
import { toTfjsModel } from './tfjs-model.js';
import { kernelSigns, trainNetwork } from './train.js';

const opts = { task: 'duplicate' as const, featureSchemaVersion: 'fs-test', seed: 42 };
const small = { epochs: 8, batchSize: 128 };

describe('trainNetwork (tfjs wasm)', () => {
  const train = syntheticRows({ n: 3000, seed: 1, interaction: 2.5 });
  const valid = syntheticRows({ n: 2000, seed: 2, interaction: 2.5 });
  const loss = (spec: TrainedModelSpec): number =>
    logLoss(
      valid.X.map((x) => predictProbability(spec, x)),
      valid.y,
    );

  it('is deterministic: same seed, bit-identical weights; another seed, other weights', async () => {
    const quick = { ...MLP_16_8, ...small, epochs: 4 };
    const a = await trainNetwork(train, quick, opts);
    const b = await trainNetwork(train, quick, opts);
    expect(JSON.stringify(b.spec)).toBe(JSON.stringify(a.spec));
    expect(b.lossHistory).toEqual(a.lossHistory);
    const c = await trainNetwork(train, quick, { ...opts, seed: 43 });
    expect(JSON.stringify(c.spec.layers)).not.toBe(JSON.stringify(a.spec.layers));
    // the training loss goes down
    expect(a.lossHistory[a.lossHistory.length - 1]!).toBeLessThan(a.lossHistory[0]!);
  });

  it('a monotone declaration keeps each weight on its sign, even where the data pulls the other way', async () => {
    // x0 agrees (+1, true coefficient 2), x1 is declared agreeing but its coefficient is -1.5,
    // x2 disagrees (-1, true coefficient 1), x3 is free.
    const agreement = [1, 1, -1, 0];
    const decl = { ...MONOTONE_MLP_16_8, ...small, epochs: 6 };
    const { spec } = await trainNetwork(train, decl, { ...opts, agreement });
    const signs = kernelSigns(decl, agreement);
    expect(signs.map((m) => [m.length, m[0]!.length])).toEqual([
      [4, 16],
      [16, 8],
      [8, 1],
    ]);
    spec.layers.forEach((l, k) =>
      l.weights.forEach((row, i) =>
        row.forEach((w, o) => {
          const sgn = signs[k]![i]![o]!;
          if (sgn > 0) expect(w, `layer ${k} [${i}][${o}]`).toBeGreaterThanOrEqual(0);
          if (sgn < 0) expect(w, `layer ${k} [${i}][${o}]`).toBeLessThanOrEqual(0);
        }),
      ),
    );
    // the logit never falls as x0 or x1 grow, or as x2 shrinks, from any of 200 starting points
    for (const x of valid.X.slice(0, 200))
      for (const [j, dir] of [
        [0, 1],
        [1, 1],
        [2, -1],
      ] as const) {
        const up = Float64Array.from(x);
        up[j] = up[j]! + dir * 0.7;
        expect(specLogit(spec, up)).toBeGreaterThanOrEqual(specLogit(spec, x) - 1e-12);
      }
    // and it still learns the signal it is allowed to use
    const auc = rocAuc(valid.X.map((x, i) => ({ score: specLogit(spec, x), label: valid.y[i] as 0 | 1 })));
    expect(auc).toBeGreaterThan(0.65);
    // without the constraint the same data gives x1 negative weight somewhere
    const free = await trainNetwork(train, { ...MLP_16_8, ...small, epochs: 6 }, opts);
    expect(Math.min(...free.spec.layers[0]!.weights[1]!)).toBeLessThan(0);
  });

  it('logistic regression learns the linear signal; the MLP also fits the interaction', async () => {
    const lin = await trainNetwork(train, { ...LOGISTIC, ...small }, opts);
    const mlp = await trainNetwork(train, { ...MLP_16_8, ...small, epochs: 15 }, opts);
    expect(lin.spec.layers).toHaveLength(1);
    expect(mlp.spec.layers.map((l) => l.bias.length)).toEqual([16, 8, 1]);
    const scored = (spec: TrainedModelSpec): { score: number; label: 0 | 1 }[] =>
      valid.X.map((x, i) => ({ score: specLogit(spec, x), label: valid.y[i] as 0 | 1 }));
    const truthAuc = rocAuc(Array.from(valid.p, (score, i) => ({ score, label: valid.y[i] as 0 | 1 })));
    expect(rocAuc(scored(lin.spec))).toBeGreaterThan(0.7);
    expect(rocAuc(scored(mlp.spec))).toBeGreaterThan(rocAuc(scored(lin.spec)) + 0.02);
    expect(rocAuc(scored(mlp.spec))).toBeLessThanOrEqual(truthAuc + 0.01);
    expect(loss(mlp.spec)).toBeLessThan(loss(lin.spec));
    // the logistic weight signs follow the true coefficients (2, -1.5, 1, 0)
    const w = lin.spec.layers[0]!.weights.map((r) => r[0]!);
    expect(w[0]!).toBeGreaterThan(0);
    expect(w[1]!).toBeLessThan(0);
    expect(w[2]!).toBeGreaterThan(0);
    expect(Math.abs(w[3]!)).toBeLessThan(Math.abs(w[2]!));
  });

  it('toTfjsModel reproduces the spec (logit and each calibration) within 1e-5', async () => {
    const { spec } = await trainNetwork(train, { ...MLP_16_8, ...small, epochs: 2 }, opts);
    const rows = valid.X.slice(0, 500);
    for (const calibration of [
      { kind: 'none' as const },
      { kind: 'platt' as const, a: 0.8, b: -0.3 },
      { kind: 'isotonic' as const, x: [0.05, 0.2, 0.5, 0.9], y: [0.01, 0.1, 0.4, 0.95] },
    ]) {
      const s = { ...spec, calibration };
      const m = await toTfjsModel(s);
      const out = await m.predict(rows);
      m.dispose();
      let maxLogit = 0;
      let maxP = 0;
      rows.forEach((x, i) => {
        maxLogit = Math.max(maxLogit, Math.abs(out.logit[i]! - specLogit(s, x)));
        maxP = Math.max(maxP, Math.abs(out.probability[i]! - predictProbability(s, x)));
      });
      expect(maxLogit).toBeLessThan(1e-5);
      expect(maxP).toBeLessThan(1e-5);
    }
  });
});
