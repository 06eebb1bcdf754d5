/**
 * Answers for requests no route matched: a 405 with `Allow` when the path is a route's under
 * other methods only (`DELETE /v1/invoices/score`), a 404 naming `/params/figure` for an unknown
 * KPI figure (each figure is its own route, `/v1/kpis/<figure>`), else a 404. A route of the
 * request's own method that found nothing to answer (a file missing under the static
 * `/console/*` or `/docs/static/*`) is a 404, not a 405 listing that very method.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { TriageError } from '../core/errors.js';
import { FIGURES } from './routes/kpis.js';

/** A route's URL pattern as a regular expression over request paths (`:id` one segment, `*` any rest). */
function patternOf(url: string): RegExp {
  const body = url
    .split('/')
    .map((seg) =>
      seg === '*' ? '.*' : seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${body}$`);
}

/**
 * Records every route's methods and URL pattern as routes are added (call before any route)
 * and returns the error for a request that matched none.
 */
export function installRouteNotFound(
  app: FastifyInstance,
): (req: FastifyRequest) => { error: TriageError; allow?: string[] } {
  const routes: { methods: string[]; pattern: RegExp }[] = [];
  app.addHook('onRoute', (o: RouteOptions) => {
    routes.push({ methods: [o.method].flat(), pattern: patternOf(o.url) });
  });
  return (req) => {
    const path = req.url.split('?')[0]!;
    const allow = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
    if (allow.length > 0 && !allow.includes(req.method))
      return {
        error: new TriageError(
          'TRIAGE_METHOD_NOT_ALLOWED',
          `${path} does not accept ${req.method}; it accepts ${allow.join(', ')}`,
        ),
        allow,
      };
    if (/^\/v1\/kpis\/[^/]+$/.test(path))
      return {
        error: new TriageError('TRIAGE_ROUTE_NOT_FOUND', 'no such KPI figure', [
          { path: '/params/figure', message: `is not one of ${Object.keys(FIGURES).join(', ')}` },
        ]),
      };
    return { error: new TriageError('TRIAGE_ROUTE_NOT_FOUND', `no route ${req.method} ${path}`) };
  };
}
