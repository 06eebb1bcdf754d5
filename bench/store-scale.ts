/**
 * Store cost per invoice against history (`npm run bench -- --only store-scale`): the scoring
 * transaction (BEGIN + scoring locks, candidate search with the replay check, the scoring
 * write, audit outbox row, event, COMMIT; the audit link after commit) of a 10-line invoice
 * with new descriptions, on a tenant already holding 0, 100k, ... indexed invoices.
 *
 * The tenant is filled fast with one multi-row INSERT ... SELECT per 20,000 synthetic invoices
 * (random unit embeddings, 5,000 vendors, dates over 5.5 years; no lines or decisions, which
 * the search only joins for its top k), with the HNSW index dropped during the fill and built
 * once after it (store/embedding-index.ts, as a large history import does).
 * PostgreSQL CPU is the backend's user+system time from /proc/<pid>/stat (the pool holds one
 * connection, so one backend serves every statement; 10 ms clock ticks, summed over the run),
 * so it needs PostgreSQL on this machine; latency is wall time per scoring transaction.
 */
import { createRepository, openPostgres, type TriageRepository } from '../store/index.js';
import type { CandidateSearch } from '../store/candidates.js';
import type { Invoice } from '../core/invoice.js';
import type { SqlDatabase } from '../store/sql.js';
import {
  candidateSearchStatement,
  DEFAULT_EXACT_MAX_ROWS,
  DEFAULT_VENDOR_WINDOW_DAYS,
  DEFAULT_VENDOR_RECENT_LIMIT,
} from '../store/candidates.js';
import { buildEmbeddingIndex, suspendEmbeddingIndex } from '../store/embedding-index.js';
import { DEFAULT_CANDIDATE_K, findCandidates } from '../inference/stages/candidates.js';
import { prepare } from '../inference/stages/prepare.js';
import { benchInvoice } from './features.bench.js';
import Table from 'cli-table3';
import { fmt, msSince, percentiles } from './stats.js';
import { backendCpuMs } from './pg-cpu.js';

/** One point: the tenant's size and the cost per scored invoice. */
export interface StoreScalePoint {
  indexedInvoices: number;
  invoices: number;
  /** PostgreSQL backend CPU per invoice, ms (null when /proc of the backend is not readable). */
  pgCpuMsPerInvoice: number | null;
  latencyMs: { p50: number; p95: number; p99: number; mean: number };
  /** Seconds to fill the tenant up to this point, of which building the HNSW index. */
  fillSeconds: number;
  indexSeconds: number;
  searchMethod: string;
  /** EXPLAIN (ANALYZE, BUFFERS) of one candidate search at this size, when asked. */
  plan?: string;
}

const FILL_CHUNK = 20_000;

/**
 * Scores `perPoint` invoices at each tenant size of `sizes` (ascending), growing one tenant.
 * @param url PostgreSQL on this machine; a scratch schema is created and dropped.
 */
export async function runStoreScaleBenchmark(
  url: string,
  schema: string,
  sizes: readonly number[],
  perPoint: number,
  onProgress?: (msg: string) => void,
  opts: { explain?: boolean; indexMemory?: string } = {},
): Promise<StoreScalePoint[]> {
  const db = await openPostgres({ connectionString: url, schema, maxConnections: 1 });
  const { migrate } = await import('../store/migrate.js');
  await migrate(db);
  const repo = createRepository(db);
  const tenant = 'scale';
  const out: StoreScalePoint[] = [];
  let filled = 0;
  let scored = 0;
  try {
    const pid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
    for (const size of sizes) {
      const t0 = process.hrtime.bigint();
      const fill = filled < size;
      if (fill) await suspendEmbeddingIndex(db);
      while (filled < size) {
        const n = Math.min(FILL_CHUNK, size - filled);
        await db.query(
          `INSERT INTO invoices (pk, tenant_id, invoice_id, payload, payload_sha256, vendor_id, vendor_name,
             vendor_key, invoice_number, invoice_number_normalised, invoice_number_canonical, invoice_date,
             currency, total_cents, document_type, embedding)
           SELECT gen_random_uuid(), $1, 'fill-' || g, '{}'::jsonb, 'fill', 'FV-' || (g % 5000), 'Filler ' || (g % 5000),
             'filler ' || (g % 5000), 'F' || g, 'F' || g, 'F' || g, date '2020-01-01' + (g % 2000), 'USD',
             (g * 37) % 1000000, 'invoice',
             (SELECT l2_normalize(array_agg(random() - 0.5 + d * 0 + g * 0)::real[]::vector) FROM generate_series(1, 128) AS d)
           FROM generate_series($2::int, $3::int) AS g`,
          [tenant, filled + 1, filled + n],
        );
        filled += n;
        onProgress?.(`filled ${filled}/${size}`);
      }
      onProgress?.(`building the index at ${size}`);
      const index = fill
        ? await buildEmbeddingIndex(db, { memory: opts.indexMemory ?? '2GB' })
        : { seconds: 0 };
      const fillSeconds = msSince(t0) / 1000;
      await db.exec('ANALYZE invoices');
      const lat: number[] = [];
      let method = '';
      const cpu0 = backendCpuMs(pid);
      for (let i = 0; i < perPoint; i++) {
        const inv = { ...benchInvoice(scored + i, true), invoice_id: `scale-${scored + i}` };
        const r = await scoreInvoice(repo, tenant, inv);
        method = r.search.method;
        lat.push(r.ms);
      }
      await repo.audit.link(tenant);
      const cpu1 = backendCpuMs(pid);
      scored += perPoint;
      filled += perPoint;
      out.push({
        indexedInvoices: size,
        invoices: perPoint,
        pgCpuMsPerInvoice: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / perPoint,
        latencyMs: percentiles(lat.slice(Math.min(20, Math.floor(perPoint / 10)))),
        fillSeconds,
        indexSeconds: index.seconds,
        searchMethod: method,
        ...(opts.explain
          ? {
              plan: await explainSearch(db, tenant, {
                ...benchInvoice(scored + perPoint, true),
                invoice_id: `scale-explain-${scored + perPoint}`,
              }),
            }
          : {}),
      });
    }
  } finally {
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await repo.close();
  }
  return out;
}

/** Wall time of one scoring transaction and how its candidate search ran. */
export interface ScoredInvoice {
  /** Wall time of the transaction (BEGIN to COMMIT), ms. */
  ms: number;
  search: CandidateSearch;
  /** Candidates returned (all blocks, deduplicated). */
  candidates: number;
}

/**
 * The store's part of scoring `inv` for `tenant`: BEGIN with the scoring locks, the candidate
 * search with the replay check, the scoring write (a fixed AUTO_APPROVE decision), COMMIT.
 */
export async function scoreInvoice(
  repo: TriageRepository,
  tenant: string,
  inv: Invoice,
): Promise<ScoredInvoice> {
  const p = prepare(inv);
  const t = process.hrtime.bigint();
  let search: CandidateSearch | undefined;
  let candidates = 0;
  await repo.withScoringLock(tenant, p.lockKeys, async (tx) => {
    const found = await findCandidates(tx, p, DEFAULT_CANDIDATE_K);
    search = found.search;
    candidates = found.candidates.length;
    if (found.stored) return;
    await tx.insert(inv, 'bench', p.keys, benchDecision(inv.invoice_id));
  });
  return { ms: msSince(t), search: search!, candidates };
}

/** EXPLAIN (ANALYZE, BUFFERS) of the candidate search of the new invoice `inv`, planned as in scoring. */
export async function explainSearch(db: SqlDatabase, tenant: string, inv: Invoice): Promise<string> {
  const p = prepare(inv);
  const { text, values } = candidateSearchStatement(
    {
      embedding: p.features.embedding,
      tenantId: tenant,
      k: DEFAULT_CANDIDATE_K,
      vendorKey: p.features.vendorKey,
      vendorId: inv.vendor.id,
      invoiceNumberCanonical: p.features.invoiceNumber.canonical,
      totalCents: inv.total_cents,
      invoiceDate: inv.invoice_date,
      documentType: inv.document_type,
      replayInvoiceId: inv.invoice_id,
    },
    {
      exactSearchMaxRows: DEFAULT_EXACT_MAX_ROWS,
      vendorWindowDays: DEFAULT_VENDOR_WINDOW_DAYS,
      vendorRecentLimit: DEFAULT_VENDOR_RECENT_LIMIT,
    },
  );
  const rows = await db.transaction(
    (tx) => tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values),
    { oltp: true },
  );
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

function benchDecision(invoiceId: string) {
  return {
    decision_id: crypto.randomUUID(),
    invoice_id: invoiceId,
    decision: 'AUTO_APPROVE' as const,
    priority: 0,
    scores: { coding_mismatch: 0.01, duplicate: 0 },
    reasons: [],
    duplicates: [],
    lines: [],
    versions: { models: {}, feature_schema: 'bench', policy: 'bench', reference_data: 'bench' },
    created_at: new Date().toISOString(),
  };
}

/** The printed table of the section, with the ratio of each point to the first. */
export function storeScaleTable(points: readonly StoreScalePoint[]): string {
  const t = new Table({
    head: [
      'indexed invoices',
      'fill s',
      'of which index s',
      'search',
      'PG CPU ms/invoice',
      'p50 ms',
      'p99 ms',
      'CPU vs first',
      'p50 vs first',
    ],
  });
  const first = points[0];
  for (const p of points)
    t.push([
      p.indexedInvoices,
      fmt(p.fillSeconds),
      fmt(p.indexSeconds),
      p.searchMethod,
      p.pgCpuMsPerInvoice === null ? 'n/a' : fmt(p.pgCpuMsPerInvoice),
      fmt(p.latencyMs.p50),
      fmt(p.latencyMs.p99),
      first?.pgCpuMsPerInvoice && p.pgCpuMsPerInvoice !== null
        ? fmt(p.pgCpuMsPerInvoice / first.pgCpuMsPerInvoice)
        : 'n/a',
      first ? fmt(p.latencyMs.p50 / first.latencyMs.p50) : 'n/a',
    ]);
  return t.toString();
}
