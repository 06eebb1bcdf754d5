/**
 * Versioned SQL migrations (`store/migrations/NNN_name.sql`), applied in order at start-up,
 * each in its own transaction with its checksum recorded in `schema_migrations`.
 * On PostgreSQL an advisory lock serialises replicas that start together.
 */
import { sha256Hex } from '../core/canonical.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { TriageError } from '../core/errors.js';
import type { SqlDatabase } from './sql.js';
import { lockForTransaction, lockKey } from './locks.js';

/** One migration file. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads the migrations from `dir` (default: the package's `store/migrations`), sorted by version. */
export function loadMigrations(dir = join(packageRoot(), 'store', 'migrations')): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const sql = readFileSync(join(dir, f), 'utf8');
      return {
        version: Number(f.slice(0, 3)),
        name: f.slice(4, -4),
        sql,
        checksum: sha256Hex(sql),
      };
    });
}

/**
 * Applies the migrations not yet applied.
 * @returns the versions applied by this call.
 * @throws TriageError `TRIAGE_STORE_MIGRATION_MISMATCH` when an applied migration's file changed.
 */
export async function migrate(db: SqlDatabase, migrations = loadMigrations()): Promise<number[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())`);
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      if (db.engine === 'postgres') {
        await lockForTransaction(tx, [lockKey('migrations')]);
      }
      const rows = await tx.query<{ checksum: string }>(
        'SELECT checksum FROM schema_migrations WHERE version = $1',
        [m.version],
      );
      if (rows[0]) {
        if (rows[0].checksum !== m.checksum) {
          throw new TriageError(
            'TRIAGE_STORE_MIGRATION_MISMATCH',
            `migration ${m.version}_${m.name} was applied with another checksum; add a new migration instead of editing it`,
          );
        }
        return false;
      }
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        m.checksum,
      ]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
