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
  const client = new pg.Client({ connectionString: url, application_name: BENCH_TRACKER });
  await client.connect();
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ s: string }>({
        name: 'backend_states',
        text: `SELECT CASE WHEN state = 'idle in transaction' THEN 'in transaction, waiting for the client'
                 WHEN wait_event_type = 'Lock' THEN 'lock: ' || wait_event
                 WHEN wait_event_type IS NOT NULL THEN wait_event_type
                 ELSE 'cpu' END AS s
               FROM pg_stat_activity
               WHERE datname = current_database() AND backend_type = 'client backend'
                 AND application_name <> '${BENCH_TRACKER}' AND state IN ('active', 'idle in transaction')`,
      });
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
