/**
 * `npx tsx bench/history-cli.ts TREE FILE DATABASE [import options...]`: times `cli import FILE
 * --defer-index` of the checkout TREE (so two trees can be alternated in one session) into the
 * PostgreSQL database DATABASE, dropped and created empty first (with pgvector), on the server of
 * `DATABASE_URL` (default postgres://postgres@127.0.0.1:5432). Prints one JSON line: wall seconds
 * of the rows (until the index build starts) and of the build, the import process's CPU seconds
 * (user + system, all its threads, from /usr/bin/time), PostgreSQL client backends' CPU seconds
 * during the rows and the build's (leader and parallel workers, /proc sampled every 250 ms), the
 * import's main thread's CPU seconds during the rows and its other threads' (workers, libuv,
 * V8; /proc/PID/task sampled likewise), peak RSS and the load average before and after.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { backendCpuMs } from './pg-cpu.js';
import { parseBenchArgs } from './args.js';

const {
  args: [tree, file, database, extra],
} = parseBenchArgs<[string, string, string, string[]]>('bench/history-cli.ts', (c) =>
  c
    .argument('<tree>', 'checkout whose bin/cli.ts imports')
    .argument('<file>', 'the NDJSON file imported')
    .argument('<database>', 'database (a word) dropped, created and imported into')
    .argument('[import-options...]', 'more options of `cli import`, passed on')
    .allowUnknownOption()
    .passThroughOptions(),
);
if (!/^\w+$/.test(database))
  throw new Error('usage: tsx bench/history-cli.ts TREE FILE DATABASE [import options...]');
const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const admin = new pg.Client({ connectionString: `${server}/postgres` });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${database}`);
await admin.query(`CREATE DATABASE ${database}`);
await admin.end();
const url = `${server}/${database}`;
const setup = new pg.Client({ connectionString: url });
await setup.connect();
await setup.query('CREATE EXTENSION vector');

// CPU ms per backend (client backends and parallel workers), sampled until the end.
const cpu = new Map<number, { type: string; ms: number }>();
const sample = async (): Promise<void> => {
  const { rows } = await setup.query<{ pid: number; type: string }>(
    `SELECT pid, backend_type AS type FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  for (const { pid, type } of rows) {
    const ms = backendCpuMs(pid);
    if (ms !== null) cpu.set(pid, { type, ms });
  }
};
const total = (): number => [...cpu.values()].reduce((a, c) => a + c.ms, 0) / 1000;
// CPU seconds by backend type (client backend, parallel worker, autovacuum worker, ...).
const byType = (): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const c of cpu.values()) out[c.type] = (out[c.type] ?? 0) + c.ms / 1000;
  return out;
};
// CPU ms per thread of the import's node process (the child of /usr/bin/time).
const threads = new Map<number, number>();
let nodePid: number | null = null;
const sampleThreads = (): void => {
  try {
    nodePid ??= Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim()) || null;
    if (nodePid === null) return;
    for (const tid of readdirSync(`/proc/${nodePid}/task`)) {
      const ms = backendCpuMs(Number(tid), `/proc/${nodePid}/task/${tid}/stat`);
      if (ms !== null) threads.set(Number(tid), ms);
    }
  } catch {
    // not started yet, or exited
  }
};
const threadCpu = (): { main: number; other: number } => {
  let main = 0;
  let other = 0;
  for (const [tid, ms] of threads) {
    if (tid === nodePid) main += ms;
    else other += ms;
  }
  return { main: main / 1000, other: other / 1000 };
};
let pending: Promise<void> = Promise.resolve();
const timer = setInterval(() => {
  sampleThreads();
  pending = pending.then(sample).catch(() => undefined);
}, 250);

const load0 = loadavg()[0]!;
const t0 = process.hrtime.bigint();
const seconds = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
interface RowsPhase {
  seconds: number;
  pgCpu: number;
  pgByType: Record<string, number>;
  node: { main: number; other: number };
}
let rows: RowsPhase | null = null;
const child = spawn(
  '/usr/bin/time',
  [
    '-f',
    'TIME %e %U %S %M',
    process.execPath,
    '--import',
    'tsx',
    'bin/cli.ts',
    'import',
    file,
    '--defer-index',
    '--no-progress',
    '--database-url',
    url,
    ...extra,
  ],
  { cwd: tree, stdio: ['ignore', 'pipe', 'pipe'] },
);
let stderr = '';
let stdout = '';
child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
child.stderr.on('data', (d: Buffer) => {
  stderr += d.toString();
  if (!rows && stderr.includes('building the duplicate-search index')) {
    sampleThreads();
    rows = { seconds: seconds(), pgCpu: 0, pgByType: {}, node: threadCpu() };
    void pending.then(sample).then(() => {
      if (rows) {
        rows.pgCpu = total();
        rows.pgByType = byType();
      }
    });
  }
});
const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
clearInterval(timer);
await pending;
await setup.end();
const time = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
const r = rows as RowsPhase | null;
const all = byType();
console.log(
  JSON.stringify({
    tree,
    extra: extra.join(' '),
    code,
    result: stdout.trim().split('\n')[0],
    wall: seconds(),
    rowsWall: r?.seconds ?? null,
    indexWall: r ? seconds() - r.seconds : null,
    nodeCpu: time ? Number(time[2]) + Number(time[3]) : null,
    peakRssMb: time ? Number(time[4]) / 1024 : null,
    pgRowsCpu: r?.pgCpu ?? null,
    mainThreadRowsCpu: r?.node.main ?? null,
    otherThreadsRowsCpu: r?.node.other ?? null,
    pgIndexCpu: r ? total() - r.pgCpu : null,
    pgRowsCpuByType: r?.pgByType ?? null,
    pgIndexCpuByType: r
      ? Object.fromEntries(Object.entries(all).map(([t, s]) => [t, s - (r.pgByType[t] ?? 0)]))
      : null,
    load: [load0, loadavg()[0]],
  }),
);
if (code !== 0) console.error(stderr);
