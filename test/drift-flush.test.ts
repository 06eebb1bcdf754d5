/**
 * The monitoring flush (store/monitoring.ts `addDriftCounts`): one statement per flush, rows
 * of one key added together, all or nothing, and flushers of several processes sharing keys
 * neither deadlock nor lose a count. Both engines; two pools (two processes) on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type SqlDatabase } from '../store/index.js';
import { createMonitoringStore, mergeDriftRows, type DriftCountInput } from '../store/monitoring.js';
import { engines } from './fixtures.js';
import { dropSchema } from './harness.js';

const MODEL = 'coding-mismatch@7';
const HOUR = '2026-12-07T03:00:00.000Z';

/** One flush's row of `feature` in `tenantId`'s bucket `bucketStart`. */
const row = (
  tenantId: string,
  feature: string,
  counts: number[],
  missing: number,
  bucketStart = HOUR,
): DriftCountInput => ({ tenantId, model: MODEL, bucketStart, feature, counts, missing });

/** The stored rows of `tenantId` (every bucket), as `feature@bucket -> [counts, missing]`. */
async function stored(db: SqlDatabase, tenantId: string): Promise<Record<string, [number[], number]>> {
  const rows = await db.query<{ feature: string; b: string; counts: string[]; missing: string }>(
    `SELECT feature, to_char(bucket_start AT TIME ZONE 'UTC', 'HH24') AS b, counts::text[] AS counts, missing::text AS missing
     FROM drift_counts WHERE tenant_id = $1 AND model = $2`,
    [tenantId, MODEL],
  );
  return Object.fromEntries(
    rows.map((r) => [`${r.feature}@${r.b}`, [r.counts.map(Number), Number(r.missing)]]),
  );
}

describe('mergeDriftRows', () => {
  it('adds the rows of one key element-wise (the same instant written two ways is one key), keeps the others', () => {
    const a = row('t', 'f1', [1, 2], 1);
    const merged = mergeDriftRows([
      a,
      row('t', 'f2', [5], 0),
      row('t', 'f1', [10, 20, 30], 2, '2026-12-07T04:00:00+01:00'),
    ]);
    expect(merged).toEqual([row('t', 'f1', [11, 22, 30], 3), row('t', 'f2', [5], 0)]);
    expect(a.counts).toEqual([1, 2]);
  });
});

describe.each(engines('driftflush'))('drift-count flush on $name', ({ name, config }) => {
  const cfg = config();
  let db: SqlDatabase;
  // On PostgreSQL a second pool stands for a second worker process; PGlite has one connection.
  let other: SqlDatabase;
  beforeAll(async () => {
    db = await openDatabase(cfg);
    other = name === 'postgres' ? await openDatabase(cfg) : db;
  });
  afterAll(async () => {
    if (other !== db) await other.close();
    await db.close();
    await dropSchema(cfg);
  });

  it('adds a flush to the stored rows element-wise; driftCounts sums the hours of a feature', async () => {
    const s = createMonitoringStore(db);
    await s.addDriftCounts([row('sum', 'f1', [1, 2, 3], 1), row('sum', 'score', [4], 0)]);
    await s.addDriftCounts([
      row('sum', 'f1', [10, 0, 0, 5], 2),
      row('sum', 'f1', [100], 0),
      row('sum', 'f1', [7, 7], 1, '2026-12-07T02:00:00.000Z'),
    ]);
    expect(await stored(db, 'sum')).toEqual({
      'f1@03': [[111, 2, 3, 5], 3],
      'f1@02': [[7, 7], 1],
      'score@03': [[4], 0],
    });
    const read = await s.driftCounts('sum', MODEL, new Date('2026-12-07T00:00:00Z'));
    expect(Object.fromEntries(read)).toEqual({
      f1: { feature: 'f1', counts: [118, 9, 3, 5], missing: 4 },
      score: { feature: 'score', counts: [4], missing: 0 },
    });
    expect([...(await s.driftCounts('sum', MODEL, new Date('2026-12-07T03:00:00Z'))).values()]).toEqual([
      { feature: 'f1', counts: [111, 2, 3, 5], missing: 3 },
      { feature: 'score', counts: [4], missing: 0 },
    ]);
  });

  it('a flush that fails stores none of its rows', async () => {
    const s = createMonitoringStore(db);
    await s.addDriftCounts([row('atomic', 'a', [1], 0)]);
    // The last row's missing count is no bigint: the statement fails as a whole.
    await expect(
      s.addDriftCounts([
        row('atomic', 'a', [5], 0),
        row('atomic', 'b', [1], 0),
        row('atomic', 'c', [1], 1.5),
      ]),
    ).rejects.toThrow(/bigint/);
    expect(await stored(db, 'atomic')).toEqual({ 'a@03': [[1], 0] });
  });

  it('two flushers of the same buckets at once, keys in opposite orders: no deadlock, every count stored once', async () => {
    const features = Array.from({ length: 40 }, (_, i) => `f${String(i).padStart(2, '0')}`);
    const hours = [HOUR, '2026-12-07T04:00:00.000Z'];
    const flush = (k: number) =>
      hours.flatMap((h) => features.map((f, i) => row('race', f, [1, k + 1, i], k, h)));
    const rounds = 25;
    const writers = [db, other].map(async (d, k) => {
      const s = createMonitoringStore(d);
      for (let round = 0; round < rounds; round++)
        await s.addDriftCounts(k === 0 ? flush(k) : flush(k).reverse());
    });
    await Promise.all(writers);
    const want = Object.fromEntries(
      hours.flatMap((h) =>
        features.map((f, i) => [
          `${f}@${h.slice(11, 13)}`,
          [[2 * rounds, 3 * rounds, 2 * i * rounds], rounds],
        ]),
      ),
    );
    expect(await stored(db, 'race')).toEqual(want);
  });
});
