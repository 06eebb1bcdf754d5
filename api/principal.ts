/**
 * Who is calling: the tenant and the rate-limit bucket of a request, read from the principal
 * that the API-key auth hook (api/auth.ts) sets on every protected route.
 */
import type { FastifyRequest } from 'fastify';
import { principalOf } from './auth.js';

/**
 * The caller's tenant.
 * @throws TriageError `TRIAGE_AUTH_REQUIRED` on a route without a principal (a public route).
 */
export function tenantOf(req: FastifyRequest): string {
  return principalOf(req).tenantId;
}

/**
 * Rate-limit bucket of a request: the API key when authenticated (so one client behind a
 * shared proxy address does not starve another), else the client IP address.
 */
export function rateLimitKeyOf(req: FastifyRequest): string {
  return req.principal ? `key:${req.principal.keyId}` : `ip:${req.ip}`;
}
