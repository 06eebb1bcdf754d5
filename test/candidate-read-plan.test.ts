/**
 * The candidate read of the search (store/candidates.ts `CANDIDATE_COLUMNS`) takes each
 * candidate's line match keys from its one compact `invoice_line_keys` row (migration 098), not
 * from `invoice_lines`, the widest table (an index descent and one or two heap pages per
 * candidate, read from disk at 1M indexed invoices: BENCHMARKS.md "Candidate read at 1M").
 * EXPLAIN (ANALYZE, BUFFERS) of the search with 40 exact-key candidates: no node reads
 * `invoice_lines`, and the keys cost at most 3 buffers per candidate.
 *
 * The table is kept by a trigger for every writer and backfilled by the migration for a tenant
 * filled before it: both give the keys `invoice_lines` holds, in line order.
 *
 * The exact kNN of a tenant below the crossover computes each row's distance once (the sort key
 * is the returned distance), and the chunk statement (store/chunk-search.ts) reads the tenant's
 * rows from `invoices` once for the whole group, every member's exact kNN scanning that copy
 * (before, each member scanned the tenant's wide rows again: BENCHMARKS.md "The exact kNN of a
 * chunk: the tenant read once").
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCKING_SPEC } from '../core/blocking.js';
import type { Invoice } from '../core/invoice.js';
import { validateInvoice } from '../core/validate.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { indexKeysOf, payloadSha256 } from '../inference/stages/prepare.js';
import { candidateSearchStatement, type CandidateQuery } from '../store/candidates.js';
import { searchManyStatement } from '../store/chunk-search.js';
import type { HistoryRecord } from '../store/history.js';
import { createRepository, loadMigrations, migrate, openPostgres, type SqlDatabase } from '../store/index.js';
import { decisionFor, engines, keysOf, makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';

const pgEngine = engines('candread').find((e) => e.name === 'postgres');

/** A node of EXPLAIN (FORMAT JSON). */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Subplan Name'?: string;
  'CTE Name'?: string;
  Output?: string[];
  'Sort Key'?: string[];
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function nodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}

/** `n` history invoices of one vendor, all of the same total and date (one exact-key block). */
function records(n: number, from = 0): HistoryRecord[] {
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    const invoice = validateInvoice(
      makeInvoice({
        invoice_id: `cr-${i}`,
        invoice_number: `CR-${i}`,
        invoice_date: '2025-06-01',
        due_date: undefined,
      }),
    );
    return {
      location: `/${i}`,
      invoice,
      payloadSha256: payloadSha256(invoice),
      keys: indexKeysOf(extractInvoiceFeatures(invoice)),
    };
  });
}

/** Pairs of (keys row, keys from invoice_lines) that differ, and how many rows each side has. */
async function keysDrift(db: SqlDatabase): Promise<{ differ: number; keyRows: number; invoices: number }> {
  const [r] = await db.query<{ differ: number; key_rows: number; invoices: number }>(
    `WITH l AS (SELECT invoice_pk, array_agg(match_key ORDER BY line_number) AS keys
                FROM invoice_lines GROUP BY invoice_pk)
     SELECT (SELECT count(*) FROM l FULL JOIN invoice_line_keys k ON k.invoice_pk = l.invoice_pk
              WHERE k.match_keys IS DISTINCT FROM l.keys)::int AS differ,
            (SELECT count(*) FROM invoice_line_keys)::int AS key_rows,
            (SELECT count(*) FROM invoices)::int AS invoices`,
  );
  return { differ: r!.differ, keyRows: r!.key_rows, invoices: r!.invoices };
}

describe.skipIf(!pgEngine)('candidate read on PostgreSQL', () => {
  const config = pgEngine!.config();
  let db: SqlDatabase;
  // The schema before migration 098, plus the later line columns today's writers set (103:
  // `invoice_lines.in_baseline`; 110: the invoice's keys on each line; 113: the invoice's type,
  // total and service period start and the line's delivery reference on each line), so that the
  // repository can write into it; 098 then runs on a tenant that holds history and a scored invoice.
  const LINE_COLUMNS = [103, 110, 113];
  const before = loadMigrations().filter((m) => m.version < 98 || LINE_COLUMNS.includes(m.version));

  beforeAll(async () => {
    if (config.engine !== 'postgres') throw new Error('postgres only');
    db = await openPostgres({ connectionString: config.connectionString, schema: config.schema! });
    await db.exec(`CREATE SCHEMA IF NOT EXISTS ${config.schema}`);
    // A tenant filled before migration 098: history (COPY) and a scored invoice.
    await migrate(db, before);
    const repo = createRepository(db);
    await repo.history.importChunk('default', records(40), null);
    const scored = makeInvoice({ invoice_id: 'cr-scored', invoice_number: 'CR-S' });
    await repo.saveDecision('default', scored, 'hash-s', keysOf(scored), decisionFor(scored));
  }, 300_000);
  afterAll(async () => {
    await db?.close();
    await dropSchema(config);
  });

  it('migration 098 backfills the keys of a filled tenant, and every writer keeps them', async () => {
    expect((await db.query('SELECT 1 FROM invoice_lines LIMIT 1')).length).toBe(1);
    expect(await migrate(db)).toContain(98);
    expect(await keysDrift(db)).toEqual({ differ: 0, keyRows: 41, invoices: 41 });

    const repo = createRepository(db);
    await repo.history.importChunk('default', records(5, 40), null);
    const scored = makeInvoice({ invoice_id: 'cr-scored-2', invoice_number: 'CR-S2' });
    await repo.saveDecision('default', scored, 'hash-s2', keysOf(scored), decisionFor(scored));
    // Lines of one invoice written by two statements: the keys hold both, in line order.
    const [{ pk }] = (await db.query<{ pk: string }>(
      `SELECT pk FROM invoices WHERE invoice_id = 'cr-scored-2'`,
    )) as [{ pk: string }];
    await db.query(
      `INSERT INTO invoice_lines (invoice_pk, tenant_id, vendor_key, vendor_id, invoice_date, invoice_id, line_number,
         description, quantity, unit_price_cents, amount_cents, match_key, embedding, document_type, total_cents)
       SELECT invoice_pk, tenant_id, vendor_key, vendor_id, invoice_date, invoice_id, 0, description, quantity,
         unit_price_cents, amount_cents, 'first-line', embedding, document_type, total_cents
         FROM invoice_lines WHERE invoice_pk = $1 AND line_number = 1`,
      [pk],
    );
    expect(await keysDrift(db)).toEqual({ differ: 0, keyRows: 47, invoices: 47 });
    const [k] = await db.query<{ keys: string[] }>(
      'SELECT match_keys AS keys FROM invoice_line_keys WHERE invoice_pk = $1',
      [pk],
    );
    expect(k!.keys[0]).toBe('first-line');
    expect(k!.keys.length).toBeGreaterThan(1);
  }, 120_000);

  it('reads the line keys from invoice_line_keys, never invoice_lines, at most 3 buffers a candidate', async () => {
    if (config.engine !== 'postgres') throw new Error('postgres only');
    const q = validateInvoice(
      makeInvoice({
        invoice_id: 'cr-new',
        invoice_number: 'CR-NEW',
        invoice_date: '2025-06-01',
        due_date: undefined,
      }),
    );
    const { text, values } = candidateSearchStatement(
      { tenantId: 'default', ...queryOf(q) },
      {
        exactSearchMaxRows: BLOCKING_SPEC.exactSearchMaxRows,
        vendorWindowDays: BLOCKING_SPEC.vendorWindowDays,
        vendorRecentLimit: BLOCKING_SPEC.vendorRecentLimit,
      },
    );
    const c = new pg.Client({ connectionString: config.connectionString });
    await c.connect();
    try {
      await c.query(`SET search_path TO ${config.schema}, public`);
      await c.query('ANALYZE invoices; ANALYZE invoice_lines; ANALYZE invoice_line_keys');
      const [row] = (
        await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
          `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`,
          values,
        )
      ).rows;
      const all = nodes(row!['QUERY PLAN'][0].Plan);
      const exact = (
        await c.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM invoices WHERE total_cents = $1 AND invoice_date = $2`,
          [q.total_cents, q.invoice_date],
        )
      ).rows[0]!.n;
      expect(exact).toBeGreaterThanOrEqual(40);
      expect(all.filter((n) => n['Relation Name'] === 'invoice_lines')).toEqual([]);
      const keys = all.filter((n) => n['Relation Name'] === 'invoice_line_keys');
      expect(keys).toHaveLength(1);
      const loops = keys[0]!['Actual Loops'] ?? 0;
      // One lookup per candidate: the exact-key block's most recent matches, and the kNN's.
      expect(loops).toBeGreaterThanOrEqual(Math.min(exact, BLOCKING_SPEC.exactLimit));
      expect(keys[0]!['Actual Rows']).toBe(1);
      const buffers = (keys[0]!['Shared Hit Blocks'] ?? 0) + (keys[0]!['Shared Read Blocks'] ?? 0);
      expect(buffers).toBeLessThanOrEqual(3 * loops);
    } finally {
      await c.end();
    }
  }, 60_000);
  /** The search query of a new invoice of vendor `v` (no exact-key match), dated 2025-06-01. */
  function newQuery(v: number): Omit<CandidateQuery, 'tenantId'> {
    const q = validateInvoice(
      makeInvoice({
        invoice_id: `cr-q${v}`,
        invoice_number: `CR-Q${v}`,
        vendor: { id: `V-Q${v}`, name: `Query Vendor ${v}` },
        invoice_date: '2025-06-01',
        due_date: undefined,
      }),
    );
    return { ...queryOf(q), replayInvoiceId: q.invoice_id };
  }

  /** The candidate search query of invoice `q` (k and limits of BLOCKING_SPEC). */
  function queryOf(q: Invoice): Omit<CandidateQuery, 'tenantId'> {
    const f = extractInvoiceFeatures(q);
    return {
      embedding: f.embedding,
      k: BLOCKING_SPEC.k,
      vendorKey: f.vendorKey,
      vendorId: q.vendor.id,
      invoiceNumberCanonical: f.invoiceNumber.canonical,
      totalCents: q.total_cents,
      invoiceDate: q.invoice_date,
      documentType: 'invoice',
    };
  }

  /** EXPLAIN (ANALYZE, VERBOSE) of `text`: every node of the plan, and the tenant's row count. */
  async function explain(text: string, values: unknown[]): Promise<{ all: PlanNode[]; tenantRows: number }> {
    if (config.engine !== 'postgres') throw new Error('postgres only');
    const c = new pg.Client({ connectionString: config.connectionString });
    await c.connect();
    try {
      await c.query(`SET search_path TO ${config.schema}, public`);
      const [row] = (
        await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
          `EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) ${text}`,
          values,
        )
      ).rows;
      const [n] = (
        await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM invoices WHERE tenant_id = 'default'`)
      ).rows;
      return { all: nodes(row!['QUERY PLAN'][0].Plan), tenantRows: n!.n };
    } finally {
      await c.end();
    }
  }

  it('computes each distance of the exact kNN once: the sort key is the distance it returns', async () => {
    const opts = {
      exactSearchMaxRows: BLOCKING_SPEC.exactSearchMaxRows,
      vendorWindowDays: BLOCKING_SPEC.vendorWindowDays,
      vendorRecentLimit: BLOCKING_SPEC.vendorRecentLimit,
    };
    const { text, values } = candidateSearchStatement({ ...newQuery(1), tenantId: 'default' }, opts);
    const { all, tenantRows } = await explain(text, values);
    const knn = all.find((n) => n['Subplan Name'] === 'CTE knn')!;
    const exactSort = nodes(knn).find(
      (n) => n['Node Type'] === 'Sort' && (n['Actual Loops'] ?? 0) > 0 && (n['Actual Rows'] ?? 0) > 0,
    )!;
    const scan = nodes(exactSort).find((n) => n['Relation Name'] === 'invoices')!;
    expect(scan['Actual Rows']).toBe(tenantRows);
    // No node below the sort evaluates the cosine distance twice per row.
    for (const n of nodes(exactSort))
      expect((n.Output ?? []).filter((o) => o.includes('<=>')).length).toBeLessThanOrEqual(1);
  }, 60_000);

  it("reads the tenant from invoices once for a whole chunk; every member's exact kNN scans that copy", async () => {
    const members = [1, 2, 3].map(newQuery);
    const { text, values } = searchManyStatement('default', members, {
      exactSearchMaxRows: BLOCKING_SPEC.exactSearchMaxRows,
      vendorWindowDays: BLOCKING_SPEC.vendorWindowDays,
      vendorRecentLimit: BLOCKING_SPEC.vendorRecentLimit,
    });
    const { all, tenantRows } = await explain(text, values);
    const copy = all.find((n) => n['Subplan Name'] === 'CTE tenant_embeddings')!;
    expect(copy['Actual Loops']).toBe(1);
    expect(copy['Actual Rows']).toBe(tenantRows);
    const scans = all.filter((n) => n['Node Type'] === 'CTE Scan' && n['CTE Name'] === 'tenant_embeddings');
    expect(scans.reduce((s, n) => s + (n['Actual Loops'] ?? 0), 0)).toBe(members.length);
    // No scan of the whole tenant in invoices runs once per member (a hashed replay check may
    // read it once too); the members read their candidates by key.
    const whole = all.filter(
      (n) => n['Relation Name'] === 'invoices' && (n['Actual Rows'] ?? 0) >= tenantRows,
    );
    expect(whole.map((n) => n['Actual Loops'])).toEqual(whole.map(() => 1));
  }, 60_000);
});
