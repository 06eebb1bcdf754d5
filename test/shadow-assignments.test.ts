/**
 * Shadow assignments (store/monitoring.ts `startShadow`, `stopShadow`) started and stopped for
 * one tenant and model at once: each call is applied in turn, none fails, exactly one assignment
 * is left active, and each start and stop is audited. Both engines; on PostgreSQL the calls run
 * on a pool's connections at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type SqlDatabase } from '../store/index.js';
import { createMonitoringStore } from '../store/monitoring.js';
import { engines } from './fixtures.js';
import { dropSchema } from './harness.js';

const TENANT = 'shadow-race';
const MODEL = 'coding-mismatch';

describe.each(engines('shadowrace'))('shadow assignments started at once on $name', ({ config }) => {
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
});
