/**
 * CPU per scored request over HTTP at a steady rate: `npx tsx bench/http-cpu.ts [options]`.
 *
 * Starts the built server of one or more checkouts (`dist/bin/server.js`, a child process) on a
 * new PostgreSQL schema, drives `POST /v1/invoices/score` with ten-line invoices (new
 * descriptions) at `--rate` req/s for `--seconds` after a 5 s warm-up, and prints per request:
 * the server's CPU (user + system, /proc), the CPU of the PostgreSQL backends connected to the
 * benchmark's database, bytes and write system calls of the server (/proc/PID/io), and the
 * latency percentiles (coordinated omission corrected, as bench/http.ts). Several `--server-dir`s
 * are run alternately, `--rounds` times, each on its own schema, so their ratios come from one run.
 * `--cpu-prof DIR` writes a V8 CPU profile of each server to DIR.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { runRate, startServer } from './http.js';
import { tenLineInvoice } from './history.js';
import { backendCpuMs } from './pg-cpu.js';
import { parseBenchArgs } from './args.js';

interface Options {
  serverDir: string[];
  rate: string;
  seconds: string;
  rounds: string;
  databaseUrl: string;
  cpuProf?: string;
}

const { opts: o } = parseBenchArgs<[], Options>('bench/http-cpu.ts', (c) =>
  c
    .option('--server-dir <dir...>', 'checkouts whose dist/bin/server.js run, alternated', ['.'])
    .option('--rate <n>', 'requests per second', '40')
    .option('--seconds <n>', 'measured seconds per run (after a 5 s warm-up)', '20')
    .option('--rounds <n>', 'alternated rounds', '1')
    .option(
      '--database-url <url>',
      'PostgreSQL of the servers',
      process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/invoice_triage_test',
    )
    .option('--cpu-prof <dir>', 'write a V8 CPU profile of each server to this directory'),
);

const database = new URL(o.databaseUrl).pathname.slice(1);
const admin = new pg.Client({ connectionString: o.databaseUrl });
await admin.connect();

/** CPU ms of the backends connected to the benchmark's database, this client's aside. */
async function pgCpuMs(): Promise<number> {
  const r = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [database],
  );
  return r.rows.reduce((a, { pid }) => a + (backendCpuMs(pid) ?? 0), 0);
}

/** wchar and syscw of a process (/proc/PID/io). */
function io(pid: number): { bytes: number; writes: number } {
  const f = Object.fromEntries(
    readFileSync(`/proc/${pid}/io`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(': ') as [string, string]),
  );
  return { bytes: Number(f.wchar), writes: Number(f.syscw) };
}

const bodies = Array.from({ length: 500 }, (_, i) => JSON.stringify(tenLineInvoice(i, '__ID__')));
const rate = Number(o.rate);
const seconds = Number(o.seconds);
const rows: Record<string, string | number>[] = [];
for (let round = 0; round < Number(o.rounds); round++)
  for (const dir of o.serverDir.map((d) => resolve(d))) {
    const tmp = mkdtempSync(join(tmpdir(), 'it-http-cpu-'));
    const schema = `http_cpu_${Date.now().toString(36)}`;
    const env = {
      BOOTSTRAP_KEYS_FILE: join(tmp, 'keys.json'),
      RATE_LIMIT_MAX: '0',
      RATE_LIMIT_BATCH_MAX: '0',
      DATABASE_URL: o.databaseUrl,
      DATABASE_SCHEMA: schema,
    };
    const server = await startServer(
      env,
      120_000,
      dir,
      o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] : [],
    );
    try {
      const keys = JSON.parse(readFileSync(join(tmp, 'keys.json'), 'utf8')) as {
        keys: { roles: string[]; key: string }[];
      };
      const headers = { authorization: `Bearer ${keys.keys.find((k) => k.roles.includes('workflow'))!.key}` };
      await runRate(server.url, bodies, rate, 5, headers, `w${round}`);
      const pid = server.child.pid!;
      const node0 = backendCpuMs(pid)!;
      const pg0 = await pgCpuMs();
      const io0 = io(pid);
      const r = await runRate(server.url, bodies, rate, seconds, headers, `m${round}`);
      const n = r.achievedRps * seconds;
      const node1 = backendCpuMs(pid)!;
      const pg1 = await pgCpuMs();
      const io1 = io(pid);
      rows.push({
        round,
        tree: dir,
        'achieved req/s': r.achievedRps.toFixed(1),
        'node CPU ms/req': ((node1 - node0) / n).toFixed(2),
        'PostgreSQL CPU ms/req': ((pg1 - pg0) / n).toFixed(2),
        'KB written/req': ((io1.bytes - io0.bytes) / n / 1024).toFixed(1),
        'writes/req': ((io1.writes - io0.writes) / n).toFixed(1),
        p50: r.p50,
        p99: r.p99,
        non2xx: r.non2xx,
        load: readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!,
      });
      console.log(JSON.stringify(rows.at(-1)));
    } finally {
      await server.stop();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      rmSync(tmp, { recursive: true, force: true });
    }
  }
console.table(rows);
await admin.end();
