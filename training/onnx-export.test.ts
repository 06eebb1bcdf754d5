import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { OnnxModelSession } from '../inference/onnx-session.js';
import { META, readSignature } from '../models/onnx-graph.js';
import { calibrate, specLogit, specProbability } from '../models/spec-math.js';
import type { TrainedModelSpec } from '../models/spec.js';
import { ISOTONIC_WITH_TIE, LINE_NAMES, lineRows, makeSpec, randomRows } from '../test/model-fixtures.js';
import { exportOnnx } from './onnx-export.js';

/**
 * A tfjs model of a spec, as training builds it: standardisation as tensor ops, then dense
 * layers with the spec's weights. (Stand-in for the trainer's `toTfjsModel` until it lands.)
 */
function tfjsLogits(spec: TrainedModelSpec, rows: number[][]): Float32Array {
  const model = tf.sequential();
  spec.layers.forEach((l, k) => {
    model.add(
      tf.layers.dense({
        units: l.bias.length,
        activation: l.activation,
        ...(k === 0 ? { inputShape: [spec.featureNames.length] } : {}),
      }),
    );
  });
  model.layers.forEach((layer, k) =>
    layer.setWeights([tf.tensor2d(spec.layers[k]!.weights), tf.tensor1d(spec.layers[k]!.bias)]),
  );
  const out = tf.tidy(() => {
    const x = tf.tensor2d(rows);
    const z = x.sub(tf.tensor1d(spec.standardise.mean)).div(tf.tensor1d(spec.standardise.std));
    return model.predict(z, { batchSize: 1 << 16 }) as tf.Tensor;
  });
  const data = out.dataSync() as Float32Array;
  out.dispose();
  model.dispose();
  return Float32Array.from(data);
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
  const tfLogit = tfjsLogits(spec, rows);
  const p: Parity = { logit: 0, probability: 0, vsFloat64Logit: 0, vsFloat64Probability: 0 };
  rows.forEach((r, i) => {
    const tl = tfLogit[i]!;
    p.logit = Math.max(p.logit, Math.abs(onnxOut.logit[i]! - tl));
    p.probability = Math.max(
      p.probability,
      Math.abs(onnxOut.probability[i]! - calibrate(spec.calibration, tl)),
    );
    p.vsFloat64Logit = Math.max(p.vsFloat64Logit, Math.abs(onnxOut.logit[i]! - specLogit(spec, r)));
    p.vsFloat64Probability = Math.max(
      p.vsFloat64Probability,
      Math.abs(onnxOut.probability[i]! - specProbability(spec, r)),
    );
  });
  return p;
}

const SPECS: [string, TrainedModelSpec][] = [
  ['logistic + platt', makeSpec({ seed: 1 })],
  ['logistic + isotonic (with a tie)', makeSpec({ seed: 2, calibration: ISOTONIC_WITH_TIE })],
  ['mlp 16-8 + isotonic', makeSpec({ seed: 3, hidden: [16, 8], calibration: ISOTONIC_WITH_TIE })],
  ['mlp 32 + platt', makeSpec({ seed: 4, hidden: [32], calibration: { kind: 'platt', a: 0.7, b: 0.2 } })],
  ['mlp 8 + none', makeSpec({ seed: 5, hidden: [8], calibration: { kind: 'none' } })],
];

describe('ONNX export parity with the tfjs model + calibration', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it.each(SPECS)('%s: max abs difference <= 1e-5 on random and real-range inputs', async (label, spec) => {
    const rows = [...randomRows(spec, 2000, 11), ...lineRows(2000, 12)];
    const p = await parity(spec, rows);
    console.log(
      `parity ${label}: max|logit diff| ${p.logit.toExponential(2)}, max|probability diff| ${p.probability.toExponential(2)}` +
        ` (vs float64 reference: ${p.vsFloat64Logit.toExponential(2)}, ${p.vsFloat64Probability.toExponential(2)})`,
    );
    expect(p.logit).toBeLessThanOrEqual(1e-5);
    expect(p.probability).toBeLessThanOrEqual(1e-5);
    // Inside the graph arithmetic is float64: only the final float32 cast separates it from the reference.
    expect(p.vsFloat64Probability).toBeLessThanOrEqual(1e-7);
  });

  it('parity fails loudly when the graph differs from the spec (the check can fail)', async () => {
    const spec = makeSpec({ seed: 1 });
    const other = structuredClone(spec);
    other.layers[0]!.bias[0]! += 1e-3;
    const session = await OnnxModelSession.fromBuffer(exportOnnx(other));
    const rows = lineRows(50, 3);
    const out = await session.run(rows);
    const tl = tfjsLogits(spec, rows);
    const diff = Math.max(...rows.map((_, i) => Math.abs(out.logit[i]! - tl[i]!)));
    expect(diff).toBeGreaterThan(1e-5);
    await session.release();
  });

  it('isotonic: clamped at the ends, exact at the knots, a jump at a tie', () => {
    const c = ISOTONIC_WITH_TIE;
    if (c.kind !== 'isotonic') throw new Error('fixture');
    const at = (s: number): number => calibrate(c, Math.log(s / (1 - s)));
    expect(at(0.001)).toBeCloseTo(0.01, 12);
    expect(at(0.999)).toBeCloseTo(0.97, 12);
    expect(at(0.2)).toBeCloseTo(0.04, 9);
    expect(at(0.35 - 1e-9)).toBeCloseTo(0.1, 6);
    expect(at(0.35 + 1e-9)).toBeCloseTo(0.22, 6);
    expect(at(0.7)).toBeCloseTo((0.5 + 0.81) / 2, 9);
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
