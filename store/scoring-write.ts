/**
 * The scoring write: everything a scored invoice stores, in as few statements as possible
 * inside the scoring transaction (store/repository.ts withScoringLock).
 */
import { fingerprintMatches } from '../core/fingerprint.js';
import { decisionAuditPayload, type DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { TriageError } from '../core/errors.js';
import { enqueueAudit, enqueueAuditMany } from './audit.js';
import { appendEvents, decisionCreatedEvent } from './events.js';
import { historyConflict } from './history.js';
import { insertAuditSample } from './monitoring.js';
import { addVendorLineStats } from './vendor-stats.js';
import { scoredBaselineLines } from './baseline-lines.js';
import { LINE_SLICE, mapInSlices, nextTurn } from '../core/slices.js';
import { packResponse, unpackResponse, type StoredResponse } from './stored-response.js';
import { jsonbArrayValue } from './jsonb-wire.js';
import { vectorArrayValue, vectorValue, type SqlExecutor, type VectorTransport } from './sql.js';
import { LINE_COLUMNS, LINE_INVOICE_KEYS, lineInvoiceKeysOf } from './history-rows.js';
import type { DecisionExtras, InvoiceIndexKeys, SaveResult, StoredDecision } from './repository.js';

const INVOICE_COLUMNS = `pk, tenant_id, invoice_id, payload, payload_sha256, vendor_id, vendor_name, vendor_key,
  vendor_tax_id, vendor_npi, invoice_number, invoice_number_normalised, invoice_number_canonical,
  invoice_date, due_date, currency, total_cents, document_type, po_number, facility_id,
  service_period_start, service_period_end, embedding, reverses_invoice_pk`;
const DECISION_COLUMNS = `id, tenant_id, invoice_pk, decision, queue, priority, coding_mismatch_score,
  duplicate_score, reason_codes, response, model_versions, feature_schema_version, policy_version, created_at,
  scored_by_key_id, review_status, expected_loss_cents, discount_cents, discount_deadline, received_date,
  sla_cents_per_day, explanation`;
/** Columns of `invoice_lines` a scored invoice writes: the history's, and whether the line feeds the baselines. */
const SCORED_LINE_COLUMNS = `${LINE_COLUMNS}, in_baseline`;
/** The line's copies of its invoice's keys ({@link LINE_INVOICE_KEYS}) read from the inserted invoice row `inv`. */
const LINE_KEYS_OF_INV = lineInvoiceKeysOf('inv');
/** Invoices with at most this many lines write through a named (prepared) statement. */
const NAMED_WRITE_MAX_LINES = 50;

/**
 * Invoice, lines and decision in one statement: the invoice insert (a no-op on a stored id)
 * feeds the line and decision inserts, so nothing else is written when the id was taken. The
 * line rows of a long invoice are made a slice at a time with a turn of the event loop between
 * slices (core/slices.ts).
 */
async function scoredWrite(
  tenantId: string,
  pk: string,
  invoice: Invoice,
  payloadSha256: string,
  keys: InvoiceIndexKeys,
  decision: DecisionResponse,
  extras: DecisionExtras,
  transport: VectorTransport,
): Promise<{ ctes: string; params: unknown[] }> {
  const p = extras.priority;
  const params: unknown[] = [
    pk,
    tenantId,
    invoice.invoice_id,
    JSON.stringify(invoice),
    payloadSha256,
    invoice.vendor.id,
    invoice.vendor.name,
    keys.vendorKey,
    invoice.vendor.tax_id ?? null,
    invoice.vendor.npi ?? null,
    invoice.invoice_number,
    keys.invoiceNumberNormalised,
    keys.invoiceNumberCanonical,
    invoice.invoice_date,
    invoice.due_date ?? null,
    invoice.currency,
    String(invoice.total_cents),
    invoice.document_type,
    invoice.po_number ?? null,
    invoice.facility_id ?? null,
    invoice.service_period?.start ?? null,
    invoice.service_period?.end ?? null,
    vectorValue(transport, keys.embedding),
    extras.reversesInvoiceId ?? null,
    // decision: $25..$44 (tenant and invoice pk come from the invoice row); lines from $45
    decision.decision_id,
    decision.decision,
    decision.queue ?? null,
    decision.priority.toFixed(2),
    decision.scores.coding_mismatch,
    decision.scores.duplicate,
    decision.reasons.map((r) => r.code),
    JSON.stringify(packResponse(decision)),
    JSON.stringify(decision.versions.models),
    decision.versions.feature_schema,
    decision.versions.policy,
    decision.created_at,
    extras.scoredByKeyId ?? null,
    decision.decision === 'AUTO_APPROVE' ? null : 'open',
    String(p?.expectedLossCents ?? Math.round(decision.priority * 100)),
    String(p?.discountCents ?? 0),
    p?.discountDeadline ?? null,
    p?.receivedDate ?? decision.created_at.slice(0, 10),
    String(p?.slaCentsPerDay ?? 0),
    extras.explanation === undefined ? null : JSON.stringify(extras.explanation),
  ];
  const ph = (from: number, n: number): string[] => Array.from({ length: n }, (_, j) => `$${from + j}`);
  const inv = ph(1, 24);
  inv[22] = '$23::vector';
  inv[23] = `(SELECT r.pk FROM invoices r WHERE r.tenant_id = $2 AND r.invoice_id = $24)`;
  const byNumber = new Map(keys.lines.map((l) => [l.lineNumber, l]));
  const baseline = scoredBaselineLines(decision, invoice.lines);
  const tuples = await mapInSlices(invoice.lines, (slice) =>
    slice.map((line) => {
      const k = byNumber.get(line.line_number);
      if (!k) throw new TriageError('TRIAGE_INTERNAL', `no features for line ${line.line_number}`);
      const from = params.length + 1;
      params.push(
        line.line_number,
        line.description,
        line.code?.system ?? null,
        line.code?.value ?? null,
        line.modifiers ?? [],
        String(line.quantity),
        String(line.unit_price_cents),
        String(line.amount_cents),
        line.service_date ?? null,
        k.matchKey,
        vectorValue(transport, k.embedding),
        line.delivery_reference ?? null,
        baseline.has(line.line_number),
      );
      const t = ph(from, 13);
      // Typed casts: VALUES rows are typed from their first row otherwise.
      const casts = [
        '::int',
        '::text',
        '::text',
        '::text',
        '::text[]',
        '::numeric',
        '::bigint',
        '::bigint',
        '::date',
        '::text',
        '::vector',
        '::text',
        '::boolean',
      ];
      return `(${t.map((x, j) => x + casts[j]!).join(',')})`;
    }),
  );
  const ctes = `inv AS (
      INSERT INTO invoices (${INVOICE_COLUMNS}) VALUES (${inv.join(',')})
      ON CONFLICT (tenant_id, invoice_id) DO NOTHING RETURNING pk, ${LINE_INVOICE_KEYS}),
    ${
      tuples.length === 0
        ? ''
        : `lines AS (
      INSERT INTO invoice_lines (${SCORED_LINE_COLUMNS})
      SELECT inv.pk, ${LINE_KEYS_OF_INV}, v.* FROM inv, (VALUES ${tuples.join(',')}) AS v),`
    }
    dec AS (
      INSERT INTO decisions (${DECISION_COLUMNS})
      SELECT ${['$25', '$2', 'inv.pk', ...ph(26, 19)].join(',')} FROM inv)`;
  return { ctes, params };
}

/**
 * Writes a scored invoice (`ScoringTx.insert` of store/repository.ts): invoice, lines and decision in one
 * statement (embeddings in `transport`), the audit-sample row when drawn, the audit outbox row and the event.
 * @throws TriageError `TRIAGE_INVOICE_CONFLICT` when the id was stored with another payload.
 */
export async function insertScored(
  newId: () => string,
  tx: SqlExecutor,
  tenantId: string,
  invoice: Invoice,
  payloadSha256: string,
  keys: InvoiceIndexKeys,
  decision: DecisionResponse,
  extras: DecisionExtras = {},
  transport: VectorTransport = 'text',
): Promise<SaveResult> {
  const { ctes, params } = await scoredWrite(
    tenantId,
    newId(),
    invoice,
    payloadSha256,
    keys,
    decision,
    extras,
    transport,
  );
  const n = invoice.lines.length;
  const inserted = await tx.query(
    `WITH ${ctes} SELECT pk FROM inv`,
    params,
    n <= NAMED_WRITE_MAX_LINES ? { name: `score_write_${n}` } : {},
  );
  if (inserted.length === 0) {
    // Another transaction stored this id first; read committed sees its row now.
    const stored = await findStored(tx, tenantId, invoice.invoice_id);
    // No decision under a taken id: the id was imported as history.
    if (!stored) throw historyConflict(invoice.invoice_id);
    if (!fingerprintMatches(stored.payloadSha256, invoice, payloadSha256)) throw conflict(invoice.invoice_id);
    return { decision: stored.decision, created: false };
  }
  // The embedded engine runs each statement on the event loop and resolves it without a turn of
  // it: after a long invoice's write the deadline gets its turn before the statements after it.
  if (n > LINE_SLICE) await nextTurn();
  await addVendorLineStats(tx, tenantId, [
    {
      vendorId: invoice.vendor.id,
      lines: invoice.lines,
      baseline: scoredBaselineLines(decision, invoice.lines),
    },
  ]);
  const sample = extras.auditSample;
  if (sample?.sampled)
    await insertAuditSample(
      tx,
      tenantId,
      decision.decision_id,
      { rate: sample.rate, draw: sample.draw, seedSha256: sample.seed_sha256 },
      decision.created_at,
    );
  await enqueueAudit(tx, {
    tenantId,
    actorKeyId: extras.scoredByKeyId ?? null,
    kind: 'decision.created',
    subjectId: decision.decision_id,
    payload: extras.auditPayload ?? decisionAuditPayload(decision, payloadSha256),
  });
  await appendEvents(tx, [decisionCreatedEvent(tenantId, decision)]);
  return { decision, created: true };
}

/** One scored invoice of {@link insertScoredMany}. */
export interface ScoredRow {
  /** Primary key of the invoice row. */
  pk: string;
  invoice: Invoice;
  payloadSha256: string;
  keys: InvoiceIndexKeys;
  decision: DecisionResponse;
  extras: DecisionExtras;
}

/**
 * A select-list item of a multi-row insert: a column unnested from one array parameter
 * (`type`, `values`, optionally how the row reads its element `v`), the embeddings as one
 * `vector[]` parameter unnested the same way (`vector`, in the statement's
 * {@link VectorTransport}), a jsonb column's documents as one JSON array (`json`, split by
 * `jsonb_array_elements` beside the other columns, in jsonb's binary form ({@link jsonbArrayValue});
 * a `null` or `undefined` document is stored as SQL NULL), or plain SQL.
 *
 * A document goes as an element of one JSON array rather than of a `text[]`: the driver
 * escapes every quote of a `text[]` element (about 70 KB of decision and explanation per
 * scored invoice), and PostgreSQL un-escapes it again.
 */
type BulkItem =
  | { type: string; values: unknown[]; read?: (v: string) => string }
  | { vector: readonly ArrayLike<number>[] }
  | { json: readonly unknown[] }
  | { sql: string };

/**
 * `SELECT <items> FROM ROWS FROM (<one unnest or jsonb_array_elements per column>) WITH
 * ORDINALITY AS u(c.., ord)` (the columns zipped by position), with
 * parameters numbered from `params.length + 1` and appended to `params`.
 */
function bulkSelect(items: readonly BulkItem[], params: unknown[], transport: VectorTransport): string {
  const arrays: string[] = [];
  const names: string[] = [];
  const select = items.map((it) => {
    if ('sql' in it) return it.sql;
    const name = `u.c${names.length}`;
    names.push(`c${names.length}`);
    if ('vector' in it) {
      params.push(vectorArrayValue(transport, it.vector));
      arrays.push(`unnest($${params.length}::vector[])`);
      return name;
    }
    if ('json' in it) {
      // Parsed once, as jsonb: its elements come out as jsonb values (no json text parsed again
      // per element, nor validated as json first).
      params.push(jsonbArrayValue(it.json));
      arrays.push(`jsonb_array_elements($${params.length}::jsonb)`);
      return `NULLIF(${name}, 'null'::jsonb)`;
    }
    params.push(it.values);
    arrays.push(`unnest($${params.length}::${it.type}[])`);
    return it.read ? it.read(name) : name;
  });
  return `SELECT ${select.join(', ')}
    FROM ROWS FROM (${arrays.join(', ')}) WITH ORDINALITY AS u(${names.join(', ')}, ord)`;
}

/** A JSON array of strings (text) as a PostgreSQL `text[]` (arrays of arrays do not unnest). */
const textArray = (v: string): string => `ARRAY(SELECT jsonb_array_elements_text(${v}::jsonb))`;
const asDate = (v: string): string => `${v}::date`;

/** The invoice rows of {@link insertScoredMany}, in {@link INVOICE_COLUMNS} order. */
function invoiceItems(rows: readonly ScoredRow[]): BulkItem[] {
  const col = (type: string, f: (r: ScoredRow) => unknown, read?: (v: string) => string): BulkItem => ({
    type,
    values: rows.map(f),
    ...(read ? { read } : {}),
  });
  return [
    col('uuid', (r) => r.pk),
    { sql: '$1' },
    col('text', (r) => r.invoice.invoice_id),
    { json: rows.map((r) => r.invoice) },
    col('text', (r) => r.payloadSha256),
    col('text', (r) => r.invoice.vendor.id),
    col('text', (r) => r.invoice.vendor.name),
    col('text', (r) => r.keys.vendorKey),
    col('text', (r) => r.invoice.vendor.tax_id ?? null),
    col('text', (r) => r.invoice.vendor.npi ?? null),
    col('text', (r) => r.invoice.invoice_number),
    col('text', (r) => r.keys.invoiceNumberNormalised),
    col('text', (r) => r.keys.invoiceNumberCanonical),
    col('text', (r) => r.invoice.invoice_date, asDate),
    col('text', (r) => r.invoice.due_date ?? null, asDate),
    col('text', (r) => r.invoice.currency),
    col('bigint', (r) => String(r.invoice.total_cents)),
    col('text', (r) => r.invoice.document_type),
    col('text', (r) => r.invoice.po_number ?? null),
    col('text', (r) => r.invoice.facility_id ?? null),
    col('text', (r) => r.invoice.service_period?.start ?? null, asDate),
    col('text', (r) => r.invoice.service_period?.end ?? null, asDate),
    { vector: rows.map((r) => r.keys.embedding) },
    col(
      'text',
      (r) => r.extras.reversesInvoiceId ?? null,
      (v) => `(SELECT r.pk FROM invoices r WHERE r.tenant_id = $1 AND r.invoice_id = ${v})`,
    ),
  ];
}

/** The line rows of {@link insertScoredMany} (invoice pk first); `baselines[i]`: row i's `scoredBaselineLines`. */
function lineItems(rows: readonly ScoredRow[], baselines: readonly Set<number>[]): BulkItem[] {
  const lines = rows.flatMap((r, i) => {
    const byNumber = new Map(r.keys.lines.map((l) => [l.lineNumber, l]));
    const baseline = baselines[i]!;
    return r.invoice.lines.map((line) => {
      const k = byNumber.get(line.line_number);
      if (!k) throw new TriageError('TRIAGE_INTERNAL', `no features for line ${line.line_number}`);
      return { pk: r.pk, line, k, inBaseline: baseline.has(line.line_number) };
    });
  });
  const col = (
    type: string,
    f: (l: (typeof lines)[number]) => unknown,
    read?: (v: string) => string,
  ): BulkItem => ({ type, values: lines.map(f), ...(read ? { read } : {}) });
  return [
    col('uuid', (l) => l.pk),
    { sql: LINE_KEYS_OF_INV },
    col('int', (l) => l.line.line_number),
    col('text', (l) => l.line.description),
    col('text', (l) => l.line.code?.system ?? null),
    col('text', (l) => l.line.code?.value ?? null),
    col('text', (l) => JSON.stringify(l.line.modifiers ?? []), textArray),
    col('numeric', (l) => String(l.line.quantity)),
    col('bigint', (l) => String(l.line.unit_price_cents)),
    col('bigint', (l) => String(l.line.amount_cents)),
    col('text', (l) => l.line.service_date ?? null, asDate),
    col('text', (l) => l.k.matchKey),
    { vector: lines.map((l) => l.k.embedding) },
    col('text', (l) => l.line.delivery_reference ?? null),
    col('boolean', (l) => l.inBaseline),
  ];
}

/** The decision rows of {@link insertScoredMany}, in {@link DECISION_COLUMNS} order. */
function decisionItems(rows: readonly ScoredRow[]): BulkItem[] {
  const col = (type: string, f: (r: ScoredRow) => unknown, read?: (v: string) => string): BulkItem => ({
    type,
    values: rows.map(f),
    ...(read ? { read } : {}),
  });
  return [
    col('uuid', (r) => r.decision.decision_id),
    { sql: '$1' },
    col('uuid', (r) => r.pk),
    col('text', (r) => r.decision.decision),
    col('text', (r) => r.decision.queue ?? null),
    col('numeric', (r) => r.decision.priority.toFixed(2)),
    col('float8', (r) => r.decision.scores.coding_mismatch),
    col('float8', (r) => r.decision.scores.duplicate),
    col('text', (r) => JSON.stringify(r.decision.reasons.map((x) => x.code)), textArray),
    { json: rows.map((r) => packResponse(r.decision)) },
    { json: rows.map((r) => r.decision.versions.models) },
    col('text', (r) => r.decision.versions.feature_schema),
    col('text', (r) => r.decision.versions.policy),
    col('timestamptz', (r) => r.decision.created_at),
    col('text', (r) => r.extras.scoredByKeyId ?? null),
    col('text', (r) => (r.decision.decision === 'AUTO_APPROVE' ? null : 'open')),
    col('bigint', (r) =>
      String(r.extras.priority?.expectedLossCents ?? Math.round(r.decision.priority * 100)),
    ),
    col('bigint', (r) => String(r.extras.priority?.discountCents ?? 0)),
    col('text', (r) => r.extras.priority?.discountDeadline ?? null, asDate),
    col('text', (r) => r.extras.priority?.receivedDate ?? r.decision.created_at.slice(0, 10), asDate),
    col('bigint', (r) => String(r.extras.priority?.slaCentsPerDay ?? 0)),
    { json: rows.map((r) => r.extras.explanation) },
  ];
}

/**
 * Writes several scored invoices of one tenant (a batch chunk's group, none of them stored):
 * invoices, lines and decisions in one named statement of three multi-row inserts (`unnest`
 * of one array per column, embeddings in `transport`), then the vendor statistics, audit-sample
 * rows, audit outbox rows (in order) and events, one statement each.
 * @throws TriageError `TRIAGE_STORE_UNAVAILABLE` (retryable) when one of the ids was stored
 *   meanwhile by another transaction: the caller's transaction must roll back, and its retry
 *   finds the stored decision.
 */
export async function insertScoredMany(
  tx: SqlExecutor,
  tenantId: string,
  rows: readonly ScoredRow[],
  transport: VectorTransport,
): Promise<void> {
  if (rows.length === 0) return;
  const params: unknown[] = [tenantId];
  const baselines = rows.map((r) => scoredBaselineLines(r.decision, r.invoice.lines));
  // Lines and decisions only for the invoice rows inserted (a taken id writes nothing more).
  const inserted = await tx.query(
    `WITH inv AS (
       INSERT INTO invoices (${INVOICE_COLUMNS})
       ${bulkSelect(invoiceItems(rows), params, transport)}
       ON CONFLICT (tenant_id, invoice_id) DO NOTHING RETURNING pk AS stored_pk, ${LINE_INVOICE_KEYS}),
     lines AS (
       INSERT INTO invoice_lines (${SCORED_LINE_COLUMNS})
       ${bulkSelect(lineItems(rows, baselines), params, transport)} JOIN inv ON inv.stored_pk = u.c0)
     INSERT INTO decisions (${DECISION_COLUMNS})
     ${bulkSelect(decisionItems(rows), params, transport)} JOIN inv ON inv.stored_pk = u.c1
     RETURNING invoice_pk`,
    params,
    { name: 'score_write_many' },
  );
  if (inserted.length !== rows.length)
    throw new TriageError(
      'TRIAGE_STORE_UNAVAILABLE',
      'an invoice of the chunk was stored meanwhile by another request; the chunk is retried',
    );
  await addVendorLineStats(
    tx,
    tenantId,
    rows.map((r, i) => ({ vendorId: r.invoice.vendor.id, lines: r.invoice.lines, baseline: baselines[i]! })),
  );
  for (const r of rows) {
    const sample = r.extras.auditSample;
    if (sample?.sampled)
      await insertAuditSample(
        tx,
        tenantId,
        r.decision.decision_id,
        { rate: sample.rate, draw: sample.draw, seedSha256: sample.seed_sha256 },
        r.decision.created_at,
      );
  }
  await enqueueAuditMany(
    tx,
    rows.map((r) => ({
      tenantId,
      actorKeyId: r.extras.scoredByKeyId ?? null,
      kind: 'decision.created',
      subjectId: r.decision.decision_id,
      payload: r.extras.auditPayload ?? decisionAuditPayload(r.decision, r.payloadSha256),
    })),
  );
  await appendEvents(
    tx,
    rows.map((r) => decisionCreatedEvent(tenantId, r.decision)),
  );
}

/** The error for an invoice id re-sent with a different payload. */
export function conflict(invoiceId: string): TriageError {
  return new TriageError(
    'TRIAGE_INVOICE_CONFLICT',
    `invoice_id ${JSON.stringify(invoiceId)} was already scored with different content; send changes under a new invoice_id`,
    [{ path: '/invoice_id', message: 'already used for a different invoice' }],
  );
}

export async function findStored(
  db: SqlExecutor,
  tenantId: string,
  invoiceId: string,
): Promise<StoredDecision | null> {
  const rows = await db.query<{ payload_sha256: string; response: StoredResponse }>(
    `SELECT i.payload_sha256, d.response FROM invoices i JOIN decisions d ON d.invoice_pk = i.pk
     WHERE i.tenant_id = $1 AND i.invoice_id = $2`,
    [tenantId, invoiceId],
    { name: 'find_stored' },
  );
  const r = rows[0];
  return r ? { payloadSha256: r.payload_sha256, decision: unpackResponse(r.response) } : null;
}
