/**
 * `npx tsx bench/knn-ef-existing.ts URL [N] [EF,...]`: recall@k and cost of the candidate
 * search's tenant-wide HNSW kNN at several `hnsw.ef_search` values on an already-filled database
 * (e.g. a copy of a 1M history import), with the served session settings otherwise
 * (store/hnsw-search.ts: iterative scan in strict order). The queries are the embeddings of the
 * tenant's N most recently stored invoices (each leaves itself out), the truth their exact top
 * k. Per ef: recall, mean shared buffers and execution ms of the index scan (EXPLAIN ANALYZE,
 * BUFFERS), and the backend's CPU ms per query. Reads only.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { BLOCKING_SPEC } from '../core/blocking.js';
import { HNSW_SESSION_SETTINGS } from '../store/hnsw-search.js';
import { backendCpuMs } from './pg-cpu.js';
import { parseBenchArgs } from './args.js';

const {
  args: [url, nArg, efArg],
} = parseBenchArgs<[string, string, string]>('bench/knn-ef-existing.ts', (c) =>
  c
    .argument('<url>', 'PostgreSQL database holding the invoices')
    .argument('[n]', "queries: the tenant's most recently stored invoices", '40')
    .argument('[ef]', 'hnsw.ef_search values, comma-separated', '40,80'),
);
const n = Number(nArg);
const efs = efArg.split(',').map(Number);
const k = BLOCKING_SPEC.k;
const c = new pg.Client({ connectionString: url });
await c.connect();
const load0 = loadavg()[0]!;
const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
await c.query(`SET hnsw.iterative_scan = ${HNSW_SESSION_SETTINGS['hnsw.iterative_scan']}`);
await c.query('SET max_parallel_workers_per_gather = 0; SET jit = off');
const queries = (
  await c.query<{ pk: string; tenant: string; v: string }>(
    `SELECT pk, tenant_id AS tenant, embedding::text AS v FROM invoices ORDER BY created_at DESC LIMIT $1`,
    [n],
  )
).rows;
const truth: Set<string>[] = [];
for (const q of queries) {
  const r = await c.query<{ pk: string }>(
    `SELECT pk FROM invoices WHERE tenant_id = $2 AND pk <> $3
     ORDER BY (embedding <=> $1::vector) + 0, pk LIMIT $4`,
    [q.v, q.tenant, q.pk, k],
  );
  truth.push(new Set(r.rows.map((x) => x.pk)));
}
const HNSW = `SELECT pk FROM invoices WHERE tenant_id = $2 AND pk <> $3 ORDER BY embedding <=> $1::vector LIMIT $4`;
for (let round = 0; round < 2; round++)
  for (const ef of round === 0 ? efs : [...efs].reverse()) {
    await c.query(`SET hnsw.ef_search = ${ef}`);
    let hit = 0;
    let buffers = 0;
    let execMs = 0;
    const cpu0 = backendCpuMs(pid) ?? 0;
    for (const [i, q] of queries.entries()) {
      const r = await c.query<{ pk: string }>(HNSW, [q.v, q.tenant, q.pk, k]);
      hit += r.rows.filter((x) => truth[i]!.has(x.pk)).length;
    }
    const cpu = (backendCpuMs(pid) ?? 0) - cpu0;
    for (const q of queries) {
      const plan = (
        await c.query<{ 'QUERY PLAN': [{ Plan: Record<string, number>; 'Execution Time': number }] }>(
          `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${HNSW}`,
          [q.v, q.tenant, q.pk, k],
        )
      ).rows[0]!['QUERY PLAN'][0];
      buffers += (plan.Plan['Shared Hit Blocks'] ?? 0) + (plan.Plan['Shared Read Blocks'] ?? 0);
      execMs += plan['Execution Time'];
    }
    console.log(
      JSON.stringify({
        round,
        efSearch: ef,
        queries: queries.length,
        recallAtK: hit / (queries.length * k),
        meanBuffers: buffers / queries.length,
        meanExecMs: execMs / queries.length,
        pgCpuMsPerQuery: cpu / queries.length,
        load: [load0, loadavg()[0]],
      }),
    );
  }
await c.end();
