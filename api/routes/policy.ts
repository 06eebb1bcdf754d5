/**
 * Routing policy of the tenant: `GET /v1/policy` (admin, auditor) returns the version in
 * effect with the thresholds routing applies and their sources; `PUT /v1/policy` (admin) stores a new version (audited); decisions record the label.
 */
import Type, { type Static } from 'typebox';
import { TriageError } from '../../core/errors.js';
import {
  parsePolicyDocument,
  policySha256,
  PolicyDocument,
  type PolicyDefinition,
} from '../../inference/policy.js';
import type { StoredPolicy } from '../../store/policies.js';
import { principalOf } from '../auth.js';
import { problemResponses, PROTECTED, WITH_BODY, type RoutePlugin } from './common.js';
import type { ApiStore } from '../app.js';
import type { ScoringService } from '../../inference/pipeline.js';
import { reasonFloorErrors, type SourcedPolicy } from '../../inference/stages/thresholds.js';

/** A policy version. */
export const PolicyResponse = Type.Object({
  label: Type.String({ description: '`<name>@<version>`, recorded in decisions.' }),
  version: Type.Integer({ minimum: 1, description: '1 = the default the service started with.' }),
  sha256: Type.String(),
  document: PolicyDocument,
  created_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_by: Type.Union([Type.String(), Type.Null()]),
  effective_thresholds: Type.Record(
    Type.String({ description: '`coding.review_at`, `coding.hold_at`, `ap.review_at`, `ap.hold_at`' }),
    Type.Object({
      value: Type.Union([Type.Number(), Type.Null()], {
        description: 'Probability; null: never (hold none).',
      }),
      source: Type.String({ description: "As in a decision's `versions.thresholds`." }),
    }),
    {
      description:
        'The queue thresholds routing applies under this version when no override matches, and where each ' +
        'comes from: `policy:<label>` (its own), or, for the certified default, `model-card:<model> (...)` ' +
        'when a served model is not the one it is certified for (or `policy:policy-default@1 (...)` for a ' +
        'heuristic).',
    },
  ),
});

/** Threshold name -> value and source, as routing applies them (an infinite hold: null). */
function thresholdsView({
  policy,
  sources,
}: SourcedPolicy): Static<typeof PolicyResponse>['effective_thresholds'] {
  const values: Record<string, number | undefined> = {
    'coding.review_at': policy.codingReview,
    'coding.hold_at': policy.codingHold,
    'ap.review_at': policy.duplicateReview,
    'ap.hold_at': policy.duplicateHold,
  };
  const out: Static<typeof PolicyResponse>['effective_thresholds'] = {};
  for (const [name, source] of Object.entries(sources)) {
    const v = values[name];
    out[name] = { value: v === undefined || !Number.isFinite(v) ? null : v, source };
  }
  return out;
}

/** Response body of a stored version, or of version 1 (the default) when `stored` is null. */
function view(
  stored: StoredPolicy | null,
  fallback: { label: string; sha256: string; document: PolicyDocument },
  thresholds: SourcedPolicy,
): Static<typeof PolicyResponse> {
  const effective_thresholds = thresholdsView(thresholds);
  return stored
    ? {
        effective_thresholds,
        label: stored.label,
        version: stored.version,
        sha256: stored.sha256,
        document: stored.document as PolicyDocument,
        created_at: stored.createdAt,
        created_by: stored.createdBy,
      }
    : { ...fallback, version: 1, created_at: null, created_by: null, effective_thresholds };
}

/**
 * An edited policy may not keep the name of the certified served default: its label
 * (`policy-certified@2`) would claim a certification its thresholds do not have. The certified
 * document itself (same sha256) may be stored again under its name.
 * @throws TriageError 400 `TRIAGE_INPUT_INVALID` naming `/name`.
 */
function refuseCertifiedName(doc: PolicyDocument, sha256: string, served: PolicyDefinition): void {
  if (!served.certifiedFor || doc.name !== served.document.name || sha256 === served.sha256) return;
  throw new TriageError('TRIAGE_INPUT_INVALID', `policy name ${doc.name} is the certified policy's`, [
    {
      path: '/name',
      message: `is the name of the certified policy ${served.label} (certified for ${served.certifiedFor.join(', ')}); a policy that differs from it needs a name of its own`,
    },
  ]);
}

/**
 * A coding review threshold (of the queues or an override) at or below the served coding
 * model's reason floor would be recorded but not applied: routing needs a coding reason, and
 * the model gives none at or below its floor.
 * @throws TriageError 400 `TRIAGE_INPUT_INVALID` naming each such threshold.
 */
function refuseBelowReasonFloor(
  doc: PolicyDocument,
  scoring: Pick<ScoringService, 'codingReasonFloor'>,
): void {
  const floor = scoring.codingReasonFloor();
  const errors = reasonFloorErrors(doc, floor);
  if (errors.length > 0 && floor)
    throw new TriageError(
      'TRIAGE_INPUT_INVALID',
      `coding review threshold at or below the reason floor ${floor.value} of ${floor.model}`,
      errors,
    );
}

/** What the routing policy routes use. */
export interface PolicyRoutesOptions {
  scoring: Pick<ScoringService, 'policyFor' | 'effectiveThresholds' | 'defaultPolicy' | 'codingReasonFloor'>;
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
      const current = await deps.scoring.policyFor(tenant);
      return view(
        await deps.store.policies.latest(tenant),
        current,
        deps.scoring.effectiveThresholds(current),
      );
    },
  );
  app.put(
    '/v1/policy',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'putPolicy',
        summary: 'Store a new version of the routing policy (audited); applies to the next invoices scored',
        description:
          'Sending the document in effect again changes nothing (200, idempotent-replayed: true). Under the ' +
          'certified served default, a document that differs from the certified one under its name is a 400 naming /name. ' +
          "A coding review_at (of the queues or an override) at or below the served coding model's reason floor is a 400 " +
          'naming it: that model gives no coding reason at or below its floor, and routing reviews only with one.',
        body: PolicyDocument,
        response: { 200: PolicyResponse, ...problemResponses(PROTECTED, WITH_BODY) },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const doc = parsePolicyDocument(req.body);
      const sha256 = policySha256(doc);
      refuseCertifiedName(doc, sha256, deps.scoring.defaultPolicy);
      refuseBelowReasonFloor(doc, deps.scoring);
      const current = await deps.scoring.policyFor(p.tenantId);
      if (current.sha256 === sha256) {
        void reply.header('idempotent-replayed', 'true');
        return view(
          await deps.store.policies.latest(p.tenantId),
          current,
          deps.scoring.effectiveThresholds(current),
        );
      }
      const stored = await deps.store.policies.put(
        p.tenantId,
        { name: doc.name, document: doc, sha256 },
        p.keyId,
      );
      req.log.info({ policy: stored.label }, 'routing policy changed');
      const def = { label: stored.label, sha256: stored.sha256, document: doc };
      return view(stored, current, deps.scoring.effectiveThresholds(def));
    },
  );
};
