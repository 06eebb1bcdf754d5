/**
 * Duplicate-index scale benchmark: HNSW (pgvector) vs exact kNN on invoice embeddings.
 *
 * Loads `n` base vectors into a scratch table, builds each HNSW cosine index variant in turn
 * (build wall and backend CPU reported with its parameters), then for each query measures the HNSW top-k latency at
 * several `hnsw.ef_search` values and recall@k against the exact top-k (sequential scan with
 * index scans disabled, the reference measured in the same run), plus the exact-scan latency.
 */
import { toVectorLiteral, type SqlDatabase } from '../store/index.js';
import { embeddingIndexParams } from '../store/embedding-index.js';
import { backendCpuMs } from './pg-cpu.js';
import { msSince, percentiles } from './stats.js';

/**
 * HNSW build parameters (pgvector defaults are m=16, ef_construction=64; the service's are
 * migration 097's, store/embedding-index.ts `embeddingIndexParams`) and the element type the
 * graph stores: `vector` (float32, the column itself) or `halfvec` (an index over
 * `emb::halfvec(dim)`, float16, pgvector >= 0.7; queries then order by the same expression).
 */
export interface HnswParams {
  m: number;
  efConstruction: number;
  element?: 'vector' | 'halfvec';
}

/** Parses `m/efC[/halfvec]` (e.g. `16/64`, `12/40/halfvec`). @throws Error on another form. */
export function parseHnswParams(text: string): HnswParams {
  const m = /^(\d+)\/(\d+)(?:\/(vector|halfvec))?$/.exec(text.trim());
  if (!m) throw new Error(`HNSW parameters must look like 16/64 or 16/64/halfvec, got ${text}`);
  return {
    m: Number(m[1]),
    efConstruction: Number(m[2]),
    element: (m[3] ?? 'vector') as 'vector' | 'halfvec',
  };
}

/** Result at one `ef_search`. */
export interface KnnPoint {
  efSearch: number;
  /** Mean share of the exact top-k found by HNSW, [0, 1]. */
  recallAtK: number;
  /** Share of queries whose known true duplicate is among HNSW's top-k. */
  duplicateHitAtK: number;
  latencyMs: { p50: number; p95: number; p99: number; mean: number };
}

/** Result of one index size. */
export interface KnnResult {
  engine: 'pglite' | 'postgres';
  n: number;
  dim: number;
  k: number;
  queries: number;
  loadSeconds: number;
  buildSeconds: number;
  /**
   * PostgreSQL CPU seconds of the build (user + system of the one backend: the benchmark builds
   * without parallel workers so that every CPU second is counted), or null when the backend's
   * /proc entry is not readable (a remote server, PGlite).
   */
  buildCpuSeconds: number | null;
  hnsw: HnswParams;
  exactLatencyMs: { p50: number; p95: number; p99: number; mean: number };
  /** Share of queries whose true duplicate is in the exact top-k (the embedding's own ceiling). */
  exactDuplicateHitAtK: number;
  points: KnnPoint[];
}

/** A query: its vector and the id of the base row it duplicates. */
export interface KnnQuery {
  vector: Float32Array;
  duplicateOf: number;
}

/**
 * Runs the benchmark on `db` in table `bench_knn_<n>` (dropped first and at the end).
 * @param base async iterable of base vectors; ids are their 0-based positions
 * @throws Error from the database (e.g. pgvector missing)
 */
export async function runKnnBenchmark(
  db: SqlDatabase,
  base: AsyncIterable<Float32Array> | Iterable<Float32Array>,
  queries: readonly KnnQuery[],
  opts: {
    n: number;
    dim: number;
    k?: number;
    /** Index variants built one after another over the same rows (default: the served graph). */
    hnsw?: readonly HnswParams[];
    efSearch?: readonly number[];
    onProgress?: (stage: string, done: number, total: number) => void;
  },
): Promise<KnnResult[]> {
  const k = opts.k ?? 10;
  const variants: readonly HnswParams[] = opts.hnsw ?? [embeddingIndexParams()];
  const efs = opts.efSearch ?? [40, 100, 200];
  const table = `bench_knn_${opts.n}`;
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
  await db.exec(`DROP TABLE IF EXISTS ${table}`);
  await db.exec(`CREATE TABLE ${table} (id int PRIMARY KEY, emb vector(${opts.dim}) NOT NULL)`);
  const t0 = process.hrtime.bigint();
  let ids: number[] = [];
  let lits: string[] = [];
  let id = 0;
  const flush = async (): Promise<void> => {
    if (!ids.length) return;
    await db.query(
      `INSERT INTO ${table} (id, emb) SELECT i, e::vector FROM unnest($1::int[], $2::text[]) AS u(i, e)`,
      [ids, lits],
    );
    ids = [];
    lits = [];
    opts.onProgress?.('load', id, opts.n);
  };
  for await (const v of base) {
    ids.push(id++);
    lits.push(toVectorLiteral(v));
    if (ids.length === 2000) await flush();
    if (id >= opts.n) break;
  }
  await flush();
  const loadSeconds = msSince(t0) / 1000;
  // Exact reference: the same query with index scans off (sequential scan + sort).
  const exactTop: number[][] = [];
  const exactLat: number[] = [];
  let exactHit = 0;
  await db.transaction(async (tx) => {
    await tx.exec('SET LOCAL enable_indexscan = off');
    for (const [qi, q] of queries.entries()) {
      const t = process.hrtime.bigint();
      const rows = await tx.query<{ id: number }>(
        `SELECT id FROM ${table} ORDER BY emb <=> $1::vector LIMIT ${k}`,
        [toVectorLiteral(q.vector)],
      );
      exactLat.push(msSince(t));
      const top = rows.map((r) => r.id);
      exactTop.push(top);
      if (top.includes(q.duplicateOf)) exactHit++;
      opts.onProgress?.('exact', qi + 1, queries.length);
    }
  });
  const results: KnnResult[] = [];
  for (const hnsw of variants) {
    const { buildSeconds, buildCpuSeconds } = await buildIndex(db, table, opts.dim, hnsw);
    const expr = hnsw.element === 'halfvec' ? `emb::halfvec(${opts.dim})` : 'emb';
    const cast = hnsw.element === 'halfvec' ? `halfvec(${opts.dim})` : 'vector';
    const points: KnnPoint[] = [];
    for (const ef of efs) {
      const lat: number[] = [];
      let recallSum = 0;
      let hit = 0;
      await db.transaction(async (tx) => {
        await tx.exec(`SET LOCAL hnsw.ef_search = ${ef}`);
        for (const [qi, q] of queries.entries()) {
          const t = process.hrtime.bigint();
          const rows = await tx.query<{ id: number }>(
            `SELECT id FROM ${table} ORDER BY ${expr} <=> $1::${cast} LIMIT ${k}`,
            [toVectorLiteral(q.vector)],
          );
          lat.push(msSince(t));
          const got = new Set(rows.map((r) => r.id));
          const truth = exactTop[qi]!;
          recallSum += truth.filter((x) => got.has(x)).length / Math.max(1, truth.length);
          if (got.has(q.duplicateOf)) hit++;
        }
      });
      points.push({
        efSearch: ef,
        recallAtK: recallSum / queries.length,
        duplicateHitAtK: hit / queries.length,
        latencyMs: percentiles(lat),
      });
      opts.onProgress?.(`hnsw ${hnsw.m}/${hnsw.efConstruction} ef=${ef}`, 1, 1);
    }
    await db.exec(`DROP INDEX IF EXISTS ${table}_hnsw`);
    results.push({
      engine: db.engine,
      n: id,
      dim: opts.dim,
      k,
      queries: queries.length,
      loadSeconds,
      buildSeconds,
      buildCpuSeconds,
      hnsw: { element: 'vector', ...hnsw },
      exactLatencyMs: percentiles(exactLat),
      exactDuplicateHitAtK: exactHit / queries.length,
      points,
    });
  }
  await db.exec(`DROP TABLE IF EXISTS ${table}`);
  return results;
}

/**
 * Builds the HNSW index of `hnsw` on `table` in one transaction (one backend, no parallel
 * workers on PostgreSQL, 2 GB of build memory so the graph stays in memory).
 * @returns the build's wall seconds and its backend CPU seconds (null when not readable).
 */
async function buildIndex(
  db: SqlDatabase,
  table: string,
  dim: number,
  hnsw: HnswParams,
): Promise<{ buildSeconds: number; buildCpuSeconds: number | null }> {
  const on =
    hnsw.element === 'halfvec' ? `((emb::halfvec(${dim})) halfvec_cosine_ops)` : '(emb vector_cosine_ops)';
  return db.transaction(async (tx) => {
    let pid: number | null = null;
    if (db.engine === 'postgres') {
      await tx.exec(`SET LOCAL maintenance_work_mem = '2GB'`);
      await tx.exec('SET LOCAL max_parallel_maintenance_workers = 0');
      pid = Number((await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid);
    }
    const cpu0 = pid === null ? null : backendCpuMs(pid);
    const t = process.hrtime.bigint();
    await tx.exec(
      `CREATE INDEX ${table}_hnsw ON ${table} USING hnsw ${on} WITH (m = ${hnsw.m}, ef_construction = ${hnsw.efConstruction})`,
    );
    const buildSeconds = msSince(t) / 1000;
    const cpu1 = pid === null ? null : backendCpuMs(pid);
    return { buildSeconds, buildCpuSeconds: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / 1000 };
  });
}
