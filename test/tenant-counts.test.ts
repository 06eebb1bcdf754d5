/**
 * The per-tenant invoice counter in stripes (store/migrations/060 and 109): writers of one tenant
 * on several connections take different stripes instead of queueing on one row, the sum is the
 * exact count of stored invoices below 10,000 (scoring, history import), the candidate search
 * switches from exact to HNSW at the same invoice as before, and past 10,000 nothing is counted
 * or locked. Both engines; the concurrent writers on PostgreSQL.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateInvoice } from '../core/validate.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { indexKeysOf, payloadSha256 } from '../inference/stages/prepare.js';
import {
  loadMigrations,
  migrate,
  openPglite,
  openPostgres,
  openStore,
  type SqlDatabase,
  type StoreConfig,
  type TriageRepository,
} from '../store/index.js';
import { decisionFor, engines, keysOf, makeInvoice, TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import { dropSchema } from './harness.js';

/** Stripes of `tenantId`: [stripe, invoices], by stripe. */
async function stripes(db: TriageRepository | SqlDatabase, tenantId: string): Promise<[number, number][]> {
  const rows = await db.transaction((tx) =>
    tx.query<{ stripe: number; invoices: string }>(
      'SELECT stripe, invoices::text AS invoices FROM tenant_invoice_counts WHERE tenant_id = $1 ORDER BY stripe',
      [tenantId],
    ),
  );
  return rows.map((r) => [r.stripe, Number(r.invoices)]);
}

/** The counter's sum and the invoices stored for `tenantId`. */
async function counted(repo: TriageRepository, tenantId: string): Promise<{ sum: number; stored: number }> {
  const [r] = await repo.transaction((tx) =>
    tx.query<{ sum: string | null; stored: string }>(
      `SELECT (SELECT sum(invoices) FROM tenant_invoice_counts WHERE tenant_id = $1)::text AS sum,
              (SELECT count(*) FROM invoices WHERE tenant_id = $1)::text AS stored`,
      [tenantId],
    ),
  );
  return { sum: Number(r!.sum ?? 0), stored: Number(r!.stored) };
}

/** A client of `cfg`'s schema outside the repository's pool (PostgreSQL only). */
async function sideClient(cfg: StoreConfig): Promise<pg.Client> {
  if (cfg.engine !== 'postgres') throw new Error('a side client needs PostgreSQL');
  const c = new pg.Client({
    connectionString: cfg.connectionString,
    // A writer that waited on this client's locks would hang the test; the session ends instead
    // (and its COMMIT fails).
    options: `-c search_path=${cfg.schema ?? 'public'},public -c idle_in_transaction_session_timeout=20000`,
  });
  await c.connect();
  return c;
}

const probe = (tenantId: string) => {
  const k = keysOf(makeInvoice({ invoice_id: 'probe' }));
  return {
    tenantId,
    embedding: k.embedding,
    k: 3,
    vendorKey: 'no-such-vendor',
    vendorId: 'no-such-vendor',
    invoiceNumberCanonical: 'NONE',
    totalCents: -1,
    invoiceDate: '1999-01-01',
  };
};

const save = async (repo: TriageRepository, tenantId: string, id: string, n: number): Promise<void> => {
  const inv = makeInvoice({ invoice_id: id, invoice_number: `TC-${1000 + n}` });
  await repo.saveDecision(tenantId, inv, `h-${id}`, keysOf(inv), decisionFor(inv));
};

describe.each(engines('tcount'))('tenant invoice counter on $name', ({ name, config }) => {
  const cfg = config();
  const MAX = 4;
  let repo: TriageRepository;
  beforeAll(async () => {
    repo = await openStore(cfg, { exactSearchMaxRows: MAX });
  });
  afterAll(async () => {
    await repo.close();
    await dropSchema(cfg);
  });

  it('switches from exact to HNSW at the invoice after the crossover, its stripes summed', async () => {
    const seen: [number, string, number][] = [];
    for (let i = 0; i < MAX + 4; i++) {
      const r = await repo.findDuplicateCandidates(probe('cross'));
      seen.push([i, r.search.method, r.search.tenantRowsCounted]);
      // On PostgreSQL another transaction holds every stripe of the tenant while the invoice is
      // written: the write takes a stripe of its own instead of waiting.
      const side = name === 'postgres' ? await sideClient(cfg) : null;
      await side?.query('BEGIN');
      await side?.query(`SELECT 1 FROM tenant_invoice_counts WHERE tenant_id = 'cross' FOR UPDATE`);
      await save(repo, 'cross', `x-${i}`, i);
      await side?.query('COMMIT');
      await side?.end();
    }
    expect(seen.map(([i, method]) => [i, method === 'exact' ? 'exact' : method.slice(0, 4)])).toEqual(
      seen.map(([i]) => [i, i <= MAX ? 'exact' : 'hnsw']),
    );
    expect(seen.map(([, , n]) => n)).toEqual(seen.map(([i]) => Math.min(i, MAX + 1)));
    expect(await counted(repo, 'cross')).toEqual({ sum: MAX + 4, stored: MAX + 4 });
    const rows = await stripes(repo, 'cross');
    // One stripe per write that found all the others locked (at most 16); one without a rival.
    if (name === 'postgres') expect(rows.length).toBeGreaterThan(1);
    else expect(rows).toEqual([[rows[0]![0], MAX + 4]]);
    expect(rows.every(([s]) => s >= 0 && s < 16)).toBe(true);
  });

  it('counts the invoices a history import writes', async () => {
    const records = [1, 2, 3].map((i) => {
      const invoice = validateInvoice(
        makeInvoice({ invoice_id: `hist-${i}`, invoice_number: `TH-${i}`, invoice_date: '2024-05-0' + i }),
      );
      return {
        location: `/${i}`,
        invoice,
        payloadSha256: payloadSha256(invoice),
        keys: indexKeysOf(extractInvoiceFeatures(invoice)),
      };
    });
    await save(repo, 'hist', 'scored-1', 1);
    const out = await repo.history.importChunk('hist', records, null);
    expect(out.imported).toBe(3);
    // Imported again: nothing new stored, nothing counted.
    expect((await repo.history.importChunk('hist', records, null)).imported).toBe(0);
    expect(await counted(repo, 'hist')).toEqual({ sum: 4, stored: 4 });
  });

  it('past 10,000 counts nothing and locks nothing; the search stays on the index', async () => {
    await save(repo, 'cap', 'cap-1', 1);
    await repo.transaction((tx) =>
      tx.query(`UPDATE tenant_invoice_counts SET invoices = 10001 WHERE tenant_id = 'cap'`),
    );
    const before = await stripes(repo, 'cap');
    const side = name === 'postgres' ? await sideClient(cfg) : null;
    await side?.query('BEGIN');
    await side?.query(`SELECT 1 FROM tenant_invoice_counts WHERE tenant_id = 'cap' FOR UPDATE`);
    await save(repo, 'cap', 'cap-2', 2);
    await side?.query('COMMIT');
    await side?.end();
    expect(await stripes(repo, 'cap')).toEqual(before);
    expect((await counted(repo, 'cap')).sum).toBe(10_001);
    const r = await repo.findDuplicateCandidates(probe('cap'));
    expect(r.search.method).not.toBe('exact');
    expect(r.search.tenantRowsCounted).toBe(MAX + 1);
  });

  it('migration 109 keeps the counts of 060 as stripe 0 and changes nothing when run again', async () => {
    const all = loadMigrations();
    const schema = cfg.engine === 'postgres' ? uniqueSchema('tcount_mig') : undefined;
    const db =
      cfg.engine === 'postgres'
        ? await openPostgres({ connectionString: cfg.connectionString, schema: schema! })
        : await openPglite();
    try {
      await migrate(
        db,
        all.filter((m) => m.version < 109),
      );
      await db.exec(`INSERT INTO tenant_invoice_counts (tenant_id, invoices) VALUES ('a', 5), ('b', 10001)`);
      expect(await migrate(db, all)).toContain(109);
      const expected = { a: [[0, 5]], b: [[0, 10_001]] };
      expect({ a: await stripes(db, 'a'), b: await stripes(db, 'b') }).toEqual(expected);
      await db.exec(all.find((m) => m.version === 109)!.sql);
      expect({ a: await stripes(db, 'a'), b: await stripes(db, 'b') }).toEqual(expected);
      const key = await db.query<{ columns: string }>(
        `SELECT string_agg(a.attname, ',' ORDER BY k.n) AS columns
         FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = 'tenant_invoice_counts'::regclass AND i.indisprimary`,
      );
      expect(key).toEqual([{ columns: 'tenant_id,stripe' }]);
    } finally {
      await db.close();
      if (cfg.engine === 'postgres') await dropSchema({ ...cfg, schema: schema! });
    }
  });
});

describe.skipIf(!TEST_DATABASE_URL)('tenant invoice counter, concurrent writers on PostgreSQL', () => {
  const cfg = {
    engine: 'postgres' as const,
    connectionString: TEST_DATABASE_URL!,
    schema: uniqueSchema('tcount_pg'),
  };
  let repo: TriageRepository;
  const clients: pg.Client[] = [];
  beforeAll(async () => {
    repo = await openStore(cfg);
    await save(repo, 'tpl', 'tpl-1', 1);
    for (let i = 0; i < 2; i++) {
      const c = await sideClient(cfg);
      // A write that waited on the other connection's stripe would fail instead of hanging.
      await c.query(`SET lock_timeout = '10s'`);
      clients.push(c);
    }
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end()));
    await repo.close();
    await dropSchema(cfg);
  });

  /** Copies of the template invoice under `ids` in `tenantId`, in one INSERT statement. */
  const insert = (c: pg.Client, tenantId: string, ids: string[]) =>
    c.query(
      `INSERT INTO invoices SELECT r.* FROM invoices i CROSS JOIN unnest($2::text[]) AS x(id)
       CROSS JOIN LATERAL json_populate_record(i, json_build_object('pk', gen_random_uuid(), 'tenant_id', $1::text,
         'invoice_id', x.id, 'invoice_number', x.id, 'invoice_number_normalised', x.id, 'invoice_number_canonical', x.id)) r
       WHERE i.tenant_id = 'tpl'`,
      [tenantId, ids],
    );

  it('two open transactions write one tenant without waiting; the sum is exact', async () => {
    const [a, b] = clients as [pg.Client, pg.Client];
    // The tenant's first stripe, committed (two first writers whose backends share a stripe
    // number wait once, on the other's insert of that row).
    await insert(a, 'race', ['a-0']);
    await a.query('BEGIN');
    await b.query('BEGIN');
    await insert(a, 'race', ['a-1']);
    // a holds its stripe until COMMIT; b takes another.
    await insert(b, 'race', ['b-0', 'b-1', 'b-2', 'b-3']);
    await b.query('COMMIT');
    await insert(a, 'race', ['a-2']);
    await a.query('COMMIT');
    const rows = await stripes(repo, 'race');
    expect(rows).toHaveLength(2);
    expect(rows.map(([, n]) => n).sort()).toEqual([3, 4]);
    expect(await counted(repo, 'race')).toEqual({ sum: 7, stored: 7 });
  });

  it('many transactions of two connections at once: every invoice counted once, at most 16 stripes', async () => {
    const burst = (c: pg.Client, tag: string) =>
      (async () => {
        for (let i = 0; i < 40; i++) {
          await c.query('BEGIN');
          await insert(c, 'burst', i % 5 === 0 ? [`${tag}-${i}-x`, `${tag}-${i}-y`] : [`${tag}-${i}`]);
          await c.query('COMMIT');
        }
      })();
    await Promise.all([burst(clients[0]!, 'a'), burst(clients[1]!, 'b')]);
    expect(await counted(repo, 'burst')).toEqual({ sum: 96, stored: 96 });
    const rows = await stripes(repo, 'burst');
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(2);
  });

  it('two repositories (two processes) scoring one tenant at once count every invoice', async () => {
    const other = await openStore(cfg);
    try {
      await Promise.all(
        [repo, other].map(async (r, k) => {
          for (let i = 0; i < 12; i++) await save(r, 'two', `two-${k}-${i}`, 100 * k + i);
        }),
      );
    } finally {
      await other.close();
    }
    expect(await counted(repo, 'two')).toEqual({ sum: 24, stored: 24 });
  });
});
