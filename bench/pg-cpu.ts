/**
 * PostgreSQL backend CPU of a process's connections, read from /proc/<pid>/stat (PostgreSQL on
 * this machine): user + system time of each backend.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** `application_name` of the benches' sampling connections, which the samplers leave out. */
export const BENCH_TRACKER = 'bench-tracker';

/**
 * CPU time a backend process has used so far, ms (user + system), or null when its /proc entry
 * is not readable (another machine, or the backend exited). `statPath` reads another stat file of
 * the same format instead (a thread's, `/proc/PID/task/TID/stat`).
 */
export function backendCpuMs(pid: number, statPath = `/proc/${pid}/stat`): number | null {
  try {
    const f = readFileSync(statPath, 'utf8').split(') ')[1]!.split(' ');
    // Fields 14 and 15 of stat (utime, stime, in clock ticks of 10 ms), counted after the ") "
    // that ends the command name.
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** A running measurement of {@link trackBackendCpu}. */
export interface BackendCpuTracker {
  /** Stops sampling. @returns CPU ms the database's client backends used since the start. */
  stop(): Promise<number>;
}

/**
 * Measures the CPU of every client backend of `url`'s database (other than the samplers'
 * connections, {@link BENCH_TRACKER}) from now until `stop()`: backends present at the start count from their CPU then,
 * backends opened later from zero. Sampled every `everyMs` so a backend that exits in between
 * keeps its last reading. Meant for a database only the measured process uses.
 */
export async function trackBackendCpu(url: string, everyMs = 250): Promise<BackendCpuTracker> {
  const client = new pg.Client({ connectionString: url, application_name: BENCH_TRACKER });
  await client.connect();
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const sample = async (): Promise<void> => {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
          AND application_name <> '${BENCH_TRACKER}'`,
    );
    for (const { pid } of rows) {
      const ms = backendCpuMs(pid);
      if (ms === null) continue;
      if (!last.has(pid)) first.set(pid, started ? 0 : ms);
      last.set(pid, ms);
    }
  };
  let started = false;
  await sample();
  started = true;
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pending = pending.then(sample).catch(() => undefined);
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      await sample();
      await client.end();
      let total = 0;
      for (const [pid, ms] of last) total += ms - (first.get(pid) ?? 0);
      return total;
    },
  };
}
