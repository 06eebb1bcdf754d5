/**
 * Model management routes and the Open Inference Protocol v2 through app.inject(), on a real
 * store (audit log) and a temporary registry of tiny ONNX models: roles (401/403), listings and
 * cards, refused/forced promotions audited in the hash chain (and a tampered promotion row
 * detected), audit failures abandoning a promotion, retrain jobs, OIP metadata/ready/infer and
 * bad infer inputs named by field.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { buildApp } from '../api/app.js';
import { appDepsOf } from '../bin/bootstrap.js';
import { BLANK_TEXT } from '../core/validate.js';
import type { ModelsApiDeps } from '../api/routes/models.js';
import { modelAudit, wireModelsApi } from '../bin/models-api.js';
import { ChampionModel } from '../inference/onnx-champion.js';
import { createInProcessQueue, createProcessors, type InProcessQueue, type TrainFn } from '../jobs/index.js';
import { ModelRegistry } from '../models/registry.js';
import { predictProbability, type TrainedModelSpec } from '../models/spec.js';
import { exportOnnx } from '../training/onnx-export.js';
import { engines } from './fixtures.js';
import { LINE_NAMES, lineRows, makeCardDraft, makeEvaluation, makeSpec } from './model-fixtures.js';
import { startHarness, type Harness, type KeyName } from './harness.js';

const NAME = 'coding-mismatch';

interface Problem {
  code: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

describe.each(engines('models'))('model routes and OIP v2 on $name', ({ config }) => {
  let h: Harness;
  let root: string;
  let registry: ModelRegistry;
  let champion: ChampionModel;
  let queue: InProcessQueue;
  const specs: Record<string, TrainedModelSpec> = {};
  const cfg = config();

  /** A fake trainer: reports progress and "registers" nothing (the real one has its own test). */
  const fakeTrain: TrainFn = async (d, ctx) => {
    await ctx?.updateProgress(50);
    await ctx?.updateProgress(100);
    return { task: d.task, version: `${d.task}@99`, metrics: { pr_auc: 0.5 + d.seed / 1000 } };
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'models-api-'));
    registry = new ModelRegistry({ root });
    // v1: PR-AUC 0.8 (champion), v2: 0.7 (worse, same evaluation set), v3: 0.85 (better).
    for (const [seed, prAuc] of [
      [1, 0.8],
      [2, 0.7],
      [3, 0.85],
    ] as const) {
      const spec = makeSpec({ seed });
      const r = await registry.register(NAME, {
        onnx: exportOnnx(spec),
        spec,
        card: makeCardDraft(spec, { prAuc }),
        evaluation: makeEvaluation(prAuc),
        actor: 'setup',
      });
      specs[r.version] = spec;
    }
    await registry.promote(NAME, '1', { actor: 'setup' });
    champion = await ChampionModel.load(registry, NAME, {
      expected: { names: LINE_NAMES, version: 'fs-test' },
      watchIntervalMs: null,
    });
    h = await startHarness(cfg, {
      app: (wired) => {
        queue = createInProcessQueue({
          processors: createProcessors({ scoring: wired.scoring, batches: wired.batches, train: fakeTrain }),
          jobOptions: { attempts: 1 },
        });
        return {
          models: {
            ...wireModelsApi({
              registry,
              repo: wired.repo,
              queue,
              served: () => new Map([[NAME, champion]]),
            }),
            maxLoadedVersions: 1,
            maxInferRows: 100,
          },
        };
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await queue?.close();
    await champion?.close();
    await rm(root, { recursive: true, force: true });
  });

  const call = (key: KeyName | null, o: InjectOptions) => h.call(key, o);
  const problem = (r: { json: () => unknown }) => r.json() as Problem;
  const auditEntries = async (key: KeyName, subject: string) =>
    (await call(key, { method: 'GET', url: `/v1/audit?subject_id=${encodeURIComponent(subject)}` })).json<{
      items: { seq: number; kind: string; actor_key_id: string | null; payload: Record<string, unknown> }[];
    }>().items;
  const verify = async (key: KeyName) =>
    (await call(key, { method: 'GET', url: '/v1/audit/verify' })).json<{
      ok: boolean;
      first_bad_seq: number | null;
      problem: string | null;
    }>();
  const infer = (path: string, payload: unknown, key: KeyName = 'ds') =>
    call(key, { method: 'POST', url: path, payload: payload as object });
  const features = (data: unknown, over: Record<string, unknown> = {}) => ({
    inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 6], data, ...over }],
  });

  it('refuses requests without a key (401) and keys of other roles (403) on every route', async () => {
    const routes: { method: 'GET' | 'POST'; url: string; payload?: object; allowed: KeyName[] }[] = [
      { method: 'GET', url: '/v1/models', allowed: ['ds', 'auditor', 'admin'] },
      { method: 'GET', url: `/v1/models/${NAME}/versions/1`, allowed: ['ds', 'auditor', 'admin'] },
      {
        method: 'POST',
        url: `/v1/models/${NAME}/promote`,
        payload: { version: '1', reason: 'roles check' },
        allowed: ['ds', 'admin'],
      },
      { method: 'POST', url: `/v1/models/${NAME}/train`, payload: {}, allowed: ['ds', 'admin'] },
      { method: 'GET', url: '/v1/jobs/some-job', allowed: ['ds', 'admin'] },
      { method: 'GET', url: '/v2/health/live', allowed: ['ds', 'workflow', 'admin'] },
      { method: 'GET', url: '/v2/health/ready', allowed: ['ds', 'workflow', 'admin'] },
      { method: 'GET', url: `/v2/models/${NAME}`, allowed: ['ds', 'workflow', 'admin'] },
      { method: 'GET', url: `/v2/models/${NAME}/ready`, allowed: ['ds', 'workflow', 'admin'] },
      { method: 'POST', url: `/v2/models/${NAME}/infer`, payload: {}, allowed: ['ds', 'workflow', 'admin'] },
      { method: 'GET', url: `/v2/models/${NAME}/versions/1`, allowed: ['ds', 'workflow', 'admin'] },
      { method: 'GET', url: `/v2/models/${NAME}/versions/1/ready`, allowed: ['ds', 'workflow', 'admin'] },
      {
        method: 'POST',
        url: `/v2/models/${NAME}/versions/1/infer`,
        payload: {},
        allowed: ['ds', 'workflow', 'admin'],
      },
    ];
    const roles: KeyName[] = ['workflow', 'reviewer', 'auditor', 'admin', 'ds'];
    for (const r of routes) {
      const o = { method: r.method, url: r.url, ...(r.payload ? { payload: r.payload } : {}) };
      const anon = await call(null, o);
      expect(anon, `${r.url} without key`).toBeProblem(401, 'TRIAGE_AUTH_REQUIRED');
      for (const key of roles.filter((k) => !r.allowed.includes(k))) {
        const res = await call(key, o);
        expect(res, `${r.method} ${r.url} as ${key}`).toBeProblem(403, 'TRIAGE_FORBIDDEN');
      }
    }
  });

  it('lists models with versions, aliases, served version and card summaries', async () => {
    const res = await call('auditor', { method: 'GET', url: '/v1/models' });
    expect(res.statusCode).toBe(200);
    const { models } = res.json<{
      models: {
        name: string;
        champion: string | null;
        challenger: string | null;
        served_version: string | null;
        versions: {
          version: string;
          aliases: string[];
          task: string;
          parent_version: string | null;
          thresholds: { auto_approve: number; hold: number };
          evaluation: { metric: string; value: number };
        }[];
      }[];
    }>();
    expect(models).toHaveLength(1);
    const m = models[0]!;
    expect(m).toMatchObject({ name: NAME, champion: '1', challenger: '3', served_version: '1' });
    expect(m.versions.map((v) => [v.version, v.aliases, v.evaluation.value])).toEqual([
      ['1', ['champion'], 0.8],
      ['2', [], 0.7],
      ['3', ['challenger'], 0.85],
    ]);
    expect(m.versions[0]).toMatchObject({
      task: NAME,
      parent_version: null,
      thresholds: { auto_approve: 0.1, hold: 0.9 },
      evaluation: { metric: 'pr_auc' },
    });
  });

  it('returns the full card of a version or alias, 404 for an unknown name, version or alias', async () => {
    const card = await call('ds', { method: 'GET', url: `/v1/models/${NAME}/versions/v3` });
    expect(card.statusCode).toBe(200);
    expect(card.json()).toMatchObject({
      name: NAME,
      version: '3',
      task: NAME,
      featureNames: LINE_NAMES,
      evaluation: { metric: 'pr_auc', value: 0.85 },
      training: { seed: 3, calibration: { chosen: 'platt' } },
      history: [{ action: 'registered', actor: 'setup' }],
    });
    expect(
      (await call('ds', { method: 'GET', url: `/v1/models/${NAME}/versions/champion` })).json(),
    ).toMatchObject({
      version: '1',
    });
    for (const url of [`/v1/models/nope/versions/1`, `/v1/models/${NAME}/versions/9`]) {
      const r = await call('ds', { method: 'GET', url });
      expect(r, url).toBeProblem(404, 'TRIAGE_MODEL_NOT_FOUND');
    }
    const bad = await call('ds', { method: 'GET', url: `/v1/models/${NAME}/versions/latest` });
    expect(bad.statusCode).toBe(400);
  });

  it('needs a non-blank reason for every promotion (400 naming /reason), nothing audited', async () => {
    const res = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '2' },
    });
    expect(res.statusCode).toBe(400);
    expect(problem(res).errors).toEqual([
      { path: '/reason', message: 'is required (why the champion changes)' },
    ]);
    expect(await auditEntries('auditor', `${NAME}@2`)).toEqual([]);
    expect((await registry.aliases(NAME)).champion).toBe('1');
  });

  it('refuses a worse version with a 409 naming both values, and audits the refusal', async () => {
    const res = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '2', reason: 'try v2' },
    });
    expect(res.statusCode).toBe(409);
    const p = problem(res);
    expect(p.code).toBe('TRIAGE_MODEL_PROMOTION_REFUSED');
    expect(p.errors?.[0]?.path).toBe('/version');
    expect(p.errors?.[0]?.message).toContain(`${NAME}@2: pr_auc 0.7000`);
    expect(p.errors?.[0]?.message).toContain(`${NAME}@1: pr_auc 0.8000`);
    expect((await registry.aliases(NAME)).champion).toBe('1');
    const entries = await auditEntries('auditor', `${NAME}@2`);
    expect(entries.map((e) => e.kind)).toEqual(['model.promotion_refused']);
    expect(entries[0]).toMatchObject({ actor_key_id: h.keyIds.ds, payload: { champion: '1', version: '2' } });
    // Forcing without a reason is a bad request naming the field.
    const noReason = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '2', force: true },
    });
    expect(noReason.statusCode).toBe(400);
    expect(problem(noReason).errors).toEqual([
      { path: '/reason', message: 'is required when force is true' },
    ]);
    const blank = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '2', force: true, reason: '\u200b\u2800' },
    });
    expect(problem(blank).errors).toEqual([{ path: '/reason', message: BLANK_TEXT }]);
  });

  it('records a forced promotion in the audit log; the chain verifies', async () => {
    const res = await call('admin', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '2', force: true, reason: 'incident 42: v1 misroutes oxygen claims' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      name: NAME,
      version: '2',
      previous_champion: '1',
      forced: true,
      changed: true,
    });
    expect((await registry.aliases(NAME)).champion).toBe('2');
    const entries = await auditEntries('auditor', `${NAME}@2`);
    expect(entries.map((e) => e.kind)).toEqual(['model.promotion_refused', 'model.promoted']);
    expect(entries[1]).toMatchObject({
      actor_key_id: h.keyIds.admin,
      payload: {
        forced: true,
        previousChampion: '1',
        reason: 'incident 42: v1 misroutes oxygen claims',
        actor: h.keyIds.admin,
      },
    });
    expect(String(entries[1]!.payload.overriddenRefusal)).toContain('worse');
    expect(await verify('auditor')).toMatchObject({ ok: true, first_bad_seq: null });
    // The card history records it too; the served champion follows after a reload.
    const card = (await call('ds', { method: 'GET', url: `/v1/models/${NAME}/versions/2` })).json<{
      history: { action: string; forced?: boolean }[];
    }>();
    expect(card.history.at(-1)).toMatchObject({ action: 'promoted', forced: true });
    expect(await champion.reload()).toBe(true);
    const list = (await call('ds', { method: 'GET', url: '/v1/models' })).json<{
      models: { served_version: string }[];
    }>();
    expect(list.models[0]!.served_version).toBe('2');
    // Promoting the champion again changes nothing.
    const again = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: 'v2', reason: 'again' },
    });
    expect(again.json()).toMatchObject({ version: '2', changed: false });
    const missing = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '9', reason: 'missing' },
    });
    expect(missing.statusCode).toBe(404);
  });

  it('rolls back to the champion that served immediately before without force, recorded as a rollback', async () => {
    // v1 served immediately before the forced v2: putting it back needs only a reason.
    const back = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '1', reason: 'v2 misroutes oxygen claims after all' },
    });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json()).toMatchObject({ version: '1', previous_champion: '2', forced: false, changed: true });
    const aliases = await registry.aliases(NAME);
    expect(aliases.champion).toBe('1');
    expect(aliases.history.at(-1)).toMatchObject({
      alias: 'champion',
      from: '2',
      to: '1',
      rollback: true,
      reason: 'v2 misroutes oxygen claims after all',
    });
    expect(aliases.history.at(-1)!.forced).toBeUndefined();
    const [entry] = (await auditEntries('auditor', `${NAME}@1`)).filter((e) => e.kind === 'model.promoted');
    expect(entry).toMatchObject({
      actor_key_id: h.keyIds.ds,
      payload: { rollback: true, forced: false, previousChampion: '2', overriddenRefusal: null },
    });
    expect((await registry.card(NAME, '1')).history.at(-1)).toMatchObject({
      action: 'promoted',
      rollback: true,
    });
    // Undoing it is a rollback too (v2 served immediately before v1), although the rule refuses
    // v2 over v1 (pr_auc 0.70 < 0.80) and no force is given.
    const again = await call('admin', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '2', reason: 'the misrouting was the intake, not v2' },
    });
    expect(again.json()).toMatchObject({ version: '2', previous_champion: '1', forced: false });
    expect(await verify('auditor')).toMatchObject({ ok: true });
  });

  it('detects a tampered promotion row', async () => {
    // The operator (tenant default) promotes v3; tenant "other" gets a linked entry in its own
    // chain, which is then altered by raw SQL.
    const res = await call('admin', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '3', reason: 'v3 is better' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: '3', previous_champion: '2', forced: false });
    const [row] = await auditEntries('other_auditor', `${NAME}@3`);
    expect(row).toMatchObject({
      kind: 'model.promoted',
      actor_key_id: null,
      payload: { operator_tenant: 'default', actor: h.keyIds.admin },
    });
    expect(await verify('other_auditor')).toMatchObject({ ok: true });
    const sql = (text: string) => h.wired.repo.transaction((tx) => tx.query(text));
    await sql('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
    try {
      await sql(
        `UPDATE audit_log SET payload = replace(payload, '"forced":false', '"forced":true')
         WHERE tenant_id = 'other' AND seq = ${row!.seq}`,
      );
    } finally {
      await sql('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
    }
    expect(await verify('other_auditor')).toMatchObject({
      ok: false,
      first_bad_seq: row!.seq,
      problem: 'payload_altered',
    });
  });

  it('abandons a promotion whose audit entry cannot be written', async () => {
    const failing: ModelsApiDeps = {
      ...wireModelsApi({ registry, repo: h.wired.repo }),
      audit: () => Promise.reject(new Error('audit store down')),
    };
    const app = await buildApp({
      ...appDepsOf(h.wired),
      models: failing,
    });
    try {
      const before = (await registry.aliases(NAME)).champion;
      const res = await app.inject({
        method: 'POST',
        url: `/v1/models/${NAME}/promote`,
        payload: { version: '1', force: true, reason: 'roll back' },
        headers: { authorization: `Bearer ${h.keys.ds}` },
      });
      expect(res.statusCode).toBe(500);
      expect((await registry.aliases(NAME)).champion).toBe(before);
      // Without a queue, training is not configured.
      const train = await app.inject({
        method: 'POST',
        url: `/v1/models/${NAME}/train`,
        payload: {},
        headers: { authorization: `Bearer ${h.keys.ds}` },
      });
      expect(train).toBeProblem(503, 'TRIAGE_TRAINING_NOT_CONFIGURED');
    } finally {
      await app.close();
    }
  });

  it('enqueues a retrain job (202 + Location) and reports its state, progress and result', async () => {
    const res = await call('ds', { method: 'POST', url: `/v1/models/${NAME}/train`, payload: { seed: 7 } });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ job_id: string; seed: number; task: string; links: { self: string } }>();
    expect(body).toMatchObject({ task: NAME, seed: 7 });
    expect(res.headers.location).toBe(`/v1/jobs/${body.job_id}`);
    await queue.drained();
    const job = await call('ds', { method: 'GET', url: body.links.self });
    expect(job.statusCode).toBe(200);
    expect(job.json()).toMatchObject({
      job_id: body.job_id,
      name: 'retrain',
      state: 'completed',
      progress: 100,
      task: NAME,
      result: { task: NAME, version: `${NAME}@99`, metrics: { pr_auc: 0.507 } },
    });
    // Another tenant's key does not see it; unknown ids and models are 404s.
    expect((await call('other_admin', { method: 'GET', url: body.links.self })).statusCode).toBe(404);
    const unknown = await call('ds', { method: 'GET', url: '/v1/jobs/no-such-job' });
    expect(problem(unknown).code).toBe('TRIAGE_JOB_NOT_FOUND');
    const nope = await call('ds', { method: 'POST', url: '/v1/models/priority/train', payload: {} });
    expect(nope).toBeProblem(404, 'TRIAGE_MODEL_NOT_FOUND');
    const badSeed = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/train`,
      payload: { seed: -1 },
    });
    expect(badSeed.statusCode).toBe(400);
    const badSource = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/train`,
      payload: { label_sources: ['crm'], label_weights: { erp: 0 } },
    });
    expect(badSource.statusCode).toBe(400);
    expect((problem(badSource).errors ?? []).map((e) => e.path)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\/label_sources/), '/label_weights/erp']),
    );
    const unknownSource = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/train`,
      payload: { label_weights: { nope: 1 } },
    });
    expect(unknownSource).toBeProblem(400, 'TRIAGE_INPUT_INVALID');
    // Default seed 42 without a body.
    const noBody = await call('admin', { method: 'POST', url: `/v1/models/${NAME}/train` });
    expect(noBody.statusCode).toBe(202);
    expect(noBody.json()).toMatchObject({ seed: 42 });
    await queue.drained();
  });

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
    // Served champion (v2 after the forced promotion; the registry's alias moved on to v3 in
    // tenant other's test, but the served model reloads only when told to).
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

  it('documents every model and OIP route in OpenAPI with its schemas', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    }>();
    for (const [path, method] of [
      ['/v1/models', 'get'],
      ['/v1/models/{name}/versions/{version}', 'get'],
      ['/v1/models/{name}/promote', 'post'],
      ['/v1/models/{name}/train', 'post'],
      ['/v1/jobs/{id}', 'get'],
      ['/v2/health/live', 'get'],
      ['/v2/health/ready', 'get'],
      ['/v2/models/{name}', 'get'],
      ['/v2/models/{name}/ready', 'get'],
      ['/v2/models/{name}/infer', 'post'],
      ['/v2/models/{name}/versions/{version}/infer', 'post'],
    ] as const) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(Object.keys(op!.responses), path).toEqual(expect.arrayContaining(['400', '401', '403']));
      if (method === 'post') expect(op!.requestBody, path).toBeDefined();
    }
  });

  it('audits registrations through modelAudit in the given tenant', async () => {
    const audit = modelAudit(h.wired.repo);
    const spec = makeSpec({ seed: 4 });
    await registry.register(
      NAME,
      { onnx: exportOnnx(spec), spec, card: makeCardDraft(spec), evaluation: makeEvaluation(0.9) },
      { onEvent: (e) => audit(e, h.keyIds.ds, 'default') },
    );
    const [row] = await auditEntries('auditor', `${NAME}@4`);
    expect(row).toMatchObject({
      kind: 'model.registered',
      actor_key_id: h.keyIds.ds,
      payload: { version: '4' },
    });
    const v = await verify('auditor');
    expect(v).toMatchObject({ ok: true });
  });
});
