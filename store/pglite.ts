/**
 * The embedded engine: PGlite (PostgreSQL in WebAssembly) with the pgvector extension, stored
 * in a directory (default `./data/pglite`) or in memory. Used when no `DATABASE_URL` is set.
 */
import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { SqlDatabase, SqlExecutor } from './sql.js';

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
  const base = wrap(pg);
  return {
    engine: 'pglite',
    query: base.query,
    exec: base.exec,
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) => pg.transaction((tx) => fn(wrap(tx))),
    close: () => pg.close(),
  };
}
