/**
 * `npx tsx bench/history-latency.ts FILE [pglite|postgres]`: how long other requests wait while
 * `POST /v1/history` imports an NDJSON file. Starts the app (the test harness's keys, the
 * route's default chunk of 500 and the 30 s request timeout) on a fresh store (PostgreSQL from
 * `TEST_DATABASE_URL`) in this process; a client process sends FILE over HTTP and meanwhile
 * `GET /docs/json` (no database) and `GET /healthz`, each again 250 ms after its answer. Prints the import's status,
 * wall seconds and answer, per probe route the count, p50 and max latency, ms, and the server's
 * event-loop delay (p99, max).
 */
import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startHarness } from '../test/harness.js';
import { uniqueSchema } from '../test/fixtures.js';
import type { StoreConfig } from '../store/index.js';

const [file, engine = 'pglite'] = process.argv.slice(2);
if (!file) throw new Error('usage: tsx bench/history-latency.ts FILE [pglite|postgres]');
const cfg: StoreConfig =
  engine === 'postgres'
    ? {
        engine: 'postgres',
        connectionString: process.env.TEST_DATABASE_URL!,
        schema: uniqueSchema('hlat'),
        maxConnections: 4,
      }
    : { engine: 'pglite' };
const h = await startHarness(cfg, { app: () => ({ requestTimeoutMs: 30_000 }) });
const base = new URL(await h.app.listen({ host: '127.0.0.1', port: 0 }));

// The client runs in another process: the server's event loop is the thing measured, so the
// probes must not share it.
const CLIENT = `
const [base, key, file] = process.argv.slice(1);
const { readFileSync } = await import('node:fs');
const body = readFileSync(file);
const probes = { '/docs/json': [], '/healthz': [] };
let importing = true;
const poll = async (path) => {
  while (importing) {
    const t = performance.now();
    await fetch(base + path).then((r) => r.arrayBuffer()).catch(() => undefined);
    probes[path].push(performance.now() - t);
    await new Promise((res) => setTimeout(res, 250));
  }
};
await fetch(base + '/docs/json').then((r) => r.arrayBuffer());
const polls = Object.keys(probes).map(poll);
const t = performance.now();
const out = await fetch(base + '/v1/history', {
  method: 'POST',
  headers: { authorization: 'Bearer ' + key, 'content-type': 'application/x-ndjson' },
  body,
}).then(async (r) => ({ status: r.status, text: await r.text() }), (e) => ({ status: 0, text: String(e.cause ?? e) }));
const ms = performance.now() - t;
importing = false;
await Promise.all(polls);
console.log(JSON.stringify({ ...out, ms, probes }));
`;
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const { stdout } = await promisify(execFile)(
  process.execPath,
  ['--input-type=module', '-e', CLIENT, base.origin, h.keys.admin, file],
  { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
);
const out = JSON.parse(stdout) as {
  status: number;
  text: string;
  ms: number;
  probes: Record<string, number[]>;
};
const q = (xs: number[], p: number): number => xs.toSorted((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
console.log(`import ${out.status} in ${(out.ms / 1000).toFixed(1)} s: ${out.text.slice(0, 400)}`);
for (const [path, xs] of Object.entries(out.probes))
  console.log(
    `${path}: ${xs.length} requests, p50 ${q(xs, 0.5).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`,
  );
loop.disable();
console.log(
  `server event loop delay: p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`,
);
await h.close();
