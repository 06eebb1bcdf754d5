/**
 * Routing policy of the tenant: `GET /v1/policy` (admin, auditor) returns the version in
 * effect; `PUT /v1/policy` (admin) stores a new version (audited); decisions record the label.
 */
import Type, { type Static } from 'typebox';
import { parsePolicyDocument, policySha256, PolicyDocument } from '../../inference/policy.js';
import type { StoredPolicy } from '../../store/policies.js';
import { principalOf } from '../auth.js';
import { problemResponses, PROTECTED, WITH_BODY, type RoutePlugin } from './common.js';
import type { ApiStore } from '../app.js';
import type { ScoringService } from '../../inference/pipeline.js';

/** A policy version. */
export const PolicyResponse = Type.Object({
  label: Type.String({ description: '`<name>@<version>`, recorded in decisions.' }),
  version: Type.Integer({ minimum: 1, description: '1 = the default the service started with.' }),
  sha256: Type.String(),
  document: PolicyDocument,
  created_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_by: Type.Union([Type.String(), Type.Null()]),
});

/** Response body of a stored version, or of version 1 (the default) when `stored` is null. */
function view(
  stored: StoredPolicy | null,
  fallback: { label: string; sha256: string; document: PolicyDocument },
): Static<typeof PolicyResponse> {
  return stored
    ? {
        label: stored.label,
        version: stored.version,
        sha256: stored.sha256,
        document: stored.document as PolicyDocument,
        created_at: stored.createdAt,
        created_by: stored.createdBy,
      }
    : { ...fallback, version: 1, created_at: null, created_by: null };
}

/** What the routing policy routes use. */
export interface PolicyRoutesOptions {
  scoring: Pick<ScoringService, 'policyFor'>;
  store: Pick<ApiStore, 'policies'>;
}

/** Registers the routing policy routes. */
export const policyRoutes: RoutePlugin<PolicyRoutesOptions> = async (app, deps) => {
  app.get(
    '/v1/policy',
    {
      config: { roles: ['admin', 'auditor'] },
      schema: {
        operationId: 'getPolicy',
        summary: 'The routing policy in effect for the tenant',
        response: { 200: PolicyResponse, ...problemResponses(PROTECTED) },
      },
    },
    async (req) => {
      const tenant = principalOf(req).tenantId;
      return view(await deps.store.policies.latest(tenant), await deps.scoring.policyFor(tenant));
    },
  );
  app.put(
    '/v1/policy',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'putPolicy',
        summary: 'Store a new version of the routing policy (audited); applies to the next invoices scored',
        description: 'Sending the document in effect again changes nothing (200, idempotent-replayed: true).',
        body: PolicyDocument,
        response: { 200: PolicyResponse, ...problemResponses(PROTECTED, WITH_BODY) },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const doc = parsePolicyDocument(req.body);
      const sha256 = policySha256(doc);
      const current = await deps.scoring.policyFor(p.tenantId);
      if (current.sha256 === sha256) {
        void reply.header('idempotent-replayed', 'true');
        return view(await deps.store.policies.latest(p.tenantId), current);
      }
      const stored = await deps.store.policies.put(
        p.tenantId,
        { name: doc.name, document: doc, sha256 },
        p.keyId,
      );
      req.log.info({ policy: stored.label }, 'routing policy changed');
      return view(stored, current);
    },
  );
};
