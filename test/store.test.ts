/**
 * Store contract, run on both engines: embedded PGlite and PostgreSQL + pgvector
 * (TEST_DATABASE_URL; required in CI by INVOICE_TRIAGE_REQUIRE_PG=1).
 */
import { HNSW_EF_SEARCH } from '../store/hnsw-search.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openStore,
  openPglite,
  openPostgres,
  migrate,
  loadMigrations,
  type TriageRepository,
  type SqlDatabase,
} from '../store/index.js';
import type { DecisionResponse } from '../core/decision.js';
import { findCandidates } from '../store/candidates.js';
import { BLOCKING_SPEC } from '../core/blocking.js';
import { isTriageError } from '../core/errors.js';
import { decisionFor, engines, keysOf, makeInvoice, REQUIRE_PG, TEST_DATABASE_URL } from './fixtures.js';
import { dropSchema } from './harness.js';

it('the PostgreSQL suite is configured when required', () => {
  if (REQUIRE_PG)
    expect(TEST_DATABASE_URL, 'INVOICE_TRIAGE_REQUIRE_PG=1 needs TEST_DATABASE_URL').toBeTruthy();
  expect(engines('x').length).toBe(TEST_DATABASE_URL || REQUIRE_PG ? 2 : 1);
});

describe.each(engines('store'))('store on $name', ({ name, config }) => {
  let repo: TriageRepository;
  const cfg = config();

  beforeAll(async () => {
    repo = await openStore(cfg);
  });
  afterAll(async () => {
    await repo.close();
    await dropSchema(cfg);
  });

  it('runs on the expected engine with pgvector', async () => {
    expect(repo.engine).toBe(name);
    await expect(repo.ping()).resolves.toBe('ok');
  });

  it('saves an invoice with its decision and reads both back', async () => {
    const inv = makeInvoice({ invoice_id: 'save-1' });
    const d = decisionFor(inv);
    const res = await repo.saveDecision('t1', inv, 'hash-1', keysOf(inv), d);
    expect(res.created).toBe(true);
    expect(await repo.getDecision('t1', d.decision_id)).toEqual(d);
    expect(await repo.findByInvoiceId('t1', 'save-1')).toEqual({ payloadSha256: 'hash-1', decision: d });
  });

  it('is idempotent on (tenant, invoice id) and refuses a changed payload', async () => {
    const inv = makeInvoice({ invoice_id: 'idem-1' });
    const first = await repo.saveDecision('t1', inv, 'hash-a', keysOf(inv), decisionFor(inv));
    const again = await repo.saveDecision('t1', inv, 'hash-a', keysOf(inv), decisionFor(inv, 'HOLD'));
    expect(again.created).toBe(false);
    expect(again.decision.decision_id).toBe(first.decision.decision_id);
    await expect(repo.saveDecision('t1', inv, 'hash-b', keysOf(inv), decisionFor(inv))).rejects.toSatisfy(
      (e: unknown) => isTriageError(e, 'TRIAGE_INVOICE_CONFLICT'),
    );
  });

  it('keeps concurrent submissions of one invoice to a single copy', async () => {
    const inv = makeInvoice({ invoice_id: 'race-1' });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => repo.saveDecision('t1', inv, 'hash-r', keysOf(inv), decisionFor(inv))),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.decision.decision_id)).size).toBe(1);
  });

  it("counts each tenant's indexed invoices in tenant_invoice_counts as they are written", async () => {
    const before = await repo.transaction((tx) =>
      tx.query<{ n: string; c: string }>(
        `SELECT (SELECT sum(invoices) FROM tenant_invoice_counts WHERE tenant_id = 't-count')::text AS n,
                (SELECT count(*) FROM invoices WHERE tenant_id = 't-count')::text AS c`,
      ),
    );
    expect(before[0]).toEqual({ n: null, c: '0' });
    for (const id of ['c-1', 'c-2', 'c-3']) {
      const inv = makeInvoice({ invoice_id: id });
      await repo.saveDecision('t-count', inv, 'h', keysOf(inv), decisionFor(inv));
    }
    // A replay writes no invoice and counts nothing.
    const again = makeInvoice({ invoice_id: 'c-1' });
    await repo.saveDecision('t-count', again, 'h', keysOf(again), decisionFor(again));
    const after = await repo.transaction((tx) =>
      tx.query<{ n: string }>(
        `SELECT invoices::text AS n FROM tenant_invoice_counts WHERE tenant_id = 't-count'`,
      ),
    );
    expect(after).toEqual([{ n: '3' }]);
    // The counter stops past 10,000; the crossover must stay below that.
    expect(BLOCKING_SPEC.exactSearchMaxRows).toBeLessThan(10_000);
  });

  it('writes nothing when any part of the transaction fails', async () => {
    const inv = makeInvoice({ invoice_id: 'atomic-1' });
    const bad = { ...decisionFor(inv), decision: 'MAYBE' as DecisionResponse['decision'] };
    await expect(repo.saveDecision('t1', inv, 'h', keysOf(inv), bad)).rejects.toThrow();
    expect(await repo.findByInvoiceId('t1', 'atomic-1')).toBeNull();
    // ...and the id is still free for a correct submission.
    expect((await repo.saveDecision('t1', inv, 'h', keysOf(inv), decisionFor(inv))).created).toBe(true);
  });

  it('finds duplicate candidates by kNN and by exact key, nearest first, within the tenant', async () => {
    const base = makeInvoice({
      invoice_id: 'knn-base',
      invoice_number: 'A-5001',
      vendor: { id: 'V-7', name: 'Sunrise Infusion Pharmacy LLC' },
    });
    const far = makeInvoice({
      invoice_id: 'knn-far',
      invoice_number: 'Z-1',
      vendor: { id: 'V-8', name: 'Metro Ambulance' },
      total_cents: 123_400,
      lines: [
        {
          line_number: 1,
          description: 'Ambulance service, advanced life support, emergency transport',
          code: { system: 'HCPCS', value: 'A0427' },
          quantity: 1,
          unit_price_cents: 123_400,
          amount_cents: 123_400,
        },
      ],
    });
    await repo.saveDecision('t2', base, 'h1', keysOf(base), decisionFor(base, 'REVIEW'));
    await repo.saveDecision('t2', far, 'h2', keysOf(far), decisionFor(far));
    await repo.saveDecision(
      't3',
      makeInvoice({ invoice_id: 'other-tenant' }),
      'h3',
      keysOf(makeInvoice()),
      decisionFor(makeInvoice({ invoice_id: 'other-tenant' })),
    );
    const probe = makeInvoice({
      invoice_id: 'probe',
      invoice_number: 'A-5OO1',
      vendor: { id: 'V-7', name: 'SUNRISE INFUSION PHARMACY' },
    });
    const k = keysOf(probe);
    const { candidates: cands, search } = await repo.findDuplicateCandidates({
      tenantId: 't2',
      embedding: k.embedding,
      k: 10,
      vendorKey: k.vendorKey,
      vendorId: 'V-7',
      invoiceNumberCanonical: k.invoiceNumberCanonical,
      totalCents: probe.total_cents,
      invoiceDate: probe.invoice_date,
    });
    expect(cands.map((c) => c.invoiceId)).toEqual(['knn-base', 'knn-far']);
    const top = cands[0]!;
    expect(top.sources).toEqual(['knn', 'vendor_knn', 'exact_key']);
    expect(search).toMatchObject({
      method: 'exact',
      k: 10,
      tenantRowsCounted: 2,
      knnFound: 2,
      vendorKnnFound: 1,
    });
    expect(top.embeddingDistance).toBeLessThan(0.1);
    expect(top).toMatchObject({
      decision: 'REVIEW',
      invoiceDate: '2025-03-01',
      totalCents: 21_500,
      currency: 'USD',
      invoiceNumber: 'A-5001',
    });
    expect(top.lineMatchKeys).toEqual(['E1390|20000', 'E0570|1500']);
    expect(cands[1]!.sources).toEqual(['knn']);
  });

  it('does not show a decision to another tenant', async () => {
    const inv = makeInvoice({ invoice_id: 'iso-1' });
    const d = decisionFor(inv);
    await repo.saveDecision('tA', inv, 'h', keysOf(inv), d);
    expect(await repo.getDecision('tB', d.decision_id)).toBeNull();
    expect(await repo.getDecision('tA', 'not-a-uuid')).toBeNull();
  });
});

describe.each(engines('migrate'))('migrations on $name', ({ config }) => {
  it('an oltp transaction is planned without parallel workers or JIT; the settings end with it', async () => {
    const cfg = config();
    const db: SqlDatabase =
      cfg.engine === 'postgres'
        ? await openPostgres({
            connectionString: cfg.connectionString,
            schema: cfg.schema!,
            maxConnections: 1,
          })
        : await openPglite();
    try {
      const workers = async (o: Parameters<SqlDatabase['transaction']>[1]): Promise<string> =>
        (
          await db.transaction(
            (tx) =>
              tx.query<{ w: string; jit: string }>(
                `SELECT current_setting('max_parallel_workers_per_gather') AS w, current_setting('jit') AS jit`,
              ),
            o,
          )
        )
          .map((r) => `${r.w}/${r.jit}`)
          .join();
      const before = await workers({});
      const serial = await workers({ oltp: true, lockKeys: ['scoring:t:k'] });
      const serialNoLocks = await workers({ oltp: true });
      // One pooled connection: SET LOCAL did not outlive its transaction.
      const after = await workers({});
      if (cfg.engine === 'postgres') {
        expect(before).not.toBe('0/off');
        expect([serial, serialNoLocks]).toEqual(['0/off', '0/off']);
      } else expect([serial, serialNoLocks]).toEqual([before, before]);
      expect(after).toBe(before);
    } finally {
      if (cfg.engine === 'postgres') await db.exec(`DROP SCHEMA ${cfg.schema} CASCADE`);
      await db.close();
    }
  });

  it('apply once, record checksums, and refuse an edited migration', async () => {
    const cfg = config();
    const db: SqlDatabase =
      cfg.engine === 'postgres'
        ? await openPostgres({
            connectionString: cfg.connectionString,
            schema: cfg.schema!,
            maxConnections: 2,
          })
        : await openPglite();
    try {
      const migrations = loadMigrations();
      expect(await migrate(db, migrations)).toEqual(migrations.map((m) => m.version));
      expect(await migrate(db, migrations)).toEqual([]);
      const rows = await db.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM schema_migrations ORDER BY version',
      );
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      const idx = await db.query<{ indexdef: string }>(
        `SELECT indexdef FROM pg_indexes WHERE indexname = 'invoices_embedding_hnsw' AND schemaname = current_schema()`,
      );
      expect(idx[0]?.indexdef).toMatch(/USING hnsw \(embedding vector_cosine_ops\)/);
      const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
      await expect(migrate(db, edited)).rejects.toSatisfy((e: unknown) =>
        isTriageError(e, 'TRIAGE_STORE_MIGRATION_MISMATCH'),
      );
    } finally {
      if (cfg.engine === 'postgres') await db.exec(`DROP SCHEMA ${cfg.schema} CASCADE`);
      await db.close();
    }
  });
});

describe.each(engines('recall'))('recall guard for filtered HNSW on $name', ({ config }) => {
  const cfg = config();
  let repo: TriageRepository;
  // A big tenant full of near-copies of the probe, and a tenant with one, less similar, invoice.
  const probe = makeInvoice({ invoice_id: 'probe', invoice_number: 'RG-1000' });
  const needle = makeInvoice({
    invoice_id: 'needle',
    invoice_number: 'ZZ-9',
    vendor: { id: 'V-N', name: 'Needle Medical' },
    invoice_date: '2025-01-15',
    due_date: '2025-02-14',
  });
  const queryFor = (tenantId: string, k: number) => {
    const kq = keysOf(probe);
    return {
      tenantId,
      embedding: kq.embedding,
      k,
      vendorKey: 'no-such-vendor',
      vendorId: 'no-such-vendor',
      invoiceNumberCanonical: 'NONE',
      totalCents: -1,
      invoiceDate: '1999-01-01',
    };
  };

  beforeAll(async () => {
    repo = await openStore(cfg, { exactSearchMaxRows: 0 });
    // More near-copies than the search's candidate list (hnsw.ef_search) holds.
    for (let i = 0; i < HNSW_EF_SEARCH + 20; i++) {
      const inv = makeInvoice({ invoice_id: `big-${i}`, invoice_number: `RG-${1001 + i}` });
      await repo.saveDecision('big', inv, `h${i}`, keysOf(inv), decisionFor(inv));
    }
    await repo.saveDecision('needle', needle, 'hn', keysOf(needle), decisionFor(needle));
  }, 300_000);
  afterAll(async () => {
    await repo.close();
    await dropSchema(cfg);
  });

  it('a plain filtered HNSW scan misses the small tenant; the guarded search finds it', async () => {
    const vec = `[${Array.from(keysOf(probe).embedding, (x) => Math.fround(x)).join(',')}]`;
    // Without the guard: the index's first ef_search (HNSW_EF_SEARCH) neighbours all belong to tenant big.
    const plain = await repo.transaction(async (tx) => {
      // Make the planner take the HNSW index (as it does on a large table).
      for (const s of ['enable_seqscan', 'enable_bitmapscan', 'enable_sort'])
        await tx.query(`SELECT set_config($1, 'off', true)`, [s]);
      await tx.query(`SELECT set_config('hnsw.iterative_scan', 'off', true)`);
      const plan = await tx.query(
        `EXPLAIN SELECT invoice_id FROM invoices WHERE tenant_id = 'needle' ORDER BY embedding <=> $1::vector LIMIT 5`,
        [vec],
      );
      expect(JSON.stringify(plan)).toContain('invoices_embedding_hnsw');
      return tx.query(
        `SELECT invoice_id FROM invoices WHERE tenant_id = 'needle' ORDER BY embedding <=> $1::vector LIMIT 5`,
        [vec],
      );
    });
    expect(plain).toEqual([]);
    const one = await repo.findDuplicateCandidates(queryFor('needle', 1));
    expect(one.search.method).toBe('hnsw_iterative');
    expect(one.candidates.map((c) => c.invoiceId)).toEqual(['needle']);
    // The tenant holds fewer rows than k and the index found them all: nothing to redo.
    const ten = await repo.findDuplicateCandidates(queryFor('needle', 10));
    expect(ten.search).toMatchObject({ method: 'hnsw_iterative', knnFound: 1, tenantRowsCounted: 1 });
    expect(ten.candidates.map((c) => c.invoiceId)).toEqual(['needle']);
    // Without iterative scans (pgvector < 0.8) the index returns none of the tenant's rows, fewer
    // than the tenant holds, so the search is redone exactly.
    const redone = await repo.transaction(async (tx) => {
      for (const s of ['enable_seqscan', 'enable_bitmapscan', 'enable_sort'])
        await tx.query(`SELECT set_config($1, 'off', true)`, [s]);
      await tx.query(`SELECT set_config('hnsw.iterative_scan', 'off', true)`);
      return findCandidates(tx, queryFor('needle', 10), {
        exactSearchMaxRows: 0,
        vendorWindowDays: 400,
        vendorRecentLimit: BLOCKING_SPEC.vendorRecentLimit,
        iterative: async () => false,
      });
    });
    expect(redone.search).toMatchObject({ method: 'hnsw_then_exact', knnFound: 1 });
    expect(redone.candidates.map((c) => [c.invoiceId, c.sources])).toEqual([['needle', ['knn']]]);
    const big = await repo.findDuplicateCandidates(queryFor('big', 10));
    expect(big.search).toMatchObject({ method: 'hnsw_iterative', knnFound: 10 });
    expect(big.candidates.every((c) => c.invoiceId.startsWith('big-'))).toBe(true);
  });
});
