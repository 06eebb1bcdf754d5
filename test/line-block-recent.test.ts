/**
 * The line block's passes (store/line-rebills.ts `findEarlierLinesMany`: the vendor's recent
 * invoices first, then more of them, then the whole window, each for the lines the one before did
 * not settle) find exactly the rows of the whole-window statement alone, which is the oracle here. The vendor's history has more invoices
 * in the window than the first pass reads, three invoices a day (ties at the pass's first date),
 * same-amount and other-amount lines of one code, description-only matches, invoices under the
 * vendor id with another vendor key, credit memos (one reversing an invoice in full, one in
 * part), and invoices outside the window. Several queries per statement, chunked and not, both
 * engines (PostgreSQL with both vector transports).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { BLOCKING_SPEC } from '../core/blocking.js';
import { lineRebillQuery } from '../inference/stages/line-rebills.js';
import { prepare } from '../inference/stages/prepare.js';
import {
  createRepository,
  openDatabase,
  vectorTransportOf,
  type SqlDatabase,
  type SqlExecutor,
} from '../store/index.js';
import {
  earlierLineOf,
  findEarlierLinesMany,
  lineBlockPlan,
  lineBlockStatement,
  LINE_BLOCK_CHUNK_LINES,
  LINE_BLOCK_MIDDLE_INVOICES,
  LINE_BLOCK_PASSES,
  LINE_BLOCK_RECENT_INVOICES,
  type EarlierLine,
  type LineBlockEarlyPass,
  type LineBlockPass,
  type LineBlockRow,
  type LineRebillQuery,
} from '../store/line-rebills.js';
import { decisionFor, engines, invoiceOfLines, keysOf } from './fixtures.js';
import { dropSchema } from './harness.js';

const TENANT = 'lbr';
const VENDOR = { id: 'V-LBR', name: 'Lakeview Breathing Supply' };
/** Invoices of the vendor in the window, three a day: more than the first pass reads. */
const EARLIER = LINE_BLOCK_RECENT_INVOICES + 60;
const NEW_DATE = '2025-12-01';
/**
 * The first pass's first date is that of the K-th most recent document of the vendor: with one
 * credit memo among them, the invoice k = K - 2 (k = 0 the most recent). The last invoice of that
 * date is read only because the pass reads every invoice of its first date.
 */
const TIE = 3 * Math.floor((LINE_BLOCK_RECENT_INVOICES - 2) / 3) + 2;
/**
 * A middle pass that reads most of the window but not its 20 oldest invoices (the service's
 * {@link LINE_BLOCK_MIDDLE_INVOICES} covers this vendor's whole window).
 */
const MIDDLE = EARLIER - 20;
/**
 * The invoices with amount 520 on line 2: three inside the first pass (too few to settle a line
 * there) and eight past it, well inside the middle pass. The whole window keeps the three and the
 * five most recent of the eight.
 */
const AMOUNT_520 = [20, 50, 80, ...Array.from({ length: 8 }, (_, j) => TIE + 4 + 3 * j)];

const day = (date: string, minus: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) - minus * 86_400_000).toISOString().slice(0, 10);

const NEBULIZER = 'Nebulizer, with compressor, for home use with tubing and mouthpiece';
const TUBING = 'Tubing used with positive airway pressure device';
const CUSHION = 'Wheelchair seat cushion, general use, width less than 22 inches';

const line = (n: number, description: string, code: string | null, cents: number): InvoiceLine => ({
  line_number: n,
  description,
  ...(code ? { code: { system: 'HCPCS' as const, value: code } } : {}),
  quantity: 1,
  unit_price_cents: cents,
  amount_cents: cents,
});

/** The k-th earlier invoice (k = 0 the most recent): its lines' amounts vary with k. */
function earlier(k: number): Invoice {
  const vendor = k % 5 === 4 ? { ...VENDOR, name: 'Lakeview Respiratory Partners' } : VENDOR;
  return invoiceOfLines(`lbr-${k}`, vendor, day(NEW_DATE, 1 + Math.floor(k / 3)), [
    // Amount 300 only on the ten oldest invoices of the window, behind the first pass.
    line(1, NEBULIZER, 'E0570', k % 9 === 0 ? 100 : k >= EARLIER - 10 ? 300 : 200),
    // Seven of amount 500 well inside the first pass and the eighth the invoice TIE.
    line(
      2,
      TUBING,
      'A7037',
      (k % 18 === 0 && k / 18 < 7) || k === TIE ? 500 : AMOUNT_520.includes(k) ? 520 : 510,
    ),
    line(3, NEBULIZER, null, k % 4 === 0 ? 700 : 710),
    line(4, CUSHION, 'E2601', 900 + (k % 3)),
  ]);
}

const newInvoice = (id: string, date: string, vendor = VENDOR): Invoice =>
  invoiceOfLines(id, vendor, date, [
    line(1, NEBULIZER, 'E0570', 100),
    line(2, TUBING, 'A7037', 500),
    line(3, NEBULIZER, null, 700),
    line(4, NEBULIZER, 'E0570', 300),
    line(5, CUSHION, 'E2601', 901),
    line(6, TUBING, 'A7037', 520),
  ]);

type Query = Omit<LineRebillQuery, 'tenantId'>;

/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)` plan. */
interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Relation Name'?: string;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

/** The scans of `table` in `node`'s tree: the index each reads, or the node type of a scan of the table itself. */
function scansOf(node: PlanNode, table: string): string[] {
  const own = node['Relation Name'] === table ? [node['Index Name'] ?? node['Node Type']] : [];
  return [...own, ...(node.Plans ?? []).flatMap((p) => scansOf(p, table))];
}

/** The index scans of `node`'s tree: index, condition and the node types above it, nearest first. */
function indexScans(node: PlanNode, above: string[]): { index: string; cond: string; above: string[] }[] {
  const own =
    node['Index Name'] === undefined
      ? []
      : [{ index: node['Index Name'], cond: node['Index Cond'] ?? '', above }];
  return [...own, ...(node.Plans ?? []).flatMap((p) => indexScans(p, [node['Node Type'], ...above]))];
}

describe.each(engines('lbrecent'))('line block passes on $name', ({ config }) => {
  const cfg = config();
  let db: SqlDatabase;
  const run = (queries: readonly Query[], pass: LineBlockPass): Promise<LineBlockRow[]> => {
    const { sql, params } = lineBlockStatement(TENANT, queries, 'text', pass);
    return db.query<LineBlockRow>(sql, params);
  };
  /** The whole-window statement's rows of each query, as `findEarlierLinesMany` returns them. */
  const oracle = async (queries: readonly Query[]): Promise<EarlierLine[][]> => {
    const out: EarlierLine[][] = queries.map(() => []);
    for (const r of await run(queries, 'window'))
      if (r.invoice_id !== null)
        out[Number(r.m) - 1]!.push(earlierLineOf({ ...r, invoice_id: r.invoice_id }));
    return out;
  };
  const queryOf = (inv: Invoice): Query => lineRebillQuery(prepare(inv))!;

  beforeAll(async () => {
    db = await openDatabase(cfg);
    const repo = createRepository(db);
    const save = (inv: Invoice, reversesInvoiceId?: string) =>
      repo.saveDecision(TENANT, inv, `h-${inv.invoice_id}`, keysOf(inv), decisionFor(inv), {
        reversesInvoiceId,
      });
    const history = Array.from({ length: EARLIER }, (_, k) => earlier(k));
    // Outside the window: a year and more before the new invoice.
    for (let k = 0; k < 6; k++)
      history.push({ ...earlier(k), invoice_id: `lbr-old-${k}`, invoice_date: day(NEW_DATE, 366 + k) });
    for (const inv of history) await save(inv);
    const credit = (of: Invoice, cents: number): Invoice => ({
      ...of,
      invoice_id: `${of.invoice_id}-cm`,
      invoice_number: `${of.invoice_number}-CM`,
      document_type: 'credit_memo',
      total_cents: -cents,
      lines: [{ ...of.lines[0]!, quantity: -1, amount_cents: -cents }],
    });
    // lbr-9 (amount 100 on line 1) reversed in full, lbr-150 (older than the first pass) in part.
    await save(credit(history[9]!, history[9]!.total_cents), 'lbr-9');
    await save(credit(history[150]!, 100), 'lbr-150');
  }, 300_000);
  afterAll(async () => {
    await db?.close();
    await dropSchema(cfg);
  });

  it('reads the recent invoices first and settles only lines with perLine same-amount rows there', async () => {
    const q = queryOf(newInvoice('lbr-new', NEW_DATE));
    const recent = await run([q], LINE_BLOCK_RECENT_INVOICES);
    const [full] = await oracle([q]);
    const byLine = (
      rows: readonly { line_number?: number; lineNumber?: number; invoice_id?: string | null }[],
    ) =>
      new Map(
        [1, 2, 3, 4, 5, 6].map((n) => [
          n,
          rows.filter((r) => Number(r.line_number ?? r.lineNumber) === n && r.invoice_id !== null).length,
        ]),
      );
    expect(recent.every((r) => r.covered === false)).toBe(true);
    expect([...byLine(full!).values()]).toEqual([8, 8, 8, 8, 8, 8].map(() => BLOCKING_SPEC.lines.perLine));
    // Line 1's eight same-amount rows are among the recent invoices; line 2's eighth is the
    // invoice tied on the first pass's first date.
    for (const n of [1, 2]) {
      const mine = recent
        .filter((r) => r.line_number === n)
        .map((r) => `${r.invoice_id}:${r.earlier_line_number}`);
      const want = full!
        .filter((r) => r.lineNumber === n)
        .map((r) => `${r.invoiceId}:${r.earlierLineNumber}`);
      expect(mine).toEqual(want);
      expect(
        full!.filter((r) => r.lineNumber === n).every((r) => r.amountCents === (n === 1 ? 100 : 500)),
      ).toBe(true);
    }
    expect(full!.some((r) => r.invoiceId === `lbr-${TIE}` && r.lineNumber === 2)).toBe(true);
    expect(full!.some((r) => r.invoiceId === 'lbr-9')).toBe(false);
    // Line 4's same-amount lines are all older than the first pass: the second pass finds them.
    const line4 = full!.filter((r) => r.lineNumber === 4);
    expect(line4.every((r) => r.amountCents === 300 && Number(r.invoiceId.slice(4)) >= EARLIER - 10)).toBe(
      true,
    );
    expect(recent.some((r) => r.line_number === 4 && r.amount_cents === '300')).toBe(false);
    expect(await findEarlierLinesMany(db, TENANT, [q])).toEqual([full]);
  }, 120_000);

  it('settles in a middle pass the lines with perLine same-amount rows there, the rest in the whole window', async () => {
    const q = queryOf(newInvoice('lbr-new', NEW_DATE));
    const [full] = await oracle([q]);
    const recent = await run([q], LINE_BLOCK_RECENT_INVOICES);
    const middle = await run([q], MIDDLE);
    expect(middle.every((r) => r.covered === false)).toBe(true);
    const keysOfLine = (rows: readonly (LineBlockRow | EarlierLine)[], n: number): string[] =>
      rows
        .map((r) =>
          'lineNumber' in r
            ? [r.lineNumber, r.invoiceId, r.earlierLineNumber]
            : [r.line_number, r.invoice_id, r.earlier_line_number],
        )
        .filter(([line]) => Number(line) === n)
        .map(([, id, earlierLine]) => `${id}:${earlierLine}`);
    // Line 6 has three same-amount lines in the first pass, its eight in the middle one.
    expect(recent.filter((r) => r.line_number === 6 && r.same_amount === true)).toHaveLength(3);
    expect(keysOfLine(middle, 6)).toEqual(keysOfLine(full!, 6));
    expect(keysOfLine(full!, 6)).toEqual(AMOUNT_520.slice(0, 8).map((k) => `lbr-${k}:2`));
    // Line 4's are older than the middle pass.
    expect(middle.some((r) => r.line_number === 4 && r.amount_cents === '300')).toBe(false);
    // Which lines each statement searched: all, then those the first pass left, then line 4 only.
    const searched: [string | undefined, number[]][] = [];
    const counting: SqlExecutor = {
      query: (sql, params, opts) => {
        searched.push([opts?.name, [...new Set(params![2] as number[])].sort((a, b) => a - b)]);
        return db.query(sql, params, opts);
      },
      exec: (sql) => db.exec(sql),
    };
    /** The line block of `q` through `counting` with `passes` before the whole window. */
    const searchWith = (passes: readonly LineBlockEarlyPass[]) =>
      findEarlierLinesMany(counting, TENANT, [q], LINE_BLOCK_CHUNK_LINES, 'text', 'recent-first', passes);
    expect(await searchWith([LINE_BLOCK_RECENT_INVOICES, MIDDLE])).toEqual([full]);
    expect(searched).toEqual([
      [`line_block_recent${LINE_BLOCK_RECENT_INVOICES}`, [1, 2, 3, 4, 5, 6]],
      [`line_block_recent${MIDDLE}`, [4, 6]],
      ['line_block_window', [4]],
    ]);
    // The service's passes: the amount pass settles every line of this query (each has perLine
    // same-amount lines in the window, line 4's older than both recent passes) in one statement.
    searched.length = 0;
    expect(MIDDLE).toBeLessThan(LINE_BLOCK_MIDDLE_INVOICES);
    expect(LINE_BLOCK_PASSES).toEqual(['amount', LINE_BLOCK_RECENT_INVOICES, LINE_BLOCK_MIDDLE_INVOICES]);
    expect(await findEarlierLinesMany(counting, TENANT, [q])).toEqual([full]);
    expect(searched).toEqual([['line_block_amount', [1, 2, 3, 4, 5, 6]]]);
    // Without the amount pass, the recent passes: the middle one covers this vendor's window.
    searched.length = 0;
    expect(await searchWith(LINE_BLOCK_PASSES.slice(1))).toEqual([full]);
    expect(searched.map(([name]) => name)).toEqual([
      `line_block_recent${LINE_BLOCK_RECENT_INVOICES}`,
      `line_block_recent${LINE_BLOCK_MIDDLE_INVOICES}`,
    ]);
    // Amounts the vendor never billed: the amount pass keeps nothing and leaves every line to the
    // recent passes, which find the other-amount lines of the whole window.
    const odd: Query = { ...q, lines: q.lines.map((l) => ({ ...l, amountCents: l.amountCents + 3 })) };
    const [oddFull] = await oracle([odd]);
    expect(oddFull!.length).toBeGreaterThan(0);
    expect(oddFull!.every((r) => !q.lines.some((l) => l.amountCents + 3 === r.amountCents))).toBe(true);
    searched.length = 0;
    expect(await findEarlierLinesMany(counting, TENANT, [odd])).toEqual([oddFull]);
    expect(searched).toEqual([
      ['line_block_amount', [1, 2, 3, 4, 5, 6]],
      [`line_block_recent${LINE_BLOCK_RECENT_INVOICES}`, [1, 2, 3, 4, 5, 6]],
      [`line_block_recent${LINE_BLOCK_MIDDLE_INVOICES}`, [1, 2, 3, 4, 5, 6]],
    ]);
    // The amount pass alone, on the query of the first test: every line's perLine rows, the
    // whole-window rows, each marked same-amount and not covered.
    const byAmount = await run([q], 'amount');
    expect(byAmount.every((r) => r.same_amount === true && r.covered === false)).toBe(true);
    expect(byAmount.map((r) => earlierLineOf({ ...r, invoice_id: r.invoice_id! }))).toEqual(full);
  }, 120_000);

  it("runs the amount statement on the generic plan and leaves the transaction's setting as it was", async () => {
    const q = queryOf(newInvoice('lbr-new', NEW_DATE));
    const [full] = await oracle([q]);
    const seen = await db.transaction(async (tx) => {
      const modes: string[] = [];
      const mode = async () =>
        (await tx.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode'))[0]!.plan_cache_mode;
      const watching: SqlExecutor = {
        query: async (sql, params, opts) => {
          if (opts?.name === 'line_block_amount') modes.push(await mode());
          return tx.query(sql, params, opts);
        },
        exec: (sql) => tx.exec(sql),
      };
      expect(await findEarlierLinesMany(watching, TENANT, [q])).toEqual([full]);
      modes.push(await mode());
      return modes;
    });
    expect(seen).toEqual(['force_generic_plan', 'auto']);
  }, 120_000);

  it('reads the amount pass through the block indexes: the key in index order, the vendor id by key range, no invoice row', async () => {
    const q = queryOf(newInvoice('lbr-new', NEW_DATE));
    const { sql, params } = lineBlockStatement(TENANT, [q], 'text', 'amount');
    // The test's history is small: without these the planner may read the table instead.
    const explained = await db.transaction(async (tx) => {
      await tx.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off');
      return tx.query<Record<string, unknown>>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    });
    const json = Object.values(explained[0]!)[0];
    const plan = (typeof json === 'string' ? JSON.parse(json) : json) as [{ Plan: PlanNode }];
    const scans = indexScans(plan[0].Plan, []);
    const key = scans.filter((s) => s.index === 'invoice_lines_block_key');
    const id = scans.filter((s) => s.index === 'invoice_lines_block_id');
    expect(key).toHaveLength(1);
    // Ordered by the index: nothing sorts between the walk's LIMIT and its scan.
    expect(key[0]!.above.slice(0, key[0]!.above.indexOf('Limit'))).not.toContain('Sort');
    expect(key[0]!.above).toContain('Limit');
    expect(key[0]!.cond).toMatch(/vendor_key = /);
    expect(key[0]!.cond).toMatch(/amount_cents = /);
    expect(id).toHaveLength(2);
    expect(id.map((s) => /vendor_key [<>] /.test(s.cond))).toEqual([true, true]);
    // A candidate line is judged by its own row (migration 113): of `invoices`, only the credit
    // memos reversing its invoice are read, one lookup per walk, and the query's vendor id's
    // other keys (migration 114), twice per query.
    expect(scansOf(plan[0].Plan, 'invoices').sort()).toEqual([
      ...Array(3).fill('invoices_reverses'),
      ...Array(2).fill('invoices_vendor_id_keys'),
    ]);
  }, 120_000);

  it('reads the vendor id ranges of the amount pass only for a vendor id with invoices under another key', async () => {
    // Lines per query: V-LBR has invoices under a second name (another vendor key), V-NONE none.
    const loops = async (q: Query): Promise<number[]> => {
      const { sql, params } = lineBlockStatement(TENANT, [q], 'text', 'amount');
      const explained = await db.transaction(async (tx) => {
        await tx.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off');
        return tx.query<Record<string, unknown>>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
      });
      const json = Object.values(explained[0]!)[0];
      const plan = (typeof json === 'string' ? JSON.parse(json) : json) as [{ Plan: PlanNode }];
      const out: number[] = [];
      const walk = (node: PlanNode): void => {
        if (node['Index Name'] === 'invoice_lines_block_id') out.push(node['Actual Loops'] ?? 0);
        (node.Plans ?? []).forEach(walk);
      };
      walk(plan[0].Plan);
      return out;
    };
    const variants = queryOf(newInvoice('lbr-new', NEW_DATE));
    const single = queryOf(newInvoice('lbr-none', NEW_DATE, { id: 'V-NONE', name: 'Nobody Medical' }));
    // Both ranges, once per probe line.
    expect(await loops(variants)).toEqual([variants.lines.length, variants.lines.length]);
    expect(await loops(single)).toEqual([0, 0]);
    // The oracle tests above compare the variants' rows with the whole window's; this vendor has none.
    expect((await run([single], 'amount')).filter((r) => r.invoice_id !== null)).toEqual([]);
  }, 120_000);

  it('finds the whole-window rows for several queries, chunked or not, in both transports', async () => {
    const main = queryOf(newInvoice('lbr-new', NEW_DATE));
    const older = queryOf(newInvoice('lbr-older', day(NEW_DATE, 30)));
    const none = queryOf(newInvoice('lbr-none', NEW_DATE, { id: 'V-NONE', name: 'Nobody Medical' }));
    // A query whose line numbers repeat: its rows are not each line's own.
    const repeated: Query = { ...main, lines: main.lines.map((l, i) => ({ ...l, lineNumber: 1 + (i % 2) })) };
    // Lines out of number order, and a query of amounts none of the vendor's lines have.
    const reversed: Query = { ...main, lines: [...main.lines].reverse() };
    const odd: Query = {
      ...older,
      lines: older.lines.map((l) => ({ ...l, amountCents: l.amountCents + 3 })),
    };
    const queries = [main, none, older, repeated, reversed, odd];
    const want = await oracle(queries);
    expect(want[1]).toEqual([]);
    expect(want.filter((w) => w.length > 0)).toHaveLength(5);
    expect(await findEarlierLinesMany(db, TENANT, queries, 10_000)).toEqual(want);
    // In chunks (the repeated line numbers left out: chunks order their rows by line only).
    const distinct = queries.filter((q) => q !== repeated);
    const wantDistinct = want.filter((_, j) => queries[j] !== repeated);
    expect(await findEarlierLinesMany(db, TENANT, distinct, 3)).toEqual(wantDistinct);
    // The whole-window plan of a small tenant: the same rows.
    expect(await findEarlierLinesMany(db, TENANT, queries, 10_000, 'text', 'window')).toEqual(want);
    expect(await findEarlierLinesMany(db, TENANT, distinct, 3, 'text', 'window')).toEqual(wantDistinct);
    // With a middle pass that does not cover the window, chunked or not.
    const passes = [LINE_BLOCK_RECENT_INVOICES, MIDDLE];
    expect(await findEarlierLinesMany(db, TENANT, queries, 10_000, 'text', 'recent-first', passes)).toEqual(
      want,
    );
    expect(await findEarlierLinesMany(db, TENANT, distinct, 3, 'text', 'recent-first', passes)).toEqual(
      wantDistinct,
    );
    // The embeddings in pgvector's binary form find the same rows as pgvector literals.
    const binary = await vectorTransportOf(db);
    expect(await findEarlierLinesMany(db, TENANT, distinct, 4, binary)).toEqual(wantDistinct);
    expect(await findEarlierLinesMany(db, TENANT, distinct, 4, binary, 'recent-first', passes)).toEqual(
      wantDistinct,
    );
  }, 120_000);
});

describe('lineBlockPlan', () => {
  it('searches the whole window at once up to the exact-search crossover, recent invoices first above it or when not known', () => {
    const max = BLOCKING_SPEC.exactSearchMaxRows;
    expect([0, 1, max].map(lineBlockPlan)).toEqual(['window', 'window', 'window']);
    expect([max + 1, 100_000, null].map(lineBlockPlan)).toEqual([
      'recent-first',
      'recent-first',
      'recent-first',
    ]);
  });
});
