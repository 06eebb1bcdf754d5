/**
 * Earlier lines a new invoice's lines may bill again: the line block of `BLOCKING_SPEC.lines`
 * (core/blocking.ts) rendered to SQL. For each line of a new invoice, the stored lines of
 * invoices of the same vendor (vendor-master id or vendor key) dated within the window before
 * it, not fully reversed by credit memos, that carry the same code or a description whose
 * embedding is near (cosine at least the spec's minimum), at most `perLine` per line in the
 * spec's order. Each row carries what the line-pair model compares (`features/line-pair.ts`);
 * the earlier line's delivery reference is read from its invoice's stored payload (no line
 * column holds it), for the at most `perLine` rows kept per line.
 * The search reads the vendor's invoices in the window through the (tenant, vendor, date)
 * indexes and their lines by primary key.
 */
import { BLOCKING_SPEC, type LineBlockingSpec } from '../core/blocking.js';
import { deliveryReferenceKey } from '../features/line-pair.js';
import { setImmediate } from 'node:timers/promises';
import type { SqlExecutor } from './sql.js';
import { vectorArrayValue, type VectorTransport } from './sql.js';

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
 * Invoices the first pass of the line block reads per query: the vendor's documents dated on or
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
 * Invoices the middle pass reads, for the lines the first pass did not settle, before the whole
 * window; settled as in the first pass. At 1M bench invoices (about 10,000 a vendor-year) a
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
 * The line block as one statement over a set of queries (`q.m`) and their probes (`p.m`). Its
 * cost is linear in the probes: each query's earlier lines (`e`: the vendor's invoices in the
 * searched dates, not reversed, and their lines) are read once, each probe keeps its at most
 * `perLine` best in a bounded top-N of its own (no sort of every probe x earlier line pair), the
 * probe embeddings are parsed once, and the delivery references are read once per earlier invoice
 * kept. The probe embeddings are parameter 6, a `vector[]` ({@link VectorTransport}).
 *
 * With `recent` null the searched dates are the spec's whole window, the vendor's invoices read
 * by one join (a plan PostgreSQL caches), and a probe that keeps nothing yields no row. With
 * `recent` a count they start at the date of the query's `recent`-th most recent invoice of the
 * vendor in the window (found through the (tenant, vendor key, date) and (tenant, vendor id, date)
 * indexes alone), or at the window's start when there are fewer, and every probe yields at least
 * one row (a row of nulls but `m`, `line_number` and `covered` when it keeps nothing). `covered`
 * is true when the searched dates are the whole window, `same_amount` whether the kept line has
 * the probe's amount.
 */
/** The probes of a line-block statement (`p`: query `m`, new line number, code, amount, embedding). */
const PROBES_CTE = `p AS MATERIALIZED (
  SELECT u.m, u.line_number, u.code, u.amount_cents, u.embedding
    FROM unnest($2::int[], $3::int[], $4::text[], $5::bigint[], $6::vector[])
         AS u(m, line_number, code, amount_cents, embedding)
)`;

/** The queries of a line-block statement (`q`: new invoice id, vendor id, vendor key, date, `m`). */
const QUERIES = `unnest($7::text[], $8::text[], $9::text[], $10::date[]) WITH ORDINALITY
         AS q(invoice_id, vendor_id, vendor_key, invoice_date, m)`;

/**
 * The `amount` pass ({@link LineBlockPass}): per probe, the vendor's earlier lines of the probe's
 * amount in the whole window, in the spec's order (later date, invoice id, line number), the
 * first `perLine` that pass the spec's filter. The lines of the vendor key are read through
 * `invoice_lines_block_key` (migration 110) in that order and the scan stops at the `perLine`-th
 * kept, whatever the vendor's history; the lines of the vendor id under other keys (name
 * variants: usually none) through `invoice_lines_block_id`, two ranges around the query's key.
 * A probe that keeps `perLine` has its whole-window rows (same amount ranks first); the others
 * are searched again by the next pass (`covered` is false), as are repeated line numbers.
 */
function amountPassSql(spec: LineBlockingSpec): string {
  // One index range: the lines of `vendor` (`key` or `id`) of the probe's amount in the window, the
  // spec's filter, the first perLine in the spec's order (the index's, after `extra` on the key).
  const walk = (vendor: 'key' | 'id', extra: string): string => `
          (SELECT l.invoice_pk, l.invoice_id, l.line_number, l.invoice_date, l.embedding, l.code, l.quantity,
                  l.amount_cents, l.service_date, i.service_period_start
             FROM invoice_lines l
             JOIN invoices i ON i.pk = l.invoice_pk AND i.document_type = 'invoice'
            WHERE l.tenant_id = $1 AND l.vendor_${vendor} = q.vendor_${vendor} AND l.amount_cents = p.amount_cents${extra}
              AND l.invoice_date BETWEEN q.invoice_date - ${spec.windowDays}::int AND q.invoice_date
              AND l.invoice_id <> q.invoice_id
              AND (upper(l.code) = p.code OR 1 - (l.embedding <=> p.embedding) >= ${spec.minDescriptionCosine})
              AND COALESCE((SELECT sum(-c.total_cents) FROM invoices c WHERE c.reverses_invoice_pk = i.pk), 0)
                  < i.total_cents - 1
            ORDER BY l.invoice_date DESC, l.invoice_id COLLATE "C", l.line_number
            LIMIT ${spec.perLine})`;
  return `/* line block: same amount, by index */
WITH q AS MATERIALIZED (
  SELECT q.* FROM ${QUERIES}
), ${PROBES_CTE}, kept AS MATERIALIZED (
  SELECT p.m, p.line_number, k.*
    FROM p JOIN q ON q.m = p.m
    LEFT JOIN LATERAL (
      SELECT l.invoice_pk AS pk, l.invoice_id, l.line_number AS earlier_line_number, l.invoice_date,
             1 - (l.embedding <=> p.embedding) AS cosine, upper(l.code) AS code, l.quantity, l.amount_cents,
             l.service_date, COALESCE(l.service_date, l.service_period_start, l.invoice_date) AS judged_date,
             true AS same_amount
        FROM (${walk('key', '')}
          UNION ALL${walk('id', ' AND l.vendor_key < q.vendor_key')}
          UNION ALL${walk('id', ' AND l.vendor_key > q.vendor_key')}) l
       ORDER BY l.invoice_date DESC, l.invoice_id COLLATE "C", l.line_number
       LIMIT ${spec.perLine}
    ) k ON true
${keptRowsSql('false')}`;
}

function lineBlockSql(spec: LineBlockingSpec, recent: number | null): string {
  const windowStart = `q.invoice_date - ${spec.windowDays}::int`;
  // The vendor's invoices (by vendor key, or by vendor id) dated from `from` to the query's date,
  // by index only (`limit`: the most recent first, so many).
  const vendorInvoices = (column: 'vendor_key' | 'vendor_id', from: string, limit = ''): string => `
          (SELECT r.pk, r.invoice_date FROM invoices r
            WHERE r.tenant_id = $1 AND r.${column} = q.${column}
              AND r.invoice_date BETWEEN ${from} AND q.invoice_date${limit})`;
  const mostRecent = `
            ORDER BY r.invoice_date DESC LIMIT ${recent}`;
  const from =
    recent === null
      ? windowStart
      : `COALESCE((SELECT t.invoice_date FROM (${vendorInvoices('vendor_key', windowStart, mostRecent)}
          UNION${vendorInvoices('vendor_id', windowStart, mostRecent)}) t
        ORDER BY t.invoice_date DESC OFFSET ${recent - 1} LIMIT 1), ${windowStart})`;
  // The whole window: the vendor's invoices by one join on (vendor id OR vendor key), a
  // statement PostgreSQL plans once and reuses (the union of the two index scans below is planned
  // at every run, about 1 ms, which only the recent pass's saving pays for).
  const queries =
    recent === null
      ? `
  SELECT q.*
    FROM ${QUERIES}`
      : `
  SELECT q.*, f.from_date, f.from_date <= ${windowStart} AS covered
    FROM ${QUERIES}
   CROSS JOIN LATERAL (SELECT ${from} AS from_date OFFSET 0) f`;
  const invoices =
    recent === null
      ? `
    JOIN invoices i ON i.tenant_id = $1 AND (i.vendor_id = q.vendor_id OR i.vendor_key = q.vendor_key)
     AND i.invoice_date BETWEEN ${windowStart} AND q.invoice_date
     AND i.document_type = 'invoice' AND i.invoice_id <> q.invoice_id`
      : `
   CROSS JOIN LATERAL (${vendorInvoices('vendor_key', 'q.from_date')}
          UNION${vendorInvoices('vendor_id', 'q.from_date')}) w
    JOIN invoices i ON i.pk = w.pk AND i.document_type = 'invoice' AND i.invoice_id <> q.invoice_id`;
  // The comment names the pass in logs and per-statement profiles (bench/pg-statements.ts).
  return `/* line block: ${recent === null ? 'whole window' : `${recent} most recent invoices`} */
WITH q AS MATERIALIZED (${queries}
), e AS MATERIALIZED (
  SELECT q.m, i.pk, i.invoice_id, l.line_number AS earlier_line_number, i.invoice_date,
         l.embedding, upper(l.code) AS code, l.quantity, l.amount_cents, l.service_date,
         COALESCE(l.service_date, i.service_period_start, i.invoice_date) AS judged_date
    FROM q${invoices}
    JOIN invoice_lines l ON l.invoice_pk = i.pk
   WHERE COALESCE((SELECT sum(-c.total_cents) FROM invoices c WHERE c.reverses_invoice_pk = i.pk), 0)
         < i.total_cents - 1
), ${PROBES_CTE}, kept AS MATERIALIZED (
  SELECT p.m, p.line_number, k.*
    FROM p
    ${recent === null ? 'CROSS' : 'LEFT'} JOIN LATERAL (
      SELECT c.pk, c.invoice_id, c.earlier_line_number, c.invoice_date, c.cosine, c.code, c.quantity,
             c.amount_cents, c.service_date, c.judged_date, c.amount_cents = p.amount_cents AS same_amount
        FROM (SELECT e.*, 1 - (e.embedding <=> p.embedding) AS cosine FROM e WHERE e.m = p.m OFFSET 0) c
       WHERE c.code = p.code OR c.cosine >= ${spec.minDescriptionCosine}
       ORDER BY c.amount_cents = p.amount_cents DESC, c.invoice_date DESC, c.invoice_id COLLATE "C",
                c.earlier_line_number
       LIMIT ${spec.perLine}
    ) k${recent === null ? '' : ' ON true'}
${keptRowsSql(recent === null ? 'true' : '(SELECT q.covered FROM q WHERE q.m = k.m)')}`;
}

/**
 * The end of a line-block statement after its `kept` CTE (each probe's kept earlier lines): the
 * kept lines' delivery references read once per earlier invoice, and the rows in statement order,
 * `covered` the SQL expression of whether the searched dates were the whole window.
 */
function keptRowsSql(covered: string): string {
  return `), refs AS MATERIALIZED (
  SELECT DISTINCT ON (d.pk, (r->>'line_number')::int) d.pk, (r->>'line_number')::int AS line_number,
         r->>'delivery_reference' AS delivery_reference
    FROM invoices d, jsonb_array_elements(d.payload->'lines') WITH ORDINALITY AS t(r, n)
   WHERE d.pk IN (SELECT pk FROM kept)
   ORDER BY d.pk, (r->>'line_number')::int, t.n
)
SELECT k.m, k.line_number, k.invoice_id, k.earlier_line_number, k.invoice_date::text AS invoice_date, k.cosine,
       k.code, k.quantity::text AS quantity, k.amount_cents::text AS amount_cents,
       k.service_date::text AS service_date, k.judged_date::text AS judged_date, r.delivery_reference,
       k.same_amount, ${covered} AS covered
  FROM kept k
  LEFT JOIN refs r ON r.pk = k.pk AND r.line_number = k.earlier_line_number
 ORDER BY k.m, k.line_number, k.same_amount DESC, k.invoice_date DESC, k.invoice_id COLLATE "C",
          k.earlier_line_number`;
}

/**
 * Which earlier lines a line-block statement searches: the whole window; from the date of the
 * vendor's n-th most recent invoice of the window on (a count, e.g.
 * {@link LINE_BLOCK_RECENT_INVOICES}); or `amount`, the lines of the probe's own amount in the
 * whole window by index, the first `perLine` kept ({@link amountPassSql}).
 */
export type LineBlockPass = 'window' | 'amount' | number;

const LINE_BLOCK_SQL = new Map<string, string>();

/** The statement text of `pass`, built once. */
function lineBlockSqlOf(pass: LineBlockPass): string {
  const key = String(pass);
  let sql = LINE_BLOCK_SQL.get(key);
  if (sql === undefined) {
    if (pass !== 'window' && pass !== 'amount' && !(Number.isSafeInteger(pass) && pass > 0))
      throw new RangeError(
        `line block pass: 'window', 'amount' or a positive count of invoices, got ${pass}`,
      );
    sql =
      pass === 'amount'
        ? amountPassSql(BLOCKING_SPEC.lines)
        : lineBlockSql(BLOCKING_SPEC.lines, pass === 'window' ? null : pass);
    LINE_BLOCK_SQL.set(key, sql);
  }
  return sql;
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
    const rows = await db.query<LineBlockRow>(sql, params, { name });
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
