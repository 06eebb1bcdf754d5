/**
 * The history import's "already stored?" lookup (store/history.ts `STORED_FINGERPRINTS`) reads
 * only the rows it asks for, whatever the statistics: an import fills `invoices` faster than
 * autovacuum analyzes it, and a plan that reads the whole tenant per chunk makes the import
 * quadratic (a hash join over a bitmap scan of the tenant took 1,224 ms per 500-id lookup at
 * 41k invoices).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORED_FINGERPRINTS, type HistoryRecord } from '../store/history.js';
import { openStore } from '../store/index.js';
import { validateInvoice } from '../core/validate.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { indexKeysOf, payloadSha256 } from '../inference/stages/prepare.js';
import { engines, makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';

const pgEngine = engines('histplan').find((e) => e.name === 'postgres');

describe.skipIf(!pgEngine)('history lookup plan on PostgreSQL', () => {
  const config = pgEngine!.config();
  let repo: Awaited<ReturnType<typeof openStore>>;
  const n = 3_000;
  beforeAll(async () => {
    repo = await openStore(config);
    // No statistics, as during a large import that outruns autovacuum.
    await repo.transaction((tx) => tx.exec('ALTER TABLE invoices SET (autovacuum_enabled = false)'));
    const records: HistoryRecord[] = [];
    for (let i = 0; i < n; i++) {
      const invoice = validateInvoice(
        makeInvoice({ invoice_id: `plan-${i}`, invoice_number: `P-${i}`, due_date: undefined }),
      );
      records.push({
        location: `/${i}`,
        invoice,
        payloadSha256: payloadSha256(invoice),
        keys: indexKeysOf(extractInvoiceFeatures(invoice)),
      });
    }
    for (let i = 0; i < n; i += 500)
      await repo.history.importChunk('default', records.slice(i, i + 500), null);
  }, 300_000);
  afterAll(async () => {
    await repo?.close();
    if (config.engine === 'postgres') await dropSchema(config);
  });

  it('probes the unique key once per id and reads no other row of the tenant', async () => {
    const rel = await repo.transaction((tx) =>
      tx.query<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE oid = 'invoices'::regclass`),
    );
    expect(rel[0]!.reltuples).toBeLessThanOrEqual(0); // never analyzed
    const ids = [
      ...Array.from({ length: 40 }, (_, i) => `new-${i}`),
      ...Array.from({ length: 10 }, (_, i) => `plan-${i * 7}`),
    ];
    // Rows the lookup read from the table, counted by PostgreSQL in the lookup's transaction: the
    // difference of the backend's pending counters around the lookup (pg_stat_xact_* also shows
    // counts of the session's earlier transactions that are not flushed yet, such as the import's).
    const { found, read } = await repo.transaction(async (tx) => {
      const counters = async () => {
        const [stat] = await tx.query<{ seq: string; idx: string }>(
          `SELECT coalesce(seq_tup_read, 0) AS seq, coalesce(idx_tup_fetch, 0) AS idx
             FROM pg_stat_xact_user_tables WHERE relid = 'invoices'::regclass`,
        );
        return { seq: Number(stat?.seq ?? 0), idx: Number(stat?.idx ?? 0) };
      };
      const before = await counters();
      const found = await tx.query<{ invoice_id: string; payload_sha256: string | null }>(
        STORED_FINGERPRINTS,
        ['default', ids],
      );
      const after = await counters();
      return { found, read: { seq: after.seq - before.seq, idx: after.idx - before.idx } };
    });
    expect(read).toEqual({ seq: 0, idx: 10 });
    expect(found.filter((r) => r.payload_sha256 !== null).map((r) => r.invoice_id)).toEqual(ids.slice(40));
  }, 60_000);
});
