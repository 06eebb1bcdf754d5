/**
 * PostgreSQL CPU of the parts of the candidate search or of the line block on a filled database
 * (`npx tsx bench/statement-parts.ts URL search|lines [--invoices N] [--parts a,b] [--tree DIR]
 * [--shape spread] [--tenant default]`): the statement of `--tree`'s store/candidates.ts or
 * store/line-rebills.ts (default this checkout) for new invoices of the history generator
 * (bench/history.ts `tenLineInvoice`), each part as the same statement with only that part in its
 * last SELECT (PostgreSQL does not run a CTE that nothing reads), read-only, one `oltp`
 * transaction per statement. The parts take turns over the invoices (4 turns for the search, 3
 * for the lines; the first is not counted). Prints backend CPU per invoice (/proc, 10 ms ticks)
 * for each part and the 1-minute load average.
 *
 * Parts, search: `full`, `none` (the statement's floor), `n` (tenant count), `knn`, `vknn` (vendor
 * block), `ex` (exact keys), `blocks` (the three blocks ranked, without reading the candidates).
 * Lines: `full`, `e` (the vendor's earlier lines, materialised), `kept` (with the per-probe top N).
 */
import { loadavg } from 'node:os';
import { Argument } from 'commander';
import type * as Candidates from '../store/candidates.js';
import type * as LineRebills from '../store/line-rebills.js';
import { prepare } from '../inference/stages/prepare.js';
import { candidateQuery } from '../inference/stages/candidates.js';
import { lineRebillQuery } from '../inference/stages/line-rebills.js';
import { shapeOption, tenLineInvoice, type HistoryShape } from './history.js';
import { parseBenchArgs, tenantOption } from './args.js';
import { backendCpuMs } from './pg-cpu.js';
import { openBackend } from './turns.js';

const {
  args: [url, which],
  opts: values,
} = parseBenchArgs<
  [string, 'search' | 'lines'],
  { invoices?: string; parts?: string; tree: string; shape: HistoryShape; tenant: string }
>('bench/statement-parts.ts', (c) =>
  c
    .argument('<url>', 'PostgreSQL database holding the history')
    .addArgument(
      new Argument('<which>', 'the statement: candidate search or line block').choices(['search', 'lines']),
    )
    .option('--invoices <n>', 'invoices (default 400 for search, 20 for lines)')
    .option('--parts <a,b>', 'parts measured (default: all of the statement)')
    .option('--tree <dir>', 'checkout whose statement is measured (default: this one)', '..')
    .addOption(shapeOption('spread'))
    .addOption(tenantOption()),
);
const shape = values.shape;
const tree = values.tree === '..' ? new URL('..', import.meta.url).pathname : values.tree;
const tag = `sp${Date.now().toString(36)}`;
const invoices = (n: number, first: number) =>
  Array.from({ length: n }, (_, i) => prepare(tenLineInvoice(first + i * 37, tag, true, shape)));

/** One statement per invoice: its text with the part's last SELECT, and its parameters. */
type Statement = (part: string) => { text: string; values: unknown[] };
let statements: Statement[];
let parts: Record<string, string>;
let turns: number;
if (which === 'search') {
  const c = (await import(`${tree}/store/candidates.ts`)) as typeof Candidates;
  const opts = {
    exactSearchMaxRows: c.DEFAULT_EXACT_MAX_ROWS,
    vendorWindowDays: c.DEFAULT_VENDOR_WINDOW_DAYS,
    vendorRecentLimit: c.DEFAULT_VENDOR_RECENT_LIMIT,
  };
  parts = {
    full: '',
    none: '1',
    n: '(SELECT n FROM n)',
    knn: '(SELECT count(*) FROM knn)',
    vknn: '(SELECT count(*) FROM vknn)',
    ex: '(SELECT count(*) FROM ex)',
    blocks: '(SELECT count(*) FROM agg)',
  };
  turns = 4;
  statements = invoices(Number(values.invoices ?? 400), 50_000_000).map((p) => {
    const s = c.candidateSearchStatement({ ...candidateQuery(p, 10), tenantId: values.tenant }, opts);
    // The replay id is read only by the full SELECT: the parts name it so that the parameters match.
    return (part) => ({
      text: parts[part]
        ? s.text.replace(
            /\nSELECT \(SELECT n FROM n\)[\s\S]*$/,
            `\nSELECT ${parts[part]}, $${s.values.length}::text AS r`,
          )
        : s.text,
      values: s.values,
    });
  });
} else {
  const l = (await import(`${tree}/store/line-rebills.ts`)) as typeof LineRebills;
  parts = {
    full: '',
    e: '(SELECT count(*) FROM e), (SELECT count(*) FROM p), (SELECT count(*) FROM q)',
    kept: '(SELECT count(*) FROM kept)',
  };
  turns = 3;
  statements = invoices(Number(values.invoices ?? 20), 80_000_000).map((p) => {
    const s = l.lineBlockStatement(values.tenant, [lineRebillQuery(p)!], 'text');
    return (part) => ({
      text: parts[part] ? s.sql.replace(/\)\nSELECT k\.m[\s\S]*$/, `)\nSELECT ${parts[part]}`) : s.sql,
      values: s.params,
    });
  });
}
const names = (values.parts ?? Object.keys(parts).join(',')).split(',');
for (const name of names) if (!(name in parts)) throw new Error(`unknown part: ${name}`);
const { db, pid } = await openBackend(url);
const load0 = loadavg()[0]!;
const cpu = new Map(names.map((k) => [k, 0]));
const per = Math.ceil(statements.length / turns);
let counted = 0;
for (let turn = 0; turn < turns; turn++) {
  const slice = statements.slice(turn * per, (turn + 1) * per);
  if (turn > 0) counted += slice.length;
  for (const name of turn % 2 ? [...names].reverse() : names) {
    const c0 = backendCpuMs(pid)!;
    for (const st of slice) {
      const { text, values: v } = st(name);
      await db.transaction((tx) => tx.query(text, v, { name: `parts_${which}_${name}` }), { oltp: true });
    }
    if (turn > 0) cpu.set(name, cpu.get(name)! + backendCpuMs(pid)! - c0);
  }
}
await db.close();
for (const name of names)
  console.log(`${name.padEnd(7)} ${(cpu.get(name)! / counted).toFixed(3)} ms PG CPU per invoice`);
console.log(`${counted} invoices counted per part; load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`);
