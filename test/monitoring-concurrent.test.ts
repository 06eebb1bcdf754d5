/**
 * Monitoring settings written at once (store/monitoring.ts): shadow assignments started and
 * stopped for one tenant and model (each call applied in turn, none fails, exactly one assignment
 * left active, each start and stop audited) and audit-sample policies set (each a version of its
 * own). Both engines; on PostgreSQL the calls run on a pool's connections at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type SqlDatabase } from '../store/index.js';
import { createMonitoringStore } from '../store/monitoring.js';
import { engines } from './fixtures.js';
import { dropSchema } from './harness.js';

const TENANT = 'shadow-race';
const MODEL = 'coding-mismatch';

describe.each(engines('monconc'))('monitoring settings written at once on $name', ({ config }) => {
  const cfg = config();
  let db: SqlDatabase;
  beforeAll(async () => {
    db = await openDatabase(cfg);
  });
  afterAll(async () => {
    await db.close();
    await dropSchema(cfg);
  });

  const count = async (sql: string): Promise<number> =>
    Number((await db.query<{ n: number }>(sql, [TENANT]))[0]!.n);

  it('six starts at once: all applied in turn, one left active; six stops at once: one audited', async () => {
    const store = createMonitoringStore(db);
    const versions = ['1', '2', '3', '1', '2', '3'];
    const started = await Promise.allSettled(versions.map((v) => store.startShadow(TENANT, MODEL, v, null)));
    expect(started.map((s) => s.status)).toEqual(versions.map(() => 'fulfilled'));
    expect(
      await count(
        'SELECT count(*)::int AS n FROM shadow_assignments WHERE tenant_id = $1 AND stopped_at IS NULL',
      ),
    ).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM shadow_assignments WHERE tenant_id = $1')).toBe(6);
    expect(
      await count(
        "SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = $1 AND kind = 'model.shadow_started'",
      ),
    ).toBe(6);
    expect((await store.activeShadow(TENANT, MODEL))?.version).toMatch(/^[123]$/);

    const stopped = await Promise.allSettled(versions.map(() => store.stopShadow(TENANT, MODEL, null)));
    expect(stopped.map((s) => s.status)).toEqual(versions.map(() => 'fulfilled'));
    expect(await store.activeShadow(TENANT, MODEL)).toBeNull();
    expect(
      await count(
        "SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = $1 AND kind = 'model.shadow_stopped'",
      ),
    ).toBe(1);
  });

  it('five audit-sample policies set at once on a tenant without one: versions 2-6, each audited once', async () => {
    const store = createMonitoringStore(db);
    const rates = [0.1, 0.2, 0.3, 0.4, 0.5];
    // Three tenants in turn: a race lost once is not taken for the absence of one.
    for (const tenant of ['sample-race-1', 'sample-race-2', 'sample-race-3']) {
      const set = await Promise.all(rates.map((rate) => store.setAuditSamplePolicy(tenant, { rate }, null)));
      expect(set.map((p) => p.version).sort()).toEqual([2, 3, 4, 5, 6]);
      const audited = await db.query<{ subject_id: string }>(
        "SELECT subject_id FROM audit_log WHERE tenant_id = $1 AND kind = 'audit_sample.policy_set' ORDER BY seq",
        [tenant],
      );
      expect(audited.map((a) => a.subject_id)).toEqual(
        [2, 3, 4, 5, 6].map((v) => `audit-sample-policy@${v}`),
      );
      const last = set.find((p) => p.version === 6)!;
      expect(await store.auditSamplePolicy(tenant, { rate: 0 })).toMatchObject({
        rate: last.rate,
        version: 6,
      });
    }
  });
});
