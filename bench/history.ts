/**
 * History import benchmark (`npm run bench -- --only history`): `n` generated 10-line invoices
 * imported into an empty PostgreSQL schema through the import path of `POST /v1/history` and
 * `cli import` (inference/history.ts: validation, fingerprint, index features, one transaction
 * per chunk), in chunks. Reports wall time, invoices/s, the process's CPU time (validation and
 * features; the rest of the wall time is PostgreSQL: inserts, HNSW index maintenance, WAL), the
 * load average, the extrapolation to 1M invoices at the measured rate, and a check that a
 * candidate search finds an imported invoice.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import Table from 'cli-table3';
import { Option } from 'commander';
import { fmt } from './stats.js';
import type { Invoice } from '../core/invoice.js';
import { importHistoryStream, type HistoryInput } from '../inference/history.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { openPostgres, openStore, type StoreConfig } from '../store/index.js';
import { benchInvoice } from './features.bench.js';
import { openHistoryWorkers } from '../inference/history-workers.js';

/**
 * How generated history is spread: `uniform` (default, the figures of earlier rounds): 50
 * vendors, every invoice dated 2025-03-01..28 (`i` mod 28) with the same ten lines, so every
 * invoice of a vendor and day has the same total: at 1M each (vendor, total, date) exact key holds
 * about 1,400 invoices and every new invoice meets the exact-key block's bound. `spread`: the same
 * vendors and line kinds over 730 days from 2024-01-01 with each line's quantity 1-8 (a hash of
 * `i` and the line), so totals differ as a tenant's do and an exact key holds a handful.
 */
export type HistoryShape = 'uniform' | 'spread';

/** The history shapes, for option parsing. */
export const HISTORY_SHAPES: readonly HistoryShape[] = ['uniform', 'spread'];

/** `--shape <shape>`: the {@link HistoryShape} of the generated invoices, one of {@link HISTORY_SHAPES}. */
export function shapeOption(defaultShape: HistoryShape): Option {
  return new Option('--shape <shape>', 'shape of the generated invoices (bench/history.ts)')
    .choices(HISTORY_SHAPES)
    .default(defaultShape);
}

/** A 32-bit mix of two integers (deterministic; Knuth's multiplicative constant, then xorshift). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b + 1, 0x9e3779b1), 2654435761) >>> 0;
  h ^= h >>> 15;
  return Math.imul(h, 0x85ebca6b) >>> 0;
}

/**
 * A 10-line invoice (the features micro-benchmark's lines) from one of 50 vendors, with an id
 * and number unique per `i` and `tag`.
 * @param newDescriptions true (default): every description unique per invoice (a lot number),
 *   so no per-description memo helps; false: the same ten descriptions on every invoice, as a
 *   supplier bills the same items again.
 * @param shape dates and quantities ({@link HistoryShape}); default `uniform`.
 */
export function tenLineInvoice(
  i: number,
  tag: string,
  newDescriptions = true,
  shape: HistoryShape = 'uniform',
): Invoice {
  const inv = benchInvoice(i, newDescriptions);
  const v = i % 50;
  const base = {
    ...inv,
    invoice_id: `${tag}-${i}`,
    vendor: { id: `V-${v}`, name: `Vendor ${v} Medical Supply LLC` },
    invoice_number: `INV-${tag}-${i}`,
  };
  if (shape === 'uniform')
    return { ...base, invoice_date: `2025-03-${String(1 + (i % 28)).padStart(2, '0')}` };
  const lines = inv.lines.map((l, n) => {
    const quantity = 1 + (mix(i, n) % 8);
    return { ...l, quantity, amount_cents: quantity * l.unit_price_cents };
  });
  const day = new Date(Date.UTC(2024, 0, 1) + (mix(i, 97) % 730) * 86_400_000);
  return {
    ...base,
    invoice_date: day.toISOString().slice(0, 10),
    lines,
    total_cents: lines.reduce((a, l) => a + l.amount_cents, 0),
  };
}

/** Figures of one history import run. */
export interface HistoryImportResult {
  invoices: number;
  lines: number;
  chunk: number;
  /** Chunks in flight at once (featurising the next while PostgreSQL writes the last). */
  parallel: number;
  /** True when the HNSW index was dropped for the import and built after it. */
  deferIndex: boolean;
  /** Wall seconds of the import, including the index build when deferred. */
  seconds: number;
  /** Of which the index build. */
  indexSeconds: number;
  /**
   * CPU seconds of the import's PostgreSQL backends (user + system, /proc; the writes, not the
   * deferred index build, whose parallel workers are other processes), null if unreadable.
   */
  pgCpuSeconds: number | null;
  /**
   * CPU seconds of the deferred index build in PostgreSQL: the leader backend and its parallel
   * workers (/proc, sampled every 200 ms, so a worker's last 200 ms may be missed); null when
   * not deferred or unreadable.
   */
  indexCpuSeconds: number | null;
  /** Wall seconds of the rows (validation, features, writes), without the index build. */
  rowSeconds: number;
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
 * Summed user + system CPU seconds of PostgreSQL backends on this machine (/proc), or null
 * when none is readable (PostgreSQL elsewhere).
 */
function backendsCpuSeconds(pids: readonly number[]): number | null {
  const ticks = pids.map(ticksOf).filter((t): t is number => t !== null);
  return ticks.length > 0 ? ticks.reduce((a, t) => a + t, 0) / 100 : null;
}

/** CPU ticks of one process (user + system, /proc), or null when unreadable. */
function ticksOf(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/**
 * Runs `build` while sampling, every 200 ms from another connection, the CPU of the parallel
 * workers of the backends `leaders` (pg_stat_activity.leader_pid), and returns `build`'s result
 * with the workers' CPU seconds plus the leaders' CPU growth (null when /proc is unreadable).
 */
async function withBuildCpu<T>(
  store: StoreConfig,
  leaders: readonly number[],
  build: () => Promise<T>,
): Promise<{ value: T; cpuSeconds: number | null }> {
  if (store.engine !== 'postgres') return { value: await build(), cpuSeconds: null };
  const before = backendsCpuSeconds(leaders);
  const db = await openPostgres({ connectionString: store.connectionString });
  const workers = new Map<number, number>();
  let done = false;
  const sample = async (): Promise<void> => {
    while (!done) {
      const rows = await db.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE leader_pid = ANY($1::int[]) AND pid <> leader_pid',
        [leaders],
      );
      for (const { pid } of rows) {
        const t = ticksOf(pid);
        if (t !== null) workers.set(pid, Math.max(t, workers.get(pid) ?? 0));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const sampler = sample();
  try {
    const value = await build();
    const after = backendsCpuSeconds(leaders);
    const workerSeconds = [...workers.values()].reduce((a, t) => a + t, 0) / 100;
    return {
      value,
      cpuSeconds: before === null || after === null ? null : after - before + workerSeconds,
    };
  } finally {
    done = true;
    await sampler;
    await db.close();
  }
}

/** Options of {@link runHistoryBenchmark}. */
export interface HistoryBenchOptions {
  /** Chunks in flight (default 2). */
  parallel?: number;
  /** Drop the HNSW index before the import and build it after (default false). */
  deferIndex?: boolean;
  /** Worker threads that prepare the chunks (inference/history-workers.ts); default 0. */
  workers?: number;
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
  opts: HistoryBenchOptions = {},
): Promise<HistoryImportResult> {
  const parallel = opts.parallel ?? 2;
  const deferIndex = opts.deferIndex ?? false;
  const tag = `history_bench_${process.pid}`;
  const tagged: StoreConfig =
    store.engine === 'postgres'
      ? {
          ...store,
          connectionString: `${store.connectionString}${store.connectionString.includes('?') ? '&' : '?'}application_name=${tag}`,
        }
      : store;
  const repo = await openStore(tagged);
  const workers = (opts.workers ?? 0) > 0 ? openHistoryWorkers(opts.workers!) : null;
  try {
    const loadBefore = loadavg()[0]!;
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    let lines = 0;
    function* inputs(): Generator<HistoryInput> {
      for (let i = 0; i < n; i++) {
        const inv = make(i);
        lines += inv.lines.length;
        yield { location: `/${i}`, value: inv };
      }
    }
    if (deferIndex) await repo.history.suspendIndex();
    const out = await importHistoryStream(repo.history, 'bench', inputs(), {
      actorKeyId: null,
      onBadRecord: 'refuse',
      chunkSize: chunk,
      parallel,
      ...(workers ? { prepare: workers.prepare } : {}),
    });
    if (out.imported !== n) throw new Error(`imported ${out.imported} of ${n}`);
    const pids =
      store.engine === 'postgres'
        ? (
            await repo.transaction((tx) =>
              tx.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
                tag,
              ]),
            )
          ).map((r) => r.pid)
        : [];
    const pgCpu = backendsCpuSeconds(pids);
    const rowSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const built = deferIndex
      ? await withBuildCpu(store, pids, () => repo.history.buildIndex())
      : { value: { seconds: 0 }, cpuSeconds: null };
    const index = built.value;
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
      parallel,
      deferIndex,
      seconds,
      indexSeconds: index.seconds,
      pgCpuSeconds: pgCpu,
      indexCpuSeconds: built.cpuSeconds,
      rowSeconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      invoicesPerSecond: n / seconds,
      minutesPer1M: 1e6 / (n / seconds) / 60,
      candidateFound: found.candidates.some((c) => c.invoiceId === probe.invoice_id),
      load: [loadBefore, loadavg()[0]!],
    };
  } finally {
    await workers?.close();
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
      'parallel',
      'index',
      'seconds',
      'of which index s',
      'index CPU s (PG)',
      'CPU s (node)',
      'CPU s (PG)',
      'invoices/s',
      'min per 1M',
      'found',
      'load',
      'code counts ms kept / aggregate (lines)',
    ],
  });
  t.push(
    [
      r.invoices,
      r.lines,
      r.chunk,
      r.parallel,
      r.deferIndex ? 'built after' : 'maintained',
      fmt(r.seconds),
      fmt(r.indexSeconds),
      r.indexCpuSeconds === null ? 'n/a' : fmt(r.indexCpuSeconds),
      fmt(r.cpuSeconds),
      r.pgCpuSeconds === null ? 'n/a' : fmt(r.pgCpuSeconds),
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
  opts: HistoryBenchOptions = {},
): Promise<HistoryImportResult> {
  try {
    const r = await runHistoryBenchmark(store, n, chunk, make, opts);
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
