/**
 * Claims on worklist items (reviewer), so that two reviewers do not work the same exception:
 * `POST /v1/worklist/{id}/claim` takes or renews a claim for `ttl_seconds` (409 when another
 * reviewer holds it), `DELETE /v1/worklist/{id}/claim` releases the caller's claim,
 * `GET /v1/worklist/claims` lists the tenant's active claims. See store/claims.ts.
 */
import Type from 'typebox';
import { principalOf } from '../auth.js';
import { IdParam, problemResponses, PROTECTED, nowOf, type ClockOption, type RoutePlugin } from './common.js';
import type { ApiStore } from '../app.js';

/** Claim length when the request names none, seconds. */
export const DEFAULT_CLAIM_SECONDS = 900;

/** An active claim as the API returns it. */
export const ClaimResponse = Type.Object({
  decision_id: Type.String({ format: 'uuid' }),
  key_id: Type.String({ description: 'API key id of the claimant.' }),
  key_name: Type.Union([Type.String(), Type.Null()], { description: "Name of the claimant's key." }),
  claimed_by_me: Type.Boolean(),
  claimed_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
});

/** What the claim routes use. */
export interface ClaimRoutesOptions extends ClockOption {
  store: Pick<ApiStore, 'claims'>;
}

/** Registers the routes. */
export const claimRoutes: RoutePlugin<ClaimRoutesOptions> = async (app, deps) => {
  app.post(
    '/v1/worklist/:id/claim',
    {
      config: { roles: ['reviewer'] },
      schema: {
        operationId: 'claimWorklistItem',
        summary: 'Claim an open worklist item (or renew your claim)',
        description:
          'The item stays claimed for ttl_seconds (default 900); another reviewer who claims it meanwhile ' +
          'gets a 409 (TRIAGE_CLAIM_CONFLICT). A closed or unknown item is a 404.',
        params: IdParam,
        querystring: Type.Object(
          { ttl_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 8 * 3600 })) },
          { additionalProperties: false },
        ),
        response: {
          200: ClaimResponse,
          ...problemResponses(PROTECTED, 404, 409),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const c = await deps.store.claims.claim(
        p.tenantId,
        req.params.id,
        p.keyId,
        nowOf(deps),
        req.query.ttl_seconds ?? DEFAULT_CLAIM_SECONDS,
      );
      return { ...c, claimed_by_me: true };
    },
  );
  app.delete(
    '/v1/worklist/:id/claim',
    {
      config: { roles: ['reviewer'] },
      schema: {
        operationId: 'releaseWorklistItem',
        summary: 'Release your claim on a worklist item',
        description:
          "Releasing an item nobody claims is a no-op (released: false); another reviewer's claim is a 409.",
        params: IdParam,
        response: {
          200: Type.Object({ released: Type.Boolean() }),
          ...problemResponses(PROTECTED, 409),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return { released: await deps.store.claims.release(p.tenantId, req.params.id, p.keyId, nowOf(deps)) };
    },
  );
  app.get(
    '/v1/worklist/claims',
    {
      config: { roles: ['reviewer'] },
      schema: {
        operationId: 'listWorklistClaims',
        summary: "Active claims on the tenant's open worklist items",
        response: {
          200: Type.Object({ items: Type.Array(ClaimResponse) }),
          ...problemResponses(PROTECTED),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const items = await deps.store.claims.active(p.tenantId, nowOf(deps));
      return { items: items.map((c) => ({ ...c, claimed_by_me: c.key_id === p.keyId })) };
    },
  );
};
