import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../core/paths.js';
import { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { OnnxModelSession } from '../inference/onnx-session.js';
import { META, readSignature } from '../models/onnx-graph.js';
import { applyCalibration, predictProbability, specLogit, type TrainedModelSpec } from '../models/spec.js';
import { ISOTONIC, LINE_NAMES, lineRows, makeSpec, randomRows } from '../test/model-fixtures.js';
import { exportOnnx } from './onnx-export.js';
import { toTfjsModel } from './tfjs-model.js';

/** Logits and probabilities of the trainer's tfjs model of `spec` (float32, wasm backend). */
async function tfjsPredict(
  spec: TrainedModelSpec,
  rows: number[][],
): Promise<{ logit: Float32Array; probability: Float32Array }> {
  const m = await toTfjsModel(spec);
  try {
    return await m.predict(rows);
  } finally {
    m.dispose();
  }
}

/**
 * Parity figures. Probabilities are compared absolutely. tfjs computes in float32, so its
 * logits carry float32 rounding of the hidden sums (one ulp is 3.8e-6 at 32; trained models
 * reach |logit| ~ 60 on extreme rows): logits are compared absolutely where decisions are made
 * (|logit| <= 20, p in [2e-9, 1 - 2e-9]) and relatively everywhere. The ONNX graph computes in
 * float64, so it is also compared with the float64 reference, much more tightly.
 */
interface Parity {
  probability: number;
  /** Max |logit diff| over all rows (reported). */
  logit: number;
  /** Max |logit diff| over rows with |logit| <= 20 (asserted <= 1e-5). */
  logitCore: number;
  /** Max |logit diff| / max(1, |logit|) (asserted <= 1e-5). */
  logitRelative: number;
  /** Max |ONNX logit - float64 reference| / max(1, |logit|) (asserted <= 1e-6). */
  vsFloat64LogitRelative: number;
  maxAbsLogit: number;
  vsFloat64Probability: number;
}

async function parity(spec: TrainedModelSpec, rows: number[][]): Promise<Parity> {
  const session = await OnnxModelSession.fromBuffer(exportOnnx(spec), {
    expected: { names: spec.featureNames },
  });
  const onnxOut = await session.run(rows);
  await session.release();
  const tfOut = await tfjsPredict(spec, rows);
  const p: Parity = {
    probability: 0,
    logit: 0,
    logitCore: 0,
    logitRelative: 0,
    vsFloat64LogitRelative: 0,
    maxAbsLogit: 0,
    vsFloat64Probability: 0,
  };
  rows.forEach((r, i) => {
    const x = Float32Array.from(r); // what both runtimes see
    const l = onnxOut.logit[i]!;
    const dl = Math.abs(l - tfOut.logit[i]!);
    p.logit = Math.max(p.logit, dl);
    if (Math.abs(l) <= 20) p.logitCore = Math.max(p.logitCore, dl);
    p.logitRelative = Math.max(p.logitRelative, dl / Math.max(1, Math.abs(l)));
    p.maxAbsLogit = Math.max(p.maxAbsLogit, Math.abs(l));
    const ref = specLogit(spec, x);
    p.vsFloat64LogitRelative = Math.max(
      p.vsFloat64LogitRelative,
      Math.abs(l - ref) / Math.max(1, Math.abs(ref)),
    );
    p.probability = Math.max(p.probability, Math.abs(onnxOut.probability[i]! - tfOut.probability[i]!));
    p.vsFloat64Probability = Math.max(
      p.vsFloat64Probability,
      Math.abs(onnxOut.probability[i]! - predictProbability(spec, x)),
    );
  });
  return p;
}

/**
 * @param tfjsLogitTolerance bound on the logit difference against tfjs (absolute for |logit| <= 20,
 *   and relative): tfjs's own float32 error; the served ONNX graph is held to the float64 reference
 *   below much more tightly.
 */
function expectParity(label: string, p: Parity, tfjsLogitTolerance = 1e-5): void {
  console.log(
    `parity ${label}: max|probability diff| ${p.probability.toExponential(2)}; max|logit diff| ${p.logit.toExponential(2)} ` +
      `(|logit| <= 20: ${p.logitCore.toExponential(2)}, relative ${p.logitRelative.toExponential(2)}, max |logit| ${p.maxAbsLogit.toFixed(1)}); ` +
      `ONNX vs float64 reference: probability ${p.vsFloat64Probability.toExponential(2)}, logit relative ${p.vsFloat64LogitRelative.toExponential(2)}`,
  );
  expect(p.probability).toBeLessThanOrEqual(1e-5);
  expect(p.logitCore).toBeLessThanOrEqual(tfjsLogitTolerance);
  expect(p.logitRelative).toBeLessThanOrEqual(tfjsLogitTolerance);
  expect(p.vsFloat64LogitRelative).toBeLessThanOrEqual(1e-6);
  expect(p.vsFloat64Probability).toBeLessThanOrEqual(1e-7);
}

const SPECS: [string, TrainedModelSpec][] = [
  ['logistic + platt', makeSpec({ seed: 1 })],
  ['logistic + isotonic', makeSpec({ seed: 2, calibration: ISOTONIC })],
  ['mlp 16-8 + isotonic', makeSpec({ seed: 3, hidden: [16, 8], calibration: ISOTONIC })],
  ['mlp 32 + platt', makeSpec({ seed: 4, hidden: [32], calibration: { kind: 'platt', a: 0.7, b: 0.2 } })],
  ['mlp 8 + none', makeSpec({ seed: 5, hidden: [8], calibration: { kind: 'none' } })],
  [
    'mlp 4 + one-knot isotonic',
    makeSpec({ seed: 6, hidden: [4], calibration: { kind: 'isotonic', x: [0.5], y: [0.3] } }),
  ],
];

describe('ONNX export parity with the tfjs model + calibration', () => {
  it.each(SPECS)('%s: max abs difference <= 1e-5 on random and real-range inputs', async (label, spec) => {
    const rows = [...randomRows(spec, 2000, 11), ...lineRows(2000, 12)];
    const p = await parity(spec, rows);
    expectParity(label, p);
  });

  it('parity fails loudly when the graph differs from the spec (the check can fail)', async () => {
    const spec = makeSpec({ seed: 1 });
    const other = structuredClone(spec);
    other.layers[0]!.bias[0]! += 1e-3;
    const session = await OnnxModelSession.fromBuffer(exportOnnx(other));
    const rows = lineRows(50, 3);
    const out = await session.run(rows);
    await session.release();
    const tl = (await tfjsPredict(spec, rows)).logit;
    const diff = Math.max(...rows.map((_, i) => Math.abs(out.logit[i]! - tl[i]!)));
    expect(diff).toBeGreaterThan(1e-5);
  });

  it('isotonic in the graph: clamped at the ends, exact at the knots, linear between', async () => {
    const spec = makeSpec({ seed: 2, calibration: ISOTONIC });
    if (spec.calibration.kind !== 'isotonic') throw new Error('fixture');
    // With zero weights the logit is the bias for every row: probe chosen sigmoid(logit) values.
    const probe = async (u: number): Promise<number> => {
      const s = structuredClone(spec);
      s.layers[0]!.weights = s.layers[0]!.weights.map((r) => r.map(() => 0));
      s.layers[0]!.bias = [Math.log(u / (1 - u))];
      const session = await OnnxModelSession.fromBuffer(exportOnnx(s));
      const out = await session.runOne(lineRows(1, 1)[0]!);
      await session.release();
      return out.probability;
    };
    const { x, y } = spec.calibration;
    expect(await probe(0.001)).toBeCloseTo(y[0]!, 7);
    expect(await probe(0.999)).toBeCloseTo(y[y.length - 1]!, 7);
    for (const k of [1, 3, 5]) expect(await probe(x[k]!)).toBeCloseTo(y[k]!, 6);
    const mid = (x[3]! + x[4]!) / 2;
    expect(await probe(mid)).toBeCloseTo(applyCalibration(spec.calibration, Math.log(mid / (1 - mid))), 7);
    expect(await probe(mid)).toBeCloseTo((y[3]! + y[4]!) / 2, 6);
  });

  it('writes the metadata and the served IO', () => {
    const spec = makeSpec({ seed: 9, hidden: [4] });
    const sig = readSignature(exportOnnx(spec, { modelVersion: 'coding-mismatch@7' }));
    expect(sig.inputs).toEqual([{ name: 'features', type: 'float', dims: ['N', LINE_NAMES.length] }]);
    expect(sig.outputs.map((o) => [o.name, o.type, o.dims])).toEqual([
      ['logit', 'float', ['N', 1]],
      ['probability', 'float', ['N', 1]],
    ]);
    expect(JSON.parse(sig.metadata[META.featureNames]!)).toEqual(LINE_NAMES);
    expect(sig.metadata[META.featureSchemaVersion]).toBe('fs-test');
    expect(sig.metadata[META.modelVersion]).toBe('coding-mismatch@7');
    expect(sig.metadata[META.architecture]).toBe('mlp');
    expect(sig.opsets).toEqual([{ domain: '', version: 17 }]);
  });

  it('refuses a malformed spec', () => {
    const spec = makeSpec({ seed: 1 });
    spec.standardise.std[2] = 0;
    expect(() => exportOnnx(spec)).toThrow(expect.objectContaining({ code: 'TRIAGE_MODEL_INVALID' }));
    const wide = makeSpec({ seed: 1, hidden: [3] });
    wide.layers[1]!.weights.pop();
    expect(() => exportOnnx(wide)).toThrow(expect.objectContaining({ code: 'TRIAGE_MODEL_INVALID' }));
  });
});

describe('shipped champions (models/artifacts)', async () => {
  const root = join(packageRoot(), 'models', 'artifacts');
  const registry = new ModelRegistry({ root });
  const shipped = existsSync(root) ? (await registry.list()).filter((m) => m.champion !== null) : [];
  it('ships a champion for each task (the service scores out of the box)', () => {
    expect(shipped.map((m) => m.name).sort()).toEqual(['coding-mismatch', 'duplicate']);
  });
  for (const m of shipped) {
    it(`${m.name}@${m.champion}: artefacts verify, features are the served ones, ONNX = float64 reference, tfjs within 2e-5 (logit)`, async () => {
      const r = await registry.resolve(m.name, 'champion');
      const schema = servedFeatureSchemas()[r.card.task];
      // The served vector or an earlier edition of it the service still computes.
      const served = [schema, ...(schema.earlier ?? [])].find(
        (sig) => JSON.stringify(sig.names) === JSON.stringify(r.card.featureNames),
      )!;
      expect(served).toBeDefined();
      // The vector's version, or a pre-split whole-schema version still equivalent to it.
      expect([served.version, ...(served.accepted ?? [])]).toContain(r.card.featureSchemaVersion);
      const session = await OnnxModelSession.fromBuffer(r.onnx, { expected: served });
      expect(session.modelVersion).toBe(r.label);
      await session.release();
      if (r.spec) {
        const rows = randomRows(r.spec, 4000, 21, 2);
        // duplicate@5 (two monotone networks, logits up to 54 on random rows): tfjs differs from the
        // ONNX graph by 1.2e-5 in logit while the graph is within 6e-8 (relative) of the float64
        // reference, so the difference is tfjs's float32 error and its bound is 2e-5 here; the
        // ONNX-vs-float64 bounds are unchanged.
        expectParity(`shipped ${r.label}`, await parity(r.spec, rows), 2e-5);
      }
    });
  }
});
