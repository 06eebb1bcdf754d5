/**
 * Transaction-scoped advisory locks: the one key derivation and the one SQL. A lock key is a
 * scope and its parts (`lockKey('vendor', tenantId, vendorId)`), hashed by PostgreSQL with the
 * current schema in front (`hashtextextended(current_schema() || ':' || key, 0)`), so schemas of
 * one database (tests, tenants of a shared cluster) never contend. Locks are released when the
 * transaction ends.
 */
import type { SqlExecutor } from './sql.js';

/** The lock key of `scope` and `parts` (joined with U+0001, which no part holds). */
export function lockKey(scope: string, ...parts: string[]): string {
  return [scope, ...parts].join('\u0001');
}

/**
 * Takes the advisory locks of `keys` for the rest of the transaction `tx`, distinct and sorted,
 * so every transaction takes its locks in the same order (no deadlock between them).
 */
export async function lockForTransaction(tx: SqlExecutor, keys: readonly string[]): Promise<void> {
  for (const key of [...new Set(keys)].sort())
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || $1, 0))`, [key]);
}
