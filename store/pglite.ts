/**
 * The embedded engine: PGlite (PostgreSQL in WebAssembly) with the pgvector extension, stored
 * in a directory (default `./data/pglite`) or in memory. Used when no `DATABASE_URL` is set.
 */
import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { lockForTransaction } from './locks.js';
import type { SqlDatabase, SqlExecutor, TransactionOptions } from './sql.js';

/** PGlite runs in this process: no round trips to save, so statement names are ignored. */
function wrap(q: PGlite | Transaction): SqlExecutor {
  return {
    async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
      const res = await q.query<T>(sql, params);
      return res.rows;
    },
    async exec(sql: string): Promise<void> {
      await q.exec(sql);
    },
  };
}

/**
 * Opens (creating if needed) a PGlite database with pgvector.
 * @param dataDir directory for the data files, or `memory://` / undefined for an in-memory database.
 */
export async function openPglite(dataDir?: string): Promise<SqlDatabase> {
  const inMemory = dataDir === undefined || dataDir.startsWith('memory://');
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create(inMemory ? undefined : dataDir, { extensions: { vector } });
  // As store/postgres.ts: iterative HNSW scans for the tenant-filtered candidate search.
  await pg.exec('SET hnsw.iterative_scan = strict_order');
  const base = wrap(pg);
  return {
    engine: 'pglite',
    query: base.query,
    exec: base.exec,
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>, o: TransactionOptions = {}) =>
      pg.transaction(async (tx) => {
        const t = wrap(tx);
        await lockForTransaction(t, o.lockKeys ?? []);
        return fn(t);
      }),
    close: () => pg.close(),
  };
}
