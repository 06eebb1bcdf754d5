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
  /**
   * PostgreSQL only (absent on PGlite): runs `sql`, a `COPY ... FROM STDIN`, sending `data` as
   * its input (e.g. store/copy-binary.ts rows with `(FORMAT binary)`).
   * @returns the rows copied.
   */
  copyFrom?(sql: string, data: Buffer): Promise<number>;
}

/** Options of {@link SqlDatabase.transaction}. */
export interface TransactionOptions {
  /** Advisory lock keys (`lockKey(...)` of store/locks.ts) to hold for the whole transaction. */
  lockKeys?: readonly string[];
  /**
   * True for short OLTP transactions (scoring): their statements are planned without parallel
   * workers and without JIT compilation (PostgreSQL `SET LOCAL max_parallel_workers_per_gather
   * = 0` and `jit = off`, in BEGIN's round trip; PGlite has neither). The candidate search holds
   * an exact-kNN branch that a one-time filter switches off on large tenants; its estimated cost
   * (a sort of the whole tenant) still shaped the plan: at 1M invoices a Gather Merge launched
   * two workers per search only to evaluate the filter, and the plan's cost crossed
   * `jit_above_cost`, so every search compiled 177 functions (510 ms). Store cost per scored
   * invoice was 84.5 ms PG CPU and 628 ms p50 at 1M against 6.4 ms and 43 ms at 0.
   */
  oltp?: boolean;
  /**
   * True for bulk writes that a re-run repeats idempotently (the history import): the commit
   * does not wait for its WAL to reach disk (PostgreSQL `SET LOCAL synchronous_commit = off`, in
   * BEGIN's round trip). A server crash may lose the last commits (never half of one); the
   * client has been told they committed, so it must be able to write them again.
   */
  asyncCommit?: boolean;
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
