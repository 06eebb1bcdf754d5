import { describe, expect, it } from 'vitest';
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

interface Parity {
  logit: number;
  probability: number;
  vsFloat64Logit: number;
  vsFloat64Probability: number;
}

async function parity(spec: TrainedModelSpec, rows: number[][]): Promise<Parity> {
  const session = await OnnxModelSession.fromBuffer(exportOnnx(spec), {
    expected: { names: spec.featureNames },
  });
  const onnxOut = await session.run(rows);
  await session.release();
  const tfOut = await tfjsPredict(spec, rows);
  const p: Parity = { logit: 0, probability: 0, vsFloat64Logit: 0, vsFloat64Probability: 0 };
  rows.forEach((r, i) => {
    const x = Float32Array.from(r); // what both runtimes see
    const diff = (a: number, b: number): number => Math.abs(a - b);
    p.logit = Math.max(p.logit, diff(onnxOut.logit[i]!, tfOut.logit[i]!));
    p.probability = Math.max(p.probability, diff(onnxOut.probability[i]!, tfOut.probability[i]!));
    p.vsFloat64Logit = Math.max(p.vsFloat64Logit, diff(onnxOut.logit[i]!, specLogit(spec, x)));
    p.vsFloat64Probability = Math.max(
      p.vsFloat64Probability,
      diff(onnxOut.probability[i]!, predictProbability(spec, x)),
    );
  });
  return p;
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
    console.log(
      `parity ${label}: max|logit diff| ${p.logit.toExponential(2)}, max|probability diff| ${p.probability.toExponential(2)}` +
        ` (vs float64 reference: ${p.vsFloat64Logit.toExponential(2)}, ${p.vsFloat64Probability.toExponential(2)})`,
    );
    expect(p.logit).toBeLessThanOrEqual(1e-5);
    expect(p.probability).toBeLessThanOrEqual(1e-5);
    // Inside the graph the arithmetic is float64: only the final float32 casts separate it from the reference.
    expect(p.vsFloat64Probability).toBeLessThanOrEqual(1e-7);
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
