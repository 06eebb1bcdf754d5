/**
 * Reviews and labels. A review is one reviewer's outcome on a decision (`confirmed`,
 * `false_positive`, or `corrected_code` with the right code), per line or per invoice, for
 * the coding or the duplicate task. It is stored append-only with who and when, puts the
 * worklist item where the decision's state then sends it (store/settlement.ts: closed once
 * settled, unless `closes_item` is false; reopened in the queue of a task left unreviewed when
 * its only standing exception is withdrawn) and is audited, all in one transaction; an
 * idempotency key makes re-sending it safe. Training labels (reviews with their provenance and
 * labels from the ERP) are listed by store/labels.ts.
 */
import { randomUUID } from 'node:crypto';
import type { DecisionResponse, Queue } from '../core/decision.js';
import { TriageError } from '../core/errors.js';
import { reconcileReviewedBaseline } from './baseline-lines.js';
import { tasksWithFindings, type LabelTask } from '../core/review-tasks.js';
import {
  announcementOf,
  placementAfter,
  replaySettlement,
  sameState,
  unreviewedOf,
  type DecisionState,
  type Placement,
  type Replayed,
  type SettlementReview,
} from './settlement.js';
import { appendAudit } from './audit.js';
import { endClaimOfClosedItem } from './claims.js';
import { appendEvents, reviewEvents } from './events.js';
import { listLabels, type LabelRow, type ListLabelsOptions } from './labels.js';
import { resolveStoredReview } from './review-resolve.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { unpackResponse, type StoredResponse } from './stored-response.js';

export type { LabelRow, ListLabelsOptions } from './labels.js';
export {
  resolveReview,
  resolveStoredReview,
  type ReviewedLine,
  type ResolvedReview,
} from './review-resolve.js';

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
  /** Worklist state of the decision when read: open, closed, or null (AUTO_APPROVE, no item). */
  item_status: 'open' | 'closed' | null;
  /**
   * The decision's tasks with findings (core/review-tasks.ts {@link tasksWithFindings}) that no
   * review of the decision is about yet, in the order `coding-mismatch`, `duplicate`; computed
   * when read, so the same on every review of the decision read together. While one is named,
   * a `false_positive` of another task leaves the worklist item open.
   */
  unreviewed_tasks: LabelTask[];
}

/** Outcome of {@link ReviewStore.save}. */
export interface SaveReviewResult {
  review: ReviewRecord;
  /** False when the idempotency key had been used for the same review: the stored one is returned. */
  created: boolean;
}

const REVIEW_COLUMNS = `r.id::text AS review_id, r.decision_id::text AS decision_id, i.invoice_id, r.task, r.outcome,
  r.line_number, r.corrected_code, r.corrected_code_system, r.duplicate_of_invoice_id, r.closes_item,
  r.reviewer, r.created_at, d.review_status, r.request_sha256`;

/**
 * What {@link ReviewRecord.unreviewed_tasks} is computed from, for the decision with id
 * `param` as it stands now: its invoice-level reason codes and the tasks of its reviews.
 */
const unreviewedInputs = (param: string): string =>
  `SELECT (SELECT COALESCE(jsonb_agg(e ->> 'code'), '[]'::jsonb)
             FROM jsonb_array_elements(d.response -> 'reasons') e) AS reason_codes,
          (SELECT COALESCE(jsonb_agg(DISTINCT r.task), '[]'::jsonb)
             FROM reviews r WHERE r.decision_id = d.id) AS reviewed_tasks
     FROM decisions d WHERE d.id = ${param}`;

/** The tasks with findings of {@link unreviewedInputs} that no review is about. */
function unreviewedOfRow(u: Record<string, unknown>): LabelTask[] {
  return unreviewedOf(tasksWithFindings(u.reason_codes as string[]), u.reviewed_tasks as string[]);
}

/** The decision's tasks with findings that no review of it is about yet, read now. */
async function unreviewedTasks(q: Pick<SqlExecutor, 'query'>, decisionId: string): Promise<LabelTask[]> {
  return unreviewedOfRow((await q.query(unreviewedInputs('$1'), [decisionId]))[0]!);
}

function toReview(r: Record<string, unknown>, unreviewed: LabelTask[]): ReviewRecord {
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
    unreviewed_tasks: unreviewed,
  };
}

/** The review stored under a reviewer key's idempotency key (keys are scoped per API key). */
async function findByKey(
  tx: SqlExecutor,
  input: Pick<ReviewInput, 'tenantId' | 'reviewerKeyId' | 'idempotencyKey'>,
): Promise<{ review: ReviewRecord; requestSha256: string } | null> {
  const rows = await tx.query(
    `SELECT ${REVIEW_COLUMNS} FROM reviews r JOIN decisions d ON d.id = r.decision_id
     JOIN invoices i ON i.pk = d.invoice_pk
     WHERE r.tenant_id = $1 AND r.reviewer = $2 AND r.idempotency_key = $3`,
    [input.tenantId, input.reviewerKeyId, input.idempotencyKey],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    review: toReview(row, await unreviewedTasks(tx, String(row.decision_id))),
    requestSha256: String(row.request_sha256),
  };
}

/** A stored review by id (it must exist). */
async function reviewById(tx: SqlExecutor, reviewId: string): Promise<ReviewRecord> {
  const rows = await tx.query(
    `SELECT ${REVIEW_COLUMNS} FROM reviews r JOIN decisions d ON d.id = r.decision_id
     JOIN invoices i ON i.pk = d.invoice_pk WHERE r.id = $1`,
    [reviewId],
  );
  return toReview(rows[0]!, await unreviewedTasks(tx, String(rows[0]!.decision_id)));
}

function idempotencyConflict(): TriageError {
  return new TriageError(
    'TRIAGE_IDEMPOTENCY_CONFLICT',
    'this idempotency key was used for a different review; use a new key for a new review',
    [{ path: '/idempotency_key', message: 'already used for a different review' }],
  );
}

/** Review and label operations. */
export interface ReviewStore {
  /**
   * Stores a review: reads the decision (404 when the tenant has none), replays or refuses a
   * reused idempotency key, resolves the review against the decision, inserts it, places the
   * worklist item ({@link placementAfter}) and audits it (`review.created`, and
   * `decision.state_changed` when the decision's state or queue changed), in one transaction.
   * @throws TriageError `TRIAGE_DECISION_NOT_FOUND`, `TRIAGE_IDEMPOTENCY_CONFLICT`,
   *   `TRIAGE_REVIEW_INVALID` (see {@link resolveReview}), `TRIAGE_CLAIM_CONFLICT` (409) when
   *   another key holds an unexpired claim on the item (store/claims.ts).
   */
  save(input: ReviewInput): Promise<SaveReviewResult>;
  /** Reviews of one decision of the tenant, oldest first. */
  listForDecision(tenantId: string, decisionId: string): Promise<ReviewRecord[]>;
  /**
   * Training labels with their provenance: reviews, audit-sample reviews and external (ERP)
   * labels, see store/labels.ts {@link listLabels}.
   */
  listLabels(opts?: ListLabelsOptions): Promise<LabelRow[]>;
}

/**
 * Replays the decision's reviews oldest first up to `reviewId` (stored, replayed last), see
 * {@link replaySettlement}.
 */
async function replayStored(
  tx: SqlExecutor,
  decisionId: string,
  decision: DecisionResponse,
  reviewId: string,
): Promise<Replayed> {
  const reviews = await tx.query<SettlementReview>(
    `SELECT id::text AS id, outcome, line_number, closes_item, task FROM reviews WHERE decision_id = $1
     ORDER BY (id = $2), created_at, id`,
    [decisionId, reviewId],
  );
  return replaySettlement(reviews, tasksWithFindings(decision.reasons.map((r) => r.code)), reviewId);
}

/** A decision state as the audit log records it (`decision.state_changed`). */
function auditedState(state: DecisionState, placement: Placement | null): Record<string, unknown> {
  return state.state === 'open'
    ? { state: 'open', queue: placement?.queue ?? null, unreviewed_tasks: state.unreviewed }
    : { state: state.state, review_id: state.by.review_id };
}

/** The review store over an opened, migrated database. */
export function createReviewStore(db: SqlDatabase): ReviewStore {
  return {
    save: (input) =>
      db.transaction(async (tx) => {
        const existing = await findByKey(tx, input);
        if (existing) {
          if (existing.requestSha256 !== input.requestSha256) throw idempotencyConflict();
          return { review: existing.review, created: false };
        }
        const rows = await tx.query<{
          response: StoredResponse;
          invoice_pk: string;
          review_status: 'open' | 'closed' | null;
          queue: Queue | null;
          erp_status: string | null;
        }>(
          `SELECT response, invoice_pk::text AS invoice_pk, review_status, queue, erp_status FROM decisions
           WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
          [input.decisionId, input.tenantId],
        );
        const d = rows[0] && { ...rows[0], response: unpackResponse(rows[0].response) };
        if (!d)
          throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no decision ${input.decisionId}`, [
            { path: '/decision_id', message: 'is not a decision of this tenant' },
          ]);
        const claimTime = input.asOf ?? new Date();
        const claimedByOther = await tx.query<{ key_id: string }>(
          `SELECT key_id FROM worklist_claims
           WHERE decision_id = $1 AND tenant_id = $2 AND key_id <> $3 AND expires_at > $4`,
          [input.decisionId, input.tenantId, input.reviewerKeyId, claimTime.toISOString()],
        );
        if (claimedByOther.length > 0)
          throw new TriageError(
            'TRIAGE_CLAIM_CONFLICT',
            'another reviewer holds an unexpired claim on this worklist item',
            [{ path: '/decision_id', message: 'is claimed by another reviewer' }],
          );
        const resolved = await resolveStoredReview(tx, input.tenantId, d, input);
        const id = randomUUID();
        // After every stored review of the decision (same millisecond included), so that the
        // replay order (created_at, id) is the order the reviews were applied in.
        const latest = await tx.query<{ at: Date | string | null }>(
          'SELECT max(created_at) AS at FROM reviews WHERE decision_id = $1',
          [input.decisionId],
        );
        const after = latest[0]?.at == null ? 0 : new Date(latest[0].at).getTime() + 1;
        const now = new Date(Math.max(Date.now(), after)).toISOString();
        const inserted = await tx.query(
          `INSERT INTO reviews (id, tenant_id, decision_id, line_number, outcome, corrected_code, corrected_code_system,
             reviewer, idempotency_key, created_at, task, duplicate_of_invoice_id, closes_item, request_sha256)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
           ON CONFLICT (tenant_id, reviewer, idempotency_key) DO NOTHING RETURNING id`,
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
          const again = await findByKey(tx, input);
          if (!again || again.requestSha256 !== input.requestSha256) throw idempotencyConflict();
          return { review: again.review, created: false };
        }
        // Where the decision stands now, and so where its item goes (store/settlement.ts).
        const replayed = await replayStored(tx, input.decisionId, d.response, id);
        const was: Placement | null = d.review_status && { item: d.review_status, queue: d.queue };
        const placed = placementAfter(replayed, was, d.response, input.closesItem, d.erp_status);
        const moved = placed && was && (placed.item !== was.item || placed.queue !== was.queue);
        if (moved) {
          await tx.query(
            `UPDATE decisions SET review_status = $2, queue = $3,
               closed_at = CASE WHEN $2 = 'closed' THEN $4::timestamptz END,
               closed_by_review = CASE WHEN $2 = 'closed' THEN $5::uuid END
             WHERE id = $1`,
            [input.decisionId, placed.item, placed.queue, now, id],
          );
        }
        // The reviewers' verdicts so far decide which lines are the vendor's normal billing.
        await reconcileReviewedBaseline(tx, input.tenantId, d.invoice_pk, input.decisionId, id, d.response);
        const stored = (await findByKey(tx, input))!.review;
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
        // Only a decision with a worklist item has a state to change (an audit-sample review of
        // an AUTO_APPROVE decision labels it, nothing more).
        if (was && placed && (!sameState(replayed.from, replayed.to) || placed.queue !== was.queue))
          await appendAudit(tx, {
            tenantId: input.tenantId,
            actorKeyId: input.reviewerKeyId,
            kind: 'decision.state_changed',
            subjectId: input.decisionId,
            payload: {
              decision_id: input.decisionId,
              invoice_id: stored.invoice_id,
              review_id: id,
              from: auditedState(replayed.from, was),
              to: auditedState(replayed.to, placed),
            },
          });
        // A closed item has nothing left to claim: its claim ends, audited after the review.
        if (moved && placed.item === 'closed')
          await endClaimOfClosedItem(tx, input.tenantId, input.decisionId, input.reviewerKeyId, claimTime);
        const settlement =
          d.response.decision === 'HOLD' && d.review_status !== null
            ? announcementOf(replayed, id, was?.item === 'open' && placed?.item === 'closed')
            : null;
        const settles = settlement && {
          supersedes: settlement.supersedes,
          by: settlement.by && (await reviewById(tx, settlement.by.review_id)),
        };
        await appendEvents(tx, await reviewEvents(tx, input.tenantId, stored, d.response, settles));
        return { review: stored, created: true };
      }),

    async listForDecision(tenantId, decisionId) {
      // One statement: the reviews and, computed once (a materialised CTE, not per row), what
      // their decision's unreviewed tasks come from.
      const rows = await db.query(
        `WITH u AS MATERIALIZED (${unreviewedInputs('$2')})
         SELECT ${REVIEW_COLUMNS}, u.reason_codes, u.reviewed_tasks
           FROM reviews r JOIN decisions d ON d.id = r.decision_id JOIN invoices i ON i.pk = d.invoice_pk
          CROSS JOIN u
          WHERE r.tenant_id = $1 AND r.decision_id = $2
          ORDER BY r.created_at, r.id`,
        [tenantId, decisionId],
      );
      return rows.map((r) => toReview(r, unreviewedOfRow(r)));
    },

    listLabels: (opts) => listLabels(db, opts),
  };
}
