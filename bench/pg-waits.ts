/**
 * What a database's client backends are doing, sampled from `pg_stat_activity`: on CPU,
 * waiting for their client inside a transaction (the process computing while the
 * transaction and its locks stay open), waiting for a lock, or waiting on I/O.
 */
import pg from 'pg';
import { BENCH_TRACKER } from './pg-cpu.js';

/** A running measurement of {@link trackBackendStates}. */
export interface BackendStateTracker {
  /**
   * Stops sampling.
   * @returns per state, the mean number of the database's client backends in it over the
   *   samples (0.5 = one backend half of the time; the states of several backends add up).
   */
  stop(): Promise<Record<string, number>>;
}

/**
 * Samples the client backends of `url`'s database (other than the samplers' connections,
 * {@link BENCH_TRACKER})
 * every `everyMs` until `stop()`. States: `cpu` (active, no wait event), `in transaction,
 * waiting for the client`, `lock: <wait event>` (advisory, transactionid...), otherwise the
 * wait event type (`IO`, `LWLock`, `Client`). Idle backends are not counted. Meant for a
 * database only the measured process uses; the sampler's own backend CPU is not counted by
 * `trackBackendCpu` (bench/pg-cpu.ts; same application name).
 */
export async function trackBackendStates(url: string, everyMs = 20): Promise<BackendStateTracker> {
  return sampleLabels(
    url,
    everyMs,
    'backend_states',
    `SELECT CASE WHEN state = 'idle in transaction' THEN 'in transaction, waiting for the client'
       WHEN wait_event_type = 'Lock' THEN 'lock: ' || wait_event
       WHEN wait_event_type IS NOT NULL THEN wait_event_type
       ELSE 'cpu' END AS s
     FROM pg_stat_activity
     WHERE datname = current_database() AND backend_type = 'client backend'
       AND application_name <> '${BENCH_TRACKER}' AND state IN ('active', 'idle in transaction')`,
  );
}

/**
 * Samples every `everyMs` the database's client backends (other than {@link BENCH_TRACKER}
 * connections) waiting for a lock (`pg_locks`, not granted), each named by the table it waits
 * on: the table of the lock itself, or for a row lock (a wait on the holder's `transactionid`)
 * the table of the tuple lock the waiter holds; otherwise the lock type (`advisory`, or
 * `transactionid` for a wait on another transaction's insert of the same key) and the table the
 * waiting statement writes (`transactionid (INSERT INTO drift_counts)`).
 * @returns a tracker whose `stop()` gives, per table, the mean number of backends waiting on it.
 */
export async function trackLockWaits(url: string, everyMs = 50): Promise<BackendStateTracker> {
  return sampleLabels(
    url,
    everyMs,
    'lock_waits',
    `SELECT coalesce(c.relname, w.locktype || coalesce(' (' ||
       substring(a.query from '(?i)(?:insert into|update|delete from)\\s+\\w+') || ')', '')) AS s
     FROM pg_locks w JOIN pg_stat_activity a ON a.pid = w.pid
     LEFT JOIN LATERAL (SELECT t.relation FROM pg_locks t
                        WHERE t.pid = w.pid AND t.locktype = 'tuple' AND t.granted LIMIT 1) t ON true
     LEFT JOIN pg_class c ON c.oid = coalesce(w.relation, t.relation)
     WHERE NOT w.granted AND a.datname = current_database() AND a.backend_type = 'client backend'
       AND a.application_name <> '${BENCH_TRACKER}'`,
  );
}

/** Runs `text` (one label `s` per row) every `everyMs` until `stop()`; the mean rows per label. */
async function sampleLabels(
  url: string,
  everyMs: number,
  name: string,
  text: string,
): Promise<BackendStateTracker> {
  const client = new pg.Client({ connectionString: url, application_name: BENCH_TRACKER });
  await client.connect();
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ s: string }>({ name, text });
      samples++;
      for (const r of rows) counts.set(r.s, (counts.get(r.s) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
      return Object.fromEntries(
        [...counts].sort((a, b) => b[1] - a[1]).map(([s, n]) => [s, samples ? n / samples : 0]),
      );
    },
  };
}
