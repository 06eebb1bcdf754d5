/**
 * Model monitoring routes (monitoring/): drift, shadow challengers, the audit sample of
 * AUTO_APPROVE decisions and its error estimate. Tenant-scoped: every figure is the caller's
 * tenant's.
 *
 * - `GET /v1/models/:name/drift?version=&hours=` (data-scientist, auditor, admin)
 * - `GET /v1/models/:name/versions/:version/card.html` (data-scientist, auditor, admin): the card
 *   as a page with the tenant's drift (monitoring/card-page.ts)
 * - `PUT /v1/models/:name/shadow` `{ version }` (data-scientist, admin; audited), `DELETE` stops it
 * - `GET /v1/models/:name/shadow?version=` (data-scientist, auditor, admin): champion vs challenger
 * - `GET /v1/metrics/auto-approve-error?since=` (data-scientist, auditor, admin)
 * - `GET /v1/audit-sample?open=&limit=` (reviewer, auditor): the `audit-sample` queue
 * - `GET|PUT /v1/audit-sample/policy` (GET admin, auditor; PUT admin; audited)
 */
import Type from 'typebox';
import type { Role } from '../../core/auth.js';
import { TriageError } from '../../core/errors.js';
import { checkQueryDates } from '../../core/date-range.js';
import type { Monitoring } from '../../monitoring/service.js';
import type { MonitoringStore } from '../../store/monitoring.js';
import { principalOf } from '../auth.js';
import { CARD_PAGE_STYLE_SOURCE, renderCardPage } from '../../monitoring/card-page.js';
import { withStyleSource } from '../security.js';
import { toTriageError } from '../problem.js';
import { problemResponses, PROTECTED, WITH_BODY, type RoutePlugin } from './common.js';
import { VersionParams } from './models.js';

/** What the monitoring routes need. */
export interface MonitoringApiDeps {
  monitoring: Monitoring;
  store: Pick<MonitoringStore, 'auditSample' | 'auditSamplePolicy' | 'setAuditSamplePolicy'>;
  /** Audit-sample rate of tenants without a stored policy. */
  defaultAuditRate: number;
}

const READERS: Role[] = ['data-scientist', 'auditor', 'admin'];
const MANAGERS: Role[] = ['data-scientist', 'admin'];

const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: 'Model name.' });
const Version = Type.String({ pattern: '^v?[1-9][0-9]{0,8}$', description: 'Version number (3 or v3).' });
const NameParams = Type.Object({ name: Name });
/** Answers are documented in the README and the route descriptions (JSON objects). */
const Body = Type.Unknown({ description: 'JSON object (see the route description)' });
const plain = (v: string): string => v.replace(/^v/, '');

/**
 * Throws the schema error of a route validated after its role check (`attachValidation`), with
 * the central code (`TRIAGE_INPUT_INVALID` for the body, api/problem.ts `validationCode`).
 */
function checkBody(req: { validationError?: Error }): void {
  if (req.validationError) throw toTriageError(req.validationError);
}

/** Registers the monitoring routes. */
export const monitoringRoutes: RoutePlugin<{ monitoring: MonitoringApiDeps }> = async (
  app,
  { monitoring: deps },
) => {
  const m = deps.monitoring;

  app.get(
    '/v1/models/:name/drift',
    {
      config: { roles: READERS },
      schema: {
        operationId: 'getModelDrift',
        summary: 'Drift of a model’s inputs and score for the tenant (PSI, Jensen-Shannon, missing share)',
        description:
          'Live rows of the window binned on the reference histograms of the model version (default: the ' +
          'champion). Status per distribution: PSI < 0.1 ok, < 0.25 watch, else drift; JS in bits (0.018 / ' +
          '0.045) where bins are sparse; missing share increase 0.05 / 0.2; insufficient_data below 30 rows.',
        params: NameParams,
        querystring: Type.Object(
          {
            version: Type.Optional(Version),
            hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 366, default: 168 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Body, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) =>
      m.drift(principalOf(req).tenantId, req.params.name, {
        ...(req.query.version ? { version: plain(req.query.version) } : {}),
        ...(req.query.hours ? { hours: req.query.hours } : {}),
      }),
  );

  app.get(
    '/v1/models/:name/versions/:version/card.html',
    {
      config: { roles: READERS },
      schema: {
        operationId: 'getModelCardPage',
        summary: 'The model card of a version as an HTML page, with the tenant’s drift of that version',
        description:
          'Metrics on the test split and per exception kind, reliability diagram (SVG), thresholds with ' +
          'their Learn-then-Test guarantee, data and label hashes, label mix by provenance, drift status. ' +
          'text/html; self-contained (no script, no network).',
        params: VersionParams,
        response: {
          200: Type.String({ description: 'text/html page' }),
          ...problemResponses(PROTECTED, 404),
        },
      },
    },
    async (req, reply) => {
      const { card, drift } = await m.cardWithDrift(
        principalOf(req).tenantId,
        req.params.name,
        plain(req.params.version),
      );
      void reply.type('text/html; charset=utf-8');
      void reply.header(
        'content-security-policy',
        withStyleSource(reply.getHeader('content-security-policy') ?? '', CARD_PAGE_STYLE_SOURCE),
      );
      return renderCardPage(card, drift);
    },
  );

  app.put(
    '/v1/models/:name/shadow',
    {
      config: { roles: MANAGERS },
      attachValidation: true,
      schema: {
        operationId: 'putModelShadow',
        summary: 'Put a registered version in shadow for the tenant (audited)',
        description:
          'The version scores every new invoice of the tenant beside the champion, after the decision is ' +
          'stored; it never changes a decision. Replaces the active shadow of this model, if any. The ' +
          'serving champion itself cannot be shadowed (409 TRIAGE_SHADOW_IS_CHAMPION at /version).',
        params: NameParams,
        body: Type.Object({ version: Version }, { additionalProperties: false }),
        response: { 200: Body, ...problemResponses(PROTECTED, WITH_BODY, 404, 409) },
      },
    },
    async (req) => {
      checkBody(req);
      const p = principalOf(req);
      return m.startShadow(p.tenantId, req.params.name, plain(req.body.version), p.keyId);
    },
  );

  app.delete(
    '/v1/models/:name/shadow',
    {
      config: { roles: MANAGERS },
      schema: {
        operationId: 'deleteModelShadow',
        summary: 'Stop the tenant’s shadow of this model (audited)',
        params: NameParams,
        response: { 200: Body, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const stopped = await m.stopShadow(p.tenantId, req.params.name, p.keyId);
      if (!stopped)
        throw new TriageError('TRIAGE_SHADOW_NOT_FOUND', `no active shadow of ${req.params.name}`);
      return stopped;
    },
  );

  app.get(
    '/v1/models/:name/shadow',
    {
      config: { roles: READERS },
      schema: {
        operationId: 'getModelShadow',
        summary: 'Champion vs shadow challenger on the tenant’s invoices (labelled by reviewers)',
        description:
          'ROC-AUC, precision/recall at each card’s review and hold thresholds on reviewed invoices, agreement ' +
          'of the two routes, review load each would cause, and whether the record meets the promotion rule.',
        params: NameParams,
        querystring: Type.Object({ version: Type.Optional(Version) }, { additionalProperties: false }),
        response: { 200: Body, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) =>
      m.compareShadow(
        principalOf(req).tenantId,
        req.params.name,
        req.query.version ? plain(req.query.version) : undefined,
      ),
  );

  app.get(
    '/v1/metrics/auto-approve-error',
    {
      config: { roles: READERS },
      schema: {
        operationId: 'getAutoApproveError',
        summary: 'Production AUTO_APPROVE error rate from the reviewed audit sample, vs the certified bound',
        description:
          'errors / reviewed sampled decisions with a 95% Clopper-Pearson interval; certified_bound is the sum ' +
          'of the served cards’ auto-approve alphas; alert when the interval’s lower end is above it.',
        querystring: Type.Object(
          { since: Type.Optional(Type.String({ format: 'date' })) },
          { additionalProperties: false },
        ),
        response: { 200: Body, ...problemResponses(PROTECTED) },
      },
    },
    async (req) => {
      checkQueryDates({ since: req.query.since });
      return m.autoApproveError(
        principalOf(req).tenantId,
        req.query.since ? new Date(`${req.query.since}T00:00:00Z`) : undefined,
      );
    },
  );

  app.get(
    '/v1/audit-sample',
    {
      config: { roles: ['reviewer', 'auditor'] },
      schema: {
        operationId: 'listAuditSample',
        summary: 'The audit-sample queue: sampled AUTO_APPROVE decisions for post-payment review',
        description:
          'Review each with POST /v1/reviews on its decision_id: `confirmed` or `corrected_code` (with its task) ' +
          'when an exception is found, `false_positive` when none. The invoice stays auto-approved.',
        querystring: Type.Object(
          {
            open: Type.Optional(Type.Boolean({ description: 'only items not reviewed yet' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Body, ...problemResponses(PROTECTED) },
      },
    },
    async (req) => {
      const items = await deps.store.auditSample(principalOf(req).tenantId, {
        openOnly: req.query.open === true,
      });
      return { queue: 'audit-sample', items: items.slice(0, req.query.limit ?? 100), total: items.length };
    },
  );

  const PolicyBody = Type.Object(
    {
      rate: Type.Number({ minimum: 0, maximum: 1, description: 'share of AUTO_APPROVE decisions sampled' }),
      seed: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' })),
    },
    { additionalProperties: false },
  );
  const policyView = (tenantId: string, p: { rate: number; seed: string; version: number }) => ({
    tenant_id: tenantId,
    rate: p.rate,
    version: p.version,
    // The seed is shown to admins and auditors only (this route's roles): it lets them recompute draws.
    seed: p.seed,
  });
  app.get(
    '/v1/audit-sample/policy',
    {
      config: { roles: ['admin', 'auditor'] },
      schema: {
        operationId: 'getAuditSamplePolicy',
        summary: 'The tenant’s audit-sample rate and seed',
        response: { 200: Body, ...problemResponses(PROTECTED) },
      },
    },
    async (req) => {
      const t = principalOf(req).tenantId;
      return policyView(t, await deps.store.auditSamplePolicy(t, { rate: deps.defaultAuditRate }));
    },
  );
  app.put(
    '/v1/audit-sample/policy',
    {
      config: { roles: ['admin'] },
      attachValidation: true,
      schema: {
        operationId: 'putAuditSamplePolicy',
        summary: 'Set the tenant’s audit-sample rate (and seed) (audited)',
        body: PolicyBody,
        response: { 200: Body, ...problemResponses(PROTECTED, WITH_BODY) },
      },
    },
    async (req) => {
      checkBody(req);
      const p = principalOf(req);
      return policyView(
        p.tenantId,
        await deps.store.setAuditSamplePolicy(
          p.tenantId,
          { rate: req.body.rate, ...(req.body.seed ? { seed: req.body.seed } : {}) },
          p.keyId,
        ),
      );
    },
  );
};
