/**
 * PostgreSQL CPU per statement and protocol phase of the store-scale bench's scoring transaction
 * (`npx tsx bench/store-statements.ts URL [--invoices 100] [--warmup 20] [--shape spread]
 * [--line-block] [--tenant default]`): scores new invoices of the history generator
 * (bench/history.ts `tenLineInvoice`) on the database of URL as bench/store-scale.ts
 * `scoreInvoice` does (BEGIN, scoring locks, candidate search, scoring write, COMMIT; the audit
 * link the repository schedules after commit), and with `--line-block` also the line block of the invoice's lines
 * (`findEarlierLines`) inside the transaction, as scoring does. Superuser only: the backend's
 * own getrusage per protocol message (`log_statement_stats`, bench/pg-statements.ts).
 *
 * Prints one row per statement and phase (PARSE, BIND, EXECUTE or a simple QUERY): CPU ms per
 * measured invoice and messages, largest first, then the total, the mean candidates and the
 * 1-minute load. The scored invoices stay in the database: use a copy.
 */
import { loadavg } from 'node:os';
import { createRepository, migrate, openPostgres } from '../store/index.js';
import { prepare } from '../inference/stages/prepare.js';
import { DEFAULT_CANDIDATE_K, findCandidates } from '../inference/stages/candidates.js';
import { lineRebillQuery } from '../inference/stages/line-rebills.js';
import { shapeOption, tenLineInvoice, type HistoryShape } from './history.js';
import { parseBenchArgs, tenantOption } from './args.js';
import { recordStatementCpu } from './pg-statements.js';
import { scoreInvoice } from './store-scale.js';

const {
  args: [url],
  opts: values,
} = parseBenchArgs<
  [string],
  { invoices: string; warmup: string; shape: HistoryShape; tenant: string; lineBlock: boolean; first: string }
>('bench/store-statements.ts', (c) =>
  c
    .argument('<url>', 'PostgreSQL database holding the history (the scored invoices stay in it)')
    .option('--invoices <n>', 'measured invoices', '100')
    .option('--warmup <n>', 'invoices scored before measuring', '20')
    .addOption(shapeOption('spread'))
    .addOption(tenantOption())
    .option('--line-block', 'also search the earlier lines of each invoice in its transaction', false)
    .option('--first <n>', 'number of the first generated invoice', '30000000'),
);
const shape = values.shape;
const n = Number(values.invoices);
const warmup = Number(values.warmup);
const tenant = values.tenant;
const tag = `st${Date.now().toString(36)}`;
let next = Number(values.first);

const recorder = recordStatementCpu(60);
const db = await openPostgres({ connectionString: url, maxConnections: 1, idleTimeoutMillis: 0 });
await migrate(db);
const repo = createRepository(db);
let candidates = 0;
const score = async (): Promise<void> => {
  const inv = tenLineInvoice(next++, tag, true, shape);
  if (!values.lineBlock) {
    candidates += (await scoreInvoice(repo, tenant, inv)).candidates;
    return;
  }
  const p = prepare(inv);
  await repo.withScoringLock(tenant, p.lockKeys, async (tx) => {
    const found = await findCandidates(tx, p, DEFAULT_CANDIDATE_K);
    candidates += found.candidates.length;
    const q = lineRebillQuery(p);
    if (q) await tx.findEarlierLines(q);
    await tx.insert(inv, 'bench', p.keys, {
      decision_id: crypto.randomUUID(),
      invoice_id: inv.invoice_id,
      decision: 'AUTO_APPROVE',
      priority: 0,
      scores: { coding_mismatch: 0.01, duplicate: 0 },
      reasons: [],
      duplicates: [],
      lines: [],
      versions: { models: {}, feature_schema: 'bench', policy: 'bench', reference_data: 'bench' },
      created_at: new Date().toISOString(),
    });
  });
};
for (let i = 0; i < warmup; i++) await score();
await repo.audit.link(tenant);
// Only what the measured invoices cost: the warm-up's totals are subtracted.
const before = new Map(recorder.snapshot().map((s) => [s.statement, s]));
candidates = 0;
const load0 = loadavg()[0]!;
for (let i = 0; i < n; i++) await score();
await repo.audit.link(tenant);
const load1 = loadavg()[0]!;
const rows = recorder
  .stop()
  .map((s) => ({
    statement: s.statement,
    calls: s.calls - (before.get(s.statement)?.calls ?? 0),
    cpuMs: s.cpuMs - (before.get(s.statement)?.cpuMs ?? 0),
  }))
  .filter((s) => s.calls > 0)
  .sort((a, b) => b.cpuMs - a.cpuMs);
await repo.close();
for (const s of rows)
  console.log(`${(s.cpuMs / n).toFixed(3).padStart(7)} ms ${String(s.calls).padStart(6)}  ${s.statement}`);
const total = rows.reduce((a, s) => a + s.cpuMs, 0);
console.log(
  `total ${(total / n).toFixed(3)} ms PG CPU per invoice (${n} invoices, ${(candidates / n).toFixed(1)} candidates each); load ${load0.toFixed(1)} -> ${load1.toFixed(1)}`,
);
