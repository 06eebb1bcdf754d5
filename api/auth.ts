/**
 * Authentication and role checks. Every route declares the roles it admits in its config,
 * `config: { roles: ['workflow'] }`; a route without roles is refused when it is registered
 * (fail closed), except the public `/healthz`, `/readyz` and `/docs`. Each request to a
 * protected route must carry an API key, as `Authorization: Bearer <key>` or `X-API-Key:
 * <key>`: no key or an unknown/revoked key is a 401, a key without one of the route's roles a
 * 403 (problem+json). The authenticated caller is `request.principal = { keyId, tenantId,
 * roles }`; handlers read it with {@link principalOf}.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { isRole, type Principal, type Role } from '../core/auth.js';
import { sha256Hex } from '../core/canonical.js';
import { TriageError } from '../core/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles admitted by the route; required on every non-public route. */
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    /** The authenticated caller; set on every protected route before the handler runs. */
    principal?: Principal;
    /**
     * The 401 of a protected route's request without a valid key (none, malformed, unknown or
     * revoked), thrown once the rate limiter has counted the request.
     */
    authRefusal?: TriageError;
  }
}

/** Looks up the principal of a plain API key (null when unknown or revoked). */
export interface KeyVerifier {
  authenticate(key: string): Promise<Principal | null>;
}

/** Options of {@link cachedKeyVerifier}. */
export interface KeyCacheOptions {
  /**
   * How long an active key's principal is reused, ms (default 500): a key revoked in any
   * process stops working everywhere within this time. At most 1000 (the revocation promise).
   */
  ttlMs?: number;
  /** Most keys held (default 10,000); the cache starts afresh beyond. */
  maxEntries?: number;
  /** Clock, ms; default `Date.now`. */
  now?: () => number;
}

/**
 * A verifier that asks `verifier` at most once per key per `ttlMs` (concurrent requests with
 * one key share the lookup), instead of once per request; `forget()` drops every entry (a
 * revocation through this process then takes effect on the next request). Only active keys are remembered, so a
 * key created in another process works at once; keys are held by their sha256, never in clear.
 * @throws RangeError when `ttlMs` is outside 0..1000.
 */
export function cachedKeyVerifier(
  verifier: KeyVerifier,
  o: KeyCacheOptions = {},
): KeyVerifier & { forget(): void } {
  const ttlMs = o.ttlMs ?? 500;
  if (!(ttlMs >= 0 && ttlMs <= 1000)) throw new RangeError(`key cache ttlMs ${ttlMs} is outside 0..1000`);
  const maxEntries = o.maxEntries ?? 10_000;
  const now = o.now ?? Date.now;
  const entries = new Map<string, { until: number; principal: Promise<Principal | null> }>();
  return {
    forget: () => entries.clear(),
    authenticate(key) {
      if (ttlMs === 0) return verifier.authenticate(key);
      const id = sha256Hex(key);
      const t = now();
      const hit = entries.get(id);
      if (hit && hit.until > t) return hit.principal;
      if (entries.size >= maxEntries) entries.clear();
      const principal = verifier.authenticate(key);
      const entry = { until: t + ttlMs, principal };
      entries.set(id, entry);
      // Unknown, revoked or failed lookups are not remembered.
      principal.then(
        (p) => {
          if (p === null && entries.get(id) === entry) entries.delete(id);
        },
        () => {
          if (entries.get(id) === entry) entries.delete(id);
        },
      );
      return principal;
    },
  };
}

/** Public paths: no key needed, no roles declared (the console page holds no data). */
export function isPublicPath(url: string): boolean {
  return (
    url === '/healthz' ||
    url === '/readyz' ||
    url === '/docs' ||
    url.startsWith('/docs/') ||
    url === '/console' ||
    url.startsWith('/console/')
  );
}

/** The caller of a protected route. @throws TriageError `TRIAGE_AUTH_REQUIRED` when absent (a public route). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new TriageError('TRIAGE_AUTH_REQUIRED', 'this route needs an API key');
  return req.principal;
}

/** True when the principal holds any of `roles`. */
export function hasRole(p: Principal, ...roles: Role[]): boolean {
  return p.roles.some((r) => roles.includes(r));
}

/**
 * Whether the principal may read a record of its tenant written by the API key `ownerKeyId` (a
 * decision's scoring key, a batch's submitter): auditor and reviewer keys read everything, other
 * keys only what they wrote themselves (README "Roles and API keys"). Null owners are readable by
 * auditor and reviewer keys only.
 */
export function mayReadOwnedBy(p: Principal, ownerKeyId: string | null): boolean {
  return hasRole(p, 'auditor', 'reviewer') || (ownerKeyId !== null && ownerKeyId === p.keyId);
}

function keyOf(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  const header = req.headers['x-api-key'];
  let bearer: string | null = null;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m) throw new TriageError('TRIAGE_AUTH_INVALID', 'Authorization must be "Bearer <API key>"');
    bearer = m[1]!;
  }
  const x = typeof header === 'string' && header.trim() !== '' ? header.trim() : null;
  if (bearer !== null && x !== null && bearer !== x)
    throw new TriageError('TRIAGE_AUTH_INVALID', 'Authorization and X-API-Key carry different keys');
  return bearer ?? x;
}

/**
 * Installs the role guard on `app` (call before any route is registered): an `onRoute` hook
 * that refuses routes without valid `config.roles`, and an `onRequest` hook that authenticates
 * the key and checks the role.
 * @throws TriageError `TRIAGE_ROUTE_ROLES_MISSING` at registration of a route without roles.
 */
export function installAuth(app: FastifyInstance, verifier: KeyVerifier): void {
  app.addHook('onRoute', (opts: RouteOptions) => {
    if (isPublicPath(opts.url ?? '')) return;
    const roles = opts.config?.roles;
    if (!Array.isArray(roles) || roles.length === 0 || !roles.every(isRole)) {
      const methods = Array.isArray(opts.method) ? opts.method.join(',') : opts.method;
      throw new TriageError(
        'TRIAGE_ROUTE_ROLES_MISSING',
        `route ${methods} ${opts.url} must declare config.roles (workflow, reviewer, data-scientist, auditor, admin, erp)`,
      );
    }
    // Document the roles in OpenAPI (once: a GET's HEAD route shares its schema object).
    const s = opts.schema as { description?: string } | undefined;
    const note = `Roles: ${roles.join(', ')}.`;
    if (s && !s.description?.endsWith(note))
      s.description = `${s.description ? `${s.description} ` : ''}${note}`;
  });
  app.addHook('onRequest', async (req) => {
    const roles = req.routeOptions.config?.roles;
    if (!roles || isPublicPath(req.routeOptions.url ?? '')) return;
    let key: string | null;
    try {
      key = keyOf(req);
    } catch (e) {
      req.authRefusal = e as TriageError;
      return;
    }
    if (key === null) {
      req.authRefusal = new TriageError(
        'TRIAGE_AUTH_REQUIRED',
        'send an API key: Authorization: Bearer <key> or X-API-Key',
      );
      return;
    }
    const principal = await verifier.authenticate(key);
    if (!principal) {
      req.authRefusal = new TriageError('TRIAGE_AUTH_INVALID', 'the API key is unknown or revoked');
      return;
    }
    if (!principal.roles.some((r) => roles.includes(r))) {
      throw new TriageError(
        'TRIAGE_FORBIDDEN',
        `this route needs one of the roles ${roles.join(', ')}; the key has ${principal.roles.join(', ')}`,
      );
    }
    req.principal = principal;
    req.log = req.log.child({ key_id: principal.keyId, tenant: principal.tenantId });
  });
  // A request without a valid key is refused here, after the rate limiter (api/limits.ts, a
  // route `onRequest` hook) has counted it against its client IP, before its body is read.
  app.addHook('preParsing', async (req) => {
    if (req.authRefusal) throw req.authRefusal;
  });
}
