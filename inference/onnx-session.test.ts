import { describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
import { DT, encodeModel, node, tensorInfo } from '../models/onnx-graph.js';
import { predictProbability, specLogit } from '../models/spec.js';
import { exportOnnx } from '../training/onnx-export.js';
import { LINE_NAMES, lineRows, makeSpec } from '../test/model-fixtures.js';
import { OnnxModelSession, checkSignature } from './onnx-session.js';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('OnnxModelSession', () => {
  const spec = makeSpec({ seed: 21, hidden: [8] });
  const buf = exportOnnx(spec, { modelVersion: 'coding-mismatch@1' });

  it('runs a batch and a single row with the same numbers as the float64 reference', async () => {
    const s = await OnnxModelSession.fromBuffer(buf, { expected: { names: LINE_NAMES, version: 'fs-test' } });
    expect(s.modelVersion).toBe('coding-mismatch@1');
    expect(s.featureNames).toEqual(LINE_NAMES);
    const rows = lineRows(200, 5);
    const batch = await s.run(rows);
    const flat = await s.run(Float32Array.from(rows.flat()));
    expect(Array.from(flat.probability)).toEqual(Array.from(batch.probability));
    for (const i of [0, 17, 199]) {
      const one = await s.runOne(rows[i]!);
      expect(one.probability).toBe(batch.probability[i]);
      expect(one.logit).toBeCloseTo(specLogit(spec, Float32Array.from(rows[i]!)), 5);
      expect(one.probability).toBeCloseTo(predictProbability(spec, Float32Array.from(rows[i]!)), 6);
    }
    expect((await s.run([])).probability.length).toBe(0);
    await expect(s.run([[1, 2, 3]])).rejects.toThrow(RangeError);
    await expect(s.run(new Float32Array(7))).rejects.toThrow(RangeError);
    await s.release();
  });

  it('refuses a model whose input signature differs from the feature schema, naming both', async () => {
    const cases: [string, string[], string?][] = [
      ['one feature missing', LINE_NAMES.slice(0, 5)],
      ['one extra feature', [...LINE_NAMES, 'vendor_age_days']],
      ['renamed feature', LINE_NAMES.map((n) => (n === 'code_known' ? 'code_exists' : n))],
      ['reordered features', [LINE_NAMES[1]!, LINE_NAMES[0]!, ...LINE_NAMES.slice(2)]],
    ];
    for (const [label, names] of cases) {
      const e = await rejection(
        OnnxModelSession.fromBuffer(buf, { expected: { names }, label: 'coding-mismatch@1' }),
      );
      expect(isTriageError(e, 'TRIAGE_MODEL_SIGNATURE_MISMATCH'), label).toBe(true);
      const msg = (e as Error).message;
      expect(msg).toContain(`model expects 6 features [${LINE_NAMES.join(', ')}]`);
      expect(msg).toContain(`feature schema provides ${names.length} features [${names.join(', ')}]`);
      expect((e as { status: number }).status).toBe(422);
    }
    const v = await rejection(
      OnnxModelSession.fromBuffer(buf, { expected: { names: LINE_NAMES, version: 'fs-new' } }),
    );
    expect(isTriageError(v, 'TRIAGE_MODEL_SIGNATURE_MISMATCH')).toBe(true);
    expect((v as Error).message).toContain('fs-test');
    expect((v as Error).message).toContain('fs-new');
  });

  it('checkSignature: count alone is enough to refuse; equal signatures pass', () => {
    expect(() => checkSignature({ names: null, count: 5, version: null }, { names: LINE_NAMES })).toThrow(
      /count 5 != 6/,
    );
    expect(() =>
      checkSignature({ names: LINE_NAMES, count: 6, version: 'x' }, { names: LINE_NAMES }),
    ).not.toThrow();
  });

  it('refuses bytes that are not a served model', async () => {
    const junk = await rejection(OnnxModelSession.fromBuffer(new Uint8Array([1, 2, 3, 4, 5])));
    expect(isTriageError(junk, 'TRIAGE_MODEL_INVALID')).toBe(true);
    const otherIo = encodeModel({
      graph: {
        name: 'g',
        node: [node('Identity', ['x'], ['y'])],
        input: [tensorInfo('x', DT.FLOAT, ['N', 6])],
        output: [tensorInfo('y', DT.FLOAT, ['N', 6])],
      },
    });
    const io = await rejection(OnnxModelSession.fromBuffer(otherIo));
    expect(isTriageError(io, 'TRIAGE_MODEL_INVALID')).toBe(true);
    expect((io as Error).message).toContain("expected input 'features'");
  });
});
