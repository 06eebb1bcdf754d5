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
import { EMBEDDING_DIM } from '../features/hashing.js';
import type { SqlExecutor } from './sql.js';
import { vectorColumn, vectorColumnSql, type VectorTransport } from './sql.js';

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
 * The line block as one statement over a set of queries (`q.m`) and their probes (`p.m`). Its
 * cost is linear in the probes: each query's earlier lines (`e`: the vendor's invoices in the
 * window, not reversed, and their lines) are read once, each probe keeps its at most `perLine`
 * best in a bounded top-N of its own (no sort of every probe x earlier line pair), the probe
 * embeddings are parsed once, and the delivery references are read once per earlier invoice
 * kept. The probe embeddings travel in `transport` (store/sql.ts `vectorColumn`, parameter 6).
 */
function lineBlockSql(spec: LineBlockingSpec, transport: VectorTransport): string {
  return `
WITH q AS MATERIALIZED (
  SELECT * FROM unnest($7::text[], $8::text[], $9::text[], $10::date[]) WITH ORDINALITY
           AS q(invoice_id, vendor_id, vendor_key, invoice_date, m)
), e AS MATERIALIZED (
  SELECT q.m, i.pk, i.invoice_id, l.line_number AS earlier_line_number, i.invoice_date,
         l.embedding, upper(l.code) AS code, l.quantity, l.amount_cents, l.service_date,
         COALESCE(l.service_date, i.service_period_start, i.invoice_date) AS judged_date
    FROM q
    JOIN invoices i ON i.tenant_id = $1 AND (i.vendor_id = q.vendor_id OR i.vendor_key = q.vendor_key)
     AND i.invoice_date BETWEEN q.invoice_date - ${spec.windowDays}::int AND q.invoice_date
     AND i.document_type = 'invoice' AND i.invoice_id <> q.invoice_id
    JOIN invoice_lines l ON l.invoice_pk = i.pk
   WHERE COALESCE((SELECT sum(-c.total_cents) FROM invoices c WHERE c.reverses_invoice_pk = i.pk), 0)
         < i.total_cents - 1
), p AS MATERIALIZED (
  SELECT u.m, u.line_number, u.code, u.amount_cents, ${vectorColumnSql(transport, EMBEDDING_DIM, 6)} AS embedding
    FROM unnest($2::int[], $3::int[], $4::text[], $5::bigint[]) WITH ORDINALITY
         AS u(m, line_number, code, amount_cents, ord)
), kept AS MATERIALIZED (
  SELECT p.m, p.line_number, k.*
    FROM p
    CROSS JOIN LATERAL (
      SELECT c.pk, c.invoice_id, c.earlier_line_number, c.invoice_date, c.cosine, c.code, c.quantity,
             c.amount_cents, c.service_date, c.judged_date, c.amount_cents = p.amount_cents AS same_amount
        FROM (SELECT e.*, 1 - (e.embedding <=> p.embedding) AS cosine FROM e WHERE e.m = p.m OFFSET 0) c
       WHERE c.code = p.code OR c.cosine >= ${spec.minDescriptionCosine}
       ORDER BY c.amount_cents = p.amount_cents DESC, c.invoice_date DESC, c.invoice_id COLLATE "C",
                c.earlier_line_number
       LIMIT ${spec.perLine}
    ) k
), refs AS MATERIALIZED (
  SELECT DISTINCT ON (d.pk, (r->>'line_number')::int) d.pk, (r->>'line_number')::int AS line_number,
         r->>'delivery_reference' AS delivery_reference
    FROM invoices d, jsonb_array_elements(d.payload->'lines') WITH ORDINALITY AS t(r, n)
   WHERE d.pk IN (SELECT pk FROM kept)
   ORDER BY d.pk, (r->>'line_number')::int, t.n
)
SELECT k.m, k.line_number, k.invoice_id, k.earlier_line_number, k.invoice_date::text AS invoice_date, k.cosine,
       k.code, k.quantity::text AS quantity, k.amount_cents::text AS amount_cents,
       k.service_date::text AS service_date, k.judged_date::text AS judged_date, r.delivery_reference
  FROM kept k
  LEFT JOIN refs r ON r.pk = k.pk AND r.line_number = k.earlier_line_number
 ORDER BY k.m, k.line_number, k.same_amount DESC, k.invoice_date DESC, k.invoice_id COLLATE "C",
          k.earlier_line_number`;
}

const LINE_BLOCK_SQL: Record<VectorTransport, string> = {
  text: lineBlockSql(BLOCKING_SPEC.lines, 'text'),
  binary: lineBlockSql(BLOCKING_SPEC.lines, 'binary'),
};

interface Row extends Record<string, unknown> {
  m: number;
  line_number: number;
  invoice_id: string;
  earlier_line_number: number;
  invoice_date: string;
  cosine: number;
  code: string | null;
  quantity: string;
  amount_cents: string;
  service_date: string | null;
  judged_date: string;
  delivery_reference: string | null;
}

function earlierLineOf(r: Row): EarlierLine {
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
 * The statement {@link findEarlierLinesMany} runs for several queries of one tenant (with at
 * least one line between them), with its parameters, the probe embeddings in `transport`
 * (`binary` on PostgreSQL only).
 */
export function lineBlockStatement(
  tenantId: string,
  queries: readonly Omit<LineRebillQuery, 'tenantId'>[],
  transport: VectorTransport = 'text',
): { sql: string; params: unknown[] } {
  const probes = queries.flatMap((q, j) => q.lines.map((l) => ({ m: j + 1, l })));
  return {
    sql: LINE_BLOCK_SQL[transport],
    params: [
      tenantId,
      probes.map((x) => x.m),
      probes.map((x) => x.l.lineNumber),
      probes.map((x) => x.l.code),
      probes.map((x) => String(x.l.amountCents)),
      vectorColumn(
        transport,
        probes.map((x) => x.l.embedding),
        EMBEDDING_DIM,
        6,
      ).value,
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
 * The line block of several queries of one tenant, in statements of at most `chunkLines` new
 * lines ({@link LINE_BLOCK_CHUNK_LINES}), the probe embeddings in `transport` (`binary` on
 * PostgreSQL only; the same rows either way).
 * @returns per query, in order, its candidates by new line number, each line's in the spec's order.
 */
export async function findEarlierLinesMany(
  db: SqlExecutor,
  tenantId: string,
  queries: readonly Omit<LineRebillQuery, 'tenantId'>[],
  chunkLines = LINE_BLOCK_CHUNK_LINES,
  transport: VectorTransport = 'text',
): Promise<EarlierLine[][]> {
  const out: EarlierLine[][] = queries.map(() => []);
  let chunk: { j: number; q: Omit<LineRebillQuery, 'tenantId'> }[] = [];
  let size = 0;
  let statements = 0;
  const flush = async (): Promise<void> => {
    if (size === 0) return;
    if (statements++ > 0) await setImmediate();
    const { sql, params } = lineBlockStatement(
      tenantId,
      chunk.map((c) => c.q),
      transport,
    );
    const rows = await db.query<Row>(sql, params, { name: `line_block_many_${transport}` });
    for (const r of rows) out[chunk[Number(r.m) - 1]!.j]!.push(earlierLineOf(r));
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
  // A query's lines may span statements: by new line number, each line's rows in their order
  // (a stable sort), as one statement orders them.
  if (statements > 1) for (const found of out) found.sort((a, b) => a.lineNumber - b.lineNumber);
  return out;
}

/** {@link findEarlierLinesMany} of one query. */
export async function findEarlierLines(
  db: SqlExecutor,
  q: LineRebillQuery,
  transport: VectorTransport = 'text',
): Promise<EarlierLine[]> {
  const [found] = await findEarlierLinesMany(db, q.tenantId, [q], LINE_BLOCK_CHUNK_LINES, transport);
  return found!;
}
