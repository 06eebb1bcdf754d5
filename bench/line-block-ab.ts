/**
 * Two checkouts' line block on one filled database, taking turns (`npx tsx bench/line-block-ab.ts
 * BEFORE_DIR AFTER_DIR URL [--invoices 60] [--turn 10] [--shape spread] [--tenant default]
 * [--plans window,recent-first] [--after-url URL2]`; `--plans` gives each tree's `LineBlockPlan`, e.g. the same tree
 * twice to compare the whole-window plan of a small tenant with the recent-first one; `--after-url`
 * a second database for AFTER, the same history imported or migrated by that tree, to compare two
 * schemas, e.g. indexes):
 * each tree's `findEarlierLines` (store/line-rebills.ts of that tree) searches the earlier lines
 * of the same new invoices of the history generator (bench/history.ts `tenLineInvoice`, new lot
 * numbers) on its own connection, inside a scoring-like transaction (`oltp`) that is rolled back.
 * Turns of `--turn` invoices, the order of the trees swapped every turn, after one untimed turn each.
 *
 * Prints each tree's PostgreSQL backend CPU per invoice (/proc, 10 ms ticks summed over its
 * turns), their ratio, the mean earlier lines returned, how many invoices got different rows in
 * the two trees (every field, in order) and the 1-minute load average.
 */
import { loadavg } from 'node:os';
import type { EarlierLine, LineRebillQuery } from '../store/line-rebills.js';
import type { SqlDatabase } from '../store/index.js';
import { backendCpuMs } from './pg-cpu.js';
import { shapeOption, type HistoryShape, type tenLineInvoice as TenLineInvoice } from './history.js';
import { parseBenchArgs, turnsOnDatabase } from './args.js';
import { alternateTurns, openBackend, rolledBack } from './turns.js';
import type { prepare as Prepare } from '../inference/stages/prepare.js';
import type { lineRebillQuery as LineRebillQueryOf } from '../inference/stages/line-rebills.js';

/** A tree's embeddings transport: `binary` before store/sql.ts `vectorTransportOf`, its answer after. */
type Transport = 'binary' | { vectorOid: number };

type Find = (db: unknown, q: LineRebillQuery, transport: Transport, plan?: string) => Promise<EarlierLine[]>;

/** One tree's line block and its running totals. */
interface Tree {
  dir: string;
  find: Find;
  transport: Transport;
  db: SqlDatabase;
  pid: number;
  cpuMs: number;
  results: string[];
  lines: number;
  /** The line block's plan (`LineBlockPlan` of store/line-rebills.ts), or undefined: the tree's default. */
  plan: string | undefined;
}

async function openTree(dir: string, url: string, plan: string | undefined): Promise<Tree> {
  const m = (await import(`${dir}/store/line-rebills.ts`)) as { findEarlierLines: Find };
  const sql = (await import(`${dir}/store/sql.ts`)) as {
    vectorTransportOf?: (db: SqlDatabase) => Promise<Transport>;
  };
  const { db, pid } = await openBackend(url);
  const transport = (await sql.vectorTransportOf?.(db)) ?? 'binary';
  return { dir, find: m.findEarlierLines, transport, db, pid, cpuMs: 0, results: [], lines: 0, plan };
}

async function search(t: Tree, queries: readonly LineRebillQuery[], keep: boolean): Promise<void> {
  const cpu0 = backendCpuMs(t.pid);
  for (const q of queries) {
    const found = await rolledBack(t.db, (tx) => t.find(tx, q, t.transport, t.plan));
    if (keep) {
      t.results.push(JSON.stringify(found));
      t.lines += found.length;
    }
  }
  if (keep) t.cpuMs += backendCpuMs(t.pid)! - cpu0!;
}

async function main(): Promise<void> {
  const {
    args: [before, after, url],
    opts: values,
  } = parseBenchArgs<
    [string, string, string],
    { invoices: string; turn: string; shape: HistoryShape; tenant: string; plans?: string; afterUrl?: string }
  >('bench/line-block-ab.ts', (c) =>
    turnsOnDatabase(c, { invoices: '60', turn: '10' })
      .addOption(shapeOption('spread'))
      .option('--plans <a,b>', "each tree's LineBlockPlan (store/line-rebills.ts; default: the tree's own)")
      .option('--after-url <url>', "AFTER's database (default URL): the same history in AFTER's schema"),
  );
  const shape = values.shape;
  const n = Number(values.invoices);
  const turn = Number(values.turn);
  const { tenLineInvoice } = (await import(`${after}/bench/history.ts`)) as {
    tenLineInvoice: typeof TenLineInvoice;
  };
  const { prepare } = (await import(`${after}/inference/stages/prepare.ts`)) as { prepare: typeof Prepare };
  const { lineRebillQuery } = (await import(`${after}/inference/stages/line-rebills.ts`)) as {
    lineRebillQuery: typeof LineRebillQueryOf;
  };
  const tag = `lb${Date.now().toString(36)}`;
  const queries = Array.from({ length: n + turn }, (_, i) => ({
    ...lineRebillQuery(prepare(tenLineInvoice(20_000_000 + i * 37, tag, true, shape)))!,
    tenantId: values.tenant,
  }));
  const plans = values.plans?.split(',') ?? [];
  const trees = [
    await openTree(before, url, plans[0]),
    await openTree(after, values.afterUrl ?? url, plans[1]),
  ];
  const load0 = loadavg()[0]!;
  await alternateTurns(trees, queries, turn, search);
  const differ = trees[0]!.results.filter((r, i) => r !== trees[1]!.results[i]).length;
  for (const t of trees)
    console.log(
      `${t.dir}: ${(t.cpuMs / n).toFixed(2)} ms PG CPU per invoice, ${(t.lines / n).toFixed(1)} earlier lines`,
    );
  console.log(
    `after / before CPU ${(trees[1]!.cpuMs / trees[0]!.cpuMs).toFixed(3)}; invoices differing ${differ} of ${n}; load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`,
  );
  for (const t of trees) await t.db.close();
}

await main();
