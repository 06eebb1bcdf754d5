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
import {
  declaredIndexes,
  dropIndexes,
  ensureDeclaredIndexes,
  importDeferrableIndexes,
  type DeclaredIndex,
} from './declared-indexes.js';

/** Name of the index (as migration 001 declares it). */
export const EMBEDDING_INDEX = 'invoices_embedding_hnsw';

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
  return (await dropIndexes(db, [embeddingIndex()])).length > 0;
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
 * element with its neighbour lists. Measured with pgvector 0.8.0 and 128 dimensions (an 8 MB build
 * reports the graph full after 6,502 rows at m = 16, 7,195 at the declared m = 12): 1,290 and
 * 1,166 bytes per row; the allowance takes the larger, plus 25% headroom
 * (test/embedding-index.test.ts checks it against the installed pgvector and the declared graph).
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

/** The embedding index as the migrations declare it. */
function embeddingIndex(): DeclaredIndex {
  const index = declaredIndexes().find((i) => i.name === EMBEDDING_INDEX);
  if (!index) throw new Error(`the migrations declare no ${EMBEDDING_INDEX}`);
  return index;
}

/** HNSW build parameters of the embedding index (pgvector's `m` and `ef_construction`). */
export interface EmbeddingIndexParams {
  /** Neighbours per element and layer (twice as many on the bottom layer). */
  m: number;
  /** Size of the candidate list while inserting an element into the graph. */
  efConstruction: number;
}

/**
 * The build parameters of the embedding index as the migrations declare them (its `WITH (m = ..,
 * ef_construction = ..)`, store/migrations/097; pgvector's defaults 16 and 64 for one it omits),
 * so that benchmarks and tests build the graph the service builds.
 */
export function embeddingIndexParams(index: DeclaredIndex = embeddingIndex()): EmbeddingIndexParams {
  const m = /\bm\s*=\s*(\d+)/i.exec(index.sql);
  const ef = /\bef_construction\s*=\s*(\d+)/i.exec(index.sql);
  return { m: m ? Number(m[1]) : 16, efConstruction: ef ? Number(ef[1]) : 64 };
}

/**
 * `maintenance_work_mem` of a deferred btree build, shared by its parallel workers: about the size
 * of the largest index a 1M-invoice import builds (`invoice_lines_block_key`, 885 MB for 10M
 * lines), so that its sort merges few runs (at 100k, the same ratio of memory to index cut its
 * build from 3.4-3.8 s with half of it to 2.4-2.5 s).
 */
const BTREE_BUILD_MEMORY = '1GB';

/**
 * Tables whose indexes are built at once ({@link ensureDeclaredIndexes} `concurrency`): after an
 * import, the btree indexes of `invoice_lines` beside those of `invoices` and its HNSW graph. On
 * 2 cores each parallel build alone left part of a core idle (its leader merges or writes
 * alone); BENCHMARKS.md "The import's index builds side by side".
 */
const BUILD_CONNECTIONS = 2;

/**
 * Builds the declared indexes of `which` that are missing ({@link ensureDeclaredIndexes}, the
 * indexes of two tables at once): the btree ones with {@link BTREE_BUILD_MEMORY}, the HNSW graph
 * with `opts.memory` or {@link indexBuildMemory} of the table's rows (one transaction each: a
 * crash leaves no half-built index, and a re-run or the next start-up builds it). Writers to the
 * table wait during a build: run a suspended import before go-live or in a quiet window.
 * @returns the indexes built and the seconds it took.
 * @throws Error when `memory` is not a size like `512MB` or `2GB`.
 */
async function buildIndexes(
  db: SqlDatabase,
  which: readonly DeclaredIndex[],
  opts: BuildIndexOptions,
): Promise<{ built: string[]; seconds: number }> {
  if (opts.memory !== undefined && !/^\d+(kB|MB|GB)$/.test(opts.memory))
    throw new Error(`invalid index memory: ${opts.memory}`);
  const t0 = process.hrtime.bigint();
  const built = await ensureDeclaredIndexes(db, {
    only: which,
    concurrency: BUILD_CONNECTIONS,
    memory: async (index) => {
      if (index.method === 'btree') return BTREE_BUILD_MEMORY;
      if (opts.memory !== undefined) return opts.memory;
      const rows = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${index.table}`);
      return indexBuildMemory(Number(rows[0]?.n ?? 0));
    },
  });
  return { built, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/**
 * Builds the embedding index when it is absent ({@link buildIndexes}).
 * @returns whether it was built and the seconds it took.
 * @throws Error when `memory` is not a size like `512MB` or `2GB`.
 */
export async function buildEmbeddingIndex(
  db: SqlDatabase,
  opts: BuildIndexOptions = {},
): Promise<{ built: boolean; seconds: number }> {
  const out = await buildIndexes(db, [embeddingIndex()], opts);
  return { built: out.built.length > 0, seconds: out.seconds };
}

/**
 * Drops the indexes a large history import builds after its rows
 * ({@link importDeferrableIndexes}: the embedding index and the read-only btree indexes of
 * `invoices` and `invoice_lines`). Waits for statements using them to finish.
 * @returns the names dropped (those present).
 */
export function suspendImportIndexes(db: SqlDatabase): Promise<string[]> {
  return dropIndexes(db, importDeferrableIndexes());
}

/**
 * Builds every declared index that is missing or invalid (start-up, after `migrate`: an
 * interrupted import may have left some dropped), with the memory of {@link buildIndexes}.
 * @returns the indexes built and the seconds it took.
 */
export function buildDeclaredIndexes(db: SqlDatabase): Promise<{ built: string[]; seconds: number }> {
  return buildIndexes(db, declaredIndexes(), {});
}

/**
 * Builds the indexes {@link suspendImportIndexes} dropped (any that are missing), each table's
 * btree indexes first.
 * @returns the indexes built and the seconds it took.
 * @throws Error when `memory` (of the HNSW build) is not a size like `512MB` or `2GB`.
 */
export function buildImportIndexes(
  db: SqlDatabase,
  opts: BuildIndexOptions = {},
): Promise<{ built: string[]; seconds: number }> {
  return buildIndexes(db, importDeferrableIndexes(), opts);
}
