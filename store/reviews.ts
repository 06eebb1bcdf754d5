/**
 * Reviews and labels. A review is one reviewer's outcome on a decision (`confirmed`,
 * `false_positive`, or `corrected_code` with the right code), per line or per invoice, for
 * the coding or the duplicate task. It is stored append-only with who and when, closes the
 * worklist item (unless `closes_item` is false) and is audited, all in one transaction; an
 * idempotency key makes re-sending it safe. {@link listLabels} turns reviews into training
 * labels.
 */
import { randomUUID } from 'node:crypto';
import type { DecisionResponse, Explanation } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { TriageError, type FieldError } from '../core/errors.js';
import { appendAudit } from './audit.js';
import { appendEvents, reviewEvents } from './events.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';

/** A reviewer's outcome. `corrected_code` confirms a coding exception and names the right code. */
export type ReviewOutcome = 'confirmed' | 'false_positive' | 'corrected_code';
/** Which scorer the review labels; `other` (arithmetic, NPI...) closes the item but is no training label. */
export type ReviewTask = 'coding-mismatch' | 'duplicate' | 'other';

/** A review as submitted (already schema-validated). */
export interface ReviewInput {
  tenantId: string;
  decisionId: string;
  reviewerKeyId: string;
  idempotencyKey: string;
  /**
   * The time claims are judged at: a review is refused while another key holds a claim on the
   * item that expires after it (store/claims.ts). Default now.
   */
  asOf?: Date;
  /** Fingerprint of the request content, to tell a replay from a reused key. */
  requestSha256: string;
  /** Null: inferred from the decision (see {@link resolveReview}). */
  task: ReviewTask | null;
  outcome: ReviewOutcome;
  lineNumber: number | null;
  correctedCode: { system: string; value: string } | null;
  duplicateOfInvoiceId: string | null;
  closesItem: boolean;
}

/** A stored review. Dates ISO 8601. */
export interface ReviewRecord {
  review_id: string;
  decision_id: string;
  invoice_id: string;
  task: ReviewTask;
  outcome: ReviewOutcome;
  line_number: number | null;
  corrected_code: { system: string; value: string } | null;
  duplicate_of_invoice_id: string | null;
  closes_item: boolean;
  reviewer_key_id: string;
  created_at: string;
  /** Worklist state of the decision after this review: open, closed, or null (AUTO_APPROVE). */
  item_status: 'open' | 'closed' | null;
}

/** Outcome of {@link ReviewStore.save}. */
export interface SaveReviewResult {
  review: ReviewRecord;
  /** False when the idempotency key had been used for the same review: the stored one is returned. */
  created: boolean;
}

/** The fields of a review after inference and checks against its decision. */
export interface ResolvedReview {
  task: ReviewTask;
  lineNumber: number | null;
  duplicateOfInvoiceId: string | null;
}

const DUPLICATE_CODES = new Set(['DUPLICATE_SAME_NUMBER', 'DUPLICATE_SUSPECTED', 'LINE_REBILLED']);

/**
 * Infers and checks a review against its decision:
 * - task: as given; else `coding-mismatch` when a line or a corrected code is given, else
 *   `duplicate` when the decision has a duplicate reason, else `coding-mismatch` for the coding
 *   queue, else `other`;
 * - `corrected_code` needs the code and a line (the only line when the invoice has one);
 * - a line must be on the invoice; duplicate reviews are per invoice;
 * - duplicate reviews label a pair: `duplicate_of` defaults to the decision's top candidate.
 * @throws TriageError `TRIAGE_REVIEW_INVALID` (422) naming each field that does not fit.
 */
export function resolveReview(
  decision: DecisionResponse,
  lineNumbers: readonly number[],
  input: Pick<ReviewInput, 'task' | 'outcome' | 'lineNumber' | 'correctedCode' | 'duplicateOfInvoiceId'>,
): ResolvedReview {
  const errors: FieldError[] = [];
  const hasDuplicateReason = decision.reasons.some((r) => DUPLICATE_CODES.has(r.code));
  const task: ReviewTask =
    input.task ??
    (input.lineNumber !== null || input.outcome === 'corrected_code' || input.correctedCode !== null
      ? 'coding-mismatch'
      : hasDuplicateReason
        ? 'duplicate'
        : decision.queue === 'coding'
          ? 'coding-mismatch'
          : 'other');
  let lineNumber = input.lineNumber;
  if (input.outcome === 'corrected_code') {
    if (input.correctedCode === null)
      errors.push({ path: '/corrected_code', message: 'is required with outcome corrected_code' });
    if (task !== 'coding-mismatch')
      errors.push({ path: '/task', message: 'must be coding-mismatch with outcome corrected_code' });
    if (lineNumber === null) {
      if (lineNumbers.length === 1) lineNumber = lineNumbers[0]!;
      else errors.push({ path: '/line_number', message: 'is required with outcome corrected_code' });
    }
  } else if (input.correctedCode !== null) {
    errors.push({ path: '/corrected_code', message: 'is allowed only with outcome corrected_code' });
  }
  if (lineNumber !== null && !lineNumbers.includes(lineNumber))
    errors.push({ path: '/line_number', message: `is not a line of invoice ${decision.invoice_id}` });
  let duplicateOf = input.duplicateOfInvoiceId;
  if (task === 'duplicate') {
    if (lineNumber !== null)
      errors.push({ path: '/line_number', message: 'is not allowed for a duplicate review' });
    duplicateOf ??= decision.duplicates[0]?.invoice_id ?? null;
    if (duplicateOf === null)
      errors.push({ path: '/duplicate_of', message: 'is required: the decision names no earlier invoice' });
    if (duplicateOf === decision.invoice_id)
      errors.push({ path: '/duplicate_of', message: 'must name another invoice' });
  } else if (duplicateOf !== null) {
    errors.push({ path: '/duplicate_of', message: 'is allowed only for a duplicate review' });
  }
  if (errors.length > 0)
    throw new TriageError(
      'TRIAGE_REVIEW_INVALID',
      `review does not fit decision ${decision.decision_id}`,
      errors,
    );
  return { task, lineNumber, duplicateOfInvoiceId: duplicateOf };
}

const REVIEW_COLUMNS = `r.id::text AS review_id, r.decision_id::text AS decision_id, i.invoice_id, r.task, r.outcome,
  r.line_number, r.corrected_code, r.corrected_code_system, r.duplicate_of_invoice_id, r.closes_item,
  r.reviewer, r.created_at, d.review_status, r.request_sha256`;

function toReview(r: Record<string, unknown>): ReviewRecord {
  return {
    review_id: String(r.review_id),
    decision_id: String(r.decision_id),
    invoice_id: String(r.invoice_id),
    task: r.task as ReviewTask,
    outcome: r.outcome as ReviewOutcome,
    line_number: r.line_number === null ? null : Number(r.line_number),
    corrected_code:
      r.corrected_code === null
        ? null
        : { system: String(r.corrected_code_system ?? 'HCPCS'), value: String(r.corrected_code) },
    duplicate_of_invoice_id: (r.duplicate_of_invoice_id as string | null) ?? null,
    closes_item: Boolean(r.closes_item),
    reviewer_key_id: String(r.reviewer),
    created_at: r.created_at instanceof Date ? r.created_at.toISOString() : String(r.created_at),
    item_status: (r.review_status as 'open' | 'closed' | null) ?? null,
  };
}

async function findByKey(
  tx: SqlExecutor,
  tenantId: string,
  key: string,
): Promise<{ review: ReviewRecord; requestSha256: string } | null> {
  const rows = await tx.query(
    `SELECT ${REVIEW_COLUMNS} FROM reviews r JOIN decisions d ON d.id = r.decision_id
     JOIN invoices i ON i.pk = d.invoice_pk WHERE r.tenant_id = $1 AND r.idempotency_key = $2`,
    [tenantId, key],
  );
  return rows[0] ? { review: toReview(rows[0]), requestSha256: String(rows[0].request_sha256) } : null;
}

function idempotencyConflict(): TriageError {
  return new TriageError(
    'TRIAGE_IDEMPOTENCY_CONFLICT',
    'this idempotency key was used for a different review; use a new key for a new review',
    [{ path: '/idempotency_key', message: 'already used for a different review' }],
  );
}

/** One training label. Dates ISO 8601; money in cents. */
export interface LabelRow {
  review_id: string;
  decision_id: string;
  invoice_id: string;
  /** The labelled line; null for an invoice-level label (duplicates, or a decision without flagged lines). */
  line_number: number | null;
  task: 'coding-mismatch' | 'duplicate';
  /** 1 = exception (duplicate / coding error), 0 = not an exception. */
  label: 0 | 1;
  outcome: ReviewOutcome;
  /** The right code when the reviewer corrected it. */
  corrected_code: string | null;
  corrected_code_system: string | null;
  /** For duplicate labels: the earlier invoice of the labelled pair. */
  duplicate_of_invoice_id: string | null;
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

/** Options of {@link ReviewStore.listLabels}. */
export interface ListLabelsOptions {
  /** Only reviews created after this instant (ISO 8601). */
  since?: string;
  /** Only this tenant's reviews; default all tenants. */
  tenant?: string;
  /** Keep only the latest review per decision, task, line and pair (default true). */
  latestOnly?: boolean;
  /** Attach the submitted invoice (holds line text: keep it inside the training environment). */
  includeInvoice?: boolean;
}

/** Review and label operations. */
export interface ReviewStore {
  /**
   * Stores a review: reads the decision (404 when the tenant has none), replays or refuses a
   * reused idempotency key, resolves the review against the decision, inserts it, closes the
   * worklist item and audits it, in one transaction.
   * @throws TriageError `TRIAGE_DECISION_NOT_FOUND`, `TRIAGE_IDEMPOTENCY_CONFLICT`,
   *   `TRIAGE_REVIEW_INVALID` (see {@link resolveReview}), `TRIAGE_CLAIM_CONFLICT` (409) when
   *   another key holds an unexpired claim on the item (store/claims.ts).
   */
  save(input: ReviewInput): Promise<SaveReviewResult>;
  /** Reviews of one decision of the tenant, oldest first. */
  listForDecision(tenantId: string, decisionId: string): Promise<ReviewRecord[]>;
  /**
   * Training labels from reviews of the coding and duplicate tasks, oldest first. An
   * invoice-level coding review labels every line the decision flagged (label 1 for
   * confirmed/corrected, 0 for false_positive); a line-level review labels its line; a
   * duplicate review labels the pair (invoice, duplicate_of). Reviews of task `other` are skipped.
   */
  listLabels(opts?: ListLabelsOptions): Promise<LabelRow[]>;
}

const parseVector = (v: unknown): number[] | null =>
  typeof v === 'string' && v.startsWith('[') ? v.slice(1, -1).split(',').map(Number) : null;

/** The review store over an opened, migrated database. */
export function createReviewStore(db: SqlDatabase): ReviewStore {
  return {
    save: (input) =>
      db.transaction(async (tx) => {
        const existing = await findByKey(tx, input.tenantId, input.idempotencyKey);
        if (existing) {
          if (existing.requestSha256 !== input.requestSha256) throw idempotencyConflict();
          return { review: existing.review, created: false };
        }
        const rows = await tx.query<{
          response: DecisionResponse;
          invoice_pk: string;
          review_status: string | null;
        }>(
          `SELECT response, invoice_pk::text AS invoice_pk, review_status FROM decisions
           WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
          [input.decisionId, input.tenantId],
        );
        const d = rows[0];
        if (!d) throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no decision ${input.decisionId}`);
        const claimedByOther = await tx.query<{ key_id: string }>(
          `SELECT key_id FROM worklist_claims
           WHERE decision_id = $1 AND tenant_id = $2 AND key_id <> $3 AND expires_at > $4`,
          [input.decisionId, input.tenantId, input.reviewerKeyId, (input.asOf ?? new Date()).toISOString()],
        );
        if (claimedByOther.length > 0)
          throw new TriageError(
            'TRIAGE_CLAIM_CONFLICT',
            'another reviewer holds an unexpired claim on this worklist item',
            [{ path: '/decision_id', message: 'is claimed by another reviewer' }],
          );
        const lines = await tx.query<{ line_number: number }>(
          'SELECT line_number FROM invoice_lines WHERE invoice_pk = $1 ORDER BY line_number',
          [d.invoice_pk],
        );
        const resolved = resolveReview(
          d.response,
          lines.map((l) => l.line_number),
          input,
        );
        if (resolved.duplicateOfInvoiceId !== null) {
          const other = await tx.query('SELECT 1 FROM invoices WHERE tenant_id = $1 AND invoice_id = $2', [
            input.tenantId,
            resolved.duplicateOfInvoiceId,
          ]);
          if (other.length === 0)
            throw new TriageError('TRIAGE_REVIEW_INVALID', 'duplicate_of names no invoice of this tenant', [
              { path: '/duplicate_of', message: 'is not an invoice of this tenant' },
            ]);
        }
        const id = randomUUID();
        const now = new Date().toISOString();
        const inserted = await tx.query(
          `INSERT INTO reviews (id, tenant_id, decision_id, line_number, outcome, corrected_code, corrected_code_system,
             reviewer, idempotency_key, created_at, task, duplicate_of_invoice_id, closes_item, request_sha256)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
           ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id`,
          [
            id,
            input.tenantId,
            input.decisionId,
            resolved.lineNumber,
            input.outcome,
            input.correctedCode?.value.toUpperCase() ?? null,
            input.correctedCode?.system ?? null,
            input.reviewerKeyId,
            input.idempotencyKey,
            now,
            resolved.task,
            resolved.duplicateOfInvoiceId,
            input.closesItem,
            input.requestSha256,
          ],
        );
        if (inserted.length === 0) {
          // A concurrent request with the same key committed first.
          const again = await findByKey(tx, input.tenantId, input.idempotencyKey);
          if (!again || again.requestSha256 !== input.requestSha256) throw idempotencyConflict();
          return { review: again.review, created: false };
        }
        if (input.closesItem && d.review_status === 'open') {
          await tx.query(
            `UPDATE decisions SET review_status = 'closed', closed_at = $2, closed_by_review = $3 WHERE id = $1`,
            [input.decisionId, now, id],
          );
          // A closed item has nothing left to claim.
          await tx.query('DELETE FROM worklist_claims WHERE decision_id = $1', [input.decisionId]);
        }
        const stored = (await findByKey(tx, input.tenantId, input.idempotencyKey))!.review;
        await appendAudit(tx, {
          tenantId: input.tenantId,
          actorKeyId: input.reviewerKeyId,
          kind: 'review.created',
          subjectId: id,
          payload: {
            review_id: id,
            decision_id: input.decisionId,
            invoice_id: stored.invoice_id,
            task: stored.task,
            outcome: stored.outcome,
            line_number: stored.line_number,
            corrected_code: stored.corrected_code,
            duplicate_of_invoice_id: stored.duplicate_of_invoice_id,
            closes_item: stored.closes_item,
            item_status: stored.item_status,
          },
        });
        const closedHold = d.response.decision === 'HOLD' && d.review_status === 'open' && input.closesItem;
        await appendEvents(tx, await reviewEvents(tx, input.tenantId, stored, d.response, closedHold));
        return { review: stored, created: true };
      }),

    async listForDecision(tenantId, decisionId) {
      const rows = await db.query(
        `SELECT ${REVIEW_COLUMNS} FROM reviews r JOIN decisions d ON d.id = r.decision_id
         JOIN invoices i ON i.pk = d.invoice_pk WHERE r.tenant_id = $1 AND r.decision_id = $2
         ORDER BY r.created_at, r.id`,
        [tenantId, decisionId],
      );
      return rows.map(toReview);
    },

    async listLabels(opts = {}) {
      const rows = await db.query(
        `SELECT ${REVIEW_COLUMNS}, d.response, d.explanation, d.feature_schema_version, d.model_versions,
           d.invoice_pk::text AS invoice_pk ${opts.includeInvoice ? ', i.payload' : ''}
         FROM reviews r JOIN decisions d ON d.id = r.decision_id JOIN invoices i ON i.pk = d.invoice_pk
         WHERE r.task <> 'other' AND ($1::timestamptz IS NULL OR r.created_at > $1::timestamptz)
           AND ($2::text IS NULL OR r.tenant_id = $2)
         ORDER BY r.created_at, r.id`,
        [opts.since ?? null, opts.tenant ?? null],
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
        const review = toReview(row);
        const decision = row.response as DecisionResponse;
        const explanation = (row.explanation as Explanation | null) ?? null;
        const base = {
          review_id: review.review_id,
          decision_id: review.decision_id,
          invoice_id: review.invoice_id,
          outcome: review.outcome,
          label: (review.outcome === 'false_positive' ? 0 : 1) as 0 | 1,
          reviewer_key_id: review.reviewer_key_id,
          created_at: review.created_at,
          feature_schema_version: String(row.feature_schema_version),
          model_versions: row.model_versions as Record<string, string>,
          ...(opts.includeInvoice ? { invoice: row.payload as Invoice } : {}),
        };
        if (review.task === 'duplicate') {
          const ev = explanation?.evidence.duplicates.find(
            (x) => x.invoice_id === review.duplicate_of_invoice_id,
          );
          out.push({
            ...base,
            task: 'duplicate',
            line_number: null,
            corrected_code: null,
            corrected_code_system: null,
            duplicate_of_invoice_id: review.duplicate_of_invoice_id,
            features: ev ? { comparison: ev.comparison } : null,
          });
          continue;
        }
        const flagged =
          review.line_number !== null
            ? [review.line_number]
            : decision.lines
                .filter((l) => l.reasons.some((r) => r.weight > 0 && r.code !== 'LINE_AMOUNT_MISMATCH'))
                .map((l) => l.line_number);
        const targets: (number | null)[] = flagged.length > 0 ? flagged : [null];
        for (const ln of targets) {
          const lineEx = explanation?.evidence.lines.find((l) => l.line_number === ln);
          const lineScore = explanation?.coding_mismatch.lines.find((l) => l.line_number === ln);
          out.push({
            ...base,
            task: 'coding-mismatch',
            line_number: ln,
            corrected_code: review.corrected_code?.value ?? null,
            corrected_code_system: review.corrected_code?.system ?? null,
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
      const latest = new Map<string, LabelRow>();
      for (const l of out)
        latest.set(`${l.decision_id}|${l.task}|${l.line_number}|${l.duplicate_of_invoice_id}`, l);
      const keep = new Set(latest.values());
      return out.filter((l) => keep.has(l));
    },
  };
}
