/**
 * The `amount` line-block statement (store/line-rebills.ts) under each `plan_cache_mode`
 * (`npx tsx bench/line-block-plan-cache.ts URL [--invoices 30] [--modes auto,force_generic_plan]`):
 * on one connection per mode, runs the named statement for new invoices of the history generator
 * (bench/history.ts `tenLineInvoice`, spread shape; the first 10 untimed) and prints PostgreSQL
 * backend CPU per invoice (10 ms ticks) per mode: how much of the statement is planning it again
 * at every call. Reads only.
 */
import { tenLineInvoice } from './history.js';
import { prepare } from '../inference/stages/prepare.js';
import { lineRebillQuery } from '../inference/stages/line-rebills.js';
import { lineBlockStatement } from '../store/line-rebills.js';
import { backendCpuMs } from './pg-cpu.js';
import { parseBenchArgs } from './args.js';
import { openBackend } from './turns.js';

const { args, opts } = parseBenchArgs<[string], { invoices: string; modes: string }>(
  'bench/line-block-plan-cache.ts',
  (c) =>
    c
      .argument('<url>', 'a filled database migrated to 110')
      .option('--invoices <n>', 'timed invoices per mode', '30')
      .option('--modes <list>', 'plan_cache_mode values, in turn', 'auto,force_generic_plan'),
);
const n = Number(opts.invoices);
const queries = Array.from({ length: n + 10 }, (_, i) => ({
  ...lineRebillQuery(prepare(tenLineInvoice(30_000_000 + i * 41, 'plancache', true, 'spread')))!,
  tenantId: 'default',
}));
for (const mode of opts.modes.split(',')) {
  const { db, pid } = await openBackend(args[0]);
  await db.exec(`SET plan_cache_mode = ${mode}`);
  let cpu0 = 0;
  for (const [k, q] of queries.entries()) {
    if (k === 10) cpu0 = backendCpuMs(pid)!;
    const st = lineBlockStatement(q.tenantId, [q], 'text', 'amount');
    await db.query(st.sql, st.params, { name: 'line_block_amount' });
  }
  console.log(`${mode}: ${((backendCpuMs(pid)! - cpu0) / n).toFixed(2)} ms PostgreSQL CPU per invoice`);
  await db.close();
}
