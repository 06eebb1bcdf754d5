/**
 * A minimal SQL executor that both engines implement, so that the repository and the
 * migration runner are written once. Parameters are positional (`$1`); vectors are passed as
 * pgvector text literals (`'[0.1,0.2]'`) and cast in SQL (`$1::vector`).
 */
import pgvector from 'pgvector';

/** Options of {@link SqlExecutor.query}. */
export interface QueryOptions {
  /**
   * Name of a prepared statement (PostgreSQL parses and plans it once per connection, then
   * reuses it). Give it only to statements whose text never changes for that name; PGlite
   * ignores it.
   */
  name?: string;
}

/** Runs statements on one connection (or inside one transaction). */
export interface SqlExecutor {
  /** Runs one parameterised statement and returns its rows. */
  query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    opts?: QueryOptions,
  ): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** Options of {@link SqlDatabase.transaction}. */
export interface TransactionOptions {
  /** Advisory lock keys (`lockKey(...)` of store/locks.ts) to hold for the whole transaction. */
  lockKeys?: readonly string[];
}

/** A database: an executor plus transactions and lifecycle. */
export interface SqlDatabase extends SqlExecutor {
  readonly engine: 'pglite' | 'postgres';
  /**
   * Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. With
   * `lockKeys`, takes their transaction advisory locks first (store/locks.ts), in the same round
   * trip as BEGIN on PostgreSQL.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/**
 * pgvector text literal of a vector, e.g. `[0.5,-0.25]` (npm `pgvector`'s `toSql`).
 * @throws RangeError when a component is not finite as a 32-bit float (pgvector stores float4).
 */
export function toVectorLiteral(v: ArrayLike<number>): string {
  // Rounded to float4 here, so the literal is the stored value's shortest decimal.
  const values = Array.from(v, Math.fround);
  const bad = values.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new RangeError(`vector component ${bad} is not finite`);
  return pgvector.toSql(values) as string;
}
