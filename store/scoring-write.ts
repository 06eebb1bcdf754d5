/**
 * The scoring write: everything a scored invoice stores, in as few statements as possible
 * inside the scoring transaction (store/repository.ts withScoringLock).
 */
import { decisionAuditPayload, type DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { TriageError } from '../core/errors.js';
import { enqueueAudit, enqueueAuditMany } from './audit.js';
import { appendEvents, decisionCreatedEvent } from './events.js';
import { historyConflict } from './history.js';
import { insertAuditSample } from './monitoring.js';
import { addVendorLineStats } from './vendor-stats.js';
import type { SqlExecutor } from './sql.js';
import { toVectorLiteral } from './sql.js';
import type { DecisionExtras, InvoiceIndexKeys, SaveResult, StoredDecision } from './repository.js';

const INVOICE_COLUMNS = `pk, tenant_id, invoice_id, payload, payload_sha256, vendor_id, vendor_name, vendor_key,
  vendor_tax_id, vendor_npi, invoice_number, invoice_number_normalised, invoice_number_canonical,
  invoice_date, due_date, currency, total_cents, document_type, po_number, facility_id,
  service_period_start, service_period_end, embedding, reverses_invoice_pk`;
const DECISION_COLUMNS = `id, tenant_id, invoice_pk, decision, queue, priority, coding_mismatch_score,
  duplicate_score, reason_codes, response, model_versions, feature_schema_version, policy_version, created_at,
  scored_by_key_id, review_status, expected_loss_cents, discount_cents, discount_deadline, received_date,
  sla_cents_per_day, explanation`;
/** Invoices with at most this many lines write through a named (prepared) statement. */
const NAMED_WRITE_MAX_LINES = 50;

/**
 * Invoice, lines and decision in one statement: the invoice insert (a no-op on a stored id)
 * feeds the line and decision inserts, so nothing else is written when the id was taken.
 */
function scoredWrite(
  tenantId: string,
  pk: string,
  invoice: Invoice,
  payloadSha256: string,
  keys: InvoiceIndexKeys,
  decision: DecisionResponse,
  extras: DecisionExtras,
  at: { base: number; tag: string } = { base: 0, tag: '' },
): { ctes: string; params: unknown[] } {
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
    toVectorLiteral(keys.embedding),
    extras.reversesInvoiceId ?? null,
    // decision: $25..$44 (tenant and invoice pk come from the invoice row); lines from $45
    decision.decision_id,
    decision.decision,
    decision.queue ?? null,
    decision.priority.toFixed(2),
    decision.scores.coding_mismatch,
    decision.scores.duplicate,
    decision.reasons.map((r) => r.code),
    JSON.stringify(decision),
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
  const { base, tag } = at;
  const ph = (from: number, n: number): string[] =>
    Array.from({ length: n }, (_, j) => `$${base + from + j}`);
  const inv = ph(1, 24);
  inv[22] = `${inv[22]}::vector`;
  inv[23] = `(SELECT r.pk FROM invoices r WHERE r.tenant_id = $${base + 2} AND r.invoice_id = $${base + 24})`;
  const byNumber = new Map(keys.lines.map((l) => [l.lineNumber, l]));
  const tuples = invoice.lines.map((line) => {
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
      toVectorLiteral(k.embedding),
    );
    const t = ph(from, 11);
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
    ];
    return `(${t.map((x, j) => x + casts[j]!).join(',')})`;
  });
  const ctes = `inv${tag} AS (
      INSERT INTO invoices (${INVOICE_COLUMNS}) VALUES (${inv.join(',')})
      ON CONFLICT (tenant_id, invoice_id) DO NOTHING RETURNING pk),
    ${
      tuples.length === 0
        ? ''
        : `lines${tag} AS (
      INSERT INTO invoice_lines (invoice_pk, line_number, description, code_system, code, modifiers, quantity,
        unit_price_cents, amount_cents, service_date, match_key, embedding)
      SELECT inv${tag}.pk, v.* FROM inv${tag}, (VALUES ${tuples.join(',')}) AS v),`
    }
    dec${tag} AS (
      INSERT INTO decisions (${DECISION_COLUMNS})
      SELECT ${[`$${base + 25}`, `$${base + 2}`, `inv${tag}.pk`, ...ph(26, 19)].join(',')} FROM inv${tag})`;
  return { ctes, params };
}

/**
 * Writes a scored invoice (`ScoringTx.insert` of store/repository.ts): invoice, lines and decision in one
 * statement, the audit-sample row when drawn, the audit outbox row and the event.
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
): Promise<SaveResult> {
  const { ctes, params } = scoredWrite(tenantId, newId(), invoice, payloadSha256, keys, decision, extras);
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
    if (stored.payloadSha256 !== payloadSha256) throw conflict(invoice.invoice_id);
    return { decision: stored.decision, created: false };
  }
  await addVendorLineStats(tx, tenantId, [
    { vendorId: invoice.vendor.id, lines: invoice.lines, baseline: decision.decision === 'AUTO_APPROVE' },
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
 * Writes several scored invoices of one tenant (a batch chunk's group, none of them stored):
 * invoices, lines and decisions in one statement (one chain of insert CTEs per invoice), then
 * the vendor statistics, audit-sample rows, audit outbox rows (in order) and events.
 * @throws TriageError `TRIAGE_STORE_UNAVAILABLE` (retryable) when one of the ids was stored
 *   meanwhile by another transaction: the caller's transaction must roll back, and its retry
 *   finds the stored decision.
 */
export async function insertScoredMany(
  tx: SqlExecutor,
  tenantId: string,
  rows: readonly ScoredRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const parts: string[] = [];
  const params: unknown[] = [];
  rows.forEach((r, j) => {
    const w = scoredWrite(tenantId, r.pk, r.invoice, r.payloadSha256, r.keys, r.decision, r.extras, {
      base: params.length,
      tag: `_${j}`,
    });
    parts.push(w.ctes);
    params.push(...w.params);
  });
  const union = rows.map((_, j) => `SELECT pk FROM inv_${j}`).join(' UNION ALL ');
  const inserted = await tx.query(`WITH ${parts.join(',\n')} ${union}`, params);
  if (inserted.length !== rows.length)
    throw new TriageError(
      'TRIAGE_STORE_UNAVAILABLE',
      'an invoice of the chunk was stored meanwhile by another request; the chunk is retried',
    );
  await addVendorLineStats(
    tx,
    tenantId,
    rows.map((r) => ({
      vendorId: r.invoice.vendor.id,
      lines: r.invoice.lines,
      baseline: r.decision.decision === 'AUTO_APPROVE',
    })),
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
  const rows = await db.query<{ payload_sha256: string; response: DecisionResponse }>(
    `SELECT i.payload_sha256, d.response FROM invoices i JOIN decisions d ON d.invoice_pk = i.pk
     WHERE i.tenant_id = $1 AND i.invoice_id = $2`,
    [tenantId, invoiceId],
    { name: 'find_stored' },
  );
  const r = rows[0];
  return r ? { payloadSha256: r.payload_sha256, decision: r.response } : null;
}
