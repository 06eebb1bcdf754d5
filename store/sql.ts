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
  /**
   * Stops the transaction when it aborts: every statement checks it before it is sent, and so
   * does the commit, so an aborted transaction rolls back (with the signal's reason) at its next
   * statement boundary instead of running to its end. A statement already running finishes first.
   */
  signal?: AbortSignal;
}

/** A database: an executor plus transactions and lifecycle. */
export interface SqlDatabase extends SqlExecutor {
  readonly engine: 'pglite' | 'postgres';
  /**
   * True while a statement sent now would wait behind other work of this process: the embedded
   * engine (PGlite) runs one statement or transaction at a time, so this is true while any runs
   * or waits. Always false on PostgreSQL (a pool of connections).
   */
  busy(): boolean;
  /**
   * Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. With
   * `lockKeys`, takes their transaction advisory locks first (store/locks.ts), in the same round
   * trip as BEGIN on PostgreSQL.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/**
 * `ex` with `signal` checked before every statement: an aborted signal makes the next statement
 * throw its reason (inside a transaction, which then rolls back). `ex` itself when no signal.
 */
export function abortable<E extends SqlExecutor>(ex: E, signal: AbortSignal | undefined): E {
  if (!signal) return ex;
  const copyFrom = ex.copyFrom?.bind(ex);
  return {
    ...ex,
    async query<T extends Record<string, unknown>>(sql: string, params?: unknown[], o?: QueryOptions) {
      signal.throwIfAborted();
      return ex.query<T>(sql, params, o);
    },
    async exec(sql: string) {
      signal.throwIfAborted();
      return ex.exec(sql);
    },
    ...(copyFrom
      ? {
          async copyFrom(sql: string, data: Buffer) {
            signal.throwIfAborted();
            return copyFrom(sql, data);
          },
        }
      : {}),
  };
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

/**
 * Vectors of one length `dim` as one PostgreSQL `real[]` parameter in the binary wire format
 * (one dimension, `vectors.length * dim` elements, vector i at 1-based elements
 * `i * dim + 1 .. (i + 1) * dim`), for `($n::real[])[a:b]::vector` in SQL. node-postgres sends a
 * Buffer parameter in binary format, so PostgreSQL reads 4 bytes per component instead of
 * parsing a decimal literal of about 20 characters (the text form costs both sides several
 * times more CPU than the rest of a bulk insert). PostgreSQL only; PGlite takes
 * {@link toVectorLiteral}. Components are rounded to float4 as pgvector stores them.
 * @throws RangeError when a vector's length is not `dim` or a component is not finite as float4.
 */
export function float4ArrayBinary(vectors: readonly ArrayLike<number>[], dim: number): Buffer {
  const n = vectors.length * dim;
  // Header: ndim, has-nulls flag, element type (float4, oid 700), length, lower bound; then
  // each element as a 4-byte length and a big-endian float4.
  const buf = Buffer.alloc(20 + n * 8);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  view.setInt32(0, 1);
  view.setInt32(4, 0);
  view.setInt32(8, 700);
  view.setInt32(12, n);
  view.setInt32(16, 1);
  let at = 20;
  for (const v of vectors) {
    if (v.length !== dim) throw new RangeError(`vector of length ${v.length}, expected ${dim}`);
    for (let j = 0; j < dim; j++) {
      const x = Math.fround(v[j]!);
      if (!Number.isFinite(x)) throw new RangeError(`vector component ${j} is not finite`);
      view.setInt32(at, 4);
      view.setFloat32(at + 4, x);
      at += 8;
    }
  }
  return buf;
}

/**
 * How the embeddings of a multi-row insert travel: `binary` (PostgreSQL) as one `real[]`
 * parameter in the binary wire format ({@link float4ArrayBinary}), sliced per row in SQL;
 * `text` (PGlite) as one pgvector literal per row.
 */
export type VectorTransport = 'binary' | 'text';

/** The transport of an engine's multi-row inserts. */
export const vectorTransport = (engine: 'pglite' | 'postgres'): VectorTransport =>
  engine === 'postgres' ? 'binary' : 'text';

/**
 * The embedding parameter of a multi-row insert and the SQL that reads row `ord`'s vector from
 * it (`ord` is the 1-based row number of the `unnest ... WITH ORDINALITY` it is used in).
 * @param dim components per vector.
 * @param param the parameter's 1-based position.
 * @throws RangeError as {@link float4ArrayBinary} and {@link toVectorLiteral}.
 */
export function vectorColumn(
  transport: VectorTransport,
  vectors: readonly ArrayLike<number>[],
  dim: number,
  param: number,
): { value: unknown; sql: string } {
  return {
    value: transport === 'text' ? vectors.map((v) => toVectorLiteral(v)) : float4ArrayBinary(vectors, dim),
    sql: vectorColumnSql(transport, dim, param),
  };
}

/**
 * The SQL of {@link vectorColumn} alone (it depends only on its arguments, so a named
 * statement's text can be built once): row `ord`'s vector of parameter `param`.
 */
export function vectorColumnSql(transport: VectorTransport, dim: number, param: number): string {
  return transport === 'text'
    ? `($${param}::text[])[ord]::vector`
    : `($${param}::real[])[(ord - 1) * ${dim} + 1 : ord * ${dim}]::vector`;
}

/**
 * One vector as a single parameter in `transport` ({@link VectorTransport}), and the SQL that
 * reads it as a `vector` from parameter `param`: a pgvector literal (`$n::vector`) or a binary
 * `real[]` ({@link float4ArrayBinary}, `$n::real[]::vector`), the same stored value either way.
 * @throws RangeError as {@link float4ArrayBinary} and {@link toVectorLiteral}.
 */
export function vectorParam(
  transport: VectorTransport,
  vector: ArrayLike<number>,
  param: number,
): { value: unknown; sql: string } {
  return transport === 'text'
    ? { value: toVectorLiteral(vector), sql: `$${param}::vector` }
    : { value: float4ArrayBinary([vector], vector.length), sql: `$${param}::real[]::vector` };
}
