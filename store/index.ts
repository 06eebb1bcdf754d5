/**
 * Storage: the only importer of pg and PGlite. `openStore` picks the engine: PostgreSQL when a
 * connection string is given, else embedded PGlite in a directory (default `./data/pglite`).
 */
import type { SqlDatabase } from './sql.js';
import { isInMemory, openMigratedInMemory, openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import { migrate } from './migrate.js';
import { buildDeclaredIndexes } from './embedding-index.js';
import { createRepository, type RepositoryOptions, type TriageRepository } from './repository.js';

export * from './sql.js';
export * from './repository.js';
export * from './batches.js';
export * from './history-imports.js';
export * from './audit.js';
export * from './keys.js';
export * from './policies.js';
export * from './vendors.js';
export * from './reviews.js';
export * from './events.js';
export * from './shared-events.js';
export * from './worklist.js';
export { migrate, loadMigrations, type Migration } from './migrate.js';
export { openPglite } from './pglite.js';
export { openPostgres, type PostgresOptions } from './postgres.js';

/** Where the store lives. */
export type StoreConfig =
  | { engine: 'postgres'; connectionString: string; schema?: string; maxConnections?: number }
  | { engine: 'pglite'; dataDir?: string };

/**
 * Opens the configured database and applies pending migrations (one handle for every
 * repository). In-memory PGlite databases are copies of one migrated template per process.
 */
export async function openDatabase(cfg: StoreConfig): Promise<SqlDatabase> {
  const db: SqlDatabase =
    cfg.engine === 'postgres'
      ? await openPostgres({
          connectionString: cfg.connectionString,
          ...(cfg.schema !== undefined ? { schema: cfg.schema } : {}),
          ...(cfg.maxConnections !== undefined ? { maxConnections: cfg.maxConnections } : {}),
        })
      : isInMemory(cfg.dataDir)
        ? await openMigratedInMemory(migrate)
        : await openPglite(cfg.dataDir);
  try {
    await migrate(db);
    // An interrupted history import may have left declared indexes dropped (store/declared-indexes.ts).
    await buildDeclaredIndexes(db);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  return db;
}

/**
 * Opens the configured database, applies pending migrations and returns the repository.
 * @param search tuning of the duplicate-candidate search (recall guard thresholds) and the id source.
 */
export async function openStore(cfg: StoreConfig, search: RepositoryOptions = {}): Promise<TriageRepository> {
  return createRepository(await openDatabase(cfg), search);
}
