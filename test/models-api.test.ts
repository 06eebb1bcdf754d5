/**
 * Model management routes through app.inject(), on a real store (audit log) and a temporary
 * registry of tiny ONNX models (test/models-api-harness.ts): roles (401/403) on every model and
 * OIP route, listings and cards, refused/forced promotions audited in the hash chain (and a
 * tampered promotion row detected), audit failures abandoning a promotion, retrain jobs, the
 * OpenAPI document and registrations audited. The tests run in order: each promotion starts from
 * the champion the one before left. OIP v2 is in test/models-oip.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { appDepsOf } from '../bin/bootstrap.js';
import { BLANK_TEXT } from '../core/validate.js';
import type { ModelsApiDeps } from '../api/routes/models.js';
import { modelAudit, wireModelsApi } from '../bin/models-api.js';
import { exportOnnx } from '../training/onnx-export.js';
import { engines } from './fixtures.js';
import { LINE_NAMES, makeCardDraft, makeEvaluation, makeSpec } from './model-fixtures.js';
import { withAuditTriggerOff, type KeyName } from './harness.js';
import {
  auditEntries,
  call,
  champion,
  h,
  NAME,
  problem,
  queue,
  registry,
  useModelsApi,
  verify,
} from './models-api-harness.js';

describe.each(engines('models'))('model routes and OIP v2 on $name', ({ config }) => {
  useModelsApi(config());

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
    await withAuditTriggerOff(sql, async () => {
      await sql(
        `UPDATE audit_log SET payload = replace(payload, '"forced":false', '"forced":true')
         WHERE tenant_id = 'other' AND seq = ${row!.seq}`,
      );
    });
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
    // A JSON null is not "no body": it is refused, and starts no training.
    const nullBody = await call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/train`,
      payload: 'null',
      headers: { 'content-type': 'application/json' },
    });
    expect(nullBody.statusCode, nullBody.body).toBe(400);
    expect((problem(nullBody).errors ?? []).map((e) => e.path)).toEqual(['/']);
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
