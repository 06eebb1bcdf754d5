/**
 * HTTP scoring latency at fixed request rates: starts the built server (`dist/bin/server.js`)
 * as a child process on a free port, then drives `POST /v1/invoices/score` with autocannon at
 * each rate for a fixed duration (coordinated omission corrected: autocannon measures from the
 * intended send time). Every request is a new invoice (unique `invoice_id` and number).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Table from 'cli-table3';
import type { Invoice } from '../core/invoice.js';
import { fmt } from './stats.js';

/** Latency and errors at one target rate. Latencies in ms. */
export interface RateResult {
  targetRps: number;
  durationSeconds: number;
  achievedRps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Non-2xx responses. */
  non2xx: number;
  /** Socket errors and timeouts. */
  errors: number;
  timeouts: number;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** A running server child process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node [nodeArgs] <dir>/dist/bin/server.js` with `env` (PORT is chosen here) and waits until /healthz answers 200.
 * @throws Error when the server exits or is not healthy within `timeoutMs`.
 */
export async function startServer(
  env: Record<string, string>,
  timeoutMs = 120_000,
  dir = '.',
  nodeArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, join(dir, 'dist/bin/server.js')], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('server did not become healthy in time');
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Drives `POST /v1/invoices/score` at `rps` for `seconds`. `bodies` are invoice JSON strings
 * containing the placeholder `__ID__` (replaced by a unique id per request).
 */
export async function runRate(
  url: string,
  bodies: readonly string[],
  rps: number,
  seconds: number,
  headers: Record<string, string> = {},
  prefix = '',
): Promise<RateResult> {
  let i = 0;
  const tag = `${prefix}${rps}-${Date.now().toString(36)}`;
  const result = await autocannon({
    url,
    connections: Math.max(10, Math.ceil(rps / 10)),
    overallRate: rps,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/v1/invoices/score',
        headers: { 'content-type': 'application/json', ...headers },
        setupRequest: (req) => {
          const b = bodies[i % bodies.length]!;
          req.body = b.replaceAll('__ID__', `${tag}-${i}`);
          i++;
          return req;
        },
      },
    ],
  });
  return {
    targetRps: rps,
    durationSeconds: seconds,
    achievedRps: result.requests.total / seconds,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/**
 * Several processes' results at one total rate as one row: rates and counts summed, each
 * latency percentile the worst of the processes' (an upper bound of the merged percentile).
 */
export function mergeRates(parts: readonly RateResult[], targetRps: number): RateResult {
  const worst = (k: 'p50' | 'p90' | 'p99' | 'max'): number => Math.max(...parts.map((p) => p[k]));
  const sum = (k: 'achievedRps' | 'non2xx' | 'errors' | 'timeouts'): number =>
    parts.reduce((a, p) => a + p[k], 0);
  return {
    targetRps,
    durationSeconds: parts[0]!.durationSeconds,
    achievedRps: sum('achievedRps'),
    p50: worst('p50'),
    p90: worst('p90'),
    p99: worst('p99'),
    max: worst('max'),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
  };
}

/** Options of {@link httpSection}. */
export interface HttpSectionOptions {
  /** Total request rates, req/s. */
  rates: number[];
  seconds: number;
  stores: ('pglite' | 'postgres')[];
  /** API process counts; above 1 on PostgreSQL only (PGlite holds its database in one process). */
  processes: number[];
  /** Checkout whose built server runs (`dist/bin/server.js`). */
  serverDir: string;
  databaseUrl: string;
  schema: string;
  /** A 10-line invoice; the id placeholder tag `__ID__` makes every request a new invoice. */
  invoiceOf: (i: number, tag: string) => Invoice;
  dropSchema: (schema: string) => Promise<void>;
}

/** One store and process count: the rates driven and the servers' memory. */
export interface HttpRun {
  store: string;
  processes: number;
  rates: RateResult[];
  /** Resident memory of each server after the load, MiB. */
  rssMiB: (number | null)[];
}

function rssOf(pid: number | undefined): number | null {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

/**
 * The `http` section of `npm run bench`: for each store and process count, that many servers
 * on one database (a new schema each time), each driven at its share of every total rate at
 * once by its own autocannon; prints one table. Returns the runs.
 */
export async function httpSection(o: HttpSectionOptions): Promise<HttpRun[]> {
  const out: HttpRun[] = [];
  for (const store of o.stores)
    for (const n of o.processes) {
      if (store === 'pglite' && n > 1) continue;
      const tmp = mkdtempSync(join(tmpdir(), 'it-bench-'));
      const env: Record<string, string> = {
        BOOTSTRAP_KEYS_FILE: join(tmp, 'keys.json'),
        RATE_LIMIT_MAX: '0',
        RATE_LIMIT_BATCH_MAX: '0',
        ...(store === 'pglite'
          ? { DATA_DIR: join(tmp, 'pglite') }
          : { DATABASE_URL: o.databaseUrl, DATABASE_SCHEMA: o.schema }),
      };
      const servers: ServerProcess[] = [];
      try {
        // One after another: the first migrates the schema and writes the bootstrap keys.
        for (let i = 0; i < n; i++) servers.push(await startServer(env, 120_000, o.serverDir));
        const keys = JSON.parse(readFileSync(join(tmp, 'keys.json'), 'utf8')) as {
          keys: { roles: string[]; key: string }[];
        };
        const key = keys.keys.find((k) => k.roles.includes('workflow'))!.key;
        const bodies = Array.from({ length: 500 }, (_, i) => JSON.stringify(o.invoiceOf(i, '__ID__')));
        const rates: RateResult[] = [];
        for (const rps of o.rates) {
          const parts = await Promise.all(
            servers.map((s, i) =>
              runRate(s.url, bodies, rps / n, o.seconds, { authorization: `Bearer ${key}` }, `p${i}`),
            ),
          );
          rates.push(mergeRates(parts, rps));
          console.log(`  ${store} x${n} ${rps} req/s done`);
        }
        out.push({ store, processes: n, rates, rssMiB: servers.map((s) => rssOf(s.child.pid)) });
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
        if (store === 'postgres') await o.dropSchema(o.schema);
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  const t = new Table({
    head: [
      'store',
      'processes',
      'target rps',
      'achieved rps',
      'p50',
      'p90',
      'p99',
      'max',
      'non-2xx',
      'errors+timeouts',
    ],
  });
  for (const r of out)
    for (const x of r.rates)
      t.push(
        [
          r.store,
          r.processes,
          x.targetRps,
          fmt(x.achievedRps),
          fmt(x.p50),
          fmt(x.p90),
          fmt(x.p99),
          fmt(x.max),
          x.non2xx,
          x.errors + x.timeouts,
        ].map(String),
      );
  console.log(
    `\nHTTP POST /v1/invoices/score, 10-line invoices, ${o.seconds} s per rate (latency ms, coordinated omission corrected; several processes: worst process's percentile)`,
  );
  console.log(t.toString());
  console.log(
    `server RSS after load, MiB: ${out.map((r) => `${r.store} x${r.processes} ${r.rssMiB.join('/')}`).join('; ')}`,
  );
  return out;
}
