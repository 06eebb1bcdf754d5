/**
 * A minimal SQL executor that both engines implement, so that the repository and the
 * migration runner are written once. Parameters are positional (`$1`); vectors travel as a
 * {@link VectorTransport} says and are typed in SQL (`$1::vector`, `$1::vector[]`).
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
 * How embeddings travel as statement parameters; the SQL is the same either way (`$n::vector`
 * for one, `$n::vector[]` for many, unnested beside the other columns of a multi-row statement)
 * and so is the stored value.
 * - `text`: pgvector literals ({@link toVectorLiteral}, about 1.5 KB a 128-dimension vector),
 *   many as an array of them, which both sides format and parse as decimal text.
 * - binary (`{ vectorOid }`): pgvector's own binary form (its `vector_recv`: int16 dimensions,
 *   int16 unused, then big-endian float4 components, 516 bytes a 128-dimension vector), many in
 *   PostgreSQL's binary array form, whose header names the element type: `vectorOid`, the OID of
 *   `vector` in the database (pgvector's extension gets one per database; {@link vectorTransportOf}).
 *   Both engines take it (PGlite through the serializers store/pglite.ts installs).
 */
export type VectorTransport = 'text' | { readonly vectorOid: number };

/** Bytes of one vector in pgvector's binary form ({@link VectorTransport}). */
const binaryVectorBytes = (dim: number): number => 4 + dim * 4;

/**
 * Writes `v` in pgvector's binary form (int16 dimensions, int16 0, big-endian float4 components
 * rounded as pgvector stores them) into `buf` at `at`.
 * @returns the offset after it.
 * @throws RangeError when a component is not finite as float4, the dimensions do not fit in
 *   16 bits or the vector does not fit in `buf` at `at`.
 */
export function writeBinaryVector(buf: Buffer, at: number, v: ArrayLike<number>): number {
  const dim = v.length;
  if (dim > 0x7fff || at < 0 || at + binaryVectorBytes(dim) > buf.length)
    throw new RangeError(`a vector of ${dim} dimensions does not fit at ${at} of ${buf.length} bytes`);
  // A DataView writes big-endian floats without Buffer's per-call checks (2-3x faster).
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setInt16(at, dim);
  view.setInt16(at + 2, 0);
  let p = at + 4;
  for (let j = 0; j < dim; j++) {
    const x = Math.fround(v[j]!);
    if (!Number.isFinite(x)) throw new RangeError(`vector component ${j} is not finite`);
    view.setFloat32(p, x);
    p += 4;
  }
  return p;
}

/**
 * One vector as the value of a `$n::vector` parameter in `transport`.
 * @throws RangeError when a component is not finite as float4.
 */
export function vectorValue(transport: VectorTransport, v: ArrayLike<number>): string | Buffer {
  if (transport === 'text') return toVectorLiteral(v);
  const buf = Buffer.allocUnsafe(binaryVectorBytes(v.length));
  writeBinaryVector(buf, 0, v);
  return buf;
}

/**
 * Vectors as the value of a `$n::vector[]` parameter in `transport` (one dimension, lower bound
 * 1, no nulls). Their lengths are the database's to check (a `vector(128)` column, `<=>`).
 * @throws RangeError when a component is not finite as float4.
 */
export function vectorArrayValue(
  transport: VectorTransport,
  vectors: readonly ArrayLike<number>[],
): string[] | Buffer {
  if (transport === 'text') return vectors.map((v) => toVectorLiteral(v));
  let bytes = 20;
  for (const v of vectors) bytes += 4 + binaryVectorBytes(v.length);
  // Header: dimensions, has-nulls flag, element type, length, lower bound; then each element as
  // its 4-byte length and its binary form.
  const buf = Buffer.allocUnsafe(bytes);
  buf.writeInt32BE(1, 0);
  buf.writeInt32BE(0, 4);
  buf.writeUInt32BE(transport.vectorOid, 8);
  buf.writeInt32BE(vectors.length, 12);
  buf.writeInt32BE(1, 16);
  let at = 20;
  for (const v of vectors) {
    buf.writeInt32BE(binaryVectorBytes(v.length), at);
    at = writeBinaryVector(buf, at + 4, v);
  }
  return buf;
}

/** The OIDs of pgvector's `vector` and `vector[]` types in a database. */
export interface VectorTypes {
  vector: number;
  vectorArray: number;
}

/**
 * Reads the OIDs of `vector` and `vector[]` (one statement).
 * @throws the database's error when pgvector is not installed.
 */
export async function readVectorTypes(ex: SqlExecutor): Promise<VectorTypes> {
  const [r] = await ex.query<{ vector: string; vector_array: string }>(
    `SELECT 'vector'::regtype::oid::bigint::text AS vector, 'vector[]'::regtype::oid::bigint::text AS vector_array`,
  );
  return { vector: Number(r!.vector), vectorArray: Number(r!.vector_array) };
}

const transports = new WeakMap<SqlDatabase, Promise<VectorTransport>>();

/**
 * The binary {@link VectorTransport} of `db`, its `vector` OID read once per database object (a
 * pool, or a PGlite instance) and kept; a failed read is tried again at the next call. Call it
 * outside a transaction (PGlite runs one statement at a time: a read from `db` inside one of its
 * transactions would wait for it) and after the migrations (which install pgvector). A database
 * that drops and creates pgvector again gets a new OID: open it again.
 * @throws as {@link readVectorTypes}.
 */
export function vectorTransportOf(db: SqlDatabase): Promise<VectorTransport> {
  let t = transports.get(db);
  if (!t) {
    t = readVectorTypes(db).then((x) => ({ vectorOid: x.vector }));
    transports.set(db, t);
    t.catch(() => transports.get(db) === t && transports.delete(db));
  }
  return t;
}
