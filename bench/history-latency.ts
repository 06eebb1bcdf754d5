/**
 * `npx tsx bench/history-latency.ts FILE [pglite|postgres] [async]`: how long other requests wait
 * while `POST /v1/history` imports an NDJSON file. Starts the app (the test harness's keys, the
 * route's default chunk and the 30 s request timeout) on a fresh store (PostgreSQL from
 * `TEST_DATABASE_URL`) in this process; a client process sends FILE over HTTP and meanwhile
 * `GET /docs/json` (no database) and `GET /healthz`, each again 250 ms after its answer. With
 * `async` the POST carries `Prefer: respond-async` (the import runs as a job of the in-process
 * queue) and the client then polls `GET /v1/history/imports/{id}` every 250 ms until the import
 * is done, the probes running until then. Prints the POST's status, wall seconds and answer (and
 * with `async` the seconds to the import's end and its final state), per probe route the count,
 * p50 and max latency, ms, and the server's event-loop delay (p99, max).
 */
import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startHarness } from '../test/harness.js';
import { uniqueSchema } from '../test/fixtures.js';
import type { StoreConfig } from '../store/index.js';
import { createInProcessQueue, createProcessors, trainingUnavailable, type JobQueue } from '../jobs/index.js';
import { parseBenchArgs } from './args.js';

const {
  args: [file, engine, mode],
} = parseBenchArgs<[string, string, string]>('bench/history-latency.ts', (c) =>
  c
    .argument('<file>', 'the NDJSON file posted')
    .argument('[engine]', 'store: pglite, or postgres (TEST_DATABASE_URL)', 'pglite')
    .argument('[mode]', '`async`: the POST asks to respond async', 'sync'),
);
const cfg: StoreConfig =
  engine === 'postgres'
    ? {
        engine: 'postgres',
        connectionString: process.env.TEST_DATABASE_URL!,
        schema: uniqueSchema('hlat'),
        maxConnections: 4,
      }
    : { engine: 'pglite' };
let queue: JobQueue | undefined;
const h = await startHarness(cfg, {
  app: (wired) => {
    if (mode !== 'async') return { requestTimeoutMs: 30_000 };
    queue = createInProcessQueue({
      processors: createProcessors({
        scoring: wired.scoring,
        batches: wired.batches,
        train: trainingUnavailable,
        history: { history: wired.repo.history, imports: wired.repo.historyImports },
      }),
    });
    return { requestTimeoutMs: 30_000, historyImports: { imports: wired.repo.historyImports, jobs: queue } };
  },
});
const base = new URL(await h.app.listen({ host: '127.0.0.1', port: 0 }));

// The client runs in another process: the server's event loop is the thing measured, so the
// probes must not share it.
const CLIENT = `
const [base, key, file, mode] = process.argv.slice(1);
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
const headers = { authorization: 'Bearer ' + key, 'content-type': 'application/x-ndjson' };
if (mode === 'async') headers.prefer = 'respond-async';
const out = await fetch(base + '/v1/history', { method: 'POST', headers, body }).then(
  async (r) => ({ status: r.status, location: r.headers.get('location'), text: await r.text() }),
  (e) => ({ status: 0, text: String(e.cause ?? e) }),
);
const ms = performance.now() - t;
let doneMs = null;
let final = null;
if (out.status === 202) {
  for (;;) {
    final = await fetch(base + out.location, { headers: { authorization: 'Bearer ' + key } }).then((r) => r.json());
    if (final.state === 'done' || final.state === 'failed') break;
    await new Promise((res) => setTimeout(res, 250));
  }
  doneMs = performance.now() - t;
}
importing = false;
await Promise.all(polls);
console.log(JSON.stringify({ ...out, ms, doneMs, final, probes }));
`;
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const { stdout } = await promisify(execFile)(
  process.execPath,
  ['--input-type=module', '-e', CLIENT, base.origin, h.keys.admin, file, mode],
  { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
);
const out = JSON.parse(stdout) as {
  status: number;
  text: string;
  ms: number;
  doneMs: number | null;
  final: unknown;
  probes: Record<string, number[]>;
};
const q = (xs: number[], p: number): number => xs.toSorted((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
console.log(`import ${out.status} in ${(out.ms / 1000).toFixed(1)} s: ${out.text.slice(0, 400)}`);
if (out.doneMs !== null)
  console.log(
    `import finished ${(out.doneMs / 1000).toFixed(1)} s after the POST: ${JSON.stringify(out.final)}`,
  );
for (const [path, xs] of Object.entries(out.probes))
  console.log(
    `${path}: ${xs.length} requests, p50 ${q(xs, 0.5).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`,
  );
loop.disable();
console.log(
  `server event loop delay: p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`,
);
await queue?.close();
await h.close();
