/**
 * `npm run models -- promote | register` change the shared models through the API's path
 * (models/governed-promotion.ts, bin/models-governance.ts), on real PostgreSQL: a CLI promotion
 * writes the same audit entry kinds and `model.promoted` events as an API promotion (the
 * operator's entry with `--actor` and `--reason`, a linked entry in every other tenant's chain,
 * one event per tenant feed), a CLI rollback and a refused CLI promotion are audited as such, a
 * CLI registration is audited `model.registered`, a store that cannot be opened refuses the
 * change, and every chain verifies.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceRegistry, wireModelsApi } from '../bin/models-api.js';
import { modelsCommand } from '../bin/models.js';
import { isTriageError, type TriageError } from '../core/errors.js';
import type { StoreConfig } from '../store/index.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import type { ModelRegistry } from '../models/registry.js';
import { engines } from './fixtures.js';
import { makeCardDraft, makeSpec } from './model-fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { registerVersions } from './model-versions.js';

const NAME = 'coding-mismatch';
const TENANTS = ['default', 'other', 'third'] as const;
const pg = engines('modelcli').find((e) => e.name === 'postgres');

/** A spec of the served coding feature schema (the CLI's registry enforces it). */
function servedSpec(seed: number) {
  const served = servedFeatureSchemas()['coding-mismatch'];
  return makeSpec({
    seed,
    hidden: [4],
    featureNames: [...served.names],
    featureSchemaVersion: served.version!,
  });
}

describe.runIf(pg)('npm run models on the service store (PostgreSQL)', () => {
  const cfg = pg!.config() as Extract<StoreConfig, { engine: 'postgres' }>;
  let h: Harness;
  let root: string;
  let registry: ModelRegistry;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelcli-'));
    registry = serviceRegistry(join(root, 'artifacts'));
    // v1 PR-AUC 0.8 (champion), v2 0.85 and v3 0.9 (each better: unforced promotions pass).
    await registerVersions(registry, NAME, [
      [servedSpec(1), 0.8],
      [servedSpec(2), 0.85],
      [servedSpec(3), 0.9],
    ]);
    h = await startHarness(cfg, {
      app: (wired) => ({ models: wireModelsApi({ registry, repo: wired.repo }) }),
    });
    await h.wired.repo.keys.create({ tenantId: 'third', name: 'aud', roles: ['auditor'] }, null);
  });
  afterAll(async () => {
    await h?.close();
    await rm(root, { recursive: true, force: true });
  });

  /** `npm run models -- <args>` against the harness's schema; the printed lines. */
  async function cli(...args: string[]): Promise<string[]> {
    const out: string[] = [];
    const store = ['--database-url', cfg.connectionString, '--schema', cfg.schema!];
    await modelsCommand((l) => out.push(l), false, {}).parseAsync(
      ['--root', join(root, 'artifacts'), ...args, ...store],
      { from: 'user' },
    );
    return out;
  }
  const snapshot = async () =>
    Object.fromEntries(
      await Promise.all(
        TENANTS.map(
          async (t) =>
            [
              t,
              {
                audit: await h.wired.repo.audit.list(t, { limit: 1000 }),
                feed: await h.wired.repo.events.feed(t, { afterSeq: 0, limit: 1000 }),
              },
            ] as const,
        ),
      ),
    );
  type Snapshot = Awaited<ReturnType<typeof snapshot>>;
  /** Per tenant: the audit entries and events added between two snapshots. */
  const added = (before: Snapshot, after: Snapshot) =>
    Object.fromEntries(
      TENANTS.map((t) => [
        t,
        {
          audit: after[t]!.audit.filter((a) => !before[t]!.audit.some((b) => b.seq === a.seq)),
          feed: after[t]!.feed.slice(before[t]!.feed.length),
        },
      ]),
    );
  /** The shape two promotions share: audit kinds and subjects, event names, subjects and keys, per tenant. */
  const shape = (d: ReturnType<typeof added>, version: string) =>
    TENANTS.map((t) => ({
      tenant: t,
      audit: d[t]!.audit.map((a) => [a.kind, a.subjectId.replace(`@${version}`, '@V')]),
      feed: d[t]!.feed.map((e) => [
        e.tenantId,
        e.name,
        e.subject.replace(`@${version}`, '@V'),
        e.orderingKey,
      ]),
    }));
  const payload = (a: { payload: string } | undefined): Record<string, unknown> =>
    JSON.parse(a!.payload) as Record<string, unknown>;

  it('a CLI promotion writes the audit entries and events an API promotion writes, with --actor and --reason', async () => {
    const s0 = await snapshot();
    const api = await h.call('ds', {
      method: 'POST',
      url: `/v1/models/${NAME}/promote`,
      payload: { version: '2', reason: 'v2 is better' },
    });
    expect(api.statusCode, api.body).toBe(200);
    const s1 = await snapshot();
    expect(await cli('promote', NAME, '3', '--actor', 'lead', '--reason', 'v3 is better')).toEqual([
      `${NAME}@3 is champion (was 2)`,
    ]);
    const s2 = await snapshot();
    expect((await registry.aliases(NAME)).champion).toBe('3');

    const byApi = added(s0, s1);
    const byCli = added(s1, s2);
    const expected = TENANTS.map((t) => ({
      tenant: t,
      audit: [['model.promoted', `${NAME}@V`]],
      feed: [[t, 'model.promoted', `${NAME}@V`, `model:${NAME}`]],
    }));
    expect(shape(byApi, '2')).toEqual(expected);
    expect(shape(byCli, '3')).toEqual(expected);

    // The operator's entry: no key (the command line), the --actor and --reason in the payload.
    const own = byCli.default!.audit[0]!;
    expect(own.actorKeyId).toBeNull();
    expect(payload(own)).toMatchObject({
      type: 'model.promoted',
      name: NAME,
      version: '3',
      previousChampion: '2',
      actor: 'lead',
      reason: 'v3 is better',
      forced: false,
      rollback: false,
      overriddenRefusal: null,
    });
    expect(byApi.default!.audit[0]!.actorKeyId).toBe(h.keyIds.ds);
    for (const t of TENANTS) {
      expect(byCli[t]!.feed[0]!.data, t).toEqual({
        name: NAME,
        version: '3',
        previous_champion: '2',
        forced: false,
        actor: 'lead',
      });
      expect(byCli[t]!.feed[0]!.seq, t).toBe(byApi[t]!.feed[0]!.seq + 1);
    }
    for (const t of ['other', 'third'] as const) {
      const linked = byCli[t]!.audit[0]!;
      expect(linked.actorKeyId, t).toBeNull();
      expect(payload(linked), t).toMatchObject({
        operator_tenant: 'default',
        operator_audit_seq: own.seq,
        operator_audit_hash: own.hash,
        actor: 'lead',
        reason: 'v3 is better',
      });
    }
    for (const t of TENANTS) expect((await h.wired.repo.audit.verify(t)).ok, t).toBe(true);
  });

  it('a CLI rollback is audited and announced as a rollback; a refused CLI promotion is audited, nothing moves', async () => {
    const s0 = await snapshot();
    await cli('promote', NAME, '2', '--actor', 'lead', '--reason', 'v3 misroutes');
    const rolled = added(s0, await snapshot());
    expect((await registry.aliases(NAME)).champion).toBe('2');
    expect(rolled.default!.audit.map((a) => [a.kind, payload(a).rollback, payload(a).reason])).toEqual([
      ['model.promoted', true, 'v3 misroutes'],
    ]);
    for (const t of TENANTS)
      expect(
        rolled[t]!.feed.map((e) => e.name),
        t,
      ).toEqual(['model.promoted']);

    const s1 = await snapshot();
    const err = await cli('promote', NAME, '1', '--actor', 'lead', '--reason', 'v1 please').catch(
      (e: unknown) => e,
    );
    expect(isTriageError(err, 'TRIAGE_MODEL_PROMOTION_REFUSED')).toBe(true);
    expect((err as TriageError).errors.map((f) => f.path)).toEqual(['<version>']);
    expect((await registry.aliases(NAME)).champion).toBe('2');
    const refused = added(s1, await snapshot());
    expect(refused.default!.audit.map((a) => [a.kind, a.subjectId, a.actorKeyId, payload(a).actor])).toEqual([
      ['model.promotion_refused', `${NAME}@1`, null, 'lead'],
    ]);
    for (const t of TENANTS) expect(refused[t]!.feed, t).toEqual([]);
    for (const t of ['other', 'third'] as const) expect(refused[t]!.audit, t).toEqual([]);
    for (const t of TENANTS) expect((await h.wired.repo.audit.verify(t)).ok, t).toBe(true);
  });

  it('a CLI registration (the new challenger) is audited model.registered in the operator chain only', async () => {
    const run = join(root, 'run');
    await mkdir(run, { recursive: true });
    const spec = servedSpec(4);
    await writeFile(join(run, 'spec.json'), JSON.stringify(spec));
    await writeFile(join(run, 'card.json'), JSON.stringify(makeCardDraft(spec, { prAuc: 0.9 })));
    const s0 = await snapshot();
    const out = await cli('register', NAME, '--from', run, '--actor', 'lead');
    expect(out[0]).toMatch(new RegExp(`^registered ${NAME}@4 as challenger`));
    expect((await registry.aliases(NAME)).challenger).toBe('4');
    const d = added(s0, await snapshot());
    const card = await registry.card(NAME, '4');
    expect(d.default!.audit.map((a) => [a.kind, a.subjectId, a.actorKeyId])).toEqual([
      ['model.registered', `${NAME}@4`, null],
    ]);
    expect(payload(d.default!.audit[0])).toMatchObject({
      actor: 'lead',
      source: 'trained',
      parentVersion: '2',
      onnxSha256: card.artefacts.onnxSha256,
    });
    for (const t of ['other', 'third'] as const) expect(d[t]!.audit, t).toEqual([]);
    for (const t of TENANTS) expect(d[t]!.feed, t).toEqual([]);
    expect((await h.wired.repo.audit.verify('default')).ok).toBe(true);
  });

  it('refuses to promote when the service store cannot be opened (nothing changes)', async () => {
    const err = await modelsCommand(() => undefined, false, {})
      .parseAsync(
        [
          '--root',
          join(root, 'artifacts'),
          'promote',
          NAME,
          '4',
          '--actor',
          'lead',
          '--reason',
          'no store',
        ].concat(['--database-url', 'postgres://postgres@127.0.0.1:1/none']),
        { from: 'user' },
      )
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect((await registry.aliases(NAME)).champion).toBe('2');
    expect((await registry.card(NAME, '4')).history.map((e) => e.action)).toEqual(['registered']);
  });
});
