/**
 * The HNSW index of invoice embeddings (`invoices_embedding_hnsw`, store/migrations/001) taken
 * down for a large history import and built once afterwards. Inserting a million vectors one by
 * one into the graph costs far more than building the graph over them in one pass (pgvector
 * builds it in memory, in parallel, and writes each page once). While the index is absent the
 * candidate search stays correct: its index branch becomes an exact scan of the tenant
 * (slower, not wrong).
 */
import type { SqlDatabase } from './sql.js';

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
   * PostgreSQL `maintenance_work_mem` for the build, e.g. `1GB` (default). The graph is built in
   * memory while it fits (about 1 KB per 128-dimension vector), then on disk, much slower.
   */
  memory?: string;
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
  const memory = opts.memory ?? '1GB';
  if (!/^\d+(kB|MB|GB)$/.test(memory)) throw new Error(`invalid index memory: ${memory}`);
  if (await hasEmbeddingIndex(db)) return { built: false, seconds: 0 };
  const t0 = process.hrtime.bigint();
  await db.transaction(async (tx) => {
    if (db.engine === 'postgres') await tx.query(`SET LOCAL maintenance_work_mem = '${memory}'`);
    await tx.query(CREATE_EMBEDDING_INDEX);
  });
  return { built: true, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}
