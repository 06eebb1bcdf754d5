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

/** Media ranges answered with version 1 of the decision (`application/json`). */
const DECISION_V1_RANGES: ReadonlySet<string> = new Set(['application/json', 'application/*', '*/*']);

/**
 * The version of the decision an `Accept` header asks for: 2 when it names
 * {@link DECISION_V2_MEDIA_TYPE} (its parameters aside, with a non-zero `q`), else 1 when it is
 * absent or empty or names `application/json` or a wildcard range covering it, with a non-zero `q`.
 * @throws TriageError `TRIAGE_NOT_ACCEPTABLE` (406, naming `/headers/accept`) when it names
 *   neither (another decision version, `text/xml`...).
 */
export function decisionVersionOf(accept: string | undefined): 1 | 2 {
  if (!accept?.trim()) return 1;
  const ranges = accept.split(',').flatMap((range) => {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0 ? [type!] : [];
  });
  if (ranges.includes(DECISION_V2_MEDIA_TYPE)) return 2;
  if (ranges.some((t) => DECISION_V1_RANGES.has(t))) return 1;
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
