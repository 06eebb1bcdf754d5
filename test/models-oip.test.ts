/**
 * The Open Inference Protocol v2 routes through app.inject(), on a real store and a temporary
 * registry of tiny ONNX models (test/models-api-harness.ts) whose served champion is version 2:
 * health, metadata and readiness, inference with the served champion and with versions loaded on
 * demand, and bad infer inputs named by field. Roles and the OpenAPI document of these routes are
 * checked in test/models-api.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { predictProbability, type TrainedModelSpec } from '../models/spec.js';
import { engines } from './fixtures.js';
import { LINE_NAMES, lineRows } from './model-fixtures.js';
import { call, features, infer, NAME, problem, specs, useModelsApi } from './models-api-harness.js';

describe.each(engines('models_oip'))('model routes and OIP v2 on $name', ({ config }) => {
  useModelsApi(config(), { champion: '2' });

  it('serves OIP v2 health, metadata and readiness', async () => {
    expect((await call('workflow', { method: 'GET', url: '/v2/health/live' })).json()).toEqual({
      live: true,
    });
    expect((await call('workflow', { method: 'GET', url: '/v2/health/ready' })).json()).toEqual({
      ready: true,
    });
    const meta = await call('ds', { method: 'GET', url: `/v2/models/${NAME}` });
    expect(meta.statusCode).toBe(200);
    expect(meta.json()).toEqual({
      name: NAME,
      versions: ['1', '2', '3'],
      platform: 'onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 6] }],
      outputs: [
        { name: 'logit', datatype: 'FP32', shape: [-1, 1] },
        { name: 'probability', datatype: 'FP32', shape: [-1, 1] },
      ],
      parameters: { feature_names: LINE_NAMES, feature_schema_version: 'fs-test', version: '2' },
    });
    const v1 = (await call('ds', { method: 'GET', url: `/v2/models/${NAME}/versions/1` })).json();
    expect(v1).toMatchObject({ versions: ['1'], parameters: { version: '1' } });
    expect((await call('ds', { method: 'GET', url: `/v2/models/${NAME}/ready` })).json()).toEqual({
      name: NAME,
      ready: true,
    });
    expect((await call('ds', { method: 'GET', url: `/v2/models/${NAME}/versions/3/ready` })).json()).toEqual({
      name: NAME,
      ready: true,
    });
    for (const url of [`/v2/models/nope`, `/v2/models/nope/ready`, `/v2/models/${NAME}/versions/9/ready`]) {
      const r = await call('ds', { method: 'GET', url });
      expect(r, url).toBeProblem(404, 'TRIAGE_MODEL_NOT_FOUND');
    }
  });

  it('infers with the served champion and with other versions loaded on demand', async () => {
    const rows = lineRows(2, 11);
    const expectScores = (out: { name: string; data: number[] }[], spec: TrainedModelSpec) => {
      const p = out.find((o) => o.name === 'probability')!.data;
      rows.forEach((r, i) => expect(p[i]).toBeCloseTo(predictProbability(spec, r.map(Math.fround)), 4));
    };
    // Served champion (v2, forced over v1 at set-up as the promotion tests of
    // test/models-api.test.ts leave it).
    const flat = await infer(
      `/v2/models/${NAME}/infer`,
      { id: 'req-1', ...features(rows.flat()) },
      'workflow',
    );
    expect(flat.statusCode).toBe(200);
    const fb = flat.json<{
      model_name: string;
      model_version: string;
      id: string;
      outputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
    }>();
    expect(fb).toMatchObject({ model_name: NAME, model_version: '2', id: 'req-1' });
    expect(fb.outputs.map((o) => [o.name, o.shape, o.datatype, o.data.length])).toEqual([
      ['logit', [2, 1], 'FP32', 2],
      ['probability', [2, 1], 'FP32', 2],
    ]);
    expectScores(fb.outputs, specs['2']!);
    // Nested rows give the same answer; one output can be asked for.
    const nested = await infer(`/v2/models/${NAME}/infer`, {
      ...features(rows),
      outputs: [{ name: 'probability' }],
    });
    const nb = nested.json<{ outputs: { name: string; data: number[] }[] }>();
    expect(nb.outputs.map((o) => o.name)).toEqual(['probability']);
    expect(nb.outputs[0]!.data).toEqual(fb.outputs[1]!.data);
    expect(nested.json()).not.toHaveProperty('id');
    // Non-champion versions, loaded from the registry (cache of one: v1 evicts v3 and back).
    for (const v of ['3', '1', '3']) {
      const r = await infer(`/v2/models/${NAME}/versions/${v}/infer`, features(rows));
      expect(r.statusCode, `v${v}`).toBe(200);
      const b = r.json<{ model_version: string; outputs: { name: string; data: number[] }[] }>();
      expect(b.model_version).toBe(v);
      expectScores(b.outputs, specs[v]!);
    }
    const challengerless = await infer(`/v2/models/nope/infer`, features(rows));
    expect(challengerless.statusCode).toBe(404);
  });

  it('answers bad infer inputs with a 400 naming the field', async () => {
    const rows = lineRows(2, 5);
    const cases: [string, unknown, string][] = [
      ['datatype', features(rows.flat(), { datatype: 'INT64' }), '/inputs/0/datatype'],
      ['name', features(rows.flat(), { name: 'x' }), '/inputs/0/name'],
      ['width', features(rows.flat(), { shape: [3, 4] }), '/inputs/0/shape'],
      ['rank', features(rows.flat(), { shape: [12] }), '/inputs/0/shape'],
      ['no rows', features([], { shape: [0, 6] }), '/inputs/0/shape'],
      ['flat length', features(rows.flat().slice(1)), '/inputs/0/data'],
      ['nested rows', features([rows[0]]), '/inputs/0/data'],
      ['nested width', features([rows[0], rows[1]!.slice(1)]), '/inputs/0/data/1'],
      [
        'two inputs',
        { inputs: [features(rows.flat()).inputs[0], features(rows.flat()).inputs[0]] },
        '/inputs',
      ],
      ['output', { ...features(rows.flat()), outputs: [{ name: 'label' }] }, '/outputs/0/name'],
      ['not numbers', features(['a', 'b']), '/inputs/0/data/0'],
      ['no inputs', { inputs: [] }, '/inputs'],
      // Beyond FP32 (±3.4e38): would become ±Infinity.
      ['fp32 overflow', features(rows.flat().map((v, i) => (i === 3 ? 1e39 : v))), '/inputs/0/data/3'],
      ['fp32 1e300', features(rows.flat().map((v, i) => (i === 0 ? 1e300 : v))), '/inputs/0/data/0'],
      ['fp32 -1e39', features(rows.flat().map((v, i) => (i === 11 ? -1e39 : v))), '/inputs/0/data/11'],
      [
        'nested fp32 overflow',
        features([rows[0], rows[1]!.map((v, j) => (j === 2 ? -1e39 : v))]),
        '/inputs/0/data/1/2',
      ],
      ['unknown field', { ...features(rows.flat()), colour: 'red' }, '/colour'],
      ['empty outputs', { ...features(rows.flat()), outputs: [] }, '/outputs'],
      [
        'duplicate outputs',
        {
          ...features(rows.flat()),
          outputs: [{ name: 'logit' }, { name: 'probability' }, { name: 'logit' }],
        },
        '/outputs/2/name',
      ],
    ];
    for (const [what, body, path] of cases) {
      const r = await infer(`/v2/models/${NAME}/versions/1/infer`, body);
      expect(r.statusCode, what).toBe(400);
      const p = problem(r);
      expect(p.code, what).toBe('TRIAGE_INPUT_INVALID');
      expect(
        p.errors?.map((e) => e.path),
        what,
      ).toContain(path);
    }
    const many = await infer(
      `/v2/models/${NAME}/infer`,
      features(new Array(6 * 101).fill(0), { shape: [101, 6] }),
    );
    expect(many.statusCode).toBe(400);
    expect(problem(many).errors).toEqual([
      { path: '/inputs/0/shape', message: 'has 101 rows; at most 100 per request' },
    ]);
  });
});
