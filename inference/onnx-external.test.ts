import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTriageError, type ErrorCode } from '../core/errors.js';
import type { ExternalCardDraft } from '../models/card.js';
import {
  DT,
  ML_DOMAIN,
  ML_OPSET,
  encodeModel,
  floatsAttr,
  node,
  readSignature,
  tensorInfo,
} from '../models/onnx-graph.js';
import { ModelRegistry } from '../models/registry.js';
import { sigmoid } from '../models/spec.js';
import { LINE_NAMES, lineRows } from '../test/model-fixtures.js';
import { OnnxModelSession, verifyServedModel } from './onnx-session.js';

/**
 * A scikit-learn LogisticRegression as skl2onnx exports it: input `float_input` [None, F];
 * LinearClassifier (coefficients [-w, w], intercepts [-b, b], post_transform LOGISTIC) ->
 * `label` int64 [None] and `probability_tensor`; Normalizer(L1) -> `probabilities` [None, 2];
 * with `zipmap`, ZipMap -> `output_probability` (a sequence of maps).
 */
function sklearnLogistic(w: number[], b: number, o: { zipmap: boolean; width?: number }): Uint8Array {
  const f = o.width ?? w.length;
  const nodes = [
    {
      ...node('LinearClassifier', ['float_input'], ['label', 'probability_tensor'], {}, ML_DOMAIN),
      attribute: [
        floatsAttr('coefficients', [...w.map((x) => -x), ...w]),
        floatsAttr('intercepts', [-b, b]),
        { name: 'classlabels_ints', type: 7, ints: [0, 1] },
        { name: 'multi_class', type: 2, i: 0 },
        { name: 'post_transform', type: 3, s: new TextEncoder().encode('LOGISTIC') },
      ],
    },
    node('Normalizer', ['probability_tensor'], ['probabilities'], { norm: 'L1' }, ML_DOMAIN),
  ];
  const outputs = [tensorInfo('label', DT.INT64, [null])];
  if (o.zipmap) {
    nodes.push({
      ...node('ZipMap', ['probabilities'], ['output_probability'], {}, ML_DOMAIN),
      attribute: [{ name: 'classlabels_int64s', type: 7, ints: [0, 1] }],
    });
    outputs.push({
      name: 'output_probability',
      type: {
        sequenceType: {
          elemType: { mapType: { keyType: DT.INT64, valueType: { tensorType: { elemType: DT.FLOAT } } } },
        },
      },
    });
  } else outputs.push(tensorInfo('probabilities', DT.FLOAT, [null, 2]));
  return encodeModel({
    graph: {
      name: 'sklearn_lr',
      node: nodes,
      input: [tensorInfo('float_input', DT.FLOAT, [null, f])],
      output: outputs,
    },
    opsets: [
      { domain: '', version: 15 },
      { domain: ML_DOMAIN, version: ML_OPSET },
    ],
    metadata: { producer: 'skl2onnx-like test fixture' },
  });
}

const W = [-2.1, -1.3, -0.4, 1.7, 0.9, 0.00001];
const B = -0.6;

function draft(over: Partial<ExternalCardDraft> = {}): ExternalCardDraft {
  return {
    task: 'coding-mismatch',
    architecture: 'sklearn-logistic-regression',
    featureSchemaVersion: 'fs-test',
    featureNames: [...LINE_NAMES],
    trainedWith: 'scikit-learn 1.5.2, skl2onnx 1.17.0',
    trainingData: { hash: 'f'.repeat(64), size: 12000, description: 'AP audit sample 2024' },
    seed: 0,
    evaluation: {
      metric: 'pr_auc',
      value: 0.71,
      datasetHash: 'e'.repeat(64),
      split: 'test',
      unit: 'line',
      size: 3000,
      baselines: [],
    },
    thresholds: { autoApprove: 0.05, hold: 0.95 },
    calibration: { kind: 'sigmoid (CalibratedClassifierCV)', eceBefore: 0.06, eceAfter: 0.03 },
    metricsByKind: { price_outlier: { recall: 0.8 } },
    notes: [],
    ...over,
  };
}

let root: string;
let registry: ModelRegistry;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'byo-'));
  registry = new ModelRegistry({
    root,
    featureSchemas: { 'coding-mismatch': { names: LINE_NAMES, version: 'fs-test' } },
    verifyOnnx: (onnx, label) => verifyServedModel(onnx, label),
  });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function code(p: Promise<unknown>): Promise<{ code: ErrorCode | string; message: string }> {
  try {
    await p;
    return { code: 'resolved', message: '' };
  } catch (e) {
    return { code: isTriageError(e) ? e.code : 'other', message: (e as Error).message };
  }
}

describe('bring your own ONNX model', () => {
  it.each([true, false])(
    'registers a scikit-learn style classifier (zipmap %s) and serves P(class 1)',
    async (zipmap) => {
      const r = await registry.registerExternalOnnx(
        'coding-mismatch',
        sklearnLogistic(W, B, { zipmap }),
        draft(),
      );
      expect(r.version).toBe('1');
      expect(r.card.source).toBe('external');
      expect(r.card.external?.trainedWith).toContain('skl2onnx');
      expect(r.adaptation).toMatchObject({ positiveColumn: 1, classLabels: [0, 1], droppedZipMap: zipmap });
      expect(r.card.external?.notes.at(-1)).toContain("input 'float_input' -> 'features'");
      const sig = readSignature(r.onnx);
      expect(sig.inputs).toEqual([{ name: 'features', type: 'float', dims: ['N', 6] }]);
      expect(sig.outputs.map((o) => o.name)).toEqual(['logit', 'probability']);
      const session = await OnnxModelSession.fromBuffer(r.onnx, {
        expected: { names: LINE_NAMES, version: 'fs-test' },
      });
      expect(session.modelVersion).toBe('coding-mismatch@1');
      const rows = lineRows(500, 4).map((row) => row.map((v, i) => (i === 5 ? v / 1e5 : v)));
      const out = await session.run(rows);
      let maxDiff = 0;
      let maxLogitDiff = 0;
      rows.forEach((x, i) => {
        const z = B + x.reduce((s, v, j) => s + W[j]! * Math.fround(v), 0);
        maxDiff = Math.max(maxDiff, Math.abs(out.probability[i]! - sigmoid(z)));
        if (Math.abs(z) < 12) maxLogitDiff = Math.max(maxLogitDiff, Math.abs(out.logit[i]! - z));
      });
      expect(maxDiff).toBeLessThan(1e-6);
      expect(maxLogitDiff).toBeLessThan(1e-3); // the logit is recovered from a float32 probability
      await session.release();
    },
  );

  it('refuses a model whose input width differs from the served schema, naming both signatures', async () => {
    const narrow = sklearnLogistic(W.slice(0, 5), B, { zipmap: true });
    const e = await code(
      registry.registerExternalOnnx(
        'coding-mismatch',
        narrow,
        draft({ featureNames: LINE_NAMES.slice(0, 5) }),
      ),
    );
    expect(e.code).toBe('TRIAGE_MODEL_SIGNATURE_MISMATCH');
    expect(e.message).toContain(`model expects 5 features [${LINE_NAMES.slice(0, 5).join(', ')}]`);
    expect(e.message).toContain(
      `feature schema provides 6 features [${LINE_NAMES.join(', ')}] (schema fs-test)`,
    );
    // Declared names that differ from the schema are refused even when the width fits.
    const renamed = LINE_NAMES.map((n, i) => (i === 0 ? 'description_similarity' : n));
    const e2 = await code(
      registry.registerExternalOnnx(
        'coding-mismatch',
        sklearnLogistic(W, B, { zipmap: false }),
        draft({ featureNames: renamed }),
      ),
    );
    expect(e2.code).toBe('TRIAGE_MODEL_SIGNATURE_MISMATCH');
    expect(e2.message).toContain("feature 0 is 'description_similarity', schema has 'desc_ref_cosine'");
    // Names right, graph width wrong.
    const e3 = await code(
      registry.registerExternalOnnx(
        'coding-mismatch',
        sklearnLogistic(W, B, { zipmap: false, width: 7 }),
        draft(),
      ),
    );
    expect(e3.code).toBe('TRIAGE_MODEL_SIGNATURE_MISMATCH');
    expect(e3.message).toContain('count 7 != 6');
    expect(await registry.versions('coding-mismatch')).toEqual([]);
  });

  it('refuses what is not a usable binary classifier', async () => {
    const regressor = encodeModel({
      graph: {
        name: 'reg',
        node: [node('Identity', ['float_input'], ['variable'])],
        input: [tensorInfo('float_input', DT.FLOAT, [null, 6])],
        output: [tensorInfo('variable', DT.FLOAT, [null, 6])],
      },
    });
    expect((await code(registry.registerExternalOnnx('coding-mismatch', regressor, draft()))).code).toBe(
      'TRIAGE_MODEL_UPLOAD_INVALID',
    );
    expect(
      (await code(registry.registerExternalOnnx('coding-mismatch', new Uint8Array([9, 9, 9]), draft()))).code,
    ).toBe('TRIAGE_MODEL_UPLOAD_INVALID');
    const noSchema = new ModelRegistry({ root });
    expect(
      (
        await code(
          noSchema.registerExternalOnnx('coding-mismatch', sklearnLogistic(W, B, { zipmap: true }), draft()),
        )
      ).code,
    ).toBe('TRIAGE_MODEL_INVALID');
    const badDraft = draft({ thresholds: { autoApprove: 0.9, hold: 0.1 } });
    expect(
      (
        await code(
          registry.registerExternalOnnx('coding-mismatch', sklearnLogistic(W, B, { zipmap: true }), badDraft),
        )
      ).code,
    ).toBe('TRIAGE_MODEL_UPLOAD_INVALID');
  });

  it('an external champion is promoted and replaced under the same rule as trained ones', async () => {
    await registry.registerExternalOnnx('coding-mismatch', sklearnLogistic(W, B, { zipmap: true }), draft());
    await registry.promote('coding-mismatch', '1', { actor: 'ds' });
    const worse = draft({ evaluation: { ...draft().evaluation, value: 0.6 } });
    await registry.registerExternalOnnx(
      'coding-mismatch',
      sklearnLogistic(W, B + 1, { zipmap: false }),
      worse,
    );
    expect((await code(registry.promote('coding-mismatch', '2', { actor: 'ds' }))).code).toBe(
      'TRIAGE_MODEL_PROMOTION_REFUSED',
    );
  });
});
