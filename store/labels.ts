/**
 * Training labels with their provenance (core/labels.ts): reviewer and audit-sample outcomes
 * (rows of `reviews`) and labels recorded from other systems, today the ERP's posting,
 * rejection or payment of an invoice (`external_labels`, migration 090), recorded with
 * {@link recordLabel}. {@link listLabels} reads them all as training rows, deduplicated per
 * decision, task, line and pair by the documented precedence ({@link supersedes}).
 */
import { randomUUID } from 'node:crypto';
import { canonicalSha256 } from '../core/canonical.js';
import type { DecisionResponse, Explanation } from '../core/decision.js';
import { TriageError } from '../core/errors.js';
import type { Invoice } from '../core/invoice.js';
import { supersedes, type LabelProvenance } from '../core/labels.js';
import type { LabelTask } from '../core/review-tasks.js';
import { appendAudit } from './audit.js';
import { resolveStoredReview } from './review-resolve.js';
import type { ReviewOutcome } from './reviews.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { unpackResponse, type StoredResponse } from './stored-response.js';

export type { LabelTask } from '../core/review-tasks.js';

/** An ERP status of an invoice, as an ERP callback reports it. */
export type ErpStatus = 'posted' | 'rejected' | 'paid';

/** A label from another system than the review API (already schema-checked by the caller). */
export interface RecordLabelInput {
  tenantId: string;
  decisionId: string;
  /** Provenance; only `erp` is recorded this way (reviews are stored by store/reviews.ts). */
  source: 'erp';
  task: LabelTask;
  /** 1 = the exception is real, 0 = the decision's invoice has none for this task. */
  label: 0 | 1;
  /** The labelled line (coding task); null or absent: the invoice (every flagged line). */
  lineNumber?: number | null;
  /** Duplicate task: the earlier invoice of the pair; default the decision's top candidate. */
  duplicateOfInvoiceId?: string | null;
  /** What the source reported, e.g. an {@link ErpStatus}; 1 to 64 characters. */
  event: string;
  /** The source's own reference for the event (ERP document or callback id), if any. */
  reference?: string | null;
  /** Makes re-sending the same label safe: unique per tenant and source. */
  idempotencyKey: string;
  /** API key (or process) that recorded it; null for a process without a key. */
  actorKeyId: string | null;
  /** When the source reported it; default now. */
  at?: Date;
}

/** A stored external label. Dates ISO 8601. */
export interface ExternalLabelRecord {
  label_id: string;
  decision_id: string;
  invoice_id: string;
  source: 'erp';
  task: LabelTask;
  label: 0 | 1;
  line_number: number | null;
  duplicate_of_invoice_id: string | null;
  event: string;
  reference: string | null;
  recorded_by: string | null;
  created_at: string;
}

/**
 * The labels an ERP status implies about a decision's invoice (record each with
 * {@link recordLabel}, source `erp`, event = the status):
 * - `rejected` with reason `duplicate`: duplicate 1; with reason `coding` or `price`: coding 1;
 *   any other reason (missing PO, wrong address...) says nothing about the models: none.
 * - `posted` / `paid` after `REVIEW` or `HOLD`: accounts payable let it through, coding 0 (and
 *   duplicate 0 when the decision named a candidate). After `AUTO_APPROVE`: none, since nobody
 *   looked and the label would only repeat the model's own choice.
 */
export function erpStatusLabels(
  status: ErpStatus,
  decision: Pick<DecisionResponse, 'decision' | 'duplicates'>,
  rejectionReason?: string | null,
): { task: LabelTask; label: 0 | 1 }[] {
  if (status === 'rejected') {
    // A duplicate label names its pair: the decision's best candidate. Without one the ERP's
    // rejection is recorded as a status only (the ERP does not say which invoice it duplicates).
    if (rejectionReason === 'duplicate')
      return decision.duplicates.length > 0 ? [{ task: 'duplicate', label: 1 }] : [];
    if (rejectionReason === 'coding' || rejectionReason === 'price')
      return [{ task: 'coding-mismatch', label: 1 }];
    return [];
  }
  if (decision.decision === 'AUTO_APPROVE') return [];
  return [
    { task: 'coding-mismatch', label: 0 },
    ...(decision.duplicates.length > 0 ? [{ task: 'duplicate' as const, label: 0 as const }] : []),
  ];
}

const EXTERNAL_COLUMNS = `e.id::text AS label_id, e.decision_id::text AS decision_id, i.invoice_id, e.source,
  e.task, e.label, e.line_number, e.duplicate_of_invoice_id, e.event, e.reference, e.recorded_by,
  e.created_at, e.request_sha256`;

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

function toExternal(r: Record<string, unknown>): ExternalLabelRecord {
  return {
    label_id: String(r.label_id),
    decision_id: String(r.decision_id),
    invoice_id: String(r.invoice_id),
    source: 'erp',
    task: r.task as LabelTask,
    label: Number(r.label) as 0 | 1,
    line_number: r.line_number === null ? null : Number(r.line_number),
    duplicate_of_invoice_id: (r.duplicate_of_invoice_id as string | null) ?? null,
    event: String(r.event),
    reference: (r.reference as string | null) ?? null,
    recorded_by: (r.recorded_by as string | null) ?? null,
    created_at: iso(r.created_at),
  };
}

async function externalByKey(tx: SqlExecutor, tenantId: string, source: string, key: string) {
  const rows = await tx.query(
    `SELECT ${EXTERNAL_COLUMNS} FROM external_labels e JOIN decisions d ON d.id = e.decision_id
     JOIN invoices i ON i.pk = d.invoice_pk
     WHERE e.tenant_id = $1 AND e.source = $2 AND e.idempotency_key = $3`,
    [tenantId, source, key],
  );
  return rows[0] ? { label: toExternal(rows[0]), requestSha256: String(rows[0].request_sha256) } : null;
}

/**
 * Records a label from another system inside the caller's transaction (so a status change and
 * its label commit together), audited `label.recorded`. The label is checked against its
 * decision like a review ({@link resolveStoredReview}): the line must be on the invoice, a duplicate
 * label needs the pair's earlier invoice. Re-sending the same label with the same idempotency
 * key returns the stored one (`created: false`).
 * @throws TriageError `TRIAGE_DECISION_NOT_FOUND` (404) when the tenant has no such decision;
 *   `TRIAGE_REVIEW_INVALID` (422) naming `/line_number`, `/duplicate_of` or `/event`;
 *   `TRIAGE_IDEMPOTENCY_CONFLICT` (409) when the key was used for a different label.
 */
export async function recordLabel(
  tx: SqlExecutor,
  input: RecordLabelInput,
): Promise<{ label: ExternalLabelRecord; created: boolean }> {
  const requestSha256 = canonicalSha256({
    decision_id: input.decisionId,
    task: input.task,
    label: input.label,
    line_number: input.lineNumber ?? null,
    duplicate_of: input.duplicateOfInvoiceId ?? null,
    event: input.event,
    reference: input.reference ?? null,
  });
  const conflict = () =>
    new TriageError('TRIAGE_IDEMPOTENCY_CONFLICT', 'this idempotency key was used for a different label', [
      { path: '/idempotency_key', message: 'already used for a different label' },
    ]);
  const existing = await externalByKey(tx, input.tenantId, input.source, input.idempotencyKey);
  if (existing) {
    if (existing.requestSha256 !== requestSha256) throw conflict();
    return { label: existing.label, created: false };
  }
  if (!/^[\x21-\x7e]{1,64}$/.test(input.event))
    throw new TriageError('TRIAGE_REVIEW_INVALID', 'label event must be 1-64 printable characters', [
      { path: '/event', message: 'must be 1-64 printable ASCII characters without spaces' },
    ]);
  const rows = await tx.query<{ response: StoredResponse; invoice_pk: string }>(
    'SELECT response, invoice_pk::text AS invoice_pk FROM decisions WHERE id = $1 AND tenant_id = $2',
    [input.decisionId, input.tenantId],
  );
  const d = rows[0] && { ...rows[0], response: unpackResponse(rows[0].response) };
  if (!d) throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no decision ${input.decisionId}`);
  const resolved = await resolveStoredReview(tx, input.tenantId, d, {
    task: input.task,
    outcome: input.label === 1 ? 'confirmed' : 'false_positive',
    lineNumber: input.lineNumber ?? null,
    correctedCode: null,
    duplicateOfInvoiceId: input.duplicateOfInvoiceId ?? null,
  });
  const id = randomUUID();
  const inserted = await tx.query(
    `INSERT INTO external_labels (id, tenant_id, decision_id, source, task, line_number, duplicate_of_invoice_id,
       label, event, reference, recorded_by, idempotency_key, request_sha256, created_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
     ON CONFLICT (tenant_id, source, idempotency_key) DO NOTHING RETURNING id`,
    [
      id,
      input.tenantId,
      input.decisionId,
      input.source,
      resolved.task,
      resolved.lineNumber,
      resolved.duplicateOfInvoiceId,
      input.label,
      input.event,
      input.reference ?? null,
      input.actorKeyId,
      input.idempotencyKey,
      requestSha256,
      (input.at ?? new Date()).toISOString(),
    ],
  );
  const stored = await externalByKey(tx, input.tenantId, input.source, input.idempotencyKey);
  if (inserted.length === 0) {
    // A concurrent request with the same key committed first.
    if (!stored || stored.requestSha256 !== requestSha256) throw conflict();
    return { label: stored.label, created: false };
  }
  const label = stored!.label;
  await appendAudit(tx, {
    tenantId: input.tenantId,
    actorKeyId: input.actorKeyId,
    kind: 'label.recorded',
    subjectId: id,
    payload: {
      label_id: id,
      decision_id: label.decision_id,
      invoice_id: label.invoice_id,
      source: label.source,
      task: label.task,
      label: label.label,
      line_number: label.line_number,
      duplicate_of_invoice_id: label.duplicate_of_invoice_id,
      event: label.event,
      reference: label.reference,
    },
  });
  return { label, created: true };
}

/** One training label. Dates ISO 8601; money in cents. */
export interface LabelRow {
  /** Id of the review, or of the external label (`source` erp), the row comes from. */
  review_id: string;
  decision_id: string;
  invoice_id: string;
  /** Where the label came from (core/labels.ts). */
  source: LabelProvenance;
  /** What the source reported for an `erp` label (posted, rejected, paid...); null for reviews. */
  event: string | null;
  /** The labelled line; null for an invoice-level label (duplicates, or a decision without flagged lines). */
  line_number: number | null;
  task: LabelTask;
  /** 1 = exception (duplicate / coding error), 0 = not an exception. */
  label: 0 | 1;
  /** The reviewer's outcome; null for an `erp` label. */
  outcome: ReviewOutcome | null;
  /** The right code when the reviewer corrected it. */
  corrected_code: string | null;
  corrected_code_system: string | null;
  /** For duplicate labels: the earlier invoice of the labelled pair. */
  duplicate_of_invoice_id: string | null;
  /** Reviewer's key, or the key that recorded an external label (empty when none). */
  reviewer_key_id: string;
  created_at: string;
  feature_schema_version: string;
  model_versions: Record<string, string>;
  /**
   * Features stored with the decision, when available: for a line, its billed code, amount,
   * check risks and description embedding; for a duplicate pair, the comparison vector.
   */
  features: {
    line?: {
      code: string | null;
      amount_cents: number;
      score: number | null;
      checks: { code: string; risk: number }[];
      embedding: number[] | null;
    };
    comparison?: Record<string, unknown>;
  } | null;
  /** The invoice as submitted (only with `includeInvoice`; holds line descriptions). */
  invoice?: Invoice;
}

/** Options of {@link listLabels}. */
export interface ListLabelsOptions {
  /** Only labels created after this instant (ISO 8601). */
  since?: string;
  /** Only this tenant's labels; default all tenants. */
  tenant?: string;
  /** Only labels of these provenances; default all. */
  sources?: readonly LabelProvenance[];
  /** Keep only the winning label per decision, task, line and pair ({@link supersedes}; default true). */
  latestOnly?: boolean;
  /** Attach the submitted invoice (holds line text: keep it inside the training environment). */
  includeInvoice?: boolean;
}

const parseVector = (v: unknown): number[] | null =>
  typeof v === 'string' && v.startsWith('[') ? v.slice(1, -1).split(',').map(Number) : null;

/**
 * Reviews of the coding and duplicate tasks and external labels, as one list with provenance.
 * Columns shared by both, so one ordering (created_at, id) covers them.
 */
const LABEL_SOURCES_SQL = `
  SELECT r.id::text AS id, r.decision_id, r.task, r.outcome,
    CASE WHEN r.outcome = 'false_positive' THEN 0 ELSE 1 END AS label, r.line_number,
    r.corrected_code, r.corrected_code_system, r.duplicate_of_invoice_id, r.reviewer AS actor,
    r.created_at, r.tenant_id, NULL::text AS event,
    CASE WHEN EXISTS (SELECT 1 FROM audit_samples a WHERE a.decision_id = r.decision_id)
      THEN 'audit_sample' ELSE 'reviewer' END AS source
  FROM reviews r WHERE r.task <> 'other'
  UNION ALL
  SELECT e.id::text, e.decision_id, e.task, NULL, e.label, e.line_number, NULL, NULL,
    e.duplicate_of_invoice_id, COALESCE(e.recorded_by, ''), e.created_at, e.tenant_id, e.event, e.source
  FROM external_labels e`;

/**
 * Training labels from reviews of the coding and duplicate tasks and from external labels,
 * oldest first. An invoice-level coding label labels every line the decision flagged (label 1
 * for confirmed/corrected, 0 for false_positive; an external label's own value); a line-level
 * label labels its line; a duplicate label labels the pair (invoice, duplicate_of). Reviews of
 * task `other` are skipped.
 */
export async function listLabels(db: SqlExecutor, opts: ListLabelsOptions = {}): Promise<LabelRow[]> {
  const rows = await db.query(
    `SELECT l.*, i.invoice_id, d.response, d.explanation, d.feature_schema_version, d.model_versions,
       d.invoice_pk::text AS invoice_pk ${opts.includeInvoice ? ', i.payload' : ''}
     FROM (${LABEL_SOURCES_SQL}) l JOIN decisions d ON d.id = l.decision_id JOIN invoices i ON i.pk = d.invoice_pk
     WHERE ($1::timestamptz IS NULL OR l.created_at > $1::timestamptz)
       AND ($2::text IS NULL OR l.tenant_id = $2)
       AND ($3::text[] IS NULL OR l.source = ANY($3::text[]))
     ORDER BY l.created_at, l.id`,
    [opts.since ?? null, opts.tenant ?? null, opts.sources ? `{${opts.sources.join(',')}}` : null],
  );
  // Line embeddings of the labelled lines, fetched per invoice.
  const embeddings = new Map<string, Map<number, number[] | null>>();
  const lineEmbedding = async (invoicePk: string, line: number): Promise<number[] | null> => {
    let m = embeddings.get(invoicePk);
    if (!m) {
      const ls = await db.query<{ line_number: number; embedding: string }>(
        'SELECT line_number, embedding::text AS embedding FROM invoice_lines WHERE invoice_pk = $1',
        [invoicePk],
      );
      m = new Map(ls.map((l) => [l.line_number, parseVector(l.embedding)]));
      embeddings.set(invoicePk, m);
    }
    return m.get(line) ?? null;
  };
  const out: LabelRow[] = [];
  for (const row of rows) {
    const decision = unpackResponse(row.response as StoredResponse);
    const explanation = (row.explanation as Explanation | null) ?? null;
    const lineNumber = row.line_number === null ? null : Number(row.line_number);
    const base = {
      review_id: String(row.id),
      decision_id: String(row.decision_id),
      invoice_id: String(row.invoice_id),
      source: row.source as LabelProvenance,
      event: (row.event as string | null) ?? null,
      outcome: (row.outcome as ReviewOutcome | null) ?? null,
      label: Number(row.label) as 0 | 1,
      reviewer_key_id: String(row.actor),
      created_at: iso(row.created_at),
      feature_schema_version: String(row.feature_schema_version),
      model_versions: row.model_versions as Record<string, string>,
      ...(opts.includeInvoice ? { invoice: row.payload as Invoice } : {}),
    };
    if (row.task === 'duplicate') {
      const dupOf = (row.duplicate_of_invoice_id as string | null) ?? null;
      const ev = explanation?.evidence.duplicates.find((x) => x.invoice_id === dupOf);
      out.push({
        ...base,
        task: 'duplicate',
        line_number: null,
        corrected_code: null,
        corrected_code_system: null,
        duplicate_of_invoice_id: dupOf,
        features: ev ? { comparison: ev.comparison } : null,
      });
      continue;
    }
    const flagged =
      lineNumber !== null
        ? [lineNumber]
        : decision.lines
            .filter((l) => l.reasons.some((r) => r.weight > 0 && r.code !== 'LINE_AMOUNT_MISMATCH'))
            .map((l) => l.line_number);
    const targets: (number | null)[] = flagged.length > 0 ? flagged : [null];
    const corrected = (row.corrected_code as string | null) ?? null;
    for (const ln of targets) {
      const lineEx = explanation?.evidence.lines.find((l) => l.line_number === ln);
      const lineScore = explanation?.coding_mismatch.lines.find((l) => l.line_number === ln);
      out.push({
        ...base,
        task: 'coding-mismatch',
        line_number: ln,
        corrected_code: corrected,
        corrected_code_system: corrected === null ? null : String(row.corrected_code_system ?? 'HCPCS'),
        duplicate_of_invoice_id: null,
        features:
          ln === null
            ? null
            : {
                line: {
                  code: lineEx?.billed?.code ?? null,
                  amount_cents: lineEx?.amount_cents ?? 0,
                  score: lineScore?.score ?? null,
                  checks: (lineScore?.checks ?? []).map((c) => ({ code: c.code, risk: c.risk })),
                  embedding: await lineEmbedding(String(row.invoice_pk), ln),
                },
              },
      });
    }
  }
  if (opts.latestOnly === false) return out;
  const winner = new Map<string, LabelRow>();
  const ranked = (l: LabelRow) => ({ id: l.review_id, createdAt: l.created_at, source: l.source });
  for (const l of out) {
    const k = `${l.decision_id}|${l.task}|${l.line_number}|${l.duplicate_of_invoice_id}`;
    const prev = winner.get(k);
    if (!prev || supersedes(ranked(l), ranked(prev))) winner.set(k, l);
  }
  const keep = new Set(winner.values());
  return out.filter((l) => keep.has(l));
}

/** External labels and the training label listing over an opened, migrated database. */
export interface LabelStore {
  /** {@link recordLabel} in its own transaction. */
  record(input: RecordLabelInput): Promise<{ label: ExternalLabelRecord; created: boolean }>;
  /** External labels of one decision of the tenant, oldest first. */
  listForDecision(tenantId: string, decisionId: string): Promise<ExternalLabelRecord[]>;
  /** {@link listLabels}. */
  listLabels(opts?: ListLabelsOptions): Promise<LabelRow[]>;
}

/** The label store over an opened, migrated database. */
export function createLabelStore(db: SqlDatabase): LabelStore {
  return {
    record: (input) => db.transaction((tx) => recordLabel(tx, input)),
    async listForDecision(tenantId, decisionId) {
      const rows = await db.query(
        `SELECT ${EXTERNAL_COLUMNS} FROM external_labels e JOIN decisions d ON d.id = e.decision_id
         JOIN invoices i ON i.pk = d.invoice_pk WHERE e.tenant_id = $1 AND e.decision_id = $2
         ORDER BY e.created_at, e.id`,
        [tenantId, decisionId],
      );
      return rows.map(toExternal);
    },
    listLabels: (opts) => listLabels(db, opts),
  };
}
