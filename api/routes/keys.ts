/**
 * API keys of the admin's tenant: `POST /v1/keys` creates one (the key is shown once),
 * `GET /v1/keys` lists them (prefix only), `DELETE /v1/keys/:id` revokes one. Each change is
 * audited. Keys of other tenants are created with the CLI (`keys create --tenant T --role R`).
 */
import Type from 'typebox';
import { Role, ROLES } from '../../core/auth.js';
import { TriageError } from '../../core/errors.js';
import { displayTextErrors } from '../../core/validate.js';
import { bodyInvalid } from '../problem.js';
import type { ApiKeyRecord } from '../../store/keys.js';
import { principalOf } from '../auth.js';
import { IdParam, problemResponses, PROTECTED, WITH_BODY, type RoutePlugin } from './common.js';
import type { ApiStore } from '../app.js';

/** A key as listed (never the secret). */
export const ApiKeyResponse = Type.Object({
  id: Type.String({ format: 'uuid' }),
  tenant_id: Type.String(),
  name: Type.String(),
  roles: Type.Array(Role),
  prefix: Type.String({ description: 'First 12 characters of the key.' }),
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.Union([Type.String(), Type.Null()]),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const view = (r: ApiKeyRecord) => ({
  id: r.id,
  tenant_id: r.tenantId,
  name: r.name,
  roles: r.roles,
  prefix: r.prefix,
  created_at: r.createdAt,
  created_by: r.createdBy,
  revoked_at: r.revokedAt,
});

/** What the api keys routes use. */
export interface KeyRoutesOptions {
  store: Pick<ApiStore, 'keys'>;
  /** Told after a key was revoked (e.g. to drop cached key lookups). */
  onRevoked?: () => void;
}

/** Registers the api keys routes. */
export const keyRoutes: RoutePlugin<KeyRoutesOptions> = async (app, deps) => {
  app.post(
    '/v1/keys',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'createKey',
        summary: "Create an API key in the admin's tenant; the key is in this response only",
        body: Type.Object(
          {
            name: Type.String({
              minLength: 1,
              maxLength: 100,
              description: 'What the key is for (no personal data).',
            }),
            roles: Type.Array(Role, { minItems: 1, maxItems: ROLES.length, uniqueItems: true }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            ...ApiKeyResponse.properties,
            key: Type.String({ description: 'Shown once.' }),
          }),
          ...problemResponses(PROTECTED, WITH_BODY),
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const bad = displayTextErrors('/name', req.body.name);
      if (bad.length > 0) throw bodyInvalid('key name is blank or would be shown reordered', bad);
      const created = await deps.store.keys.create(
        { tenantId: p.tenantId, name: req.body.name, roles: req.body.roles },
        p.keyId,
      );
      req.log.info({ created_key_id: created.record.id, roles: created.record.roles }, 'API key created');
      void reply.status(201).header('cache-control', 'no-store');
      return { ...view(created.record), key: created.key };
    },
  );
  app.get(
    '/v1/keys',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'listKeys',
        summary: "API keys of the admin's tenant (active and revoked)",
        response: { 200: Type.Object({ items: Type.Array(ApiKeyResponse) }), ...problemResponses(PROTECTED) },
      },
    },
    async (req) => ({ items: (await deps.store.keys.list(principalOf(req).tenantId)).map(view) }),
  );
  app.delete(
    '/v1/keys/:id',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'revokeKey',
        summary: 'Revoke an API key of the tenant (takes effect on the next request)',
        description: "The tenant's last active admin key cannot be revoked (409 TRIAGE_KEY_LAST_ADMIN).",
        params: IdParam,
        response: { 200: ApiKeyResponse, ...problemResponses(PROTECTED, 404, 409) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const rec = await deps.store.keys.revoke(p.tenantId, req.params.id, p.keyId);
      if (!rec) throw new TriageError('TRIAGE_KEY_NOT_FOUND', `no key ${req.params.id}`);
      deps.onRevoked?.();
      req.log.info({ revoked_key_id: rec.id }, 'API key revoked');
      return view(rec);
    },
  );
};
