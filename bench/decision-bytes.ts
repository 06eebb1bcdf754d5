/**
 * Bytes per top-level field of the stored decision documents (`response`, `explanation`) of
 * the batch benchmark's 10-line invoices: `npx tsx bench/decision-bytes.ts [invoices]` with
 * BENCH_DATABASE_URL set. Scores the invoices chunked into a fresh schema, prints the mean
 * JSON text bytes of each top-level field and of `explanation.evidence`'s parts, then drops
 * the schema (kept with KEEP=1, to read the documents).
 */
import pg from 'pg';
import { runBatchBenchmark } from './batch.js';
import { tenLineInvoice } from './history.js';
import { parseBenchArgs } from './args.js';

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const {
  args: [invoices],
} = parseBenchArgs<[string]>('bench/decision-bytes.ts', (c) =>
  c.argument('[invoices]', 'ten-line invoices scored', '60'),
);
const n = Number(invoices);
const schema = `bytes_${process.pid}`;
const [run] = await runBatchBenchmark(
  { engine: 'postgres', connectionString: url, schema },
  n,
  20,
  tenLineInvoice,
  ['chunked'],
);
const c = new pg.Client({ connectionString: url });
await c.connect();
try {
  const fields = async (doc: string): Promise<void> => {
    const r = await c.query<{ key: string; bytes: number }>(
      `SELECT key, avg(octet_length(value::text))::float8 AS bytes
       FROM "${schema}".decisions, jsonb_each(${doc}) GROUP BY key ORDER BY 2 DESC`,
    );
    console.log(`\n${doc}: mean bytes per field (JSON text)`);
    for (const x of r.rows) console.log(`  ${x.key.padEnd(40)} ${x.bytes.toFixed(0).padStart(8)}`);
  };
  await fields('response');
  await fields('explanation');
  await fields(`explanation->'evidence'`);
  await fields(`explanation->'coding_mismatch'`);
  console.log('\nstored', run!.storedBytes);
} finally {
  if (!process.env.KEEP) await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
}
