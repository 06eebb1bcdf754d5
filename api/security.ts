/**
 * Security headers on every response, API and console alike (helmet): a Content
 * Security Policy that admits scripts, styles and connections from this origin only (no inline
 * scripts, no eval), `frame-ancestors 'none'` and `X-Frame-Options: DENY` against
 * clickjacking, `X-Content-Type-Options: nosniff`, and no referrer. The Swagger UI pages
 * (`/docs`) alone also admit inline styles ({@link docsCsp}).
 */
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/** The Content Security Policy directives (helmet's form). */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** helmet's options: the CSP above, frames denied, no referrer; helmet's defaults for the rest. */
export const HELMET_OPTIONS = {
  contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  // The API serves no cross-origin embeddable resources; keep helmet's defaults for the rest.
} as const;

/**
 * Registers the headers on `app` (before the routes, at the root so that every route and the
 * not-found handler get them). The helmet middleware (its CSP header text included) is built
 * once here, not per request.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  const setHeaders = helmet(HELMET_OPTIONS);
  app.addHook('onRequest', (req, reply, done) => {
    setHeaders(req.raw, reply.raw, (err) => done(err as Error | undefined));
  });
}

/**
 * The Content Security Policy `header` with `source` (a CSP source expression such as
 * `'sha256-...'`) added to its `style-src 'self'`; scripts and every other directive unchanged.
 */
export function withStyleSource(header: string | number | string[], source: string): string {
  return String(header).replace(/(^|;)\s*style-src 'self'/, `$1style-src 'self' ${source}`);
}

/**
 * The Content Security Policy of the API documentation pages (`/docs`): `header` with inline
 * styles admitted in `style-src` (Swagger UI sets one as it renders); scripts and every other
 * directive unchanged.
 */
export function docsCsp(header: string | number | string[]): string {
  return withStyleSource(header, "'unsafe-inline'");
}
