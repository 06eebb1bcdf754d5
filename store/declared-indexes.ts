/**
 * The indexes the migrations declare (store/migrations: every `CREATE [UNIQUE] INDEX`, less those
 * a later migration drops), read from the migration files themselves so that their DDL has one
 * declaration. A large history import drops the read-only indexes of `invoices` and
 * `invoice_lines` and builds them after the rows ({@link suspendImportIndexes},
 * {@link ensureDeclaredIndexes}); `migrate` (every start-up) and the next import recreate any
 * that an interrupted import left missing or invalid.
 */
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { loadMigrations, type Migration } from './migrate.js';
import { lockForTransaction, lockKey, lockSharedForTransaction } from './locks.js';

/** One declared index. */
export interface DeclaredIndex {
  name: string;
  table: string;
  unique: boolean;
  /** `btree`, `hnsw`, ... (`USING`; btree when absent). */
  method: string;
  /** The migration's statement, without the trailing semicolon. */
  sql: string;
}

const CREATE_INDEX =
  /CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s+ON\s+(?:ONLY\s+)?([\w.]+)\s*(?:USING\s+(\w+))?[^;]*/gi;
const DROP_INDEX = /DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?(\w+)/gi;

/**
 * The indexes declared by `migrations` after all of them ran, in declaration order.
 * @throws Error when a migration holds an index statement this reader does not understand (so a
 *   new form cannot silently drop out of the declaration).
 */
export function declaredIndexes(migrations: readonly Migration[] = loadMigrations()): DeclaredIndex[] {
  const byName = new Map<string, DeclaredIndex>();
  for (const m of migrations) {
    const sql = m.sql.replace(/--[^\n]*/g, '');
    const events: { at: number; apply: () => void }[] = [];
    for (const c of sql.matchAll(CREATE_INDEX))
      events.push({
        at: c.index,
        apply: () =>
          byName.set(c[2]!, {
            name: c[2]!,
            table: c[3]!,
            unique: c[1] !== undefined,
            method: (c[4] ?? 'btree').toLowerCase(),
            sql: c[0].trim().replace(/\s+/g, ' '),
          }),
      });
    for (const d of sql.matchAll(DROP_INDEX)) events.push({ at: d.index, apply: () => byName.delete(d[1]!) });
    const statements = (sql.match(/\b(CREATE\s+(UNIQUE\s+)?INDEX|DROP\s+INDEX)\b/gi) ?? []).length;
    if (statements !== events.length)
      throw new Error(`migration ${m.version}_${m.name}: an index statement was not understood`);
    for (const e of events.sort((a, b) => a.at - b.at)) e.apply();
  }
  return [...byName.values()];
}

/** Tables a history import writes in bulk. */
const IMPORT_TABLES = new Set(['invoices', 'invoice_lines']);

/**
 * Declared indexes a large history import may drop and build after its rows: the non-unique
 * ones of `invoices` and `invoice_lines` (reads only: the unique and primary keys stay, since
 * the import's idempotency and the line's foreign key rely on them).
 */
export function importDeferrableIndexes(all: readonly DeclaredIndex[] = declaredIndexes()): DeclaredIndex[] {
  return all.filter((i) => IMPORT_TABLES.has(i.table) && !i.unique);
}

/** Names of the indexes present and valid (`pg_index.indisvalid`) in the current schema. */
export async function validIndexNames(db: SqlExecutor): Promise<Set<string>> {
  const rows = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_index x
       JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND x.indisvalid`,
  );
  return new Set(rows.map((r) => r.name));
}

/**
 * Drops the declared indexes of `which` that are present (a no-op for the others). Waits for the
 * statements using them to finish.
 * @returns the names dropped.
 */
export async function dropIndexes(db: SqlDatabase, which: readonly DeclaredIndex[]): Promise<string[]> {
  const present = await validIndexNames(db);
  const dropped = which.filter((i) => present.has(i.name)).map((i) => i.name);
  for (const name of dropped) await db.exec(`DROP INDEX IF EXISTS ${name}`);
  return dropped;
}

/** Options of {@link ensureDeclaredIndexes}. */
export interface EnsureIndexOptions {
  /** Only these (default: every declared index). */
  only?: readonly DeclaredIndex[];
  /**
   * `maintenance_work_mem` of each build, e.g. `1GB`, by index (PostgreSQL only); default the
   * server's setting.
   */
  memory?: (index: DeclaredIndex) => Promise<string | undefined> | string | undefined;
  /** Told before each build. */
  onBuild?: (index: DeclaredIndex) => void;
  /**
   * Tables whose indexes are built at once, each on its own connection (PostgreSQL only; default
   * 1, PGlite always 1). A table's indexes are built one after another in either case.
   */
  concurrency?: number;
}

/**
 * The missing indexes grouped by table (the order in which each table's first one comes), each
 * table's btree indexes before its others (they take seconds, the HNSW graph minutes).
 */
function buildLanes(missing: readonly DeclaredIndex[]): DeclaredIndex[][] {
  const byTable = new Map<string, DeclaredIndex[]>();
  for (const i of missing) byTable.set(i.table, [...(byTable.get(i.table) ?? []), i]);
  return [...byTable.values()].map((lane) =>
    lane.sort((a, b) => Number(a.method !== 'btree') - Number(b.method !== 'btree')),
  );
}

/**
 * Builds every declared index that is missing or invalid (an invalid one, left by an interrupted
 * concurrent build, is dropped first), each in its own transaction under a shared lock of the
 * migrations (so never during a migration) and an exclusive lock of the index (replicas starting
 * together build it once). The indexes of one table are built one after another, btree first;
 * with `concurrency` above 1 those of different tables at once (a btree build's serial merge and
 * write, and the HNSW graph's, leave a core that another table's build uses). Writers to a table
 * wait during its builds (a non-concurrent CREATE INDEX).
 * @returns the names built by this call, in the order their builds ended.
 * @throws Error when `memory` gives a size not like `512MB` or `2GB`; the store's errors.
 */
export async function ensureDeclaredIndexes(
  db: SqlDatabase,
  opts: EnsureIndexOptions = {},
): Promise<string[]> {
  const wanted = opts.only ?? declaredIndexes();
  const valid = await validIndexNames(db);
  const lanes = buildLanes(wanted.filter((i) => !valid.has(i.name)));
  const done: string[] = [];
  const build = async (index: DeclaredIndex): Promise<void> => {
    const memory = db.engine === 'postgres' ? await opts.memory?.(index) : undefined;
    if (memory !== undefined && !/^\d+(kB|MB|GB)$/.test(memory))
      throw new Error(`invalid index memory: ${memory}`);
    opts.onBuild?.(index);
    const built = await db.transaction(async (tx) => {
      if (db.engine === 'postgres') {
        await lockSharedForTransaction(tx, lockKey('migrations'));
        await lockForTransaction(tx, [lockKey('index', index.name)]);
      }
      if ((await validIndexNames(tx)).has(index.name)) return false; // built meanwhile
      if (memory !== undefined) await tx.query(`SET LOCAL maintenance_work_mem = '${memory}'`);
      await tx.query(`DROP INDEX IF EXISTS ${index.name}`);
      await tx.query(index.sql);
      return true;
    });
    if (built) done.push(index.name);
  };
  const runners = db.engine === 'postgres' ? Math.max(1, Math.floor(opts.concurrency ?? 1)) : 1;
  let next = 0;
  const runner = async (): Promise<void> => {
    for (let lane = lanes[next++]; lane; lane = lanes[next++]) for (const index of lane) await build(index);
  };
  // Every lane ends before the first error is thrown, so no build outlives the call.
  const ends = await Promise.allSettled(Array.from({ length: Math.min(runners, lanes.length) }, runner));
  const failed = ends.find((e): e is PromiseRejectedResult => e.status === 'rejected');
  if (failed) throw failed.reason;
  return done;
}
