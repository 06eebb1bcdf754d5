/**
 * Who is calling, as the API-key auth hook (scoring-service issue) will establish it: the hook
 * reads each route's `config.roles`, checks the key and sets `request.principal`. Until that hook
 * is merged no principal is set and every request belongs to the default tenant. Routes read
 * the tenant only through {@link tenantOf}, so the merge changes this file alone.
 */
import type { FastifyRequest } from 'fastify';
import { DEFAULT_TENANT } from '../inference/pipeline.js';

/** Roles of API keys. */
export type Role = 'workflow' | 'reviewer' | 'data-scientist' | 'auditor' | 'admin';

/** The authenticated caller. */
export interface Principal {
  keyId: string;
  tenantId: string;
  roles: readonly Role[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook (onRequest); absent without auth. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Roles allowed on the route; enforced by the auth hook. */
    roles?: readonly Role[];
  }
}

/** The caller's tenant: the principal's, else the default tenant. */
export function tenantOf(req: FastifyRequest): string {
  return req.principal?.tenantId ?? DEFAULT_TENANT;
}

/**
 * Rate-limit bucket of a request: the API key when authenticated (so one client behind a
 * shared proxy address does not starve another), else the client IP address.
 */
export function rateLimitKeyOf(req: FastifyRequest): string {
  return req.principal ? `key:${req.principal.keyId}` : `ip:${req.ip}`;
}
