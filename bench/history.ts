/**
 * History import benchmark (`npm run bench -- --only history`): `n` generated 10-line invoices
 * imported into an empty PostgreSQL schema through the import path of `POST /v1/history` and
 * `cli import` (inference/history.ts: validation, fingerprint, index features, one transaction
 * per chunk), in chunks. Reports wall time, invoices/s, the process's CPU time (validation and
 * features; the rest of the wall time is PostgreSQL: inserts, HNSW index maintenance, WAL), the
 * load average, the extrapolation to 1M invoices at the measured rate, and a check that a
 * candidate search finds an imported invoice.
 */
import { loadavg } from 'node:os';
import Table from 'cli-table3';
import { fmt } from './stats.js';
import type { Invoice } from '../core/invoice.js';
import { importHistoryChunk, type HistoryInput } from '../inference/history.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { openPostgres, openStore, type StoreConfig } from '../store/index.js';

/** Figures of one history import run. */
export interface HistoryImportResult {
  invoices: number;
  lines: number;
  chunk: number;
  seconds: number;
  /** CPU seconds of this process (user + system) during the run. */
  cpuSeconds: number;
  invoicesPerSecond: number;
  /** Minutes 1M invoices take at the measured rate (an extrapolation unless n = 1M). */
  minutesPer1M: number;
  /** True when a candidate search for a copy of an imported invoice returned it. */
  candidateFound: boolean;
  /** 1-minute load average before and after. */
  load: [number, number];
  /**
   * A vendor's code counts after the import, median ms over 30 reads: the kept table
   * (`vendor_code_counts`) vs the aggregate over the vendor's stored lines it replaced.
   */
  codeCounts: { keptMs: number; aggregateMs: number; vendorLines: number };
}

async function medianMs(runs: number, f: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await f();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/**
 * Imports `n` invoices made by `make(i)` into `store` (an empty schema), `chunk` per transaction.
 * @throws Error when the store refuses a chunk.
 */
export async function runHistoryBenchmark(
  store: StoreConfig,
  n: number,
  chunk: number,
  make: (i: number) => Invoice,
): Promise<HistoryImportResult> {
  const repo = await openStore(store);
  try {
    const loadBefore = loadavg()[0]!;
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    let lines = 0;
    for (let start = 0; start < n; start += chunk) {
      const inputs: HistoryInput[] = [];
      for (let i = start; i < Math.min(n, start + chunk); i++) {
        const inv = make(i);
        lines += inv.lines.length;
        inputs.push({ location: `/${i}`, value: inv });
      }
      const out = await importHistoryChunk(repo.history, 'bench', inputs, {
        actorKeyId: null,
        onBadRecord: 'refuse',
      });
      if (out.imported !== inputs.length) throw new Error(`chunk at ${start}: imported ${out.imported}`);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const probe = make(Math.floor(n / 2));
    const f = extractInvoiceFeatures(probe);
    const found = await repo.findDuplicateCandidates({
      tenantId: 'bench',
      embedding: f.embedding,
      k: 10,
      vendorKey: f.vendorKey,
      vendorId: probe.vendor.id,
      invoiceNumberCanonical: f.invoiceNumber.canonical,
      totalCents: probe.total_cents,
      invoiceDate: probe.invoice_date,
    });
    const aggregate = () =>
      repo.transaction((tx) =>
        tx.query<{ n: number }>(
          `SELECT upper(l.code) AS code, count(*)::int AS n
             FROM invoices i JOIN invoice_lines l ON l.invoice_pk = i.pk
            WHERE i.tenant_id = $1 AND i.vendor_id = $2 AND l.code_system = 'HCPCS' AND l.code IS NOT NULL
            GROUP BY upper(l.code)`,
          ['bench', probe.vendor.id],
        ),
      );
    const vendorLines = (await aggregate()).reduce((a, r) => a + r.n, 0);
    const codeCounts = {
      keptMs: await medianMs(30, () => repo.vendors.codeCounts('bench', probe.vendor.id)),
      aggregateMs: await medianMs(30, aggregate),
      vendorLines,
    };
    return {
      codeCounts,
      invoices: n,
      lines,
      chunk,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      invoicesPerSecond: n / seconds,
      minutesPer1M: 1e6 / (n / seconds) / 60,
      candidateFound: found.candidates.some((c) => c.invoiceId === probe.invoice_id),
      load: [loadBefore, loadavg()[0]!],
    };
  } finally {
    await repo.close();
  }
}

/** The result as a text table (the form BENCHMARKS.md quotes). */
export function historyTable(r: HistoryImportResult): string {
  const t = new Table({
    head: [
      'invoices',
      'lines',
      'chunk',
      'seconds',
      'CPU s (node)',
      'invoices/s',
      'min per 1M',
      'found',
      'load',
    ],
  });
  t.push(
    [
      r.invoices,
      r.lines,
      r.chunk,
      fmt(r.seconds),
      fmt(r.cpuSeconds),
      fmt(r.invoicesPerSecond),
      fmt(r.minutesPer1M),
      r.candidateFound ? 'yes' : 'NO',
      `${fmt(r.load[0])} -> ${fmt(r.load[1])}`,
      `${fmt(r.codeCounts.keptMs)} / ${fmt(r.codeCounts.aggregateMs)} (${r.codeCounts.vendorLines})`,
    ].map(String),
  );
  return t.toString();
}

/** Runs the benchmark on a fresh PostgreSQL schema, drops it, prints the table. */
export async function historySection(
  store: Extract<StoreConfig, { engine: 'postgres' }>,
  [n, chunk]: [number, number],
  make: (i: number) => Invoice,
): Promise<HistoryImportResult> {
  try {
    const r = await runHistoryBenchmark(store, n, chunk, make);
    console.log(
      '\nHistory import into PostgreSQL (10-line invoices, the POST /v1/history and cli import path)',
    );
    console.log(historyTable(r));
    return r;
  } finally {
    const db = await openPostgres({
      connectionString: store.connectionString,
      ...(store.schema ? { schema: store.schema } : {}),
    });
    await db.exec(`DROP SCHEMA IF EXISTS ${store.schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}
