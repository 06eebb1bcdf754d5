/**
 * Each stored line's copy of its invoice's tenant, vendor key, vendor id, date and id (migration 110)
 * and of its document type, total and service period start (migration 113; store/history-rows.ts
 * `LINE_INVOICE_KEYS`), and its own delivery reference as its invoice's payload prints it
 * (migration 113), which the line block's `amount` pass reads instead of the invoice row: every
 * writer fills them (the single scoring write, the batch write, the history import: binary COPY
 * on PostgreSQL, INSERT on PGlite), and the migrations fill them for lines stored before them.
 * The text columns of 110 compare in "C" and the indexes are migration 111's, on a new database
 * and after migrations 110, 111 and 113 ran over stored lines.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateInvoice } from '../core/validate.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { createRepository, openDatabase, type SqlDatabase, type TriageRepository } from '../store/index.js';
import { decisionFor, engines, importHistory, insertBatch, keysOf, makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';

const migration = (file: string): string =>
  readFileSync(new URL(`../store/migrations/${file}`, import.meta.url), 'utf8');
const MIGRATION_110 = migration('110_line_block_keys.sql');
const MIGRATION_111 = migration('111_line_block_collate_c.sql');
const MIGRATION_113 = migration('113_line_block_invoice_copies.sql');

/** The line block's indexes (migration 111): name and columns, each with its collation when it has one. */
const BLOCK_INDEXES = [
  {
    name: 'invoice_lines_block_id',
    columns: ['tenant_id C', 'vendor_id C', 'amount_cents', 'vendor_key C'],
  },
  {
    name: 'invoice_lines_block_key',
    columns: ['tenant_id C', 'vendor_key C', 'amount_cents', 'invoice_date', 'invoice_id C', 'line_number'],
  },
];

/** The indexes of `invoice_lines` named `invoice_lines_block_*`, their columns and collations as {@link BLOCK_INDEXES}. */
async function blockIndexes(db: SqlDatabase): Promise<{ name: string; columns: string[] }[]> {
  const rows = await db.query<{ name: string; col: string; coll: string | null }>(
    `SELECT c.relname AS name, a.attname AS col, NULLIF(co.collname, 'default') AS coll
       FROM pg_index x
       JOIN pg_class c ON c.oid = x.indexrelid
       JOIN pg_attribute a ON a.attrelid = x.indexrelid AND a.attnum > 0
       LEFT JOIN pg_collation co ON co.oid = (x.indcollation::oid[])[a.attnum - 1]
      WHERE x.indrelid = 'invoice_lines'::regclass AND c.relname LIKE 'invoice_lines_block_%'
      ORDER BY c.relname, a.attnum`,
  );
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.name, [...(out.get(r.name) ?? []), r.coll ? `${r.col} ${r.coll}` : r.col]);
  return [...out].map(([name, columns]) => ({ name, columns }));
}

/**
 * Lines of invoices `ids` whose copies of their invoice's columns differ from the invoice row's,
 * or whose delivery reference differs from their payload line's; lines in all; and lines with a
 * delivery reference and with a service period start (so that the fixtures exercise both).
 */
async function drift(
  db: SqlDatabase,
  ids: readonly string[],
): Promise<{ differ: number; lines: number; delivered: number; periods: number }> {
  const [r] = await db.query<{ differ: number; lines: number; delivered: number; periods: number }>(
    `SELECT count(*) FILTER (WHERE (l.tenant_id, l.vendor_key, l.vendor_id, l.invoice_date, l.invoice_id,
                                    l.document_type, l.total_cents, l.service_period_start, l.delivery_reference)
                         IS DISTINCT FROM (i.tenant_id, i.vendor_key, i.vendor_id, i.invoice_date, i.invoice_id,
                                           i.document_type, i.total_cents, i.service_period_start,
                                           (SELECT e->>'delivery_reference' FROM jsonb_array_elements(i.payload->'lines') e
                                             WHERE (e->>'line_number')::int = l.line_number)))::int AS differ,
            count(*)::int AS lines,
            count(l.delivery_reference)::int AS delivered,
            count(l.service_period_start)::int AS periods
       FROM invoice_lines l JOIN invoices i ON i.pk = l.invoice_pk
      WHERE i.invoice_id = ANY($1::text[])`,
    [ids],
  );
  return r!;
}

describe.each(engines('linekeys'))("lines carry their invoice's keys on $name", ({ config }) => {
  const cfg = config();
  let db: SqlDatabase;
  let repo: TriageRepository;
  beforeAll(async () => {
    db = await openDatabase(cfg);
    repo = createRepository(db, { linkAfterCommit: false });
  });
  afterAll(async () => {
    await repo.close();
    await dropSchema(cfg);
  });

  // Each writer stores an invoice with a service period and a delivery reference on its first
  // line, and one without either (a credit memo for the batch and the history).
  const invoice = (id: string, date: string, vendor: string, printed = true) => {
    const base = makeInvoice();
    const inv = validateInvoice(
      makeInvoice({
        invoice_id: id,
        invoice_number: id.toUpperCase(),
        invoice_date: date,
        due_date: date,
        vendor: { id: vendor, name: `${vendor} Medical Supply` },
        ...(printed
          ? {
              service_period: { start: '2025-01-01', end: '2025-01-31' },
              lines: [{ ...base.lines[0]!, delivery_reference: ` dn-${id} ` }, base.lines[1]!],
            }
          : {
              document_type: 'credit_memo',
              total_cents: -base.total_cents,
              lines: base.lines.map((l) => ({ ...l, quantity: -1, amount_cents: -l.amount_cents })),
            }),
      }),
    );
    return { inv, keys: keysOf(inv) };
  };

  it('from every writer, and from the migration for lines stored before it', async () => {
    expect(await blockIndexes(db)).toEqual(BLOCK_INDEXES);
    const a = invoice('lk-single', '2025-03-04', 'V-A');
    await repo.withScoringLock('lk', [a.inv.vendor.id], (tx) =>
      tx.insert(a.inv, 'h-a', a.keys, decisionFor(a.inv)),
    );
    const batch = [
      invoice('lk-batch-1', '2025-03-05', 'V-B'),
      invoice('lk-batch-2', '2025-04-06', 'V-C', false),
    ];
    await insertBatch(repo, 'lk', batch);
    const history = [
      invoice('lk-hist-1', '2024-11-30', 'V-A'),
      invoice('lk-hist-2', '2025-01-02', 'V-D', false),
    ];
    await importHistory(repo, 'lk-h', history);
    const ids = [a, ...batch, ...history].map((x) => x.inv.invoice_id);
    const lines = [a, ...batch, ...history].reduce((n, x) => n + x.inv.lines.length, 0);
    const expected = { differ: 0, lines, delivered: 3, periods: 6 };
    expect(await drift(db, ids)).toEqual(expected);
    const [h] = await db.query<{
      tenant_id: string;
      vendor_key: string;
      vendor_id: string;
      invoice_date: string;
    }>(
      `SELECT DISTINCT tenant_id, vendor_key, vendor_id, invoice_date::text AS invoice_date, invoice_id
         FROM invoice_lines l
        WHERE invoice_pk = (SELECT pk FROM invoices WHERE invoice_id = 'lk-hist-1')`,
    );
    expect(h).toEqual({
      tenant_id: 'lk-h',
      vendor_key: extractInvoiceFeatures(history[0]!.inv).vendorKey,
      vendor_id: 'V-A',
      invoice_date: '2024-11-30',
      invoice_id: 'lk-hist-1',
    });

    // Lines stored before migration 110: its columns and indexes dropped, migrations 110 and 111
    // run again.
    await db.exec(`DROP INDEX invoice_lines_block_key; DROP INDEX invoice_lines_block_id;
      ALTER TABLE invoice_lines DROP COLUMN tenant_id, DROP COLUMN vendor_key, DROP COLUMN vendor_id,
        DROP COLUMN invoice_date, DROP COLUMN invoice_id`);
    await db.exec(MIGRATION_110);
    expect(await drift(db, ids)).toEqual(expected);
    await db.exec(MIGRATION_111);
    expect(await drift(db, ids)).toEqual(expected);
    expect(await blockIndexes(db)).toEqual(BLOCK_INDEXES);

    // Lines stored before migration 113: its columns dropped, the migration run again.
    await db.exec(`ALTER TABLE invoice_lines DROP COLUMN document_type, DROP COLUMN total_cents,
      DROP COLUMN service_period_start, DROP COLUMN delivery_reference`);
    await db.exec(MIGRATION_113);
    expect(await drift(db, ids)).toEqual(expected);
  }, 120_000);
});
