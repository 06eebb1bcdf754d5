/**
 * The batch chunk's three statements that send embeddings, for two checkouts taking turns
 * (`npx tsx bench/vector-wire-ab.ts BEFORE_DIR AFTER_DIR URL [--invoices 2000] [--turn 100]
 * [--history 1000]`): the chunk's candidate search (store/chunk-search.ts `searchMany`), its line
 * block (store/line-rebills.ts `findEarlierLinesMany`, whole-window plan) and its scoring write
 * (store/scoring-write.ts `insertScoredMany`), each tree's own code with its own embeddings
 * transport (store/sql.ts `vectorTransportOf` where the tree has it, else `binary`), for turns of
 * `--turn` new 10-line invoices of the vendors of `--history` imported invoices, inside a
 * transaction that is rolled back, each tree on its own connection. One untimed turn each, then
 * the order swapped every turn.
 *
 * Prints per tree the PostgreSQL backend CPU (/proc, 10 ms ticks) and this process's CPU (the
 * encoding and the driver, both trees in one process) per invoice, their ratios, and the 1-minute
 * load average before and after.
 */
import { loadavg } from 'node:os';
import { BLOCKING_SPEC } from '../core/blocking.js';
import type { Invoice } from '../core/invoice.js';
import { candidateQuery } from '../inference/stages/candidates.js';
import { lineRebillQuery } from '../inference/stages/line-rebills.js';
import { indexKeysOf, prepare } from '../inference/stages/prepare.js';
import { openStore, type SqlDatabase, type SqlExecutor } from '../store/index.js';
import type { ScoredRow } from '../store/scoring-write.js';
import { decisionFor } from '../test/fixtures.js';
import { parseBenchArgs, turnsOnDatabase } from './args.js';
import { tenLineInvoice } from './history.js';
import { backendCpuMs } from './pg-cpu.js';
import { alternateTurns, openBackend, rolledBack } from './turns.js';

type Transport = 'binary' | { vectorOid: number };
const TENANT = 'vecwire';
const SEARCH = {
  exactSearchMaxRows: BLOCKING_SPEC.exactSearchMaxRows,
  vendorWindowDays: BLOCKING_SPEC.vendorWindowDays,
  vendorRecentLimit: BLOCKING_SPEC.vendorRecentLimit,
};

/** One tree's three statements and its running totals. */
interface Tree {
  dir: string;
  db: SqlDatabase;
  pid: number;
  transport: Transport;
  chunk: (tx: SqlExecutor, invoices: readonly Invoice[], transport: Transport) => Promise<void>;
  pgMs: number;
  nodeMs: number;
}

async function openTree(dir: string, url: string): Promise<Tree> {
  const sql = (await import(`${dir}/store/sql.ts`)) as {
    vectorTransportOf?: (db: SqlDatabase) => Promise<Transport>;
  };
  const { searchMany } = (await import(`${dir}/store/chunk-search.ts`)) as {
    searchMany: (...a: unknown[]) => Promise<unknown>;
  };
  const { findEarlierLinesMany } = (await import(`${dir}/store/line-rebills.ts`)) as {
    findEarlierLinesMany: (...a: unknown[]) => Promise<unknown>;
  };
  const { insertScoredMany } = (await import(`${dir}/store/scoring-write.ts`)) as {
    insertScoredMany: (...a: unknown[]) => Promise<void>;
  };
  const { db, pid } = await openBackend(url);
  const transport = (await sql.vectorTransportOf?.(db)) ?? 'binary';
  let pk = 0;
  const chunk: Tree['chunk'] = async (tx, invoices, t) => {
    const prepared = invoices.map(prepare);
    await searchMany(
      tx,
      TENANT,
      prepared.map((p) => candidateQuery(p, BLOCKING_SPEC.k)),
      SEARCH,
      t,
    );
    await findEarlierLinesMany(tx, TENANT, prepared.map(lineRebillQuery), 250, t, 'window');
    const rows: ScoredRow[] = prepared.map((p) => ({
      pk: `00000000-0000-4000-8000-${String(++pk).padStart(12, '0')}`,
      invoice: p.invoice,
      payloadSha256: p.sha256,
      keys: indexKeysOf(p.features),
      decision: decisionFor(p.invoice),
      extras: {},
    }));
    await insertScoredMany(tx, TENANT, rows, t);
  };
  return { dir, db, pid, transport, chunk, pgMs: 0, nodeMs: 0 };
}

/** Invoice `i` of `tag`, of vendor `i` mod 50 (bench/batch.ts's vendors). */
function invoiceOf(i: number, tag: string): Invoice {
  const inv = tenLineInvoice(i, tag, true);
  const v = i % 50;
  return { ...inv, vendor: { id: `V-${v}`, name: `Vendor ${v} Medical Supply LLC` } };
}

async function main(): Promise<void> {
  const {
    args: [before, after, url],
    opts,
  } = parseBenchArgs<[string, string, string], { invoices: string; turn: string; history: string }>(
    'bench/vector-wire-ab.ts',
    (c) =>
      turnsOnDatabase(c, { invoices: '2000', turn: '100' }).option(
        '--history <n>',
        'invoices imported first',
        '1000',
      ),
  );
  const repo = await openStore({ engine: 'postgres', connectionString: url });
  const history = Array.from({ length: Number(opts.history) }, (_, i) => {
    const p = prepare(invoiceOf(i, 'vwh'));
    return { location: `/${i}`, invoice: p.invoice, payloadSha256: p.sha256, keys: indexKeysOf(p.features) };
  });
  for (let i = 0; i < history.length; i += 500)
    await repo.history.importChunk(TENANT, history.slice(i, i + 500), null);
  await repo.close();

  const n = Number(opts.invoices);
  const turn = Number(opts.turn);
  const invoices = Array.from({ length: n + turn }, (_, i) => invoiceOf(100_000 + i, 'vwn'));
  const trees = [await openTree(before, url), await openTree(after, url)];
  const load0 = loadavg()[0]!;
  await alternateTurns(trees, invoices, turn, async (t, batch, keep) => {
    const pg0 = backendCpuMs(t.pid)!;
    const node0 = process.cpuUsage();
    await rolledBack(t.db, (tx) => t.chunk(tx, batch, t.transport));
    if (!keep) return;
    const node = process.cpuUsage(node0);
    t.nodeMs += (node.user + node.system) / 1000;
    t.pgMs += backendCpuMs(t.pid)! - pg0;
  });
  for (const t of trees)
    console.log(
      JSON.stringify({
        tree: t.dir,
        pgCpuMsPerInvoice: t.pgMs / n,
        nodeCpuMsPerInvoice: t.nodeMs / n,
      }),
    );
  const [a, b] = trees as [Tree, Tree];
  console.log(
    JSON.stringify({
      pgRatioAfterOverBefore: b.pgMs / a.pgMs,
      nodeRatioAfterOverBefore: b.nodeMs / a.nodeMs,
      load: [load0, loadavg()[0]!],
    }),
  );
  for (const t of trees) await t.db.close();
}

await main();
