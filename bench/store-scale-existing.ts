/**
 * Store cost per invoice on already-filled databases (`npm run bench -- --only store-scale
 * --scale-database-urls URL0,URL1M`): the same scoring transaction as bench/store-scale.ts, but
 * against databases filled beforehand (a fresh one for 0, a `cli import` of history for the
 * others), with the points **alternated** in rounds (0, 1M, then 1M, 0, ...; bench/scale-rounds.ts)
 * so that every point sees the same machine load, after a warm-up block per point that is
 * discarded. Each round scores new invoices of the history generator (bench/history.ts
 * {@link tenLineInvoice}: the history's 50 vendors, dates and line kinds, with new lot numbers),
 * so the candidate search finds real neighbours, vendor windows and exact-key matches.
 *
 * Each point has its own pool of one connection, so one backend serves every statement of the
 * point and its /proc CPU is the point's PostgreSQL CPU (10 ms ticks, summed per block); the
 * audit link after each block is inside the measured CPU. The scored invoices stay in the
 * databases (about 1 per 1,000 at 1M): use copies, never the import's original.
 */
import { loadavg } from 'node:os';
import Table from 'cli-table3';
import {
  createRepository,
  migrate,
  openPostgres,
  type SqlDatabase,
  type TriageRepository,
} from '../store/index.js';
import type { Invoice } from '../core/invoice.js';
import { backendCpuMs } from './pg-cpu.js';
import { fmt } from './stats.js';
import { explainSearch, scoreInvoice } from './store-scale.js';
import { tenLineInvoice, type HistoryShape } from './history.js';
import { roundOrder, summariseRounds, type RoundSample, type RoundSummary } from './scale-rounds.js';

/** Options of {@link runStoreScaleExisting}. */
export interface StoreScaleExistingOptions {
  /** Tenant whose history the databases hold (the import's `--tenant`, default `default`). */
  tenant: string;
  /** Schema of the tables in every database (default `public`). */
  schema?: string;
  rounds: number;
  /** Invoices per point per round. */
  perRound: number;
  /** Invoices per point scored before the first round and not counted. */
  warmup: number;
  /** Also EXPLAIN (ANALYZE, BUFFERS) one candidate search per point after the rounds. */
  explain?: boolean;
  /**
   * Invoice numbers of the scored invoices start here (per run), above the history's so that
   * the lot numbers in their descriptions are new; default 10,000,000.
   */
  firstInvoice?: number;
  /** Shape of the scored invoices: that of the databases' history ({@link HistoryShape}); default `uniform`. */
  shape?: HistoryShape;
  onProgress?: (msg: string) => void;
}

/** One database of the run and what its candidate searches did. */
export interface ExistingPoint {
  /** The database name (from the URL, without credentials). */
  database: string;
  /** The tenant's invoices before the run (count(*)). */
  indexedInvoices: number;
  /** Search method of the last measured invoice. */
  searchMethod: string;
  /** Mean per measured invoice: candidates returned, and rows found per block. */
  meanFound: { candidates: number; knn: number; vendorKnn: number; exactKey: number };
  plan?: string;
}

/** The run: its points, every block's sample, and the per-round and pooled summary. */
export interface StoreScaleExistingResult {
  points: ExistingPoint[];
  samples: RoundSample[];
  summary: RoundSummary;
  /** 1-minute load average at the start and the end of the run. */
  load: [number, number];
}

/** The database name of a PostgreSQL URL (no credentials). */
function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || '(default)';
}

interface Open {
  db: SqlDatabase;
  repo: TriageRepository;
  pid: number;
  found: { n: number; candidates: number; knn: number; vendorKnn: number; exactKey: number };
  method: string;
}

/**
 * Scores `perRound` new invoices per point per round, alternating the points (rotated each
 * round), on the databases of `urls` (PostgreSQL on this machine; the first is the reference
 * the ratios divide by). Migrates each database first (a no-op when current).
 */
export async function runStoreScaleExisting(
  urls: readonly string[],
  opts: StoreScaleExistingOptions,
): Promise<StoreScaleExistingResult> {
  const load0 = loadavg()[0]!;
  const opened: Open[] = [];
  const points: ExistingPoint[] = [];
  const runTag = `sx${Date.now().toString(36)}`;
  let next = opts.firstInvoice ?? 10_000_000;
  const nextInvoice = (): Invoice => tenLineInvoice(next++, runTag, true, opts.shape ?? 'uniform');
  try {
    for (const url of urls) {
      const db = await openPostgres({
        connectionString: url,
        schema: opts.schema ?? 'public',
        maxConnections: 1,
        // Kept open while the other points run: a new backend would lose its CPU count, its
        // prepared statements and its caches.
        idleTimeoutMillis: 0,
      });
      await migrate(db);
      const repo = createRepository(db);
      const pid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
      const [{ n }] = (await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1',
        [opts.tenant],
      )) as [{ n: number }];
      opened.push({
        db,
        repo,
        pid,
        found: { n: 0, candidates: 0, knn: 0, vendorKnn: 0, exactKey: 0 },
        method: '',
      });
      points.push({
        database: databaseName(url),
        indexedInvoices: n,
        searchMethod: '',
        meanFound: { candidates: 0, knn: 0, vendorKnn: 0, exactKey: 0 },
      });
    }
    const block = async (
      o: Open,
      n: number,
      count: boolean,
    ): Promise<Omit<RoundSample, 'point' | 'round'>> => {
      const [{ pid }] = (await o.db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')) as [
        { pid: number },
      ];
      if (pid !== o.pid)
        throw new Error(`the connection of a point was replaced (backend ${o.pid} -> ${pid})`);
      const cpu0 = backendCpuMs(o.pid);
      const lat: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await scoreInvoice(o.repo, opts.tenant, nextInvoice());
        lat.push(r.ms);
        o.method = r.search.method;
        if (count) {
          o.found.n++;
          o.found.candidates += r.candidates;
          o.found.knn += r.search.knnFound;
          o.found.vendorKnn += r.search.vendorKnnFound;
          o.found.exactKey += r.search.exactKeyFound;
        }
      }
      await o.repo.audit.link(opts.tenant);
      const cpu1 = backendCpuMs(o.pid);
      return {
        invoices: n,
        cpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
        latenciesMs: lat,
        load1: loadavg()[0]!,
      };
    };
    for (const [p, o] of opened.entries()) {
      opts.onProgress?.(`warm-up ${points[p]!.database}`);
      await block(o, opts.warmup, false);
    }
    const samples: RoundSample[] = [];
    for (let round = 0; round < opts.rounds; round++)
      for (const p of roundOrder(opened.length, round)) {
        opts.onProgress?.(`round ${round + 1}/${opts.rounds} ${points[p]!.database}`);
        samples.push({ point: p, round, ...(await block(opened[p]!, opts.perRound, true)) });
      }
    for (const [p, o] of opened.entries()) {
      const f = o.found;
      const point = points[p]!;
      point.searchMethod = o.method;
      point.meanFound = {
        candidates: f.candidates / f.n,
        knn: f.knn / f.n,
        vendorKnn: f.vendorKnn / f.n,
        exactKey: f.exactKey / f.n,
      };
      if (opts.explain) point.plan = await explainSearch(o.db, opts.tenant, nextInvoice());
    }
    return {
      points,
      samples,
      summary: summariseRounds(samples, opened.length),
      load: [load0, loadavg()[0]!],
    };
  } finally {
    for (const o of opened) await o.repo.close();
  }
}

const ratio = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(2)}x`);

/** The printed tables: the points, then every round and the pooled figures with ratios to the first point. */
export function storeScaleExistingTables(r: StoreScaleExistingResult): string {
  const pts = new Table({
    head: ['point', 'database', 'indexed invoices', 'search', 'candidates', 'knn', 'vendor knn', 'exact key'],
  });
  for (const [i, p] of r.points.entries())
    pts.push([
      i,
      p.database,
      p.indexedInvoices,
      p.searchMethod,
      fmt(p.meanFound.candidates),
      fmt(p.meanFound.knn),
      fmt(p.meanFound.vendorKnn),
      fmt(p.meanFound.exactKey),
    ]);
  const t = new Table({
    head: [
      'round',
      'indexed invoices',
      'invoices',
      'PG CPU ms/invoice',
      'p50 ms',
      'p99 ms',
      'CPU vs 0',
      'p50 vs 0',
      'p99 vs 0',
      'load 1m',
    ],
  });
  const rows = [
    ...r.summary.rounds.map((row, i) => [String(i + 1), row] as const),
    ['pooled', r.summary.pooled] as const,
  ];
  for (const [label, row] of rows)
    for (const f of row)
      t.push([
        label,
        r.points[f.point]!.indexedInvoices,
        f.invoices,
        f.cpuMsPerInvoice === null ? 'n/a' : fmt(f.cpuMsPerInvoice),
        fmt(f.p50Ms),
        fmt(f.p99Ms),
        ratio(f.cpuVsFirst),
        ratio(f.p50VsFirst),
        ratio(f.p99VsFirst),
        f.load[0] === f.load[1] ? f.load[0].toFixed(1) : `${f.load[0].toFixed(1)}-${f.load[1].toFixed(1)}`,
      ]);
  return `${pts.toString()}\n${t.toString()}\nload average (1m) ${r.load[0].toFixed(1)} -> ${r.load[1].toFixed(1)}`;
}

/** The section of `npm run bench`: runs {@link runStoreScaleExisting} and prints its tables and plans. */
export async function storeScaleExistingSection(
  urls: readonly string[],
  opts: Omit<StoreScaleExistingOptions, 'onProgress'>,
): Promise<StoreScaleExistingResult> {
  const result = await runStoreScaleExisting(urls, {
    ...opts,
    onProgress: (m) => process.stdout.write(`\r  store-scale ${m}      `),
  });
  console.log('\nStore cost per invoice on filled databases, points alternated in rounds (PostgreSQL)');
  console.log(storeScaleExistingTables(result));
  for (const p of result.points)
    if (p.plan) console.log(`\nCandidate search at ${p.indexedInvoices} indexed invoices:\n${p.plan}`);
  return result;
}
