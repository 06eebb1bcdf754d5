/**
 * The candidate search (store/candidates.ts `candidateSearchStatement`) is planned once per
 * connection, not on every invoice: its row limits and the document type are literals of the
 * statement, so PostgreSQL's plan cache settles on the generic plan after its five custom ones
 * (with the limits as parameters it planned every execution of a large tenant again, 1.3 ms of
 * PostgreSQL CPU per search at 100k invoices). Checked on a tenant of 3,000 indexed invoices
 * (above the exact-search crossover, so the HNSW branch runs) with up-to-date statistics, from
 * `pg_prepared_statements` of the one pooled connection; and the statement's text has no
 * placeholder left unbound and names each combination apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCKING_SPEC } from '../core/blocking.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { candidateSearchStatement, type CandidateQuery } from '../store/candidates.js';
import { createRepository, migrate, openPostgres, type SqlDatabase } from '../store/index.js';
import { engines, makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';

const pgEngine = engines('plancache').find((e) => e.name === 'postgres');
const OPTS = {
  exactSearchMaxRows: BLOCKING_SPEC.exactSearchMaxRows,
  vendorWindowDays: BLOCKING_SPEC.vendorWindowDays,
  vendorRecentLimit: BLOCKING_SPEC.vendorRecentLimit,
};

function query(i: number, documentType: CandidateQuery['documentType'] = 'invoice'): CandidateQuery {
  const inv = makeInvoice({ invoice_id: `pc-${i}`, invoice_number: `PC-${i}`, document_type: documentType });
  const f = extractInvoiceFeatures(inv);
  return {
    tenantId: 'default',
    embedding: f.embedding,
    k: BLOCKING_SPEC.k,
    vendorKey: f.vendorKey,
    vendorId: inv.vendor.id,
    invoiceNumberCanonical: f.invoiceNumber.canonical,
    totalCents: inv.total_cents,
    invoiceDate: inv.invoice_date,
    documentType,
    replayInvoiceId: inv.invoice_id,
  };
}

describe('candidate search statement', () => {
  it('binds every placeholder it keeps, and names its literals', () => {
    const a = candidateSearchStatement(query(1), OPTS);
    const used = new Set([...a.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    expect([...used].sort((x, y) => x - y)).toEqual(a.values.map((_, i) => i + 1));
    expect(a.text).toContain(`LIMIT ${BLOCKING_SPEC.k}`);
    const memo = candidateSearchStatement(query(1, 'credit_memo'), OPTS);
    const other = candidateSearchStatement(query(1), { ...OPTS, vendorRecentLimit: 20 });
    expect(new Set([a.name, memo.name, other.name]).size).toBe(3);
    expect(candidateSearchStatement(query(2), OPTS).name).toBe(a.name);
    expect(() => candidateSearchStatement({ ...query(1), k: 1.5 }, OPTS)).toThrow(/not a count/);
  });
});

describe.skipIf(!pgEngine)('candidate search plan cache on PostgreSQL', () => {
  const config = pgEngine!.config();
  let db: SqlDatabase;

  beforeAll(async () => {
    if (config.engine !== 'postgres') throw new Error('postgres only');
    db = await openPostgres({
      connectionString: config.connectionString,
      schema: config.schema!,
      maxConnections: 1,
    });
    await migrate(db);
    // 3,000 indexed invoices of 50 vendors on 28 days, random unit embeddings.
    await db.query(
      `INSERT INTO invoices (pk, tenant_id, invoice_id, payload, payload_sha256, vendor_id, vendor_name,
         vendor_key, invoice_number, invoice_number_normalised, invoice_number_canonical, invoice_date,
         currency, total_cents, document_type, embedding)
       SELECT gen_random_uuid(), 'default', 'fill-' || g, '{}'::jsonb, 'fill', 'FV-' || (g % 50), 'Filler ' || (g % 50),
         'filler ' || (g % 50), 'F' || g, 'F' || g, 'F' || g, date '2025-03-01' + (g % 28), 'USD', 1000 + g % 7,
         'invoice', (SELECT l2_normalize(array_agg(random() - 0.5 + d * 0 + g * 0)::real[]::vector)
                     FROM generate_series(1, 128) AS d)
       FROM generate_series(1, 3000) AS g`,
    );
    await db.exec('ANALYZE');
  }, 300_000);
  afterAll(async () => {
    await db?.close();
    await dropSchema(config);
  });

  it('settles on one generic plan: at most 5 custom plans in 12 searches of a tenant above the crossover', async () => {
    const repo = createRepository(db, { linkAfterCommit: false });
    for (let i = 0; i < 12; i++) {
      const found = await repo.withScoringLock('default', ['k'], (tx) =>
        tx.findDuplicateCandidates(query(i)),
      );
      expect(found.search.method).not.toBe('exact');
    }
    const rows = await db.query<{ generic: number; custom: number }>(
      `SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements
        WHERE name LIKE 'candidate_search%'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.custom).toBeLessThanOrEqual(5);
    expect(rows[0]!.generic).toBeGreaterThanOrEqual(7);
  }, 120_000);
});
