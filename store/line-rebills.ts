/**
 * Earlier lines a new invoice's lines may bill again: the line block of `BLOCKING_SPEC.lines`
 * (core/blocking.ts) rendered to SQL. For each line of a new invoice, the stored lines of
 * invoices of the same vendor (vendor-master id or vendor key) dated within the window before
 * it, not fully reversed by credit memos, that carry the same code or a description whose
 * embedding is near (cosine at least the spec's minimum), at most `perLine` per line in the
 * spec's order. Each row carries what the line-pair model compares (`features/line-pair.ts`),
 * the earlier line's delivery reference included (its line's copy, migration 113).
 * The `amount` pass reads the lines alone, through their copies of their invoice's keys and
 * fields; the other passes read the vendor's invoices in the window through the (tenant, vendor,
 * date) indexes and their lines by primary key.
 */
import { BLOCKING_SPEC } from '../core/blocking.js';
import { lineBlockSqlOf, type LineBlockPass } from './line-block-sql.js';
import { deliveryReferenceKey } from '../features/line-pair.js';
import { setImmediate } from 'node:timers/promises';
import type { SqlExecutor } from './sql.js';
import { vectorArrayValue, type VectorTransport } from './sql.js';

export type { LineBlockPass } from './line-block-sql.js';

/** One line of the new invoice to look up. */
export interface LineRebillProbe {
  lineNumber: number;
  /** Upper-case code value, or null. */
  code: string | null;
  amountCents: number;
  /** L2-normalised description embedding (`LineFeatures.embedding`). */
  embedding: ArrayLike<number>;
}

/** What {@link findEarlierLines} searches. */
export interface LineRebillQuery {
  tenantId: string;
  /** The new invoice's client id (never its own candidate). */
  invoiceId: string;
  vendorId: string;
  vendorKey: string;
  /** The new invoice's date, `YYYY-MM-DD`. */
  invoiceDate: string;
  lines: readonly LineRebillProbe[];
}

/** A stored line in the line block of a probe, with what the line-pair model reads of it. */
export interface EarlierLine {
  /** The new invoice's line. */
  lineNumber: number;
  /** Client id of the earlier invoice. */
  invoiceId: string;
  earlierLineNumber: number;
  /** `YYYY-MM-DD`. */
  earlierInvoiceDate: string;
  /** Cosine of the description embeddings. */
  cosine: number;
  /** Upper-case code of the earlier line, or null. */
  code: string | null;
  quantity: number;
  amountCents: number;
  /** The earlier line's own service date (`YYYY-MM-DD`), or null when it has none. */
  serviceDate: string | null;
  /** The date the earlier line is judged at: its service date, else its invoice's service period start, else its invoice date. */
  judgedDate: string;
  /** The earlier line's printed delivery (packing-slip) reference as its comparison key (`deliveryReferenceKey`), or null. */
  deliveryReference: string | null;
}

/**
 * Invoices the first recent-invoices pass of the line block reads per query (after the `amount`
 * pass, for the lines it did not settle): the vendor's documents dated on or
 * after the date of its `LINE_BLOCK_RECENT_INVOICES`-th most recent document in the window (by
 * vendor key or vendor id; every invoice of that date included, so ties may add more). A new line
 * with at least `perLine` same-amount candidates among them is settled: every older line ranks
 * after those in the spec's order (same amount first, then the later date). The other lines are
 * searched again over more of the window ({@link LINE_BLOCK_MIDDLE_INVOICES}, then the whole
 * window). On the bench history (amounts of 1-8 units, 732 invoices a vendor-year) 32 and 64 left
 * most invoices with a line for the next pass, 128 few, 256 read twice the lines for no fewer
 * next passes (BENCHMARKS.md, branch lblock).
 */
export const LINE_BLOCK_RECENT_INVOICES = 128;

/**
 * Invoices the middle pass reads, for the lines the first recent pass did not settle, before the
 * whole window; settled as in that pass. At 1M bench invoices (about 10,000 a vendor-year) a
 * whole-window statement cost 645 ms of PostgreSQL CPU, this pass 99-125 ms, and no scored line
 * needed the whole window after it; a line whose amount recurs fewer than `perLine` times among
 * these invoices reads all three (BENCHMARKS.md, branch lb1m).
 */
export const LINE_BLOCK_MIDDLE_INVOICES = 2000;

/** A pass before the whole window ({@link LineBlockPass} less `window`). */
export type LineBlockEarlyPass = Exclude<LineBlockPass, 'window'>;

/**
 * The passes before the whole window, in order: the lines of each probe's amount by index
 * (`amount`: settles a line with `perLine` of them in a cost that does not grow with history),
 * then the recent-invoice counts, smallest first, for the lines it did not settle.
 */
export const LINE_BLOCK_PASSES: readonly LineBlockEarlyPass[] = [
  'amount',
  LINE_BLOCK_RECENT_INVOICES,
  LINE_BLOCK_MIDDLE_INVOICES,
];

/**
 * How {@link findEarlierLinesMany} searches a chunk of new lines: `recent-first` (the vendor's
 * most recent invoices in the passes of {@link LINE_BLOCK_PASSES}, each for the lines the one
 * before did not settle, then the whole window for the rest) or `window` (the whole window in one
 * statement). The rows are the same; only the cost differs.
 */
export type LineBlockPlan = 'recent-first' | 'window';

/**
 * The plan for a tenant holding `tenantRows` indexed invoices (the count its candidate search read,
 * `CandidateSearch.tenantRowsCounted`; null when not known): `window` up to the exact-search
 * crossover `BLOCKING_SPEC.exactSearchMaxRows` (core/blocking.ts), where a vendor's window holds
 * few invoices and the whole-window statement keeps its cached plan (the first pass's is planned
 * at every run, about 1 ms of PostgreSQL CPU per invoice on an empty tenant); `recent-first` above
 * it or when not known (at 100k invoices 0.22x the whole window's cost; BENCHMARKS.md, branch
 * lblock).
 */
export function lineBlockPlan(tenantRows: number | null): LineBlockPlan {
  return tenantRows !== null && tenantRows <= BLOCKING_SPEC.exactSearchMaxRows ? 'window' : 'recent-first';
}

/**
 * A row of a line-block statement ({@link lineBlockStatement}): query `m` (1-based), new line
 * `line_number`, and the earlier line kept, whose columns are null when the line kept none; money
 * and quantity as text.
 */
export interface LineBlockRow extends Record<string, unknown> {
  m: number;
  line_number: number;
  invoice_id: string | null;
  earlier_line_number: number;
  invoice_date: string;
  cosine: number;
  code: string | null;
  quantity: string;
  amount_cents: string;
  service_date: string | null;
  judged_date: string;
  delivery_reference: string | null;
  same_amount: boolean | null;
  covered: boolean;
}

/** The earlier line of a row that kept one. */
export function earlierLineOf(r: LineBlockRow & { invoice_id: string }): EarlierLine {
  return {
    lineNumber: Number(r.line_number),
    invoiceId: r.invoice_id,
    earlierLineNumber: Number(r.earlier_line_number),
    earlierInvoiceDate: r.invoice_date,
    cosine: Number(r.cosine),
    code: r.code,
    quantity: Number(r.quantity),
    amountCents: Number(r.amount_cents),
    serviceDate: r.service_date,
    judgedDate: r.judged_date,
    deliveryReference: deliveryReferenceKey(r.delivery_reference),
  };
}

/**
 * A statement {@link findEarlierLinesMany} runs for several queries of one tenant (with at
 * least one line between them), with its parameters, the probe embeddings in `transport`
 * ({@link VectorTransport}; the same statement text either way). `pass` `window` (the default) searches the spec's whole window,
 * a count n from the vendor's n most recent invoices on ({@link LineBlockPass}).
 */
export function lineBlockStatement(
  tenantId: string,
  queries: readonly Omit<LineRebillQuery, 'tenantId'>[],
  transport: VectorTransport = 'text',
  pass: LineBlockPass = 'window',
): { sql: string; params: unknown[] } {
  const probes = queries.flatMap((q, j) => q.lines.map((l) => ({ m: j + 1, l })));
  return {
    sql: lineBlockSqlOf(pass),
    params: [
      tenantId,
      probes.map((x) => x.m),
      probes.map((x) => x.l.lineNumber),
      probes.map((x) => x.l.code),
      probes.map((x) => String(x.l.amountCents)),
      vectorArrayValue(
        transport,
        probes.map((x) => x.l.embedding),
      ),
      queries.map((q) => q.invoiceId),
      queries.map((q) => q.vendorId),
      queries.map((q) => q.vendorKey),
      queries.map((q) => q.invoiceDate),
    ],
  };
}

/**
 * Most new lines one line-block statement searches. A larger set is searched in several
 * statements, with a turn of the event loop between them: on the embedded engine a statement
 * runs in this process and blocks it, so without the turns a 2,000-line invoice held the
 * deadline timer and `/healthz` for one 15 s statement. Each line's block is its own, so the
 * rows are the same as one statement's.
 */
export const LINE_BLOCK_CHUNK_LINES = 250;

/**
 * Passes whose statement runs on PostgreSQL's generic plan (`SET LOCAL plan_cache_mode =
 * force_generic_plan` around it, in the caller's transaction): the `amount` statement's plan is
 * the same whatever its parameters (ordered index scans stopped at `perLine`), and with the
 * default setting PostgreSQL planned it again at every call, about a third of its cost at 100k
 * and 1M (BENCHMARKS.md, "The line block by index"; `bench/line-block-plan-cache.ts`).
 */
const GENERIC_PLAN_PASSES: ReadonlySet<LineBlockPass> = new Set(['amount']);

/**
 * The new line numbers of `q` whose rows of a recent-invoices pass (`rows`, that query's, in
 * statement order) are not its final block: the pass's invoices are not the whole window, and the
 * line kept fewer than `perLine` lines of its own amount (or its number is on more than one line,
 * so its rows are not its own).
 */
function unsettledLines(
  q: Omit<LineRebillQuery, 'tenantId'>,
  rows: readonly LineBlockRow[],
  perLine: number,
): Set<number> {
  const out = new Set<number>();
  if (rows.length > 0 && rows[0]!.covered) return out;
  const probes = new Map<number, number>();
  for (const l of q.lines) probes.set(l.lineNumber, (probes.get(l.lineNumber) ?? 0) + 1);
  const sameAmount = new Map<number, number>();
  for (const r of rows)
    if (r.invoice_id !== null && r.same_amount === true)
      sameAmount.set(Number(r.line_number), (sameAmount.get(Number(r.line_number)) ?? 0) + 1);
  for (const [n, count] of probes) if (count > 1 || (sameAmount.get(n) ?? 0) < perLine) out.add(n);
  return out;
}

/**
 * The line block of several queries of one tenant, in chunks of at most `chunkLines` new lines
 * ({@link LINE_BLOCK_CHUNK_LINES}), the probe embeddings in `transport` (the same rows either
 * way). With plan `recent-first` each chunk is searched over the
 * vendor's most recent invoices in `passes` ({@link LINE_BLOCK_PASSES}: counts, smallest first),
 * each pass for the lines the one before did not settle, then over the whole window for the rest;
 * the rows are those of the whole-window statement alone.
 * @returns per query, in order, its candidates by new line number, each line's in the spec's order.
 * @throws RangeError when a pass is not a positive integer.
 */
export async function findEarlierLinesMany(
  db: SqlExecutor,
  tenantId: string,
  queries: readonly Omit<LineRebillQuery, 'tenantId'>[],
  chunkLines = LINE_BLOCK_CHUNK_LINES,
  transport: VectorTransport = 'text',
  plan: LineBlockPlan = 'recent-first',
  passes: readonly LineBlockEarlyPass[] = LINE_BLOCK_PASSES,
): Promise<EarlierLine[][]> {
  const out: EarlierLine[][] = queries.map(() => []);
  let chunk: { j: number; q: Omit<LineRebillQuery, 'tenantId'> }[] = [];
  let size = 0;
  let statements = 0;
  let chunks = 0;
  const run = async (
    qs: readonly Omit<LineRebillQuery, 'tenantId'>[],
    pass: LineBlockPass,
  ): Promise<LineBlockRow[][]> => {
    if (statements++ > 0) await setImmediate();
    const { sql, params } = lineBlockStatement(tenantId, qs, transport, pass);
    const name = `line_block_${typeof pass === 'number' ? `recent${pass}` : pass}`;
    const generic = GENERIC_PLAN_PASSES.has(pass);
    if (generic) await db.exec('SET LOCAL plan_cache_mode = force_generic_plan');
    const rows = await db.query<LineBlockRow>(sql, params, { name });
    if (generic) await db.exec('SET LOCAL plan_cache_mode TO DEFAULT');
    const byQuery: LineBlockRow[][] = qs.map(() => []);
    for (const r of rows) byQuery[Number(r.m) - 1]!.push(r);
    return byQuery;
  };
  const flush = async (): Promise<void> => {
    if (size === 0) return;
    chunks++;
    // Per query of the chunk: the rows of its settled lines, and its lines not settled yet.
    const kept: LineBlockRow[][] = chunk.map(() => []);
    const open = chunk.map((c) => new Set(c.q.lines.map((l) => l.lineNumber)));
    for (const pass of [...(plan === 'window' ? [] : passes), 'window' as const]) {
      const todo = chunk
        .map((c, i) => ({ i, q: { ...c.q, lines: c.q.lines.filter((l) => open[i]!.has(l.lineNumber)) } }))
        .filter((x) => x.q.lines.length > 0);
      if (todo.length === 0) break;
      const rows = await run(
        todo.map((x) => x.q),
        pass,
      );
      for (const [k, x] of todo.entries()) {
        const still =
          pass === 'window' ? new Set<number>() : unsettledLines(x.q, rows[k]!, BLOCKING_SPEC.lines.perLine);
        kept[x.i]!.push(...rows[k]!.filter((r) => !still.has(Number(r.line_number))));
        open[x.i] = still;
      }
    }
    for (const [i, c] of chunk.entries()) {
      // Each line's rows come from one pass, in statement order: a stable sort by line number
      // merges the passes as one statement orders them.
      const rows = kept[i]!.sort((a, b) => Number(a.line_number) - Number(b.line_number));
      for (const r of rows)
        if (r.invoice_id !== null) out[c.j]!.push(earlierLineOf({ ...r, invoice_id: r.invoice_id }));
    }
    chunk = [];
    size = 0;
  };
  for (const [j, q] of queries.entries()) {
    for (let from = 0; from < q.lines.length;) {
      const take = Math.min(chunkLines - size, q.lines.length - from);
      chunk.push({ j, q: { ...q, lines: q.lines.slice(from, from + take) } });
      size += take;
      from += take;
      if (size >= chunkLines) await flush();
    }
  }
  await flush();
  // A query's lines may span chunks: by new line number, each line's rows in their order
  // (a stable sort), as one statement orders them.
  if (chunks > 1) for (const found of out) found.sort((a, b) => a.lineNumber - b.lineNumber);
  return out;
}

/** {@link findEarlierLinesMany} of one query. */
export async function findEarlierLines(
  db: SqlExecutor,
  q: LineRebillQuery,
  transport: VectorTransport = 'text',
  plan: LineBlockPlan = 'recent-first',
  passes: readonly LineBlockEarlyPass[] = LINE_BLOCK_PASSES,
): Promise<EarlierLine[]> {
  const [found] = await findEarlierLinesMany(
    db,
    q.tenantId,
    [q],
    LINE_BLOCK_CHUNK_LINES,
    transport,
    plan,
    passes,
  );
  return found!;
}
