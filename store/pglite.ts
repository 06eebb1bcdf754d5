/**
 * The embedded engine: PGlite (PostgreSQL in WebAssembly) with the pgvector extension, stored
 * in a directory (default `./data/pglite`) or in memory. Used when no `DATABASE_URL` is set.
 */
import { mkdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { TriageError } from '../core/errors.js';
import { acquireFileLock } from '../models/atomic-fs.js';
import { HNSW_SESSION_SETTINGS } from './hnsw-search.js';
import { JSONB_OID } from './jsonb-wire.js';
import { lockForTransaction } from './locks.js';
import {
  abortable,
  readVectorTypes,
  type SqlDatabase,
  type SqlExecutor,
  type TransactionOptions,
} from './sql.js';

/** PGlite runs in this process: no round trips to save, so statement names are ignored. */
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
 * Lets `vector`, `vector[]` and `jsonb` parameters in binary form (store/sql.ts
 * `VectorTransport`, store/jsonb-wire.ts `jsonbArrayValue`: Buffers) reach the server as they are.
 * PGlite sends a byte-array value in the binary format, but first hands every value to its type's
 * serializer, which would make text of it; these types' serializers now pass byte arrays on and
 * serialise the rest as before.
 */
async function sendBinaryParams(pg: PGlite, ex: SqlExecutor): Promise<void> {
  const types = await readVectorTypes(ex);
  for (const oid of [types.vector, types.vectorArray, JSONB_OID]) {
    const text = pg.serializers[oid];
    // PGlite's serializer type says string; a byte array is what its protocol writer sends as binary.
    pg.serializers[oid] = (x: unknown) =>
      ArrayBuffer.isView(x) ? (x as unknown as string) : text ? text(x) : String(x);
  }
}

/** True for the data directories that mean an in-memory database (`undefined`, `memory://...`). */
export function isInMemory(dataDir: string | undefined): boolean {
  return dataDir === undefined || dataDir.startsWith('memory://');
}

async function asDatabase(pg: PGlite, onClose?: () => Promise<void>): Promise<SqlDatabase> {
  // PGlite serialises an array parameter (`$1::vector[]`, store/chunk-search.ts) only for the
  // array types it found when it opened; on a new data directory pgvector would come later,
  // from migration 001 (which keeps its own IF NOT EXISTS), and such a parameter would be sent
  // as text that PostgreSQL refuses. Creating the extension first and reading the array types
  // again makes a new store send them as an opened existing one does.
  await pg.exec('CREATE EXTENSION IF NOT EXISTS vector');
  await pg.refreshArrayTypes();
  for (const [name, value] of Object.entries(HNSW_SESSION_SETTINGS)) await pg.exec(`SET ${name} = ${value}`);
  const base = wrap(pg);
  await sendBinaryParams(pg, base);
  // Statements and transactions sent and not settled: PGlite runs them one at a time.
  let pending = 0;
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    pending++;
    try {
      return await work();
    } finally {
      pending--;
    }
  };
  return {
    engine: 'pglite',
    busy: () => pending > 0,
    query: <T extends Record<string, unknown>>(sql: string, params?: unknown[]) =>
      counted(() => base.query<T>(sql, params)),
    exec: (sql) => counted(() => base.exec(sql)),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>, o: TransactionOptions = {}) =>
      counted(() =>
        pg.transaction(async (tx) => {
          const t = abortable(wrap(tx), o.signal);
          await lockForTransaction(t, o.lockKeys ?? []);
          const out = await fn(t);
          // Aborted during the last statement: roll back rather than commit.
          o.signal?.throwIfAborted();
          return out;
        }),
      ),
    close: async () => {
      try {
        await pg.close();
      } finally {
        await onClose?.();
      }
    },
  };
}

/**
 * A directory's data files are used by one process at a time (PGlite has no locking of its
 * own: two writers corrupt them), so a lock older than this belongs to a crashed process, ms.
 * The holder refreshes it every half of this.
 */
const DATA_DIR_LOCK_STALE_MS = 30_000;

/**
 * Opens (creating if needed) a PGlite database with pgvector. An on-disk database is locked
 * against other openers (the lock directory `<dataDir>.lock`, beside it) until closed.
 * @param dataDir directory for the data files, or `memory://` / undefined for an in-memory database.
 * @throws TriageError `TRIAGE_STORE_UNAVAILABLE` at once when another open store (this process
 *   or another, e.g. the running server) holds `dataDir`.
 */
export async function openPglite(dataDir?: string): Promise<SqlDatabase> {
  if (isInMemory(dataDir)) return asDatabase(await PGlite.create(undefined, { extensions: { vector } }));
  const dir = resolve(dataDir!);
  mkdirSync(dir, { recursive: true });
  const lock = await acquireFileLock(
    `${dir}.lock`,
    (cause, lost) =>
      new TriageError(
        'TRIAGE_STORE_UNAVAILABLE',
        lost
          ? `the lock on the embedded store ${dir} was lost: ${cause.message}`
          : `the embedded store ${dir} is in use by another process (a running server?): stop it, or use PostgreSQL (--database-url / DATABASE_URL); ` +
              `a process killed without closing it (kill -9) holds it for up to ${DATA_DIR_LOCK_STALE_MS / 1000} s more`,
        [],
        { cause },
      ),
    { timeoutMs: 0, staleMs: DATA_DIR_LOCK_STALE_MS },
  );
  try {
    return await asDatabase(await PGlite.create(dir, { extensions: { vector } }), () => lock.release());
  } catch (e) {
    await lock.release();
    throw e;
  }
}

/**
 * Environment variable naming a file that holds a migrated in-memory database (an uncompressed
 * data-directory tarball written by {@link writeMigratedTemplate}). When it names a readable
 * file, in-memory databases are copies of it instead of a template built in this process; the
 * migrations still run after the copy is loaded, so a template older than the code is brought up
 * to date. The test suite's global setup (`test/global-setup.ts`) writes one per run, so each
 * test process skips PGlite's initdb and the migrations.
 */
export const PGLITE_TEMPLATE_ENV = 'INVOICE_TRIAGE_PGLITE_TEMPLATE';

/** Creates an in-memory database, migrates it with `migrateFn` and returns its data directory. */
async function buildTemplate(migrateFn: (db: SqlDatabase) => Promise<unknown>): Promise<Blob> {
  const pg = await PGlite.create(undefined, { extensions: { vector } });
  try {
    await migrateFn(await asDatabase(pg));
    return await pg.dumpDataDir('none');
  } finally {
    await pg.close();
  }
}

/**
 * Writes a migrated in-memory database to `file` (an uncompressed data-directory tarball, about
 * 40 MB) for {@link PGLITE_TEMPLATE_ENV}; written to a temporary name and renamed, so a reader
 * never sees a partial file.
 * @throws whatever creating, migrating or writing throws.
 */
export async function writeMigratedTemplate(
  migrateFn: (db: SqlDatabase) => Promise<unknown>,
  file: string,
): Promise<void> {
  const data = Buffer.from(await (await buildTemplate(migrateFn)).arrayBuffer());
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/** The template file named by {@link PGLITE_TEMPLATE_ENV}, or null when none is readable. */
async function sharedTemplate(): Promise<Blob | null> {
  const file = process.env[PGLITE_TEMPLATE_ENV];
  if (!file) return null;
  try {
    return new Blob([await readFile(file)]);
  } catch {
    return null;
  }
}

/** This process's migrated in-memory database, as an uncompressed data-directory tarball. */
let memoryTemplate: Promise<Blob> | undefined;

/**
 * Opens an in-memory PGlite database already migrated by `migrateFn`. The first call takes the
 * template named by {@link PGLITE_TEMPLATE_ENV} or else creates and migrates one and keeps its
 * data directory (about 40 MB); every call, the first included, loads a copy of it, which is
 * several times faster than PGlite's initdb and the migrations (figures in BENCHMARKS.md,
 * `npm run bench -- --only store-open`).
 * @throws whatever creating or migrating the template throws (the next call tries again).
 */
export async function openMigratedInMemory(
  migrateFn: (db: SqlDatabase) => Promise<unknown>,
): Promise<SqlDatabase> {
  memoryTemplate ??= (async () => (await sharedTemplate()) ?? buildTemplate(migrateFn))();
  let template: Blob;
  try {
    template = await memoryTemplate;
  } catch (e) {
    memoryTemplate = undefined;
    throw e;
  }
  return asDatabase(await PGlite.create({ loadDataDir: template, extensions: { vector } }));
}
