/**
 * The review console: the static page bundle at `/console/` (built by `npm run build` with
 * vite from `console/`, served offline from `dist/console`), and the reads it needs besides
 * the worklist, decisions, reviews, audit and KPI routes:
 * - `GET /v1/console/session` (any role): who the key is, its roles, and the tenant's review SLA;
 * - `GET /v1/decisions/{id}/invoice` (reviewer, auditor): the invoice as submitted (header, lines);
 * - `GET /v1/decisions/{id}/history` (auditor): the decision's audit entries (scored, reviewed, later status).
 * The page itself is public (it holds no data); every call it makes needs the API key.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Type from 'typebox';
import { ROLES, Role } from '../../core/auth.js';
import { TriageError } from '../../core/errors.js';
import { Invoice } from '../../core/invoice.js';
import { packageRoot } from '../../core/paths.js';
import { DEFAULT_SLA_DAYS } from '../../inference/policy.js';
import type { ScoringService } from '../../inference/pipeline.js';
import { principalOf } from '../auth.js';
import { AuditEntryResponse, auditEntryOf } from './audit.js';
import { IdParam, problemResponses, PROTECTED, type RoutePlugin } from './common.js';
import type { ApiStore } from '../app.js';

/** URL prefix of the console page. */
export const CONSOLE_PREFIX = '/console/';

/** Where the built console lives: `dist/console` under the package root. */
export function consoleBundleDir(): string {
  return join(packageRoot(), 'dist', 'console');
}

/** What the console routes use. */
export interface ConsoleRoutesOptions {
  scoring: Pick<ScoringService, 'policyFor'>;
  store: Pick<ApiStore, 'console'>;
}

/** Registers the routes. */
export const consoleRoutes: RoutePlugin<ConsoleRoutesOptions> = async (app, deps) => {
  const dir = consoleBundleDir();
  if (existsSync(join(dir, 'index.html'))) {
    await app.register(fastifyStatic, { root: dir, prefix: CONSOLE_PREFIX, index: 'index.html' });
  } else {
    app.get(`${CONSOLE_PREFIX}*`, { schema: { hide: true } }, async () => {
      throw new TriageError('TRIAGE_ROUTE_NOT_FOUND', 'the console is not built: run npm run build');
    });
  }
  app.get('/console', { schema: { hide: true } }, async (_req, reply) => reply.redirect(CONSOLE_PREFIX));

  app.get(
    '/v1/console/session',
    {
      config: { roles: [...ROLES] },
      schema: {
        operationId: 'getConsoleSession',
        summary: "The calling key's tenant and roles, and the tenant's review SLA",
        response: {
          200: Type.Object({
            tenant_id: Type.String(),
            key_id: Type.String(),
            roles: Type.Array(Role),
            sla_days: Type.Integer({ description: 'Days since received before an exception is escalated.' }),
          }),
          ...problemResponses(PROTECTED),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const policy = await deps.scoring.policyFor(p.tenantId);
      return {
        tenant_id: p.tenantId,
        key_id: p.keyId,
        roles: [...p.roles],
        sla_days: policy.document.priority.sla_days ?? DEFAULT_SLA_DAYS,
      };
    },
  );

  app.get(
    '/v1/decisions/:id/invoice',
    {
      config: { roles: ['reviewer', 'auditor'] },
      schema: {
        operationId: 'getDecisionInvoice',
        summary: 'The invoice a decision was made for, as submitted (header and lines)',
        description:
          "Holds the invoice's text (line descriptions): for reviewers and auditors of the tenant only.",
        params: IdParam,
        response: { 200: Invoice, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) => {
      const inv = await deps.store.console.invoiceOf(principalOf(req).tenantId, req.params.id);
      if (!inv) throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no decision ${req.params.id}`);
      return inv;
    },
  );

  app.get(
    '/v1/decisions/:id/history',
    {
      config: { roles: ['auditor'] },
      schema: {
        operationId: 'getDecisionHistory',
        summary: "A decision's audit history: scored, reviewed, and any later status",
        params: IdParam,
        response: {
          200: Type.Object({ items: Type.Array(AuditEntryResponse) }),
          ...problemResponses(PROTECTED, 404),
        },
      },
    },
    async (req) => {
      const rows = await deps.store.console.historyOf(principalOf(req).tenantId, req.params.id);
      if (!rows) throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no decision ${req.params.id}`);
      return { items: rows.map(auditEntryOf) };
    },
  );
};
