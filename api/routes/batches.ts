/**
 * Asynchronous batches: `POST /v1/batches` (many invoices in one request), `GET /v1/batches/:id`
 * (progress) and `GET /v1/batches/:id/results` (decisions, paginated). Role: workflow.
 *
 * Validation is all or nothing: one bad invoice rejects the whole request with a 400 naming
 * every bad field by index (`/invoices/3/total_cents`), and nothing is stored. A valid batch is
 * stored (batch + items, one transaction) before the 202, then enqueued; if the queue is down
 * the batch stays stored and the recovery sweep enqueues it later, so an accepted invoice is
 * never lost. An invoice id scored before with the same content reuses that decision; with
 * other content the item ends `failed` with `TRIAGE_INVOICE_CONFLICT` in the results.
 */
import { inLineNumberOrder, inLineOrder } from '../../core/fingerprint.js';
import { canonicalSha256 } from '../../core/canonical.js';
import Type, { type Static } from 'typebox';
import type { FastifyRequest } from 'fastify';
import { DecisionResponse } from '../../core/decision.js';
import { MAX_REPORTED_ERRORS, TriageError, type FieldError } from '../../core/errors.js';
import { Invoice } from '../../core/invoice.js';
import { checkInvoiceRules, describeFieldErrors, isInvoiceShaped } from '../../core/validate.js';
import type { BatchRepository, BatchStatus } from '../../store/batches.js';
import { enqueueBatch } from '../../jobs/batches.js';
import type { JobQueue } from '../../jobs/types.js';
import { capped, toTriageError } from '../problem.js';
import { withBodyTextErrors } from '../input.js';
import { documentRouteErrors } from '../content-types.js';
import { withTimeout } from '../../core/timeout.js';
import { mayReadOwnedBy, principalOf } from '../auth.js';
import { problemResponses, PROTECTED, WITH_BODY, type RoutePlugin } from './common.js';

/** Options of the batch routes. */
export interface BatchRoutesOptions {
  batches: BatchRepository;
  jobs: JobQueue;
  /** Most invoices in one batch; default 1000. */
  maxInvoices?: number;
  /** Largest `POST /v1/batches` body, bytes; default 16 MiB. */
  bodyLimitBytes?: number;
  /** Invoices per `score-batch` job; default 50. */
  chunkSize?: number;
  /** Time allowed to store the batch, milliseconds; default 10 000 (503, retry with the same key). */
  deadlineMs?: number;
  /** Requests per rate-limit window per key on POST (undefined = the global limit). */
  rateLimitMax?: number;
  /** Rate-limit window, milliseconds (with `rateLimitMax`). */
  rateLimitWindowMs?: number;
}

export { MAX_REPORTED_ERRORS };

const Counts = Type.Object({
  pending: Type.Integer({ minimum: 0 }),
  done: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
});
const statusFields = {
  batch_id: Type.String({ format: 'uuid' }),
  state: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('completed')], {
    description: 'queued: nothing settled yet; running: some items settled; completed: none pending.',
  }),
  total: Type.Integer({ minimum: 1, description: 'Invoices in the batch.' }),
  counts: Counts,
  decisions: Type.Object({
    AUTO_APPROVE: Type.Integer({ minimum: 0 }),
    REVIEW: Type.Integer({ minimum: 0 }),
    HOLD: Type.Integer({ minimum: 0 }),
  }),
  created_at: Type.String({ format: 'date-time' }),
  completed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  links: Type.Object({ self: Type.String(), results: Type.String() }),
};
/** Progress of a batch. */
export const BatchStatusBody = Type.Object(statusFields);
/** Answer to `POST /v1/batches`. */
export const BatchAccepted = Type.Object({
  ...statusFields,
  job_ids: Type.Array(Type.String(), { description: 'score-batch job ids, one per chunk of invoices.' }),
  enqueued: Type.Boolean({
    description:
      'False when the queue was unavailable: the batch is stored and will be enqueued by the recovery sweep.',
  }),
});
/** One item of the results. */
export const BatchResultItemBody = Type.Object({
  index: Type.Integer({ minimum: 0, description: 'Position in the submitted invoices array.' }),
  invoice_id: Type.String(),
  state: Type.Union([Type.Literal('pending'), Type.Literal('done'), Type.Literal('failed')]),
  replayed: Type.Optional(
    Type.Boolean({ description: 'The invoice id had been scored before; its decision is reused.' }),
  ),
  decision: Type.Optional(DecisionResponse),
  error: Type.Optional(
    Type.Object({
      code: Type.String(),
      detail: Type.String(),
      errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
  ),
});
/** A page of results. */
export const BatchResultsBody = Type.Object({
  batch_id: Type.String({ format: 'uuid' }),
  items: Type.Array(BatchResultItemBody),
  next_after: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Pass as `after` for the next page; null on the last page.',
  }),
});

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
function statusBody(b: BatchStatus): Static<typeof BatchStatusBody> {
  const settled = b.counts.done + b.counts.failed;
  return {
    batch_id: b.id,
    state: b.counts.pending === 0 ? 'completed' : settled > 0 ? 'running' : 'queued',
    total: b.itemCount,
    counts: b.counts,
    decisions: b.decisions,
    created_at: b.createdAt,
    completed_at: b.completedAt,
    links: { self: `/v1/batches/${b.id}`, results: `/v1/batches/${b.id}/results` },
  };
}

/**
 * Rules a schema cannot express, per invoice, plus unique invoice ids within the batch. Items
 * that do not have the invoice schema's shape (when the schema rejected the batch) are skipped:
 * the schema errors name them.
 */
function batchRuleErrors(invoices: readonly unknown[]): FieldError[] {
  const errors: FieldError[] = [];
  const today = new Date().toISOString().slice(0, 10);
  const firstIndex = new Map<string, number>();
  invoices.forEach((inv, i) => {
    if (!isInvoiceShaped(inv)) return;
    for (const e of checkInvoiceRules(inv, today))
      errors.push({ path: `/invoices/${i}${e.path}`, message: e.message });
    const first = firstIndex.get(inv.invoice_id);
    if (first !== undefined) {
      errors.push({
        path: `/invoices/${i}/invoice_id`,
        message: `duplicates invoice_id of /invoices/${first}`,
      });
    } else {
      firstIndex.set(inv.invoice_id, i);
    }
  });
  return errors;
}

/** Index of the batch item a field error's path names (`/invoices/3/...`), or -1. */
function itemOf(path: string): number {
  const m = /^\/invoices\/(\d+)(?:\/|$)/.exec(path);
  return m ? Number(m[1]) : -1;
}

/**
 * The schema's errors of a rejected batch with the rule errors of its items that pass the
 * schema, by item index, so that the 400 names every bad invoice, not only those the schema finds.
 */
function withRuleErrors(te: TriageError, body: unknown): TriageError {
  const invoices = (body as { invoices?: unknown } | null | undefined)?.invoices;
  if (!Array.isArray(invoices)) return te;
  const rules = batchRuleErrors(invoices);
  if (rules.length === 0) return te;
  const errors = [...te.errors, ...rules].sort((a, b) => itemOf(a.path) - itemOf(b.path));
  return new TriageError(te.code, describeFieldErrors(errors), errors);
}

function deadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return withTimeout(
    p,
    ms,
    () =>
      new TriageError(
        'TRIAGE_DEADLINE_EXCEEDED',
        `storing the batch took longer than ${ms} ms; retry with the same Idempotency-Key`,
      ),
  );
}

/** The batch routes (register with `app.register(batchRoutes, options)`). */
export const batchRoutes: RoutePlugin<BatchRoutesOptions> = async (app, opts) => {
  const maxInvoices = opts.maxInvoices ?? 1000;
  const chunkSize = opts.chunkSize ?? 50;
  const deadlineMs = opts.deadlineMs ?? 10_000;
  /**
   * The batch `:id` of the caller's tenant if the caller may read it ({@link mayReadOwnedBy}: its
   * submitter, auditor and reviewer keys), as decisions are read.
   * @throws TriageError `TRIAGE_BATCH_NOT_FOUND` (404) when absent or another key's.
   */
  const readableBatch = async (req: FastifyRequest, id: string): Promise<BatchStatus> => {
    const p = principalOf(req);
    const b = await opts.batches.get(p.tenantId, id);
    if (!b || !mayReadOwnedBy(p, b.submittedByKeyId))
      throw new TriageError('TRIAGE_BATCH_NOT_FOUND', `no batch ${id}`);
    return b;
  };
  const Body = Type.Object(
    { invoices: Type.Array(Invoice, { minItems: 1, maxItems: maxInvoices }) },
    { additionalProperties: false },
  );

  app.post(
    '/v1/batches',
    {
      bodyLimit: opts.bodyLimitBytes ?? 16 * 1024 * 1024,
      errorHandler: documentRouteErrors,
      attachValidation: true,
      config: {
        roles: ['workflow'],
        bodyTextInRules: true,
        ...(opts.rateLimitMax !== undefined && opts.rateLimitMax > 0
          ? { rateLimit: { max: opts.rateLimitMax, timeWindow: opts.rateLimitWindowMs ?? 60_000 } }
          : {}),
      },
      schema: {
        operationId: 'submitBatch',
        summary: 'Submit many invoices for asynchronous scoring',
        description:
          `Up to ${maxInvoices} invoices in \`invoices\`. All or nothing: any invalid invoice rejects the ` +
          'request with a 400 naming each bad field by index (/invoices/3/total_cents) and nothing is stored. ' +
          'The batch is stored before the 202. Idempotency-Key (optional, 1-128 printable ASCII, scoped to ' +
          'the API key): the same key from the same API key with the same invoices returns the same batch ' +
          '(header idempotent-replayed: true); with other invoices it is a 409. A batch is read by the key ' +
          'that submitted it and by auditor and reviewer keys (404 for other keys).',
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ pattern: '^[\\x21-\\x7E]{1,128}$' })),
        }),
        body: Body,
        response: { 202: BatchAccepted, ...problemResponses(PROTECTED, WITH_BODY, 409) },
      },
    },
    async (req, reply) => {
      if (req.validationError)
        throw capped(withBodyTextErrors(req, withRuleErrors(toTriageError(req.validationError), req.body)));
      if (req.body === undefined || req.body === null) {
        throw new TriageError(
          'TRIAGE_REQUEST_INVALID',
          'request body is required: send { "invoices": [...] }',
          [{ path: '/', message: 'is required' }],
        );
      }
      const invoices = req.body.invoices;
      const ruleErrors = batchRuleErrors(invoices);
      if (ruleErrors.length > 0) {
        const te = new TriageError('TRIAGE_INPUT_INVALID', describeFieldErrors(ruleErrors), ruleErrors);
        throw capped(withBodyTextErrors(req, te));
      }
      const { tenantId, keyId } = principalOf(req);
      const { batch, created, chunks } = await deadline(
        opts.batches.create({
          tenantId,
          submittedByKeyId: keyId,
          idempotencyKey: req.headers['idempotency-key'] ?? null,
          // Lines named by line_number: the same batch with lines in another order is a replay.
          requestSha256: canonicalSha256(invoices.map(inLineNumberOrder)),
          ...(invoices.every(inLineOrder) ? {} : { requestSha256AsSent: canonicalSha256(invoices) }),
          chunkSize,
          invoices,
        }),
        deadlineMs,
      );
      let jobIds: string[] = [];
      let enqueued = true;
      try {
        jobIds = await enqueueBatch(opts.jobs, { tenantId, batchId: batch.id }, chunks);
      } catch (e) {
        enqueued = false;
        req.log.warn(
          { batch_id: batch.id, err: { code: (e as { code?: string }).code } },
          'batch stored but not enqueued; the recovery sweep will enqueue it',
        );
      }
      req.log.info({ batch_id: batch.id, invoices: batch.itemCount, created, enqueued }, 'batch accepted');
      if (!created) void reply.header('idempotent-replayed', 'true');
      void reply.status(202).header('location', `/v1/batches/${batch.id}`);
      return { ...statusBody(batch), job_ids: jobIds, enqueued };
    },
  );

  app.get(
    '/v1/batches/:id',
    {
      config: { roles: ['workflow'] },
      schema: {
        operationId: 'getBatch',
        summary: 'Progress of a batch: item counts by state and decisions by kind',
        params: IdParams,
        response: { 200: BatchStatusBody, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) => {
      return statusBody(await readableBatch(req, req.params.id));
    },
  );

  app.get(
    '/v1/batches/:id/results',
    {
      config: { roles: ['workflow'] },
      schema: {
        operationId: 'getBatchResults',
        summary: 'Per-invoice results of a batch, in submission order, paginated',
        description:
          'Keyset pagination: `after` is the last index already read (default -1), `limit` 1-500 (default 100).',
        params: IdParams,
        querystring: Type.Object(
          {
            after: Type.Optional(Type.Integer({ minimum: -1, maximum: 1_000_000 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: BatchResultsBody, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) => {
      await readableBatch(req, req.params.id);
      const page = await opts.batches.results(
        principalOf(req).tenantId,
        req.params.id,
        req.query.after ?? -1,
        req.query.limit ?? 100,
      );
      if (!page) throw new TriageError('TRIAGE_BATCH_NOT_FOUND', `no batch ${req.params.id}`);
      return {
        batch_id: req.params.id,
        items: page.items.map((it) => ({
          index: it.index,
          invoice_id: it.invoiceId,
          state: it.state,
          ...(it.replayed !== null ? { replayed: it.replayed } : {}),
          ...(it.decision ? { decision: it.decision } : {}),
          ...(it.error ? { error: it.error } : {}),
        })),
        next_after: page.nextAfter,
      };
    },
  );
};
