/**
 * Two checkouts' candidate search on one filled database, taking turns (`npx tsx
 * bench/search-ab.ts BEFORE_DIR AFTER_DIR URL [--invoices 200] [--turn 20] [--tenant default]`):
 * each tree's `findCandidates` (store/candidates.ts of that tree) searches the same new
 * invoices of the history generator (bench/history.ts `tenLineInvoice`, new lot numbers) on its
 * own connection (one backend each), inside a scoring-like transaction (`oltp`) that is rolled
 * back, so nothing is written and both trees see the same database. Turns of `--turn` invoices,
 * the order of the trees swapped every turn, after one untimed turn each.
 *
 * Prints each tree's PostgreSQL backend CPU per search (/proc, 10 ms ticks summed over its
 * turns), their ratio, the mean number of candidates, how many searches returned a different
 * result in the two trees (candidates compared field by field, in order, with their sources;
 * the embedding distance to 1e-9) and the 1-minute load average.
 */
import { loadavg } from 'node:os';
import type { Invoice } from '../core/invoice.js';
import type { CandidateResult } from '../store/candidates.js';
import type { SqlDatabase } from '../store/index.js';
import { backendCpuMs } from './pg-cpu.js';
import type { tenLineInvoice as TenLineInvoice } from './history.js';
import { parseBenchArgs, turnsOnDatabase } from './args.js';
import { alternateTurns, openBackend, rolledBack } from './turns.js';
import type { prepare as Prepare } from '../inference/stages/prepare.js';
import type { candidateQuery as CandidateQueryOf } from '../inference/stages/candidates.js';

type Find = (db: unknown, q: unknown, opts: unknown) => Promise<CandidateResult>;

/** One tree's search and its running totals. */
interface Tree {
  dir: string;
  find: Find;
  opts: Record<string, number>;
  db: SqlDatabase;
  pid: number;
  cpuMs: number;
  results: string[];
  candidates: number;
}

async function openTree(dir: string, url: string): Promise<Tree> {
  const m = (await import(`${dir}/store/candidates.ts`)) as Record<string, unknown>;
  const { db, pid } = await openBackend(url);
  return {
    dir,
    find: m.findCandidates as Find,
    opts: {
      exactSearchMaxRows: m.DEFAULT_EXACT_MAX_ROWS as number,
      vendorWindowDays: m.DEFAULT_VENDOR_WINDOW_DAYS as number,
      vendorRecentLimit: m.DEFAULT_VENDOR_RECENT_LIMIT as number,
    },
    db,
    pid,
    cpuMs: 0,
    results: [],
    candidates: 0,
  };
}

/** A search's result as compared between trees: candidates in order, distances rounded. */
function digest(r: CandidateResult): string {
  return JSON.stringify({
    search: r.search,
    stored: r.stored ?? null,
    candidates: r.candidates.map((c) => ({ ...c, embeddingDistance: c.embeddingDistance.toFixed(9) })),
  });
}

async function search(t: Tree, queries: readonly unknown[], keep: boolean): Promise<void> {
  const cpu0 = backendCpuMs(t.pid);
  for (const q of queries) {
    const r = await rolledBack(t.db, (tx) => t.find(tx, q, { ...t.opts, iterative: async () => true }));
    if (keep) {
      t.results.push(digest(r));
      t.candidates += r.candidates.length;
    }
  }
  if (keep) t.cpuMs += backendCpuMs(t.pid)! - cpu0!;
}

async function main(): Promise<void> {
  const {
    args: [before, after, url],
    opts: values,
  } = parseBenchArgs<[string, string, string], { invoices: string; turn: string; tenant: string }>(
    'bench/search-ab.ts',
    (c) => turnsOnDatabase(c, { invoices: '200', turn: '20' }),
  );
  const n = Number(values.invoices);
  const turn = Number(values.turn);
  const { tenLineInvoice } = (await import(`${after}/bench/history.ts`)) as {
    tenLineInvoice: typeof TenLineInvoice;
  };
  const { prepare } = (await import(`${after}/inference/stages/prepare.ts`)) as { prepare: typeof Prepare };
  const { candidateQuery } = (await import(`${after}/inference/stages/candidates.ts`)) as {
    candidateQuery: typeof CandidateQueryOf;
  };
  const tag = `ab${Date.now().toString(36)}`;
  const queries = Array.from({ length: n + turn }, (_, i) => ({
    ...candidateQuery(prepare(tenLineInvoice(20_000_000 + i, tag) as Invoice), 10),
    tenantId: values.tenant,
  }));
  const trees = [await openTree(before, url), await openTree(after, url)];
  const load0 = loadavg()[0]!;
  await alternateTurns(trees, queries, turn, search);
  const differ = trees[0]!.results.filter((r, i) => r !== trees[1]!.results[i]).length;
  for (const t of trees)
    console.log(
      `${t.dir}: ${(t.cpuMs / n).toFixed(3)} ms PG CPU per search, ${(t.candidates / n).toFixed(1)} candidates`,
    );
  console.log(
    `after / before CPU ${(trees[1]!.cpuMs / trees[0]!.cpuMs).toFixed(3)}; searches differing ${differ} of ${n}; load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`,
  );
  for (const t of trees) await t.db.close();
}

await main();
