/**
 * Opening an in-memory PGlite store (`npm run bench -- --only store-open`): `n` opens each way,
 * alternating so that other load on the machine affects both alike:
 * - `initdb + migrations`: a fresh PGlite (initdb in WebAssembly) migrated from nothing;
 * - `template copy`: {@link openDatabase}, which loads a copy of this process's migrated
 *   template (built once, before the timed opens).
 * Reported as median milliseconds per open and their ratio, with the load average.
 */
import { loadavg } from 'node:os';
import Table from 'cli-table3';
import { migrate, openDatabase, openPglite } from '../store/index.js';
import { fmt } from './stats.js';

/** Figures of {@link runStoreOpenBenchmark}: medians in milliseconds. */
export interface StoreOpenResult {
  opens: number;
  initdbMigrateMs: number;
  templateCopyMs: number;
  /** initdbMigrateMs / templateCopyMs. */
  speedup: number;
  /** 1-minute load average before and after. */
  load: [number, number];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(open: () => Promise<{ close(): Promise<void> }>): Promise<number> {
  const t0 = performance.now();
  const db = await open();
  const ms = performance.now() - t0;
  await db.close();
  return ms;
}

/** Times `n` opens of each kind (after one untimed open that builds the template). */
export async function runStoreOpenBenchmark(n: number): Promise<StoreOpenResult> {
  const before = loadavg()[0]!;
  await (await openDatabase({ engine: 'pglite' })).close();
  const fresh: number[] = [];
  const copy: number[] = [];
  for (let i = 0; i < n; i++) {
    fresh.push(
      await timed(async () => {
        const db = await openPglite();
        await migrate(db);
        return db;
      }),
    );
    copy.push(await timed(() => openDatabase({ engine: 'pglite' })));
  }
  const initdbMigrateMs = median(fresh);
  const templateCopyMs = median(copy);
  return {
    opens: n,
    initdbMigrateMs,
    templateCopyMs,
    speedup: initdbMigrateMs / templateCopyMs,
    load: [before, loadavg()[0]!],
  };
}

/** The result as a table. */
export function storeOpenTable(r: StoreOpenResult): string {
  const t = new Table({ head: ['opens', 'initdb + migrations ms', 'template copy ms', 'speed-up', 'load'] });
  t.push([
    String(r.opens),
    fmt(r.initdbMigrateMs),
    fmt(r.templateCopyMs),
    `${r.speedup.toFixed(1)}x`,
    `${r.load[0].toFixed(1)} -> ${r.load[1].toFixed(1)}`,
  ]);
  return t.toString();
}
