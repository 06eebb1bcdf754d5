/**
 * Reviews: `POST /v1/reviews` (reviewer) records a reviewer's outcome on a decision as a
 * label, closes the worklist item and audits it; `GET /v1/reviews?decision_id=` (reviewer,
 * auditor) lists the reviews of a decision.
 */
import { canonicalSha256 } from '../../core/canonical.js';
import Type from 'typebox';
import { CodeRef } from '../../core/invoice.js';
import { TriageError } from '../../core/errors.js';
import { principalOf } from '../auth.js';
import {
  problemResponses,
  PROTECTED,
  WITH_BODY,
  nowOf,
  type ClockOption,
  type RoutePlugin,
} from './common.js';
import type { ApiStore } from '../app.js';
import type { ScoringService } from '../../inference/pipeline.js';

const IdempotencyKey = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[\\x21-\\x7E]+$',
  description: 'Client key that makes re-sending safe (printable ASCII, no spaces).',
});

/** Body of `POST /v1/reviews`. */
export const ReviewRequest = Type.Object(
  {
    decision_id: Type.String({ format: 'uuid' }),
    outcome: Type.Union(
      [Type.Literal('confirmed'), Type.Literal('false_positive'), Type.Literal('corrected_code')],
      {
        description:
          'confirmed: the exception is real; false_positive: it is not; corrected_code: coding error, with the ' +
          'right code (another than the one the line bills: the same code is a 422 naming /corrected_code).',
      },
    ),
    task: Type.Optional(
      Type.Union([Type.Literal('coding-mismatch'), Type.Literal('duplicate'), Type.Literal('other')], {
        description:
          'Which exception the review is about; inferred from the decision when absent, except on a ' +
          'decision with findings of both coding-mismatch and duplicate (422 naming /task). Such a ' +
          'decision is released only once each of the two tasks is reviewed false_positive.',
      }),
    ),
    line_number: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        description: 'The reviewed line; absent for the whole invoice.',
      }),
    ),
    corrected_code: Type.Optional(CodeRef),
    duplicate_of: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: "Earlier invoice id of the reviewed pair; default the decision's top candidate.",
      }),
    ),
    close_item: Type.Optional(
      Type.Boolean({
        description:
          'Close the worklist item (default true; a false_positive leaves it open while the ' +
          "decision's other task with findings is unreviewed); false to add more labels first.",
      }),
    ),
    idempotency_key: Type.Optional(IdempotencyKey),
  },
  { additionalProperties: false },
);

/**
 * A stored review, with the worklist state of its decision (`item_status`) and the decision's
 * tasks with findings still without a review (`unreviewed_tasks`), both as the decision stands
 * when read.
 */
export const ReviewResponse = Type.Object({
  review_id: Type.String({ format: 'uuid' }),
  decision_id: Type.String({ format: 'uuid' }),
  invoice_id: Type.String(),
  task: Type.String(),
  outcome: Type.String(),
  line_number: Type.Union([Type.Integer(), Type.Null()]),
  corrected_code: Type.Union([Type.Object({ system: Type.String(), value: Type.String() }), Type.Null()]),
  duplicate_of_invoice_id: Type.Union([Type.String(), Type.Null()]),
  closes_item: Type.Boolean(),
  reviewer_key_id: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  item_status: Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Null()], {
    description:
      "The decision's worklist item as the review is read: open, closed, or null (AUTO_APPROVE, no item).",
  }),
  unreviewed_tasks: Type.Array(Type.Union([Type.Literal('coding-mismatch'), Type.Literal('duplicate')]), {
    description:
      "The decision's tasks with findings (a reason feeding the coding-mismatch or the duplicate score; " +
      'LINE_REBILLED is a duplicate finding) that no review of the decision is about yet, in that order; ' +
      'computed when read, so the same on every review of the decision listed together. While one is ' +
      'named, a false_positive of another task leaves the item open: review it with that task.',
  }),
});

/** What the reviews routes use. */
export interface ReviewRoutesOptions extends ClockOption {
  scoring: Pick<ScoringService, 'referenceCode'>;
  store: Pick<ApiStore, 'getDecisionRecord' | 'reviews'>;
}

/** Registers the reviews routes. */
export const reviewRoutes: RoutePlugin<ReviewRoutesOptions> = async (app, deps) => {
  app.post(
    '/v1/reviews',
    {
      config: { roles: ['reviewer'] },
      schema: {
        operationId: 'submitReview',
        summary: "Record a reviewer's outcome on a decision (a training label); closes the worklist item",
        description:
          'Idempotent: send an Idempotency-Key header or idempotency_key field; the same key with the same ' +
          'review returns the stored one (200, idempotent-replayed: true), with a different review a 409. ' +
          'A new review is a 201. On a HOLD, the review that closes the item releases it (false_positive) or ' +
          "confirms it; a false_positive, for one line or the whole invoice, does not release it while another line's " +
          'latest review is an exception (confirmed, corrected_code): it is stored as a label and the HOLD stays ' +
          "confirmed, by that line's review (decision.confirmed names it) when nothing had settled it yet. " +
          'On a decision with findings of both tasks, a false_positive of one leaves the item open while the ' +
          'other has no review; unreviewed_tasks names it.',
        headers: Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey) }),
        body: ReviewRequest,
        response: {
          200: ReviewResponse,
          201: ReviewResponse,
          ...problemResponses(PROTECTED, WITH_BODY, 404, 409, 422),
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { idempotency_key: bodyKey, ...review } = req.body;
      const headerKey = req.headers['idempotency-key'];
      if (bodyKey !== undefined && headerKey !== undefined && bodyKey !== headerKey)
        throw new TriageError('TRIAGE_REQUEST_INVALID', 'Idempotency-Key header and idempotency_key differ', [
          { path: '/idempotency_key', message: 'differs from the Idempotency-Key header' },
        ]);
      const key = bodyKey ?? headerKey;
      if (key === undefined)
        throw new TriageError('TRIAGE_INPUT_INVALID', 'an idempotency key is required', [
          { path: '/idempotency_key', message: 'is required (or the Idempotency-Key header)' },
        ]);
      if (
        review.corrected_code?.system === 'HCPCS' &&
        !deps.scoring.referenceCode(review.corrected_code.value)
      )
        throw new TriageError('TRIAGE_REVIEW_INVALID', 'corrected code is not a HCPCS Level II code', [
          { path: '/corrected_code/value', message: 'is not in HCPCS Level II 2025-01' },
        ]);
      const out = await deps.store.reviews.save({
        tenantId: p.tenantId,
        decisionId: review.decision_id,
        reviewerKeyId: p.keyId,
        idempotencyKey: key,
        requestSha256: canonicalSha256(review),
        task: review.task ?? null,
        outcome: review.outcome,
        lineNumber: review.line_number ?? null,
        correctedCode: review.corrected_code
          ? { system: review.corrected_code.system, value: review.corrected_code.value.toUpperCase() }
          : null,
        duplicateOfInvoiceId: review.duplicate_of ?? null,
        closesItem: review.close_item ?? true,
        asOf: nowOf(deps),
      });
      if (!out.created) void reply.header('idempotent-replayed', 'true');
      void reply.status(out.created ? 201 : 200);
      req.log.info({ review_id: out.review.review_id, created: out.created }, 'review recorded');
      return out.review;
    },
  );

  app.get(
    '/v1/reviews',
    {
      config: { roles: ['reviewer', 'auditor'] },
      schema: {
        operationId: 'listReviews',
        summary: 'Reviews of one decision, oldest first',
        querystring: Type.Object(
          { decision_id: Type.String({ format: 'uuid' }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(ReviewResponse) }),
          ...problemResponses(PROTECTED, 404),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const rec = await deps.store.getDecisionRecord(p.tenantId, req.query.decision_id);
      if (!rec)
        throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no decision ${req.query.decision_id}`, [
          { path: '/querystring/decision_id', message: 'is not a decision of this tenant' },
        ]);
      return { items: await deps.store.reviews.listForDecision(p.tenantId, req.query.decision_id) };
    },
  );
};
