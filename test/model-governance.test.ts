/**
 * Shared models are changed only by the operator tenant, on a real store (PGlite and
 * PostgreSQL) and a temporary registry of tiny ONNX models: another tenant's admin and
 * data-scientist get 403 on promote and train and nothing changes (champion, card history, audit
 * chains, event feeds, retrain jobs); the operator's promotion emits `model.promoted` to every
 * tenant's feed (with a delivery per subscription) and links an entry in every other tenant's
 * audit chain to the operator's entry; `operatorTenant` moves the right to another tenant.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { buildApp } from '../api/app.js';
import type { ModelsApiDeps } from '../api/routes/models.js';
import { appDepsOf, type Wired } from '../bin/bootstrap.js';
import { lazyRetrain, wireModelsApi } from '../bin/models-api.js';
import { isTriageError, type TriageError } from '../core/errors.js';
import type { RetrainData } from '../jobs/types.js';
import { ModelRegistry } from '../models/registry.js';
import { engines } from './fixtures.js';
import { makeSpec } from './model-fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { registerVersions } from './model-versions.js';

const NAME = 'coding-mismatch';
const TENANTS = ['default', 'other', 'third'] as const;

describe.each(engines('modelgov'))('shared-model governance on $name', ({ config }) => {
  let h: Harness;
  let root: string;
  let registry: ModelRegistry;
  const enqueued: RetrainData[] = [];
  /** Extra keys: a data scientist of tenant other, an auditor of tenant third. */
  const extra: Record<'otherDs' | 'thirdAuditor', string> = { otherDs: '', thirdAuditor: '' };
  const cfg = config();

  const modelsDeps = (repo: Wired['repo'], over: Partial<ModelsApiDeps> = {}): ModelsApiDeps => ({
    ...wireModelsApi({ registry, repo }),
    enqueueRetrain: async (data) => {
      enqueued.push(data);
      return { jobId: `job-${enqueued.length}` };
    },
    ...over,
  });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelgov-'));
    registry = new ModelRegistry({ root });
    // v1 PR-AUC 0.8 (champion), v2 0.85 (better: an unforced promotion passes).
    await registerVersions(registry, NAME, [
      [makeSpec({ seed: 1 }), 0.8],
      [makeSpec({ seed: 2 }), 0.85],
    ]);
    h = await startHarness(cfg, { app: (wired) => ({ models: modelsDeps(wired.repo) }) });
    const keys = h.wired.repo.keys;
    extra.otherDs = (
      await keys.create({ tenantId: 'other', name: 'ds', roles: ['data-scientist'] }, null)
    ).key;
    extra.thirdAuditor = (
      await keys.create({ tenantId: 'third', name: 'aud', roles: ['auditor'] }, null)
    ).key;
  });
  afterAll(async () => {
    await h?.close();
    await rm(root, { recursive: true, force: true });
  });

  const as = (key: string, o: InjectOptions) =>
    h.app.inject({ ...o, headers: { authorization: `Bearer ${key}`, ...(o.headers ?? {}) } });
  const feeds = async () =>
    Object.fromEntries(
      await Promise.all(
        TENANTS.map(
          async (t) => [t, await h.wired.repo.events.feed(t, { afterSeq: 0, limit: 1000 })] as const,
        ),
      ),
    );
  const audits = async () =>
    Object.fromEntries(
      await Promise.all(
        TENANTS.map(async (t) => [t, await h.wired.repo.audit.list(t, { limit: 1000 })] as const),
      ),
    );

  it("refuses another tenant's admin and data scientist (403) on promote and train, and nothing changes", async () => {
    const champion = (await registry.aliases(NAME)).champion;
    const history = (await registry.card(NAME, '2')).history.length;
    const feedsBefore = await feeds();
    const auditsBefore = await audits();
    for (const key of [h.keys.other_admin, extra.otherDs]) {
      for (const o of [
        {
          url: `/v1/models/${NAME}/promote`,
          payload: { version: '2', reason: 'acme wants it', force: true },
        },
        { url: `/v1/models/${NAME}/train`, payload: { seed: 3 } },
        // Refused before the body is read: a bad body is still a 403, not a 400.
        { url: `/v1/models/${NAME}/promote`, payload: { version: 'x' } },
      ]) {
        const r = await as(key, { method: 'POST', ...o });
        expect(r.statusCode, `${o.url} ${r.body}`).toBe(403);
        expect(r.headers['content-type']).toContain('application/problem+json');
        const body = r.json<{ code: string; title: string; detail: string }>();
        expect(body.code).toBe('TRIAGE_OPERATOR_ONLY');
        expect(body.title).toBe('Operator tenant required');
        expect(body.detail).toMatch(
          /shared by every tenant and managed by the operator tenant default \(MODEL_OPERATOR_TENANT\)/,
        );
        expect(body.detail).toContain('tenant other');
      }
    }
    // Reads stay open to them.
    expect((await as(extra.otherDs, { method: 'GET', url: '/v1/models' })).statusCode).toBe(200);
    expect((await registry.aliases(NAME)).champion).toBe(champion);
    expect((await registry.card(NAME, '2')).history.length).toBe(history);
    expect(enqueued).toEqual([]);
    expect(await feeds()).toEqual(feedsBefore);
    expect(await audits()).toEqual(auditsBefore);
  });

  it("the operator's promotion reaches every tenant: model.promoted in each feed, a linked audit entry in each chain", async () => {
    const sub = await h.wired.repo.events.createSubscription({
      id: '6a1f6c1e-0000-4000-8000-000000000001',
      tenantId: 'other',
      url: 'https://example.invalid/hook',
      eventTypes: ['model.promoted'],
      secretEnc: 'unused',
      description: null,
      createdBy: null,
    });
    const before = await feeds();
    const r = await h.call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '2', reason: 'v2 is better' },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect((await registry.aliases(NAME)).champion).toBe('2');
    const after = await feeds();
    for (const t of TENANTS) {
      const added = after[t]!.slice(before[t]!.length);
      expect(
        added.map((e) => [e.tenantId, e.name, e.subject, e.orderingKey]),
        t,
      ).toEqual([[t, 'model.promoted', `${NAME}@2`, `model:${NAME}`]]);
      expect(added[0]!.seq).toBe((before[t]!.at(-1)?.seq ?? 0) + 1);
      expect(added[0]!.data).toEqual({
        name: NAME,
        version: '2',
        previous_champion: '1',
        forced: false,
        actor: h.keyIds.ds,
      });
    }
    const deliveries = await h.wired.repo.events.listDeliveries('other', sub.id, { afterSeq: 0, limit: 10 });
    expect(deliveries.map((d) => [d.eventId, d.state])).toEqual([[after.other!.at(-1)!.id, 'pending']]);

    const [own] = await h.wired.repo.audit.list('default', { subjectId: `${NAME}@2` });
    expect(own).toMatchObject({ kind: 'model.promoted', actorKeyId: h.keyIds.ds });
    for (const t of ['other', 'third']) {
      const linked = await h.wired.repo.audit.list(t, { subjectId: `${NAME}@2` });
      expect(
        linked.map((a) => a.kind),
        t,
      ).toEqual(['model.promoted']);
      expect(linked[0]!.actorKeyId).toBeNull();
      expect(JSON.parse(linked[0]!.payload)).toMatchObject({
        operator_tenant: 'default',
        operator_audit_seq: own!.seq,
        operator_audit_hash: own!.hash,
        actor: h.keyIds.ds,
        reason: 'v2 is better',
      });
    }
    // Tenant third's auditor sees it over the API, and every chain verifies.
    const third = await as(extra.thirdAuditor, {
      method: 'GET',
      url: `/v1/audit?subject_id=${encodeURIComponent(`${NAME}@2`)}`,
    });
    expect(third.json<{ items: { kind: string }[] }>().items.map((i) => i.kind)).toEqual(['model.promoted']);
    for (const t of TENANTS) expect((await h.wired.repo.audit.verify(t)).ok, t).toBe(true);
  });

  it("lets the operator's data scientist train (202, the job is the operator's)", async () => {
    const r = await h.call('ds', { method: 'POST', url: `/v1/models/${NAME}/train`, payload: { seed: 9 } });
    expect(r.statusCode, r.body).toBe(202);
    expect(enqueued.map((d) => [d.tenantId, d.task, d.seed])).toEqual([['default', NAME, 9]]);
  });

  it("fails another tenant's retrain job at once, without training (TRIAGE_OPERATOR_ONLY, not retried)", async () => {
    const train = lazyRetrain({ registry, repo: h.wired.repo });
    const job = { task: 'coding-mismatch' as const, seed: 1 };
    const err = await train({ ...job, tenantId: 'other' }).catch((e: unknown) => e);
    expect(isTriageError(err, 'TRIAGE_OPERATOR_ONLY')).toBe(true);
    expect((err as TriageError).retryable).toBe(false);
    expect((err as Error).message).toContain('operator tenant default (MODEL_OPERATOR_TENANT)');
    expect(await registry.versions(NAME)).toHaveLength(2);
  });

  it('operatorTenant moves the right to change shared models to another tenant', async () => {
    const app = await buildApp({
      ...appDepsOf(h.wired),
      models: modelsDeps(h.wired.repo, { operatorTenant: 'other' }),
    });
    try {
      const promote = (key: string) =>
        app.inject({
          method: 'POST',
          url: `/v1/models/${NAME}/promote`,
          headers: { authorization: `Bearer ${key}` },
          payload: { version: '1', reason: 'back to v1' },
        });
      const refused = await promote(h.keys.admin);
      expect(refused.statusCode).toBe(403);
      expect(refused.json<{ detail: string }>().detail).toContain('operator tenant other');
      expect((await registry.aliases(NAME)).champion).toBe('2');
      const ok = await promote(extra.otherDs);
      expect(ok.statusCode, ok.body).toBe(200);
      expect((await registry.aliases(NAME)).champion).toBe('1');
      const [own] = await h.wired.repo.audit.list('other', { subjectId: `${NAME}@1` });
      expect(own).toMatchObject({
        kind: 'model.promoted',
        payload: expect.not.stringContaining('operator_tenant'),
      });
      const [linked] = await h.wired.repo.audit.list('default', { subjectId: `${NAME}@1` });
      expect(JSON.parse(linked!.payload)).toMatchObject({
        operator_tenant: 'other',
        operator_audit_hash: own!.hash,
      });
    } finally {
      await app.close();
    }
  });
});
