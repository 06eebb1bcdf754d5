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

/** The 64-bit lock id of the SQL text expression `key`, the current schema in front. */
const lockId = (key: string): string => `hashtextextended(current_schema() || ':' || ${key}, 0)`;

/** One statement taking the locks of `$1` (a text array, already distinct and sorted) in array order. */
export const LOCK_SQL = `SELECT pg_advisory_xact_lock(${lockId('k')})
  FROM unnest($1::text[]) AS k`;

/** One statement taking the lock of `$1` (a key) in shared mode: held by many, excluding its exclusive holder. */
const SHARED_LOCK_SQL = `SELECT pg_advisory_xact_lock_shared(${lockId('$1')})`;

/** The keys as {@link LOCK_SQL} takes them: distinct and sorted, so every transaction takes its locks in one order. */
export function lockOrder(keys: readonly string[]): string[] {
  return [...new Set(keys)].sort();
}

/**
 * Takes the advisory locks of `keys` for the rest of the transaction `tx`, distinct and sorted,
 * so every transaction takes its locks in the same order (no deadlock between them), in one
 * statement. (`SqlDatabase.transaction`'s `lockKeys` does the same in BEGIN's round trip.)
 */
export async function lockForTransaction(tx: SqlExecutor, keys: readonly string[]): Promise<void> {
  const ordered = lockOrder(keys);
  if (ordered.length > 0) await tx.query(LOCK_SQL, [ordered], { name: 'advisory_locks' });
}

/**
 * Takes the advisory lock of `key` in shared mode for the rest of the transaction `tx`: other
 * shared holders go on together, an exclusive holder ({@link lockForTransaction}) waits for them
 * all or makes them wait.
 */
export async function lockSharedForTransaction(tx: SqlExecutor, key: string): Promise<void> {
  await tx.query(SHARED_LOCK_SQL, [key], { name: 'advisory_lock_shared' });
}
