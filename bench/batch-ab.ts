/**
 * Two checkouts' batch scoring on PostgreSQL in one process, taking turns (`npx tsx
 * bench/batch-ab.ts BEFORE_DIR AFTER_DIR [--invoices 300] [--chunk 100] [--rounds 2]
 * [--concurrency 1,1]`): each round runs each tree's chunked batch ({@link runBatchBenchmark} of that tree's bench/batch.ts)
 * on a fresh schema of `BENCH_DATABASE_URL` (default `TEST_DATABASE_URL`), the order swapped
 * every round, and drops the schema after; first, one untimed run of 50 invoices per tree warms
 * the JIT and the memos (the process's first run costs more CPU per invoice otherwise). Prints
 * one JSON line per run (lines/s, node and PostgreSQL CPU ms per invoice, cores busy, PostgreSQL
 * backends per state, 1-minute load) and the ratio of the trees' summed CPU (node and PostgreSQL). `--concurrency` gives each
 * tree's chunk jobs in flight (the same checkout twice with `1,2` compares one chunk at a time
 * with a worker's default of two; a checkout whose bench predates the option scores one at a time).
 * Each run line carries `stored`, digests of what the run stored ({@link storedDigest}; with
 * `BATCH_AB_DUMP=PREFIX` the digested text is written to PREFIX.SCHEMA.TABLE): equal
 * across trees when they store the same rows (compare at `--concurrency 1,1`, where the chunks
 * commit in the same order).
 */
import { parseAbCommand } from './args.js';
import type { BatchRun, runBatchBenchmark as RunBatchBenchmark } from './batch.js';
import type { tenLineInvoice as TenLineInvoice } from './history.js';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { openPostgres } from '../store/postgres.js';
import type { SqlDatabase } from '../store/sql.js';

/**
 * The stored tables of a batch run and their row order: every column but the random or
 * clock-made ones (listed after the table), rows as JSON text.
 */
const DIGESTED: readonly [table: string, order: string, drop: readonly string[]][] = [
  ['invoices', 'invoice_id', ['pk', 'reverses_invoice_pk', 'created_at']],
  [
    'invoice_lines',
    '(SELECT i.invoice_id FROM invoices i WHERE i.pk = t.invoice_pk), line_number',
    ['invoice_pk'],
  ],
  [
    'decisions',
    '(SELECT i.invoice_id FROM invoices i WHERE i.pk = t.invoice_pk)',
    ['id', 'invoice_pk', 'created_at'],
  ],
  ['audit_log', 'seq', ['ts', 'payload_sha256', 'prev_hash', 'hash']],
  ['audit_outbox', 'id', ['id', 'ts', 'payload_sha256']],
  ['events', 'seq', ['id', 'time']],
  ['vendor_code_counts', 'vendor_id, code', []],
  ['vendor_code_bins', 'vendor_id, code, metric, bin', []],
  ['batch_items', 'idx', ['batch_id', 'decision_id', 'updated_at']],
];

/**
 * sha256 (first 8 hex digits) per table of the rows a run stored in `schema` ({@link DIGESTED}),
 * with every UUID and every timestamp (date and time) in them replaced by a placeholder: the ids
 * and clocks of two runs differ, what they decided and stored must not.
 */
async function storedDigest(db: SqlDatabase, schema: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, order, drop] of DIGESTED) {
    const [r] = await db.query<{ text: string | null }>(
      `SELECT regexp_replace(regexp_replace(
         string_agg((to_jsonb(t) ${drop.map((c) => `- '${c}'`).join(' ')})::text, E'\\n' ORDER BY ${order}),
         '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', 'U', 'g'),
         '\\d{4}-\\d\\d-\\d\\d[T ]\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d(:\\d\\d)?)?', 'T', 'g') AS text
       FROM ${table} t`,
    );
    if (process.env.BATCH_AB_DUMP)
      writeFileSync(`${process.env.BATCH_AB_DUMP}.${schema}.${table}`, r?.text ?? '');
    out[table] = createHash('sha256')
      .update(r?.text ?? '')
      .digest('hex')
      .slice(0, 8);
  }
  return out;
}

async function main(): Promise<void> {
  const { trees: dirs, opts: o } = parseAbCommand<{
    invoices: string;
    chunk: string;
    rounds: string;
    concurrency: string;
  }>((c) =>
    c
      .option('--invoices <n>', 'invoices per run', '300')
      .option('--chunk <n>', 'batch chunk size', '100')
      .option('--rounds <n>', 'runs per tree', '2')
      .option('--concurrency <a,b>', "each tree's chunk jobs in flight", '1,1'),
  );
  const concurrency = o.concurrency.split(',').map(Number);
  if (concurrency.length !== 2 || !concurrency.every((c) => Number.isInteger(c) && c >= 1))
    throw new Error('--concurrency takes two positive integers, e.g. 1,2');
  const connectionString = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!connectionString) throw new Error('set BENCH_DATABASE_URL or TEST_DATABASE_URL');
  const trees = await Promise.all(
    dirs.map(async (dir, k) => {
      const { runBatchBenchmark } = (await import(`${dir}/bench/batch.ts`)) as {
        runBatchBenchmark: typeof RunBatchBenchmark;
      };
      const { tenLineInvoice } = (await import(`${dir}/bench/history.ts`)) as {
        tenLineInvoice: typeof TenLineInvoice;
      };
      return { dir, concurrency: concurrency[k]!, runBatchBenchmark, tenLineInvoice, cpuMs: 0, invoices: 0 };
    }),
  );
  const runOn = async (
    t: (typeof trees)[number],
    schema: string,
    invoices: number,
  ): Promise<BatchRun & { stored: Record<string, string> }> => {
    try {
      const [run] = await t.runBatchBenchmark(
        { engine: 'postgres', connectionString, schema },
        invoices,
        Number(o.chunk),
        t.tenLineInvoice,
        ['chunked'],
        t.concurrency,
      );
      const db = await openPostgres({ connectionString, schema });
      try {
        return { ...run!, stored: await storedDigest(db, schema) };
      } finally {
        await db.close();
      }
    } finally {
      const db = await openPostgres({ connectionString, schema });
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await db.close();
    }
  };
  for (const [k, t] of trees.entries()) await runOn(t, `bench_batch_ab_warm_${k}`, 50);
  for (let round = 0; round < Number(o.rounds); round++) {
    for (const [k, t] of (round % 2 === 0 ? trees : [...trees].reverse()).entries()) {
      const run = await runOn(t, `bench_batch_ab_${round}_${k}`, Number(o.invoices));
      t.cpuMs += (run.nodeCpuMsPerInvoice + run.pgCpuMsPerInvoice) * run.invoices;
      t.invoices += run.invoices;
      console.log(
        JSON.stringify({
          tree: t.dir,
          concurrency: t.concurrency,
          round,
          linesPerSecond: run.linesPerSecond,
          nodeCpuMsPerInvoice: run.nodeCpuMsPerInvoice,
          pgCpuMsPerInvoice: run.pgCpuMsPerInvoice,
          // Node and PostgreSQL CPU over the wall time (at most 2 on this machine).
          coresBusy: ((run.nodeCpuMsPerInvoice + run.pgCpuMsPerInvoice) * run.invoices) / 1000 / run.seconds,
          backendStates: run.backendStates,
          load: run.load1,
          stored: run.stored,
        }),
      );
    }
  }
  const perInvoice = trees.map((t) => t.cpuMs / t.invoices);
  console.log(JSON.stringify({ cpuMsPerInvoice: perInvoice, ratio: perInvoice[0]! / perInvoice[1]! }));
}

await main();
