/**
 * The server engine: PostgreSQL 15+ with the pgvector extension, through a `pg` pool.
 * An optional schema isolates tenants of a shared database (and each integration test).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { withArrayLiterals } from './array-literal.js';
import { HNSW_SESSION_SETTINGS } from './hnsw-search.js';
import { LOCK_SQL, lockOrder } from './locks.js';
import {
  abortable,
  type QueryOptions,
  type SqlDatabase,
  type SqlExecutor,
  type TransactionOptions,
} from './sql.js';

/** Options of {@link openPostgres}. */
export interface PostgresOptions {
  /** `postgres://user@host:port/db`. */
  connectionString: string;
  /** Schema to create and use (search_path `<schema>, public`); default `public`. */
  schema?: string;
  /** Pool size; default 10. */
  maxConnections?: number;
  /**
   * Milliseconds an idle connection stays open before the pool closes it; default 10,000 (pg's);
   * 0 keeps idle connections open (a benchmark that measures one backend's CPU across pauses).
   */
  idleTimeoutMillis?: number;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A pg query config: named (a prepared statement per connection) when the caller names it; array
 * parameters as the driver's array literals, written once ({@link withArrayLiterals}).
 */
function config(text: string, params: unknown[], o: QueryOptions): pg.QueryConfig {
  const values = withArrayLiterals(params);
  return o.name ? { name: o.name, text, values } : { text, values };
}

/**
 * Opens a pool to PostgreSQL. When `schema` is given it is created if absent and every
 * connection uses it first in its search path (pgvector's types stay visible from `public`).
 * @throws Error when the schema name is not a plain lower-case identifier.
 */
export async function openPostgres(opts: PostgresOptions): Promise<SqlDatabase> {
  const schema = opts.schema ?? 'public';
  if (!IDENT.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.maxConnections ?? 10,
    ...(opts.idleTimeoutMillis !== undefined ? { idleTimeoutMillis: opts.idleTimeoutMillis } : {}),
    options: [
      `-c search_path=${schema},public`,
      ...Object.entries(HNSW_SESSION_SETTINGS).map(([k, v]) => `-c ${k}=${v}`),
    ].join(' '),
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  if (schema !== 'public') await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const exec = async (sql: string): Promise<void> => {
    await pool.query(sql);
  };
  return {
    engine: 'postgres',
    busy: () => false,
    async query<T extends Record<string, unknown>>(
      sql: string,
      params: unknown[] = [],
      o: QueryOptions = {},
    ): Promise<T[]> {
      return (await pool.query(config(sql, params, o))).rows as T[];
    },
    exec,
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, o: TransactionOptions = {}): Promise<T> {
      const client = await pool.connect();
      // A checked-out client reports a dropped connection (server restart) as an 'error' event;
      // unheard, it would crash the process. The query in flight rejects, which is what we act on.
      const onError = (): void => undefined;
      client.on('error', onError);
      try {
        // A deadline that passed while waiting for a connection: no BEGIN.
        o.signal?.throwIfAborted();
        const keys = lockOrder(o.lockKeys ?? []);
        // BEGIN, the planner settings and the locks in one simple-protocol round trip (the keys
        // inlined as literals).
        const serial = o.oltp ? ' SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off;' : '';
        const settings = o.asyncCommit ? `${serial} SET LOCAL synchronous_commit = off;` : serial;
        await client.query(
          keys.length === 0
            ? `BEGIN;${settings}`
            : `BEGIN;${settings} ${LOCK_SQL.replace('$1::text[]', `ARRAY[${keys.map((k) => client.escapeLiteral(k)).join(',')}]::text[]`)}`,
        );
        const tx: SqlExecutor = abortable<SqlExecutor>(
          {
            query: async <R extends Record<string, unknown>>(
              sql: string,
              params: unknown[] = [],
              qo: QueryOptions = {},
            ) => (await client.query(config(sql, params, qo))).rows as R[],
            exec: async (sql: string) => {
              await client.query(sql);
            },
            copyFrom: async (sql: string, data: Buffer) => {
              const stream = client.query(copyFromStdin(sql));
              await pipeline(Readable.from([data]), stream);
              return stream.rowCount;
            },
          },
          o.signal,
        );
        const result = await fn(tx);
        // Aborted during the last statement: roll back rather than commit.
        o.signal?.throwIfAborted();
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.off('error', onError);
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
