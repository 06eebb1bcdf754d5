/**
 * The HNSW index of invoice embeddings (`invoices_embedding_hnsw`, store/migrations/001) taken
 * down for a large history import and built once afterwards. Inserting a million vectors one by
 * one into the graph costs far more than building the graph over them in one pass (pgvector
 * builds it in memory, in parallel, and writes each page once). While the index is absent the
 * candidate search stays correct: its index branch becomes an exact scan of the tenant
 * (slower, not wrong).
 */
import type { SqlDatabase } from './sql.js';
import { EMBEDDING_DIM } from '../features/hashing.js';

/** Name of the index (as migration 001 declares it). */
export const EMBEDDING_INDEX = 'invoices_embedding_hnsw';

/**
 * The index's definition, as migration 001 declares it (pgvector defaults m = 16,
 * ef_construction = 64); `IF NOT EXISTS` makes a rebuild a no-op when it is present.
 */
const CREATE_EMBEDDING_INDEX = `CREATE INDEX IF NOT EXISTS ${EMBEDDING_INDEX} ON invoices USING hnsw (embedding vector_cosine_ops)`;

/** True when the embedding index exists in the store's schema. */
export async function hasEmbeddingIndex(db: SqlDatabase): Promise<boolean> {
  const rows = await db.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [
    EMBEDDING_INDEX,
  ]);
  return rows[0]?.present === true;
}

/**
 * Drops the embedding index (no-op when absent). Waits for statements using it to finish.
 * @returns true when it was present.
 */
export async function suspendEmbeddingIndex(db: SqlDatabase): Promise<boolean> {
  const present = await hasEmbeddingIndex(db);
  if (present) await db.exec(`DROP INDEX IF EXISTS ${EMBEDDING_INDEX}`);
  return present;
}

/** Options of {@link buildEmbeddingIndex}. */
export interface BuildIndexOptions {
  /**
   * PostgreSQL `maintenance_work_mem` for the build, e.g. `2GB`; default
   * {@link indexBuildMemory} of the table's rows. The graph is built in memory while it fits,
   * then by inserting the remaining rows one by one, several times slower per row.
   */
  memory?: string;
}

/**
 * Bytes of `maintenance_work_mem` to allow per row for the in-memory HNSW graph: the vector (4 bytes per dimension) and the
 * element with its neighbour lists (m = 16). Measured with pgvector 0.8.0 and 128 dimensions:
 * 1,293 bytes per row (an 8 MB build reported the graph full after 6,489 rows), plus 25%
 * headroom (test/embedding-index.test.ts checks it against the installed pgvector).
 */
export const GRAPH_BYTES_PER_ROW = Math.ceil((EMBEDDING_DIM * 4 + 781) * 1.25);

/** Bounds of the default build memory: PostgreSQL's default, and a ceiling for one session. */
const MIN_BUILD_MB = 64;
const MAX_BUILD_MB = 8192;

/**
 * `maintenance_work_mem` that holds the graph of `rows` embeddings in memory (so the build never
 * falls back to row-by-row inserts), between 64 MB and 8 GB (pass `memory` for more).
 * @param rows rows of `invoices` with an embedding.
 * @returns a size such as `1543MB` (1M rows).
 */
export function indexBuildMemory(rows: number): string {
  const mb = Math.ceil((Math.max(0, rows) * GRAPH_BYTES_PER_ROW) / 2 ** 20);
  return `${Math.min(MAX_BUILD_MB, Math.max(MIN_BUILD_MB, mb))}MB`;
}

/**
 * Builds the embedding index when it is absent (one transaction: a crash leaves no half-built
 * index, and a re-run builds it). Writers to `invoices` wait for the build (PostgreSQL's lock of
 * a non-concurrent CREATE INDEX): run a suspended import before go-live or in a quiet window.
 * @returns whether it was built and the seconds it took.
 * @throws Error when `memory` is not a size like `512MB` or `2GB`.
 */
export async function buildEmbeddingIndex(
  db: SqlDatabase,
  opts: BuildIndexOptions = {},
): Promise<{ built: boolean; seconds: number }> {
  if (opts.memory !== undefined && !/^\d+(kB|MB|GB)$/.test(opts.memory))
    throw new Error(`invalid index memory: ${opts.memory}`);
  if (await hasEmbeddingIndex(db)) return { built: false, seconds: 0 };
  const t0 = process.hrtime.bigint();
  await db.transaction(async (tx) => {
    if (db.engine === 'postgres') {
      let memory = opts.memory;
      if (memory === undefined) {
        const rows = await tx.query<{ n: string }>(
          'SELECT count(*) AS n FROM invoices WHERE embedding IS NOT NULL',
        );
        memory = indexBuildMemory(Number(rows[0]?.n ?? 0));
      }
      await tx.query(`SET LOCAL maintenance_work_mem = '${memory}'`);
    }
    await tx.query(CREATE_EMBEDDING_INDEX);
  });
  return { built: true, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}
