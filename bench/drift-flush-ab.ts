/**
 * Two checkouts' monitoring flush (store/monitoring.ts `addDriftCounts`) taking turns
 * (`npx tsx bench/drift-flush-ab.ts BEFORE_DIR AFTER_DIR URL [--rows 70] [--flushes 20]
 * [--turns 8] [--busy-ms 5]`): in each turn two writers (one connection each, as two worker
 * processes) flush the same `--rows` keys (one tenant, model and hour, features in the same
 * order, as two processes' accumulators drain them) `--flushes` times each, at once, into a
 * fresh schema. `--busy-ms` blocks the event loop that long every millisecond meanwhile (a
 * scoring worker's loop, which delays each round trip's continuation). The trees' order is
 * swapped every turn, after one untimed turn each.
 *
 * Prints per tree the wall time per flush (mean over the writers), the two backends' CPU per
 * flush (/proc, 10 ms ticks), their ratios and the 1-minute load average; checks that every
 * turn stored exactly the counts it flushed.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { migrate, openPostgres, type SqlDatabase } from '../store/index.js';
import type { createMonitoringStore as CreateStore, DriftCountInput } from '../store/monitoring.js';
import { backendCpuMs } from './pg-cpu.js';
import { parseBenchArgs } from './args.js';
import { fmt } from './stats.js';

const { args, opts } = parseBenchArgs<[string, string, string], Record<string, string>>(
  'bench/drift-flush-ab.ts',
  (c) =>
    c
      .argument('<before>')
      .argument('<after>')
      .argument('<url>')
      .option('--rows <n>', 'rows (features) per flush', '70')
      .option('--flushes <n>', 'flushes per writer and turn', '20')
      .option('--turns <n>', 'timed turns per tree', '8')
      .option('--busy-ms <n>', 'event-loop block every millisecond, ms (0: none)', '5'),
);
const [before, after, url] = args;
const rows = Number(opts.rows);
const flushes = Number(opts.flushes);
const turns = Number(opts.turns);
const busyMs = Number(opts.busyMs);

const schema = `bench_driftflush_${process.pid}`;
const open = () => openPostgres({ connectionString: url, schema, maxConnections: 1, idleTimeoutMillis: 0 });
const setup = await open();
await migrate(setup);
const writers: { db: SqlDatabase; pid: number }[] = [];
for (let i = 0; i < 2; i++) {
  const db = await open();
  writers.push({ db, pid: (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid });
}

const trees = await Promise.all(
  [before, after].map(async (dir) => {
    const mod = (await import(resolve(dir, 'store/monitoring.ts'))) as {
      createMonitoringStore: typeof CreateStore;
    };
    return { dir, stores: writers.map((w) => mod.createMonitoringStore(w.db)), wallMs: 0, cpuMs: 0, n: 0 };
  }),
);

let turnNo = 0;
async function turn(t: (typeof trees)[number], keep: boolean): Promise<void> {
  const tenantId = `turn-${turnNo++}`;
  const flush: DriftCountInput[] = Array.from({ length: rows }, (_, i) => ({
    tenantId,
    model: 'coding-mismatch@7',
    bucketStart: '2026-12-07T03:00:00.000Z',
    feature: `f${String(i).padStart(3, '0')}`,
    counts: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    missing: 1,
  }));
  const cpu0 = writers.map((w) => backendCpuMs(w.pid) ?? 0);
  const walls = await Promise.all(
    t.stores.map(async (s) => {
      const t0 = performance.now();
      for (let f = 0; f < flushes; f++) await s.addDriftCounts(flush);
      return performance.now() - t0;
    }),
  );
  const cpu = writers.reduce((sum, w, i) => sum + (backendCpuMs(w.pid) ?? 0) - cpu0[i]!, 0);
  const [check] = await setup.query<{ n: string; c: string; m: string }>(
    `SELECT count(*)::text AS n, sum(counts[10])::text AS c, sum(missing)::text AS m
     FROM drift_counts WHERE tenant_id = $1`,
    [tenantId],
  );
  const want = { n: String(rows), c: String(rows * 2 * flushes * 10), m: String(rows * 2 * flushes) };
  if (JSON.stringify(check) !== JSON.stringify(want))
    throw new Error(`${t.dir}: stored ${JSON.stringify(check)}, flushed ${JSON.stringify(want)}`);
  if (!keep) return;
  t.wallMs += (walls[0]! + walls[1]!) / 2;
  t.cpuMs += cpu;
  t.n += flushes;
}

const spin = (): void => {
  const end = performance.now() + busyMs;
  while (performance.now() < end);
};
const busy = busyMs > 0 ? setInterval(spin, 1) : null;
try {
  for (const t of trees) await turn(t, false);
  for (let k = 0; k < turns; k++)
    for (const t of k % 2 === 0 ? trees : [...trees].reverse()) await turn(t, true);
} finally {
  if (busy) clearInterval(busy);
  await setup.exec(`DROP SCHEMA ${schema} CASCADE`);
  await Promise.all([setup, ...writers.map((w) => w.db)].map((d) => d.close()));
}

const [a, b] = trees as [(typeof trees)[number], (typeof trees)[number]];
const per = (t: typeof a) => ({ wall: t.wallMs / t.n, cpu: t.cpuMs / (2 * t.n) });
for (const t of trees)
  console.log(
    `${t.dir}: ${fmt(per(t).wall)} ms wall per flush (two at once), ${fmt(per(t).cpu)} ms PG CPU per flush`,
  );
console.log(
  `after / before: wall ${fmt(per(b).wall / per(a).wall)}x, PG CPU ${fmt(per(b).cpu / per(a).cpu)}x; ` +
    `${rows} rows per flush, ${flushes} flushes x 2 writers x ${turns} turns per tree, busy ${busyMs} ms/ms; load ${loadavg()[0]!.toFixed(2)}`,
);
