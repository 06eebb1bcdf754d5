/**
 * Scoring and decisions: `POST /v1/invoices/score` (workflow) and `GET /v1/decisions/:id`
 * (auditor and reviewer of the tenant; a workflow key only for decisions it scored).
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Invoice } from '../../core/invoice.js';
import { DecisionResponse, DecisionWithExplanation } from '../../core/decision.js';
import { TriageError } from '../../core/errors.js';
import { checkInvoiceRules } from '../../core/validate.js';
import { hasRole, principalOf } from '../auth.js';
import { IdParam, problemResponses, type RouteOptions } from './common.js';

/** Registers the scoring and decision routes. */
export default async function invoiceRoutes(root: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/invoices/score',
    {
      config: { roles: ['workflow'] },
      schema: {
        summary: "Score an invoice and index it for later duplicate checks (in the key's tenant)",
        description:
          'Idempotent on invoice_id: re-sending the same invoice returns the stored decision ' +
          '(header idempotent-replayed: true); the same id with different content is a 409.',
        body: Invoice,
        response: { 200: DecisionResponse, ...problemResponses },
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
      const p = principalOf(req);
      const invoice = req.body;
      const ruleErrors = checkInvoiceRules(invoice);
      if (ruleErrors.length > 0) {
        throw new TriageError('TRIAGE_INPUT_INVALID', `${ruleErrors.length} field(s) invalid`, ruleErrors);
      }
      const out = await deps.scoring.score(invoice, p.tenantId, p.keyId);
      if (!out.created) void reply.header('idempotent-replayed', 'true');
      req.log.info(
        { decision_id: out.decision.decision_id, decision: out.decision.decision, created: out.created },
        'invoice scored',
      );
      return out.decision;
    },
  );

  app.get(
    '/v1/decisions/:id',
    {
      config: { roles: ['auditor', 'reviewer', 'workflow'] },
      schema: {
        summary: 'Read a stored decision with its explanation',
        description:
          'Reasons, per-reason contributions, evidence (matched invoices, distances, CMS descriptions of billed ' +
          'and suggested codes), routing thresholds, priority and versions; no invoice text. A workflow key ' +
          "reads only the decisions it scored; another tenant's decision is a 404.",
        params: IdParam,
        response: { 200: DecisionWithExplanation, ...problemResponses },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const rec = await deps.store.getDecisionRecord(p.tenantId, req.params.id);
      const visible = rec && (hasRole(p, 'auditor', 'reviewer') || rec.scoredByKeyId === p.keyId);
      if (!rec || !visible)
        throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no decision ${req.params.id}`);
      return rec.decision;
    },
  );
}
