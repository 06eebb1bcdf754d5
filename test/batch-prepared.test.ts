/**
 * The statements a `score-batch` job runs per chunk and per group on PostgreSQL (reading the
 * chunk's items, settling a group's item states, completing the batch) are named prepared
 * statements: each connection parses them once and reuses them, with the same results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBatchRepository,
  loadMigrations,
  migrate,
  openPostgres,
  type SqlDatabase,
} from '../store/index.js';
import { makeInvoice, TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import { dropSchema } from './harness.js';

describe.skipIf(!TEST_DATABASE_URL)('batch job statements on PostgreSQL', () => {
  const cfg = {
    engine: 'postgres' as const,
    connectionString: TEST_DATABASE_URL!,
    schema: uniqueSchema('bprep'),
  };
  let db: SqlDatabase;
  beforeAll(async () => {
    // One connection: every statement below runs on it, so its prepared statements are all listed.
    db = await openPostgres({
      connectionString: cfg.connectionString,
      schema: cfg.schema,
      maxConnections: 1,
    });
    await migrate(db, loadMigrations());
  });
  afterAll(async () => {
    await db.close();
    await dropSchema(cfg);
  });

  it('reads, settles and completes a chunk through prepared statements, twice with the same results', async () => {
    const batches = createBatchRepository(db);
    const create = (tenantId: string) =>
      batches.create({
        tenantId,
        idempotencyKey: null,
        submittedByKeyId: null,
        requestSha256: '0'.repeat(64),
        chunkSize: 10,
        invoices: [1, 2, 3].map((n) => makeInvoice({ invoice_id: `${tenantId}-${n}` })),
      });
    for (const tenantId of ['bprep-a', 'bprep-b']) {
      const { batch, chunks } = await create(tenantId);
      expect(chunks).toBe(1);
      const before = await batches.chunkItems(tenantId, batch.id, 0, -1, 500);
      expect(before.pending.map((p) => [p.index, (p.payload as { invoice_id: string }).invoice_id])).toEqual([
        [0, `${tenantId}-1`],
        [1, `${tenantId}-2`],
        [2, `${tenantId}-3`],
      ]);
      expect(await batches.completeIfFinished(batch.id)).toBe(false);
      const error = { code: 'TRIAGE_REQUEST_INVALID', detail: 'bad' };
      const settled = await db.transaction((tx) =>
        batches.settle(
          tx,
          batch.id,
          [0, 1, 2].map((index) => ({ index, error })),
        ),
      );
      expect(settled.sort()).toEqual([0, 1, 2]);
      // Settled items are not settled again.
      expect(await db.transaction((tx) => batches.settle(tx, batch.id, [{ index: 1, error }]))).toEqual([]);
      const after = await batches.chunkItems(tenantId, batch.id, 0, -1, 500);
      expect({ pending: after.pending.length, settled: after.settled, last: after.last }).toEqual({
        pending: 0,
        settled: 3,
        last: 2,
      });
      expect(await batches.completeIfFinished(batch.id)).toBe(true);
      expect(await batches.completeIfFinished(batch.id)).toBe(false);
    }
    const prepared = await db.query<{ name: string }>(
      'SELECT name FROM pg_prepared_statements ORDER BY name',
    );
    expect(prepared.map((p) => p.name)).toEqual(
      expect.arrayContaining(['batch_chunk_items', 'batch_complete_if_finished', 'batch_settle']),
    );
  });
});
