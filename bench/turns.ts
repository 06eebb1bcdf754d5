/**
 * What the benches that let two checkouts take turns on one filled database share
 * (bench/search-ab.ts, bench/line-block-ab.ts; bench/statement-parts.ts its backend): one
 * connection per tree whose backend CPU is read from /proc, statements run in a scoring-like
 * transaction that is rolled back, and the order of the turns.
 */
import { openPostgres, type SqlDatabase, type SqlExecutor } from '../store/index.js';

/** A pool of one connection to `url`, kept open, and the process id of its backend (for `backendCpuMs`). */
export async function openBackend(url: string): Promise<{ db: SqlDatabase; pid: number }> {
  const db = await openPostgres({ connectionString: url, maxConnections: 1, idleTimeoutMillis: 0 });
  const pid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
  return { db, pid };
}

/**
 * `fn`'s result, run inside a scoring-like transaction (`oltp`) of `db` that is then rolled
 * back, so nothing is written and every tree sees the same database.
 * @throws what `fn` throws.
 */
export async function rolledBack<T>(db: SqlDatabase, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  const marker = Symbol('rollback');
  return db
    .transaction(
      async (tx) => {
        const value = await fn(tx);
        throw Object.assign(new Error('rollback'), { [marker]: { value } });
      },
      { oltp: true },
    )
    .catch((e: Record<symbol, { value: T } | undefined>) => {
      const kept = e[marker];
      if (!kept) throw e;
      return kept.value;
    });
}

/**
 * Runs `queries` through every tree in turns of `turn` queries: first one untimed turn each
 * (`keep` false), then the rest, the order of the trees swapped every turn (`keep` true).
 */
export async function alternateTurns<T, Q>(
  trees: readonly T[],
  queries: readonly Q[],
  turn: number,
  run: (tree: T, queries: readonly Q[], keep: boolean) => Promise<void>,
): Promise<void> {
  for (const t of trees) await run(t, queries.slice(0, turn), false);
  for (let i = turn, k = 0; i < queries.length; i += turn, k++)
    for (const t of k % 2 === 0 ? trees : [...trees].reverse())
      await run(t, queries.slice(i, i + turn), true);
}
