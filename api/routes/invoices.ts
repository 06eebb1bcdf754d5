/**
 * Scoring and decisions: `POST /v1/invoices/score` (workflow) and `GET /v1/decisions/:id`
 * (auditor and reviewer of the tenant; a workflow key only for decisions it scored).
 */
import type { FastifyReply } from 'fastify';
import type { TSchema } from 'typebox';
import { Invoice } from '../../core/invoice.js';
import { DecisionResponse, DecisionWithExplanation } from '../../core/decision.js';
import {
  DECISION_V2_MEDIA_TYPE,
  DecisionResponseV2,
  DecisionWithExplanationV2,
  decisionV2,
} from '../../core/decision-v2.js';
import { TriageError } from '../../core/errors.js';
import { checkInvoiceRules, describeFieldErrors } from '../../core/validate.js';
import { mayReadOwnedBy, principalOf } from '../auth.js';
import { IdParam, problemResponses, PROTECTED, WITH_BODY, type RoutePlugin } from './common.js';
import type { ApiStore } from '../app.js';
import { documentRouteErrors } from '../content-types.js';
import type { ScoringService } from '../../inference/pipeline.js';

/** What the scoring and decisions routes use. */
export interface InvoiceRoutesOptions {
  scoring: Pick<ScoringService, 'score'>;
  store: Pick<ApiStore, 'getDecisionRecord'>;
  /** Clock for "today" (the latest accepted `received_date` is its next day); default the system clock. */
  clock?: () => Date;
}

/** How specific each media range covering `application/json` (version 1) is: the most specific one present sets its `q`. */
const DECISION_V1_RANGES: ReadonlyMap<string, number> = new Map([
  ['application/json', 3],
  ['application/*', 2],
  ['*/*', 1],
]);

/** A quality value (RFC 9110 section 12.4.2): 0 to 1 with at most three decimals. */
const QVALUE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The weight of one media range of an `Accept` header from its parameters (trimmed, lower
 * case): its `q` (RFC 9110 section 12.4.2), 1 without one.
 * @throws TriageError `TRIAGE_REQUEST_INVALID` (400, naming `/headers/accept`) when the `q` is
 *   not a quality value (`q=abc`, `q=2`, `q=0.1234`, `q = 0.5`): no weight can be read from it.
 */
function weightOf(range: string, params: readonly string[]): number {
  const q = params.filter((p) => p.split('=', 1)[0]!.trim() === 'q');
  if (q.length === 0) return 1;
  const value = q.length === 1 && q[0]!.startsWith('q=') ? q[0]!.slice(2) : undefined;
  if (value === undefined || !QVALUE.test(value))
    throw new TriageError(
      'TRIAGE_REQUEST_INVALID',
      `the Accept header's media range ${JSON.stringify(range.trim())} has a malformed quality value`,
      [
        {
          path: '/headers/accept',
          message:
            `has a malformed quality value in ${JSON.stringify(range.trim())}: ` +
            'one q=, a number from 0 to 1 with at most 3 decimals (RFC 9110 section 12.4.2)',
        },
      ],
    );
  return Number(value);
}

/**
 * The version of the decision an `Accept` header asks for, by the `q` of each (RFC 9110 12.5.1):
 * version 1's is that of the most specific range covering `application/json` (`application/json`,
 * `application/*`, `*\/*`), version 2's that of {@link DECISION_V2_MEDIA_TYPE} named (its other
 * parameters aside). 2 when it is named with a non-zero `q` at least version 1's, else 1 when
 * version 1's is non-zero or the header is absent or empty, else 2 when a wildcard range allows
 * it (`*\/*;q=0.5, application/json;q=0`).
 * @throws TriageError `TRIAGE_REQUEST_INVALID` (400, naming `/headers/accept`) for a `q` that is
 *   not a quality value (see {@link weightOf}), whatever the media type;
 *   `TRIAGE_NOT_ACCEPTABLE` (406, naming `/headers/accept`) when a well-formed header allows
 *   neither (another decision version, `text/xml`...).
 */
export function decisionVersionOf(accept: string | undefined): 1 | 2 {
  if (!accept?.trim()) return 1;
  let v1: { q: number; specificity: number } = { q: 0, specificity: 0 };
  let v2: number | undefined;
  let wildcard = 0;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const weight = weightOf(range, params);
    if (type === DECISION_V2_MEDIA_TYPE) v2 = Math.max(v2 ?? 0, weight);
    const specificity = DECISION_V1_RANGES.get(type!) ?? 0;
    if (specificity > v1.specificity) v1 = { q: weight, specificity };
    else if (specificity > 0 && specificity === v1.specificity)
      v1 = { q: Math.max(v1.q, weight), specificity };
    if (specificity > 0 && specificity < 3) wildcard = Math.max(wildcard, weight);
  }
  if (v2 !== undefined && v2 > 0 && v2 >= v1.q) return 2;
  if (v1.q > 0) return 1;
  if (v2 === undefined && wildcard > 0) return 2;
  throw new TriageError(
    'TRIAGE_NOT_ACCEPTABLE',
    `the decision is served as application/json (version 1) or ${DECISION_V2_MEDIA_TYPE} (version 2)`,
    [{ path: '/headers/accept', message: `names neither application/json nor ${DECISION_V2_MEDIA_TYPE}` }],
  );
}

/**
 * The 200 response of a route answering a decision in either version: `v1` as
 * `application/json`, `v2` as {@link DECISION_V2_MEDIA_TYPE}.
 */
function eitherDecisionVersion<V1 extends TSchema, V2 extends TSchema>(description: string, v1: V1, v2: V2) {
  return {
    description,
    content: {
      'application/json': { schema: v1 },
      [DECISION_V2_MEDIA_TYPE]: { schema: v2 },
    },
  };
}

/**
 * `decision` in `version` ({@link decisionVersionOf}): as it is (version 1), or
 * {@link decisionV2} with that media type set on `reply`. Sets `vary: accept`.
 */
function inVersion<D extends DecisionResponse>(
  decision: D,
  version: 1 | 2,
  reply: Pick<FastifyReply, 'header' | 'type'>,
): D | ReturnType<typeof decisionV2<D>> {
  void reply.header('vary', 'accept');
  if (version === 1) return decision;
  void reply.type(DECISION_V2_MEDIA_TYPE);
  return decisionV2(decision);
}

/** Registers the scoring and decisions routes. */
export const invoiceRoutes: RoutePlugin<InvoiceRoutesOptions> = async (app, deps) => {
  app.post(
    '/v1/invoices/score',
    {
      config: { roles: ['workflow'], admission: true, bodyTextInRules: true },
      errorHandler: documentRouteErrors,
      schema: {
        operationId: 'scoreInvoice',
        summary: "Score an invoice and index it for later duplicate checks (in the key's tenant)",
        description:
          'Idempotent on invoice_id: re-sending the same invoice returns the stored decision ' +
          '(header idempotent-replayed: true); the same id with different content is a 409. ' +
          `With Accept: ${DECISION_V2_MEDIA_TYPE} the decision comes in version 2, each reason ` +
          "once: a line reason that is also one of the decision's reasons is { reason_ref: k } " +
          'in lines[].reasons (application/json, version 1, repeats it there in full).',
        body: Invoice,
        response: {
          200: eitherDecisionVersion(
            'The decision, in the version the Accept header asks for.',
            DecisionResponse,
            DecisionResponseV2,
          ),
          ...problemResponses(PROTECTED, WITH_BODY, 406, 409),
        },
      },
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) {
          throw new TriageError(
            'TRIAGE_REQUEST_INVALID',
            'request body is required: send the invoice as JSON',
            [{ path: '/', message: 'is required' }],
          );
        }
      },
    },
    async (req, reply) => {
      // Before scoring: a 406 stores nothing.
      const version = decisionVersionOf(req.headers.accept);
      const p = principalOf(req);
      const invoice = req.body;
      const today = (deps.clock ?? (() => new Date()))().toISOString().slice(0, 10);
      const ruleErrors = checkInvoiceRules(invoice, today);
      if (ruleErrors.length > 0) {
        throw new TriageError('TRIAGE_INPUT_INVALID', describeFieldErrors(ruleErrors), ruleErrors);
      }
      const out = await deps.scoring.score(invoice, p.tenantId, p.keyId);
      if (!out.created) void reply.header('idempotent-replayed', 'true');
      req.log.info(
        { decision_id: out.decision.decision_id, decision: out.decision.decision, created: out.created },
        'invoice scored',
      );
      return inVersion(out.decision, version, reply);
    },
  );

  app.get(
    '/v1/decisions/:id',
    {
      config: { roles: ['auditor', 'reviewer', 'workflow'] },
      schema: {
        operationId: 'getDecision',
        summary: 'Read a stored decision with its explanation',
        description:
          'Reasons, per-reason contributions, evidence (matched invoices, distances, CMS descriptions of billed ' +
          'and suggested codes), routing thresholds, priority and versions; no invoice text. A workflow key ' +
          "reads only the decisions it scored; another tenant's decision is a 404.",
        params: IdParam,
        response: {
          200: eitherDecisionVersion(
            'The decision, in the version the Accept header asks for (see scoreInvoice).',
            DecisionWithExplanation,
            DecisionWithExplanationV2,
          ),
          ...problemResponses(PROTECTED, 404, 406),
        },
      },
    },
    async (req, reply) => {
      const version = decisionVersionOf(req.headers.accept);
      const p = principalOf(req);
      const rec = await deps.store.getDecisionRecord(p.tenantId, req.params.id);
      const visible = rec && mayReadOwnedBy(p, rec.scoredByKeyId);
      if (!rec || !visible)
        throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no decision ${req.params.id}`);
      return inVersion(rec.decision, version, reply);
    },
  );
};
